"""ARO (Yuksekgonul et al., ICLR 2023): VG-Relation and VG-Attribution (2-way choices on Visual Genome crops,
macro-averaged through the `aro_macro` metric) and COCO-Order / Flickr-Order (true caption against its four
word-order perturbations, strict choice accuracy)."""

from __future__ import annotations

import os
import random

from ..metrics import load_metric
from .annotations import expect, field, read_json
from .choice import ChoiceSet, score_choice_set
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .karpathy import load_karpathy_test
from .order_perturbations import clean_caption, load_spacy, perturb
from .results import BenchmarkResult


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
    out = load_metric("aro_macro").compute(
        predictions=scores, references=[0] * len(scores), groups=groups, protocol=f"vg_{kind}"
    )
    return BenchmarkResult(
        name=name, headline="macro", metrics={"macro": out["macro_accuracy"], "micro": out["micro_accuracy"]},
        counts=counts,
        details={"per_group": out["per_group"], "group_counts": out["group_counts"],
                 "left_out_groups": out["left_out_groups"]},
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


def evaluate_order(engine: ScoringEngine, annotations: str, images: str, name: str, seed: int = 0) -> BenchmarkResult:
    """Headline `micro`: share of captions scoring strictly above all four perturbations (ARO's Precision@1,
    except that ARO's argmax counts a tie with a perturbation as right; here it is wrong)."""
    return score_choice_set(engine, name, load_order(annotations, images, seed=seed), average="micro")
