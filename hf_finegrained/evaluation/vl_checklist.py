"""VL-CheckList (Zhao et al., 2022): files of `[img_path, {"POS": [...], "NEG": [...]}]` grouped into
Object / Attribute / Relation sub-types. Common image-text-contrast protocol: per file the first 1,000 items
whose image exists, first POS against first NEG, strict `>`; sub-type = mean over sources of the mean over
files; type = mean over its sub-types."""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import bow
from .annotations import AnnotationError, describe, expect, field, read_json
from .choice import ChoiceSet, score_choice_set
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, choice_accuracy

MAX_ITEMS_PER_FILE = 1000


@dataclass(frozen=True)
class CheckListFile:
    """One annotation file: where it sits under `data/`, its place in the hierarchy and its image folder."""

    type: str
    subtype: str
    source: str
    relpaths: tuple[str, ...]  # candidates under data/, first existing wins
    image_dir: str  # folder under the image root

    @property
    def category(self) -> str:
        return f"{self.type}/{self.subtype}/{self.source}/{os.path.splitext(os.path.basename(self.relpaths[0]))[0]}"


def corpus() -> list[CheckListFile]:
    """The VL-CheckList corpus (its corpus.json grouping, with the annotation paths its corpus/*.yaml name)."""
    files = []
    for group, subtypes in (("Location", ("center", "mid", "margin")), ("Size", ("large", "medium", "small"))):
        low = group.lower()
        for sub in subtypes:
            for role in ("obj", "subj"):
                path = f"Object/{group}/vg_{low}/vg_{role}_{sub}.json"
                files.append(CheckListFile("Object", sub, "vg", (path,), "vg"))
            for role in ("agent", "destination", "item", "tool"):
                files.append(CheckListFile(
                    "Object", sub, "swig", (f"Object/{group}/swig_{low}/swig_{role}/swig_{role}_{sub}.json",), "swig"))
            path = f"Object/{group}/hake_{low}/hake_obj_{sub}.json"
            files.append(CheckListFile("Object", sub, "hake", (path,), "hake"))
    for sub in ("action", "color", "material", "size", "state"):
        for source in ("vg", "vaw"):
            files.append(CheckListFile("Attribute", sub, source, (f"Attribute/{source}/{sub}.json",), "vg"))
    files.append(CheckListFile("Relation", "action", "vg", ("Relation/vg/action.json",), "vg"))
    files.append(CheckListFile("Relation", "action", "swig", ("Relation/swig_action.json",), "swig"))
    files.append(CheckListFile("Relation", "action", "hake", ("Relation/hake_action.json",), "hake"))
    # The upstream config points spatial at Attribute/vg/spatial.json; a Relation/ copy is accepted too.
    files.append(CheckListFile("Relation", "spatial", "vg", ("Attribute/vg/spatial.json", "Relation/vg/spatial.json"),
                               "vg"))
    return files


def present_files(data_dir: str | os.PathLike) -> tuple[list[tuple[CheckListFile, str]], list[str]]:
    """(corpus file, its path) for every corpus file present under `data_dir`; and the absent ones."""
    found, absent = [], []
    for spec in corpus():
        paths = [os.path.join(data_dir, p) for p in spec.relpaths if os.path.isfile(os.path.join(data_dir, p))]
        if paths:
            found.append((spec, paths[0]))
        else:
            absent.append(spec.relpaths[0])
    return found, absent


def read_checklist_file(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """(img_path, first POS, first NEG) of every entry of one VL-CheckList file; `AnnotationError` naming the
    file and entry when one is malformed."""
    layout = '[img_path, {"POS": [...], "NEG": [...]}]'
    out = []
    for n, entry in enumerate(expect(read_json(path), list, path, f"of {layout} entries")):
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise AnnotationError(f"{path}: entry {n} is {describe(entry)}, expected {layout}")
        texts = entry[1]
        pos, neg = (field(texts, key, path, f"entry {n}", list) for key in ("POS", "NEG"))
        out.append((entry[0], _first_text(pos, path, n, "POS"), _first_text(neg, path, n, "NEG")))
    return out


def _first_text(values: list, path: str | os.PathLike, n: int, key: str) -> str:
    if not values or not isinstance(values[0], str):
        shown = "empty" if not values else f"led by {describe(values[0])}"
        raise AnnotationError(f"{path}: entry {n}: {key!r} is {shown}, expected a list of captions (text)")
    return values[0]


def load_vl_checklist(
    data_dir: str | os.PathLike, image_root: str | os.PathLike, max_items: int = MAX_ITEMS_PER_FILE
) -> ChoiceSet:
    """Items of every corpus file present under `data_dir`; images are `image_root/<vg|swig|hake>/<img_path>`.

    Like the reference code, items whose image is missing are skipped before the first `max_items` are taken;
    they are counted per file in `missing_by_category`. Files absent from `data_dir` are listed in
    `notes["absent_files"]` and left out of the averages.
    """
    items, total, missing, per_file = [], 0, {}, {}
    found, absent = present_files(data_dir)
    for spec, annotation_file in found:
        kept = lost = 0
        for img_path, positive, negative in read_checklist_file(annotation_file):
            if kept == max_items:
                break
            path = os.path.join(image_root, spec.image_dir, img_path)
            if not os.path.isfile(path):
                lost += 1
                continue
            items.append(ChoiceItem(FileImage(path), [positive, negative], 0, spec.category))
            kept += 1
        total += kept + lost
        per_file[spec.category] = kept
        if lost:
            missing[spec.category] = lost
    return ChoiceSet(items=items, total=total, missing_images=sum(missing.values()), missing_by_category=missing,
                     notes={"absent_files": absent, "items_per_file": per_file})


def evaluate_vl_checklist(engine: ScoringEngine, annotations: str, images: str) -> BenchmarkResult:
    """Metrics: `Object`, `Attribute`, `Relation`, their sub-types ("Object/center", ...), `macro` = mean of the
    three types (headline), `micro`, and the order-blind ceiling of each (`bow_ceiling/<key>`); per-file and
    per-source scores are in `details["per_category"]`, their ceilings in `details["bow_ceiling_per_category"]`."""
    result = score_choice_set(engine, "vl_checklist", load_vl_checklist(annotations, images), average="macro")
    if result.status == "ok":
        scores, ceilings = bow.split_ceilings(result.metrics)
        deep = {k: v for k, v in scores.items() if k.count("/") >= 2}
        deep_ceilings = {k: v for k, v in ceilings.items() if k.count("/") >= 2}
        result.details["per_category"] = deep
        result.details["bow_ceiling_per_category"] = deep_ceilings
        result.metrics = {k: v for k, v in result.metrics.items()
                          if k not in deep and not (k.startswith(bow.PREFIX) and k[len(bow.PREFIX):] in deep_ceilings)}
    return result


def check_vl_checklist(annotations: str, images: str) -> None:
    """`SPEC.check`: reads every corpus file present under `annotations` (images unopened)."""
    for _, path in present_files(annotations)[0]:
        read_checklist_file(path)


SPEC = BenchmarkSpec("vl_checklist", {
    "annotations": ("vl_checklist/data", "the data/ folder of github.com/om-ai-lab/VL-CheckList"),
    "images": ("vl_checklist/images", "folders vg/, swig/, hake/ as in VL-CheckList's DATASETS.md"),
}, evaluate_vl_checklist, check_vl_checklist,
    dataset=BenchmarkDataset("vl-checklist", "VL-CheckList (Zhao et al., 2022)"), metric_types=choice_accuracy)
