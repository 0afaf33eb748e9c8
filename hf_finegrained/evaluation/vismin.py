"""VisMin (Awal et al., NeurIPS 2024): minimal-change pairs of two images and two captions in four categories
(object, attribute, counting, spatial relation), read from a local copy of the Hub dataset `mair-lab/vismin-bench`
(test split; columns `id`, `text_0`, `text_1`, `image_0`, `image_1`, `category`), as rabiulcste/vismin (@29ce2c01)
reads it (`vismin-bench/eval.py`: `load_from_disk(...)["test"]`) and scores it (`vismin-bench/metric.py`,
`compute_contrastive_accuracy`).

Rule (strict `>`): text right when T0_I0 > T1_I0 and T1_I1 > T0_I1, image right when T0_I0 > T0_I1 and T1_I1 >
T1_I0, group when both; per category (the upstream output, which prints no overall number). Here also `micro`
(over pairs) and `macro` (mean of the categories, the headline `group/macro`). Upstream rounds each percentage to
two decimals; the results here are not rounded."""

from __future__ import annotations

from typing import Any

from .engine import ScoringEngine
from .hub_copy import load_local_dataset
from .images import DatasetImage
from .pairs import PairExample, score_pair_examples
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, pair_scores

COLUMNS = ("text_0", "text_1", "image_0", "image_1", "category")
SOURCE = "mair-lab/vismin-bench on the Hugging Face Hub (test split)"


def load_vismin(folder: str, split: str = "test") -> tuple[Any, list[PairExample]]:
    """The dataset and one example per row (images decoded only when encoded)."""
    dataset = load_local_dataset(folder, split, COLUMNS, SOURCE)
    meta = dataset.select_columns(["text_0", "text_1", "category"])
    examples = [PairExample(images=(DatasetImage(dataset, i, "image_0"), DatasetImage(dataset, i, "image_1")),
                            captions=(row["text_0"], row["text_1"]), category=str(row["category"]).replace("/", "|"))
                for i, row in enumerate(meta)]
    return dataset, examples


def evaluate_vismin(engine: ScoringEngine, dataset: str, split: str = "test") -> BenchmarkResult:
    """`text`, `image`, `group` per category, `/micro` and `/macro`; headline `group/macro`."""
    _, examples = load_vismin(dataset, split)
    return score_pair_examples(engine, "vismin", examples, total=len(examples), headline="group/macro",
                               notes={"split": split})


def check_vismin(dataset: str, split: str = "test") -> int:
    """`SPEC.check`: the local copy holds a dataset with VisMin's columns; returns its number of rows."""
    return len(load_local_dataset(dataset, split, COLUMNS, SOURCE))


SPEC = BenchmarkSpec("vismin", {
    "dataset": ("vismin", f"a local copy of {SOURCE}: huggingface-cli download mair-lab/vismin-bench --repo-type "
                          "dataset --local-dir <data root>/vismin (or a save_to_disk folder)"),
}, evaluate_vismin, check_vismin,
    dataset=BenchmarkDataset("mair-lab/vismin-bench", "VisMin (Awal et al., NeurIPS 2024)"), metric_types=pair_scores())
