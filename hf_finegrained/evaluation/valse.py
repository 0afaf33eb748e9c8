"""VALSE (Parcalabescu et al., ACL 2022): 11 instrument files grouped into pieces; valid samples only
(`mturk["caption"] >= 2`); acc_r = share of samples whose caption scores strictly above its foil."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence

from .annotations import expect, field, read_json
from .choice import ChoiceSet, score_choice_set
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, choice_accuracy

# instrument file stem -> piece (the column groups of the VALSE paper's results table)
INSTRUMENTS = {
    "existence": "existence",
    "plurals": "plurality",
    "counting-hard": "counting",
    "counting-small-quant": "counting",
    "counting-adversarial": "counting",
    "relations": "spatial_relations",
    "action-replacement": "actions",
    "actant-swap": "actions",
    "coreference-standard": "coreference",
    "coreference-hard": "coreference",
    "foil-it": "foil_it",
}
IMAGES = "COCO val2017, val2014 and train2014, SWiG, Visual7W and VisDial val2018 images; see the VALSE README"


def is_valid(sample: dict) -> bool:
    """VALSE's validity filter: at least 2 of 3 annotators judged the caption (not the foil) as describing the image."""
    return sample.get("mturk", {}).get("caption", 0) >= 2


Samples = list[tuple[str, str, str]]  # (image_file, caption, foil)


def read_valse(annotation_dir: str | os.PathLike) -> tuple[dict[str, tuple[Samples, int]], list[str]]:
    """Per instrument file present under `annotation_dir`: the (image_file, caption, foil) of its valid samples
    and the number of invalid ones; and the names of the absent files. `AnnotationError` naming the file and
    sample when one is malformed."""
    out, absent = {}, []
    for instrument in INSTRUMENTS:
        path = os.path.join(annotation_dir, f"{instrument}.json")
        if not os.path.isfile(path):
            absent.append(f"{instrument}.json")
            continue
        data = expect(read_json(path), dict, path, 'mapping ids to {"image_file", "caption", "foil", "mturk"}')
        valid, invalid = [], 0
        for key, sample in data.items():
            where = f"sample {key!r}"
            if "mturk" in expect(sample, dict, path, f"as {where}"):  # no votes: not valid, as in is_valid
                mturk = field(sample, "mturk", path, where, dict)
                if "caption" in mturk:
                    field(mturk, "caption", path, f"{where} mturk", (int, float))
            if not is_valid(sample):
                invalid += 1
                continue
            valid.append(tuple(field(sample, name, path, where) for name in ("image_file", "caption", "foil")))
        out[instrument] = (valid, invalid)
    return out, absent


def load_valse(annotation_dir: str | os.PathLike, image_roots: Sequence[str | os.PathLike]) -> ChoiceSet:
    """Valid samples of the 11 instruments as [caption, foil] items with category "<piece>/<instrument>";
    absent instrument files are listed in `notes["absent_files"]`."""
    samples, absent = read_valse(annotation_dir)
    items, total, missing, invalid = [], 0, Counter(), Counter()
    for instrument, (valid, left_out) in samples.items():
        piece = INSTRUMENTS[instrument]
        if left_out:
            invalid[instrument] = left_out
        for image_file, caption, foil in valid:
            total += 1
            path = find_image(image_file, image_roots)
            if path is None:
                missing[instrument] += 1
                continue
            items.append(ChoiceItem(FileImage(path), [caption, foil], 0, f"{piece}/{instrument}"))
    return ChoiceSet(items=items, total=total, missing_images=sum(missing.values()),
                     missing_by_category=dict(missing),
                     notes={"invalid_samples_left_out": dict(invalid), **({"absent_files": absent} if absent else {})})


def evaluate_valse(engine: ScoringEngine, annotations: str, images: Sequence[str]) -> BenchmarkResult:
    """Metrics: each instrument ("<piece>/<instrument>") and piece, `macro` = mean over the pieces of the
    mean over their instruments, `instrument_mean` = mean over the instruments (the paper's Avg.), `micro`."""
    return score_choice_set(engine, "valse", load_valse(annotations, images), average="macro",
                            headline="instrument_mean", leaf_mean="instrument_mean")


SPEC = BenchmarkSpec("valse", {
    "annotations": ("valse", "the 11 VALSE files (github.com/Heidelberg-NLP/VALSE, data/*.json)"),
    "images": ("valse/images", f"every VALSE image in one folder by file name ({IMAGES})"),
}, lambda engine, annotations, images: evaluate_valse(engine, annotations, [images]),
    lambda annotations, images: read_valse(annotations),
    dataset=BenchmarkDataset("valse", "VALSE (Parcalabescu et al., ACL 2022)"), metric_types=choice_accuracy)
