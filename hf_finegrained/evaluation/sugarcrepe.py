"""SugarCrepe (Hsieh et al., NeurIPS 2023): 7 category files of {idx: {filename, caption, negative_caption}} on
COCO val2017 images; strict per-category accuracy and the mean of the 7 categories."""

from __future__ import annotations

import os
from collections import Counter

from .annotations import expect, field, read_json
from .choice import ChoiceSet, score_choice_set
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, choice_accuracy

CATEGORIES = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")


def read_sugarcrepe(annotation_dir: str | os.PathLike) -> tuple[dict[str, list[tuple[str, str, str]]], list[str]]:
    """(filename, caption, negative_caption) of every entry, per category file present under `annotation_dir`,
    and the names of the absent files; `AnnotationError` naming the file and entry when one is malformed."""
    entries, absent = {}, []
    for category in CATEGORIES:
        path = os.path.join(annotation_dir, f"{category}.json")
        if not os.path.isfile(path):
            absent.append(f"{category}.json")
            continue
        data = expect(read_json(path), dict, path, 'mapping ids to {"filename", "caption", "negative_caption"}')
        entries[category] = [
            tuple(field(entry, key, path, f"entry {idx!r}") for key in ("filename", "caption", "negative_caption"))
            for idx, entry in data.items()
        ]
    return entries, absent


def load_sugarcrepe(annotation_dir: str | os.PathLike, image_root: str | os.PathLike) -> ChoiceSet:
    """Reads the 7 category files (`<category>.json`) under `annotation_dir`; images are `image_root/<filename>`.
    A category file that is absent is listed in `notes["absent_files"]` (and so left out of the mean)."""
    entries, absent = read_sugarcrepe(annotation_dir)
    items, total, missing = [], 0, Counter()
    for category, rows in entries.items():
        for filename, caption, negative in rows:
            total += 1
            path = find_image(filename, [image_root])
            if path is None:
                missing[category] += 1
                continue
            items.append(ChoiceItem(FileImage(path), [caption, negative], 0, category))
    return ChoiceSet(items=items, total=total, missing_images=sum(missing.values()),
                     missing_by_category=dict(missing), notes={"absent_files": absent} if absent else {})


def no_entries_reason(annotation_dir: str | os.PathLike, absent: list[str]) -> str:
    """Why nothing could be scored when the annotation folder holds no entry: no file, or only empty ones."""
    expected = ", ".join(f"{category}.json" for category in CATEGORIES)
    source = "(github.com/RAIVNLab/sugar-crepe, data/*.json)"
    if len(absent) == len(CATEGORIES):
        where = "does not exist" if not os.path.isdir(annotation_dir) else "holds none of them"
        return f"no SugarCrepe annotation file: {annotation_dir} {where}; expected {expected} {source}"
    present = ", ".join(f"{category}.json" for category in CATEGORIES if f"{category}.json" not in absent)
    return (f"the SugarCrepe annotation files under {annotation_dir} hold no entry ({present}"
            + (f"; absent: {', '.join(absent)}" if absent else "") + f"); expected {expected} {source}")


def evaluate_sugarcrepe(engine: ScoringEngine, annotations: str, images: str) -> BenchmarkResult:
    """Headline `macro` = mean of the 7 category accuracies (the paper reports the categories separately).
    Skipped, naming the folder and the expected files, when the annotation files are absent or empty."""
    choice_set = load_sugarcrepe(annotations, images)
    if not choice_set.total:
        absent = choice_set.notes.get("absent_files", [])
        return BenchmarkResult.skipped("sugarcrepe", no_entries_reason(annotations, absent))
    return score_choice_set(engine, "sugarcrepe", choice_set, average="macro")


SPEC = BenchmarkSpec("sugarcrepe", {
    "annotations": ("sugarcrepe", "the 7 SugarCrepe files (github.com/RAIVNLab/sugar-crepe, data/*.json)"),
    "images": ("coco/val2017", "COCO val2017 images (cocodataset.org)"),
}, evaluate_sugarcrepe, lambda annotations, images: read_sugarcrepe(annotations),
    dataset=BenchmarkDataset("sugarcrepe", "SugarCrepe (Hsieh et al., NeurIPS 2023)"), metric_types=choice_accuracy)
