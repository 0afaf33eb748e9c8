"""`evaluate` modules shipped with hf_finegrained, one folder each, loadable offline by path.

>>> import evaluate
>>> from hf_finegrained.metrics import metric_path
>>> accuracy = evaluate.load(metric_path("choice_accuracy"))
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

METRICS = ("choice_accuracy", "aro_macro", "winoground_scores", "retrieval_recall", "zeroshot_accuracy",
           "sugarcrepe_pp_triplet", "rank_recall", "whatsup_sets", "mmvp_pairs")

_HERE = Path(__file__).resolve().parent


def metric_path(name: str) -> str:
    """The folder of the shipped metric `name`, to pass to `evaluate.load`."""
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; shipped metrics: {', '.join(METRICS)}")
    return str(_HERE / name)


@lru_cache(maxsize=None)
def load_metric(name: str):
    """`evaluate.load` of a shipped metric, kept in memory (no cache files) and loaded once per process."""
    import evaluate

    return evaluate.load(metric_path(name), keep_in_memory=True)
