"""What'sUp (Kamath et al., EMNLP 2023): spatial relations as caption choices, in six subsets read as the authors'
`dataset_zoo/aro_datasets.py` (amitakamath/whatsup_vlms @7c1f2550) reads them.

- Controlled-A / Controlled-B (`controlled_images_dataset.json`, `controlled_clevr_dataset.json`): a list of
  `{"image_path", "caption_options"}`, four options, the right one first; the relation and the object pair come
  from the image's file name (`<object>_<relation>_<object>.jpeg`). Also pair and set accuracy (`whatsup_sets`).
- COCO-spatial and GQA-spatial, one and two objects (`coco_qa_{one,two}_obj.json`, `vg_qa_{one,two}_obj.json`):
  a list of `[image_id, right caption, wrong caption]`; images `val2017/<id zero-padded to 12>.jpg` and
  `vg_images/<id>.jpg`.

The authors' code takes `argmax` over the options with the right one first, so a tie with the right caption
counts **right**; `strict_ties=true` counts it wrong. Accuracy per subset is over its images (micro); the paper's
Table 1 numbers are these, and its summary is their mean (`macro`, the headline, as vl_compo's `whatsup`);
`source_mean` is READ-CLIP's number (the mean over Controlled, COCO-spatial and GQA-spatial of the accuracy over
each one's pooled items). Per relation accuracies are in `details.per_relation`."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..metrics import load_metric
from .annotations import AnnotationError, expect, read_json, texts
from .aro import strict_ties_setting
from .choice import ChoiceSet, score_choice_set
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, MetricType

# subset -> (annotation file, image folder, source); order: the paper's Table 1
SUBSETS = {
    "controlled_a": ("controlled_images_dataset.json", "controlled_images", "controlled"),
    "controlled_b": ("controlled_clevr_dataset.json", "controlled_clevr", "controlled"),
    "coco_one": ("coco_qa_one_obj.json", "val2017", "coco"),
    "coco_two": ("coco_qa_two_obj.json", "val2017", "coco"),
    "gqa_one": ("vg_qa_one_obj.json", "vg_images", "gqa"),
    "gqa_two": ("vg_qa_two_obj.json", "vg_images", "gqa"),
}
# Controlled subsets: the relation pairs of the pair accuracy (relation as in the file name)
OPPOSITES = {"controlled_a": [["left", "right"], ["on", "under"]],
             "controlled_b": [["left", "right"], ["in-front", "behind"]]}
SOURCE = "github.com/amitakamath/whatsup_vlms (Google Drive folder linked from its README)"

Entry = tuple[str, list[str], str, tuple[str, str] | None]  # (image name, options, relation, (group, member))


def controlled_relation(image_path: str, subset: str) -> str:
    """The relation the authors' code reads from a Controlled image path (its `all_prepositions`)."""
    if "left_of" in image_path:
        return "left_of"
    if "right_of" in image_path:
        return "right_of"
    if subset == "controlled_a":
        return "on" if "_on_" in image_path else "under"
    return "in-front_of" if "_in-front_of_" in image_path else "behind"


def controlled_key(image_path: str) -> tuple[str, str]:
    """(object pair, relation) as the authors' pair/set code keys an image: the first and last `_` fields of the
    file name (the last without its 5-character extension, ".jpeg") and the second field."""
    name = image_path.split("/")[-1]
    fields = name.split("_")
    return f"{fields[0]}|{fields[-1][:-5]}", fields[1] if len(fields) > 1 else ""


def qa_relation(caption: str, subset: str) -> str:
    """The relation the authors' code reads from a COCO/GQA-spatial right caption."""
    if subset.endswith("_one"):
        return caption.split()[-1] if caption.split() else ""
    for words, relation in (("left of", "left"), ("right of", "right")):
        if words in caption:
            return relation
    if subset == "coco_two":
        return "above" if "above" in caption else "below"
    if "front of" in caption:
        return "front"
    return "behind" if "behind" in caption else "top"


def read_subset(path: str, subset: str) -> list[Entry]:
    """The entries of one What'sUp file; `AnnotationError` naming the file and entry when one is malformed."""
    data = expect(read_json(path), list, path, "of entries (What'sUp's layout)")
    entries = []
    for n, entry in enumerate(data):
        where = f"entry {n}"
        if subset in OPPOSITES:
            if not isinstance(entry, dict) or not isinstance(entry.get("image_path"), str):
                raise AnnotationError(f"{path}: {where} is not an object with an 'image_path' (text)")
            options = texts(entry.get("caption_options"), path, f"{where}: 'caption_options'")
            if len(options) < 2:
                raise AnnotationError(f"{path}: {where}: 'caption_options' holds {len(options)} caption")
            image = entry["image_path"]
            entries.append((image, options, controlled_relation(image, subset), controlled_key(image)))
        else:
            if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], (int, str))
                    and isinstance(entry[1], str) and isinstance(entry[2], str)):
                raise AnnotationError(f"{path}: {where} is not [image_id, right caption, wrong caption]")
            image_id, right, wrong = entry
            name = f"{str(image_id).zfill(12)}.jpg" if subset.startswith("coco") else f"{image_id}.jpg"
            entries.append((name, [right, wrong], qa_relation(right, subset), None))
    return entries


def read_whatsup(annotation_dir: str) -> tuple[dict[str, list[Entry]], list[str]]:
    """The entries of every subset file present under `annotation_dir`, and the names of the absent ones."""
    entries, absent = {}, []
    for subset, (filename, _, _) in SUBSETS.items():
        path = os.path.join(annotation_dir, filename)
        if not os.path.isfile(path):
            absent.append(filename)
            continue
        entries[subset] = read_subset(path, subset)
    return entries, absent


def image_path(name: str, folder: str, roots: Iterable[str | None]) -> str | None:
    """An image of a subset: `root/<name as written>`, `root/<folder>/<file name>` or `root/<file name>`."""
    base = name.split("/")[-1]
    candidates = [name, name.split("data/", 1)[-1], os.path.join(folder, base), base]
    for root in roots:
        for candidate in candidates:
            found = find_image(candidate, [root]) if root else None
            if found:
                return found
    return None


def load_whatsup(annotation_dir: str, image_root: str, coco_images: str | None = None) -> tuple[ChoiceSet, dict]:
    """Items (category = subset) and, per item, its relation and its (object pair, relation) key; images missing
    are counted per subset. `coco_images`: a COCO val2017 folder to look in too for COCO-spatial."""
    entries, absent = read_whatsup(annotation_dir)
    items, relations, keys, missing = [], [], [], Counter()
    all_keys: dict[str, list[tuple[tuple[str, str], bool]]] = {}
    total = 0
    for subset, rows in entries.items():
        folder = SUBSETS[subset][1]
        roots = [image_root] + ([coco_images] if subset.startswith("coco") and coco_images else [])
        for name, options, relation, key in rows:
            total += 1
            path = image_path(name, folder, roots)
            if key is not None:
                all_keys.setdefault(subset, []).append((key, path is not None))
            if path is None:
                missing[subset] += 1
                continue
            items.append(ChoiceItem(FileImage(path), list(options), 0, subset))
            relations.append(relation)
            keys.append(key)
    notes: dict[str, Any] = {"absent_files": absent} if absent else {}
    choice_set = ChoiceSet(items=items, total=total, missing_images=sum(missing.values()),
                           missing_by_category=dict(missing), notes=notes)
    return choice_set, {"relations": relations, "keys": keys, "all_keys": all_keys,
                        "rows": {subset: len(rows) for subset, rows in entries.items()}}


def evaluate_whatsup(engine: ScoringEngine, annotations: str, images: str, strict_ties: bool | str = False,
                     coco_images: str | None = None) -> BenchmarkResult:
    """Accuracy per subset, `micro`, `macro` (headline: the mean of the subsets), `source_mean` (READ-CLIP's),
    `<controlled subset>/pair` and `/set`; ties count right unless `strict_ties`."""
    strict = strict_ties_setting(strict_ties)
    ties = "wrong" if strict else "right"
    choice_set, extra = load_whatsup(annotations, images, coco_images)
    if not choice_set.total:
        absent = ", ".join(choice_set.notes.get("absent_files", []))
        return BenchmarkResult.skipped("whatsup", f"no What'sUp annotation file under {annotations} (expected {absent}; "
                                                  f"{SOURCE})")
    if not choice_set.items:
        return BenchmarkResult.skipped("whatsup", f"no item could be scored ({choice_set.missing_images} images missing)")
    scores = engine.score_choices(choice_set.items)
    result = score_choice_set(engine, "whatsup", choice_set, average="macro", ties=ties, scores=scores)
    subsets = [item.category for item in choice_set.items]
    ranks = load_metric("rank_recall").compute(predictions=scores, references=[0] * len(scores),
                                               ties="wrong" if strict else "first_index")["ranks"]
    right = [rank == 0 for rank in ranks]
    # READ-CLIP's number: accuracy over the pooled items of each source, averaged over the sources.
    pooled: dict[str, list[bool]] = {}
    for subset, ok in zip(subsets, right):
        pooled.setdefault(SUBSETS[subset][2], []).append(ok)
    result.metrics["source_mean"] = sum(sum(v) / len(v) for v in pooled.values()) / len(pooled)
    # Pair and set accuracy of the Controlled subsets, over every annotated image (a missing one counts wrong).
    sets = load_metric("whatsup_sets")
    for subset, opposites in OPPOSITES.items():
        if subset not in extra["all_keys"]:
            continue
        outcome = iter(ok for s, ok in zip(subsets, right) if s == subset)
        groups, members, values = [], [], []
        for (group, member), present in extra["all_keys"][subset]:
            groups.append(group)
            members.append(member)
            values.append(int(next(outcome)) if present else 0)
        known = {m for pair in opposites for m in pair}
        kept = [i for i, m in enumerate(members) if m in known]
        if len(kept) < len(members):
            result.details.setdefault("unknown_relation_names", {})[subset] = len(members) - len(kept)
        out = sets.compute(predictions=[values[i] for i in kept], groups=[groups[i] for i in kept],
                           members=[members[i] for i in kept], opposites=opposites,
                           num_images=extra["rows"][subset])
        result.metrics[f"{subset}/pair"] = out["pair_accuracy"]
        result.metrics[f"{subset}/set"] = out["set_accuracy"]
    per_relation = load_metric("choice_accuracy").compute(
        predictions=scores, references=[0] * len(scores), ties=ties,
        categories=[f"{s}/{r.replace('/', '|')}" for s, r in zip(subsets, extra["relations"])])
    result.details["per_relation"] = {k: v for k, v in per_relation["per_category"].items() if "/" in k}
    result.details["tie_rule"] = ("ties count wrong (strict_ties)" if strict else
                                  "ties count right (argmax over [right, wrong...] as in the authors' code)")
    result.details["source_mean_sources"] = {source: len(v) for source, v in pooled.items()}
    return result


def check_whatsup(annotations: str, images: str, strict_ties: bool | str = False,
                  coco_images: str | None = None) -> tuple[dict[str, list[Entry]], list[str]]:
    """`SPEC.check`: reads the subset files present (images unopened)."""
    strict_ties_setting(strict_ties)
    return read_whatsup(annotations)


def metric_type(metric: str) -> MetricType:
    """`SPEC.metric_types`: `<controlled subset>/pair` and `/set` are the paper's pair and set accuracies; every
    other key (a subset, `micro`, `macro`, `source_mean`) a caption-choice accuracy."""
    for kind in ("pair", "set"):
        if metric.endswith(f"/{kind}"):
            return MetricType(f"{kind}_accuracy")
    return MetricType()


SPEC = BenchmarkSpec("whatsup", {
    "annotations": ("whatsup", f"the What'sUp JSON files ({', '.join(f for f, _, _ in SUBSETS.values())}; {SOURCE})"),
    "images": ("whatsup", "the What'sUp image folders controlled_images/, controlled_clevr/, val2017/ and vg_images/ "
                          f"({SOURCE})"),
}, evaluate_whatsup, check_whatsup,
    # no Hub copy by the authors: the files come from their Google Drive folder
    dataset=BenchmarkDataset("whatsup", "What'sUp (Kamath et al., EMNLP 2023)"), metric_types=metric_type)
