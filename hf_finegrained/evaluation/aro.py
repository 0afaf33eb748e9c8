"""ARO (Yuksekgonul et al., ICLR 2023): VG-Relation and VG-Attribution (2-way choices on Visual Genome crops,
macro-averaged through the `aro_macro` metric) and COCO-Order / Flickr-Order (true caption against its four
word-order perturbations, choice accuracy).

Ties follow ARO's code by default. VG-R / VG-A: its `argmax` over `[false, true]` gives a tie to the false
caption, so a tie is wrong. COCO-Order / Flickr-Order: its `argmax` over `[caption, perturbations...]` gives a
tie to the caption, so a tie is right; `strict_ties=True` (`--set aro_coco_order.strict_ties=true`) counts
those ties wrong instead, as every other benchmark here does. `details["num_ties"]` counts them either way."""

from __future__ import annotations

import os
import random

from ..metrics import load_metric
from . import bow
from .annotations import expect, field, read_json
from .choice import ChoiceSet, score_choice_set
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .karpathy import check_karpathy_test, karpathy_test_paths, load_karpathy_test
from .order_perturbations import clean_caption, load_spacy, perturb
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, choice_accuracy

_ARO = "github.com/mertyg/vision-language-models-are-bows"
_ARO_PAPER = "(Yuksekgonul et al., ICLR 2023)"


def read_vg(annotation_file: str | os.PathLike, kind: str) -> list[tuple[str, tuple, str, str, str]]:
    """(image_path, bbox, true_caption, false_caption, group) of every entry of a VG-Relation (`kind="relation"`)
    or VG-Attribution (`kind="attribution"`) file; `AnnotationError` naming the file and entry when malformed."""
    entries = expect(read_json(annotation_file), list, annotation_file, "of entries (ARO's layout)")
    out = []
    for n, entry in enumerate(entries):
        where = f"entry {n}"
        box = tuple(field(entry, f"bbox_{k}", annotation_file, where, (int, float)) for k in "xywh")
        if kind == "relation":
            group = field(entry, "relation_name", annotation_file, where)
        else:
            attributes = field(entry, "attributes", annotation_file, where, list)
            group = "_".join(str(a) for a in attributes[:2])
        out.append((field(entry, "image_path", annotation_file, where), box,
                    field(entry, "true_caption", annotation_file, where),
                    field(entry, "false_caption", annotation_file, where), group))
    return out


def load_vg(
    annotation_file: str | os.PathLike, image_root: str | os.PathLike, kind: str
) -> tuple[ChoiceSet, list[str]]:
    """VG-Relation (`kind="relation"`) or VG-Attribution (`kind="attribution"`) items on bbox crops; returns the
    items and each item's group (relation name, or "attr1_attr2")."""
    entries = read_vg(annotation_file, kind)
    items, groups, missing = [], [], 0
    for image_path, box, true_caption, false_caption, group in entries:
        path = find_image(image_path, [image_root])
        if path is None:
            missing += 1
            continue
        items.append(ChoiceItem(FileImage(path, box), [true_caption, false_caption], 0))
        groups.append(group)
    return ChoiceSet(items=items, total=len(entries), missing_images=missing), groups


def evaluate_vg(engine: ScoringEngine, annotations: str, images: str, kind: str) -> BenchmarkResult:
    """Headline `macro`: ARO's macro accuracy (VG-R without the relations ARO leaves out, VG-A over attribute
    pairs with >= 25 items); `micro` over all items."""
    name = f"aro_vg_{kind}"
    choice_set, groups = load_vg(annotations, images, kind)
    counts = {"items": choice_set.total, "scored": len(choice_set.items), "missing_images": choice_set.missing_images}
    if not choice_set.items:
        return BenchmarkResult.skipped(name, f"no item could be scored ({choice_set.missing_images} images missing)")
    scores = engine.score_choices(choice_set.items)
    metric = load_metric("aro_macro")
    out = metric.compute(predictions=scores, references=[0] * len(scores), groups=groups, protocol=f"vg_{kind}")
    # The best order-blind scorer, through the same metric (same groups left out, ties wrong as in ARO's code).
    oracle = [bow.order_blind_scores(item.captions, item.label) for item in choice_set.items]
    ceiling = metric.compute(predictions=oracle, references=[0] * len(oracle), groups=groups, protocol=f"vg_{kind}")
    shares, equal = bow.equal_share((None, item.captions, item.label) for item in choice_set.items)
    return BenchmarkResult(
        name=name, headline="macro",
        metrics={"macro": out["macro_accuracy"], "micro": out["micro_accuracy"],
                 bow.PREFIX + "macro": ceiling["macro_accuracy"], bow.PREFIX + "micro": ceiling["micro_accuracy"]},
        counts=counts,
        details={"per_group": out["per_group"], "group_counts": out["group_counts"],
                 "left_out_groups": out["left_out_groups"], "tie_rule": "ties count wrong (as in ARO's code)",
                 "bow_ceiling_per_group": ceiling["per_group"], "bow_equal_share": shares, "bow_equal_items": equal},
    )


def load_order(
    annotation_file: str | os.PathLike, image_root: str | os.PathLike, seed: int = 0, nlp=None
) -> ChoiceSet:
    """One item per (test image, caption): [caption, 4 perturbations], all ARO-normalised; seeded per caption."""
    entries = load_karpathy_test(annotation_file)
    nlp = nlp or load_spacy()
    present = {image: find_image(image, [image_root]) for image, _ in entries}
    missing = sum(len(captions) for image, captions in entries if present[image] is None)
    pairs = [(image, caption) for image, captions in entries if present[image] for caption in captions]
    items = []
    for (image, caption), doc in zip(pairs, nlp.pipe(caption for _, caption in pairs)):
        rng = random.Random(f"{seed}|{image}|{caption}")
        options = [clean_caption(caption)] + [clean_caption(p) for p in perturb(doc, rng)]
        items.append(ChoiceItem(FileImage(present[image]), options, 0))
    return ChoiceSet(items=items, total=len(pairs) + missing, missing_images=missing,
                     notes={"missing_counted_in": "captions (items), not images"})


def evaluate_order(
    engine: ScoringEngine, annotations: str, images: str, name: str, seed: int = 0, strict_ties: bool = False
) -> BenchmarkResult:
    """Headline `micro`: ARO's Precision@1, the share of captions scoring above all four perturbations. A tie
    with the best perturbation counts right, as ARO's `argmax` counts it; `strict_ties=True` counts it wrong.
    `details["num_ties"]` counts the tied captions, `details["tie_rule"]` says how they were counted."""
    return score_choice_set(engine, name, load_order(annotations, images, seed=seed), average="micro",
                            ties="wrong" if strict_ties else "right")


def strict_ties_setting(value: bool | str) -> bool:
    """The `strict_ties` setting of an Order task from Python (a bool) or from `--set NAME.strict_ties=VALUE`
    (true/false, yes/no, 1/0); `ValueError` naming the setting for anything else."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off", ""):
        return False
    raise ValueError(f"strict_ties={value!r}: expected true or false")


def _vg_spec(kind: str) -> BenchmarkSpec:
    return BenchmarkSpec(f"aro_vg_{kind}", {
        "annotations": (f"aro/visual_genome_{kind}.json", f"visual_genome_{kind}.json (linked from {_ARO})"),
        "images": ("aro/images", f"the unzipped vgr_vga_images.zip (linked from {_ARO})"),
    }, lambda engine, annotations, images: evaluate_vg(engine, annotations, images, kind),
        lambda annotations, images: read_vg(annotations, kind),
        dataset=BenchmarkDataset("aro", f"ARO VG-{kind.capitalize()} {_ARO_PAPER}", f"vg_{kind}"),
        metric_types=choice_accuracy)


def _order_spec(name: str, dataset: str, title: str) -> BenchmarkSpec:
    def run(engine: ScoringEngine, annotations: str, images: str, strict_ties: bool | str = False) -> BenchmarkResult:
        return evaluate_order(engine, annotations, images, name, strict_ties=strict_ties_setting(strict_ties))

    def check(annotations: str, images: str, strict_ties: bool | str = False) -> list[tuple[str, list[str]]]:
        strict_ties_setting(strict_ties)
        return check_karpathy_test(annotations, images)

    return BenchmarkSpec(name, karpathy_test_paths(dataset), run, check,
                         dataset=BenchmarkDataset("aro", f"ARO {title}-Order {_ARO_PAPER}", f"{dataset}_order"),
                         metric_types=choice_accuracy)


VG_RELATION_SPEC = _vg_spec("relation")
VG_ATTRIBUTION_SPEC = _vg_spec("attribution")
COCO_ORDER_SPEC = _order_spec("aro_coco_order", "coco", "COCO")
FLICKR_ORDER_SPEC = _order_spec("aro_flickr_order", "flickr", "Flickr30k")
