"""BiVLC (Miranda et al., NeurIPS 2024 D&B): 2,933 instances of two images and two captions (a COCO val2017 image
and caption, the SugarCrepe negative caption and a generated negative image), read from a local copy of the Hub
dataset `imirandam/BiVLC` (test split; columns `image`, `caption`, `negative_caption`, `negative_image`, `type`,
`subtype`), as IMirandaM/BiVLC (@84f0d175) reads it (`src/CLIP_fine_tuning/CLIP_utils.py`, `dataset` and
`evaluate_BiVLC`; `main_evaluation_BiVLC.py`).

Rule (every comparison strict `>`, as `evaluate_BiVLC`): I2T right when each image prefers its own caption
(s(C0,I0) > s(C1,I0) and s(C1,I1) > s(C0,I1): Winoground's text score), T2I right when each caption prefers its
own image (Winoground's image score), group when both. Reported over all instances (`micro`, the paper's numbers)
and per `type` (replace, swap, add) and `type/subtype` (as `main_evaluation_BiVLC.py` prints per type); `macro` is
the mean of the three types. Headline `group/micro`."""

from __future__ import annotations

from typing import Any

from .engine import ScoringEngine
from .hub_copy import load_local_dataset
from .images import DatasetImage
from .pairs import PairExample, score_pair_examples
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, pair_scores

COLUMNS = ("image", "caption", "negative_caption", "negative_image", "type", "subtype")
SOURCE = "imirandam/BiVLC on the Hugging Face Hub (test split)"
NAMES = {"text": "i2t", "image": "t2i", "group": "group"}


def load_bivlc(folder: str, split: str = "test") -> tuple[Any, list[PairExample]]:
    """The dataset and one example per instance: images (image, negative_image), captions (caption,
    negative_caption), category "<type>/<subtype>"; images are decoded only when encoded."""
    dataset = load_local_dataset(folder, split, COLUMNS, SOURCE)
    meta = dataset.select_columns(["caption", "negative_caption", "type", "subtype"])
    examples = []
    for index, row in enumerate(meta):
        examples.append(PairExample(
            images=(DatasetImage(dataset, index, "image"), DatasetImage(dataset, index, "negative_image")),
            captions=(row["caption"], row["negative_caption"]),
            category=f"{row['type']}/{row['subtype']}"))
    return dataset, examples


def evaluate_bivlc(engine: ScoringEngine, dataset: str, split: str = "test") -> BenchmarkResult:
    """`i2t`, `t2i`, `group` each `/micro`, `/macro` (mean of the types) and per type and type/subtype."""
    _, examples = load_bivlc(dataset, split)
    return score_pair_examples(engine, "bivlc", examples, total=len(examples), names=NAMES, headline="group/micro",
                               notes={"split": split})


def check_bivlc(dataset: str, split: str = "test") -> int:
    """`SPEC.check`: the local copy holds a dataset with BiVLC's columns; returns its number of instances."""
    return len(load_local_dataset(dataset, split, COLUMNS, SOURCE))


SPEC = BenchmarkSpec("bivlc", {
    "dataset": ("bivlc", f"a local copy of {SOURCE}: huggingface-cli download imirandam/BiVLC --repo-type dataset "
                         "--local-dir <data root>/bivlc (or a save_to_disk folder)"),
}, evaluate_bivlc, check_bivlc,
    dataset=BenchmarkDataset("imirandam/BiVLC", "BiVLC (Miranda et al., NeurIPS 2024 D&B)"),
    metric_types=pair_scores({"i2t": "text", "t2i": "image"}))
