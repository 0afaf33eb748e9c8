"""EqBen (Wang et al., ICCV 2023): visual-minimal-change pairs (two images, two captions) from five sources
(Action Genome, YouCook2, GEBC, Kubric in three variants, Stable Diffusion), scored as Winoground per
sub-dataset after un-shuffling the annotation, as Wangt-CN/EqBen (@ab6c79a3) does it (`evaluate_eqben_locally.py`,
the CodaLab scorer; `src/eqben/eqben_utils.py`, `EqBenALL`).

Files (annotation folder): `ann_json_finegrained_random.json` (Google Drive, linked from the EqBen README), a
list of `{"image": "<sub-dataset>/<path>", "caption"}`, one row per (image, caption) pair, four per example, in a
random order; `private_random_idx.json` and `private_info.json` (the repository's `src_file/`): the shuffle and,
per un-shuffled position, `{"dataset", "name" (c0i0, c0i1, c1i0 or c1i1), "sample_cnt"}`.

Un-shuffling as upstream: the score of row r goes to position `private_random_idx[r]` (the scorer takes the
scores in `argsort(private_random_idx)` order), position p fills slot `name` of example `sample_cnt` of
`private_info[p]`, and a sub-dataset's examples are those from (its first position) // 4 to (its first position
+ its number of positions) // 4. Images are `<image folder>/<image>`; YouCook2 frames are `.npy` arrays in BGR order (converted to RGB as
`process_img_npy` does); a `.png` that is absent is looked for as `.jpg` (the "light" release converts them).

Scores: text, image, group (strict `>`) per sub-dataset (`ag`, `youcook2`, `gebc`, `kubric/loc`, `kubric/attr`,
`kubric/cnt`, `sd`), `kubric` = mean of its three, `micro` over examples, `macro` = mean over the five sources
(vl_compo's EqBen number); headline `group/macro`. An example with a row missing or an image file missing is left
out and counted."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .annotations import AnnotationError, expect, read_json
from .engine import ScoringEngine
from .images import FileImage, find_image
from .pairs import PairExample, score_pair_examples
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, pair_scores

ANNOTATION = "ann_json_finegrained_random.json"
INDEX = "private_random_idx.json"
INFO = "private_info.json"
SLOTS = ("c0i0", "c0i1", "c1i0", "c1i1")
SOURCE = ("github.com/Wangt-CN/EqBen: the annotation (Google Drive link in its README) and src_file/"
          "private_random_idx.json, src_file/private_info.json")


@dataclass(frozen=True)
class NpyImage:
    """A frame stored as a `.npy` array in BGR channel order (EqBen's YouCook2 images)."""

    path: str

    @property
    def key(self) -> Hashable:
        return ("npy", self.path)

    def open(self) -> Image.Image:
        return Image.fromarray(np.load(self.path)[:, :, [2, 1, 0]], "RGB")


def category_name(dataset: str) -> str:
    """"eqbenkubric_loc" -> "kubric/loc", "eqbenag" -> "ag"."""
    name = dataset[len("eqben"):] if dataset.startswith("eqben") else dataset
    return name.replace("_", "/", 1) if name.startswith("kubric_") else name


def read_eqben(annotation_dir: str) -> tuple[list[dict], list[int], list[dict]]:
    """(annotation rows, shuffle index, position info), checked against each other; `AnnotationError` naming the
    file and the problem."""
    paths = {name: os.path.join(annotation_dir, name) for name in (ANNOTATION, INDEX, INFO)}
    absent = [name for name, path in paths.items() if not os.path.isfile(path)]
    if absent:
        raise AnnotationError(f"{annotation_dir}: {', '.join(absent)} absent ({SOURCE})")
    rows = expect(read_json(paths[ANNOTATION]), list, paths[ANNOTATION], "of {\"image\", \"caption\"} rows")
    index = expect(read_json(paths[INDEX]), list, paths[INDEX], "of positions")
    info = expect(read_json(paths[INFO]), list, paths[INFO], "of {\"dataset\", \"name\", \"sample_cnt\"}")
    for n, row in enumerate(rows):
        if not (isinstance(row, dict) and isinstance(row.get("image"), str) and isinstance(row.get("caption"), str)):
            raise AnnotationError(f"{paths[ANNOTATION]}: row {n} is not an object with 'image' and 'caption' (text)")
    if not (len(rows) == len(index) == len(info)):
        raise AnnotationError(f"{annotation_dir}: {len(rows)} annotation rows, {len(index)} shuffle positions and "
                              f"{len(info)} position infos; the three files must come from the same release")
    if sorted(index) != list(range(len(index))):
        raise AnnotationError(f"{paths[INDEX]}: not a permutation of 0..{len(index) - 1}")
    for n, entry in enumerate(info):
        if not (isinstance(entry, dict) and isinstance(entry.get("dataset"), str) and entry.get("name") in SLOTS
                and isinstance(entry.get("sample_cnt"), int) and not isinstance(entry.get("sample_cnt"), bool)):
            raise AnnotationError(f"{paths[INFO]}: position {n} is not {{\"dataset\", \"name\" (one of "
                                  f"{', '.join(SLOTS)}), \"sample_cnt\" (a number)}}")
    return rows, index, info


def unshuffle(rows: list[dict], index: list[int], info: list[dict]) -> tuple[dict[int, dict[str, dict]], dict[str, range]]:
    """(example number -> slot -> annotation row, sub-dataset -> its example numbers), as upstream assigns them."""
    order = np.argsort(np.asarray(index), kind="stable")  # position p holds row order[p]
    slots: dict[int, dict[str, dict]] = {}
    spans: dict[str, list[int]] = {}
    for position, row_number in enumerate(order.tolist()):
        entry = info[position]
        slots.setdefault(entry["sample_cnt"], {})[entry["name"]] = rows[row_number]
        span = spans.setdefault(entry["dataset"], [position, position])
        span[1] += 1  # upstream: start at the first position, end = start + the number of positions
    return slots, {dataset: range(start // 4, end // 4) for dataset, (start, end) in spans.items()}


def image_ref(name: str, root: str) -> FileImage | NpyImage | None:
    """The image of a row under `root` (a `.png` absent is looked for as `.jpg`)."""
    candidates = [name] + ([name[:-4] + ".jpg"] if name.endswith(".png") else [])
    for candidate in candidates:
        path = find_image(candidate, [root])
        if path:
            return NpyImage(path) if path.endswith(".npy") else FileImage(path)
    return None


def load_eqben(annotation_dir: str, image_root: str) -> tuple[list[PairExample], int, Counter, Counter]:
    """Examples with their sub-dataset as category; the number of examples; those left out for a missing image
    and for an incomplete set of rows, per sub-dataset."""
    rows, index, info = read_eqben(annotation_dir)
    slots, spans = unshuffle(rows, index, info)
    examples, total, missing, incomplete = [], 0, Counter(), Counter()
    refs: dict[str, FileImage | NpyImage | None] = {}
    for dataset, numbers in spans.items():
        category = category_name(dataset)
        for number in numbers:
            total += 1
            slot = slots.get(number, {})
            if any(s not in slot for s in SLOTS):
                incomplete[category] += 1
                continue
            images = (slot["c0i0"]["image"], slot["c1i1"]["image"])
            for name in images:
                if name not in refs:
                    refs[name] = image_ref(name, image_root)
            if refs[images[0]] is None or refs[images[1]] is None:
                missing[category] += 1
                continue
            examples.append(PairExample(images=(refs[images[0]], refs[images[1]]),
                                        captions=(slot["c0i0"]["caption"], slot["c1i1"]["caption"]),
                                        category=category))
    return examples, total, missing, incomplete


def evaluate_eqben(engine: ScoringEngine, annotations: str, images: str) -> BenchmarkResult:
    """`text`, `image`, `group` per sub-dataset, `/micro` and `/macro` (mean over the five sources)."""
    examples, total, missing, incomplete = load_eqben(annotations, images)
    notes = {"missing_by_category": dict(missing)} if missing else {}
    if incomplete:
        notes["incomplete_examples"] = dict(incomplete)
    return score_pair_examples(engine, "eqben", examples, total=total, missing_images=sum(missing.values()),
                               headline="group/macro", notes=notes)


SPEC = BenchmarkSpec("eqben", {
    "annotations": ("eqben", f"{ANNOTATION}, {INDEX} and {INFO} ({SOURCE})"),
    "images": ("eqben/images", "the extracted EqBen image archive (Google Drive or the light jpg release, linked "
                               "from github.com/Wangt-CN/EqBen)"),
}, evaluate_eqben, lambda annotations, images: read_eqben(annotations),
    # no Hub copy by the authors: the annotation is on Google Drive
    dataset=BenchmarkDataset("eqben", "EqBen (Wang et al., ICCV 2023)"), metric_types=pair_scores())
