"""VALSE (Parcalabescu et al., ACL 2022): 11 instrument files grouped into pieces; valid samples only
(`mturk["caption"] >= 2`); acc_r = share of samples whose caption scores strictly above its foil."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence

from .choice import ChoiceSet, score_choice_set
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult

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


def load_valse(annotation_dir: str | os.PathLike, image_roots: Sequence[str | os.PathLike]) -> ChoiceSet:
    """Valid samples of the 11 instruments as [caption, foil] items with category "<piece>/<instrument>";
    absent instrument files are listed in `notes["absent_files"]`."""
    items, total, missing, invalid, absent = [], 0, Counter(), Counter(), []
    for instrument, piece in INSTRUMENTS.items():
        path = os.path.join(annotation_dir, f"{instrument}.json")
        if not os.path.isfile(path):
            absent.append(f"{instrument}.json")
            continue
        with open(path, encoding="utf-8") as f:
            samples = json.load(f)
        for sample in samples.values():
            if not is_valid(sample):
                invalid[instrument] += 1
                continue
            total += 1
            path = find_image(sample["image_file"], image_roots)
            if path is None:
                missing[instrument] += 1
                continue
            items.append(ChoiceItem(FileImage(path), [sample["caption"], sample["foil"]], 0, f"{piece}/{instrument}"))
    return ChoiceSet(items=items, total=total, missing_images=sum(missing.values()),
                     missing_by_category=dict(missing),
                     notes={"invalid_samples_left_out": dict(invalid), **({"absent_files": absent} if absent else {})})


def evaluate_valse(engine: ScoringEngine, annotations: str, images: Sequence[str]) -> BenchmarkResult:
    """Metrics: each instrument ("<piece>/<instrument>") and piece, `macro` = mean over the pieces of the
    mean over their instruments, `instrument_mean` = mean over the instruments (the paper's Avg.), `micro`."""
    return score_choice_set(engine, "valse", load_valse(annotations, images), average="macro",
                            headline="instrument_mean", leaf_mean="instrument_mean")
