"""`BenchmarkSpec`: what a benchmark module declares about itself (the files it needs, how to run it, how to
check its files, how a model card names its dataset and types its metrics). Each benchmark module holds its own
spec(s); `runner.REGISTERED` only lists them, so a benchmark module never imports the runner."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .results import BenchmarkResult

# `model-index` tasks (task type, human name) a metric can belong to. The Hub has task ids for zero-shot
# classification and sentence similarity only; choosing among candidate captions (or images) is not classifying an
# image into labels, so it gets its own type, as MTEB's cards type theirs ("Retrieval", "STS"): the Hub shows a type
# it does not know by the task's name.
CHOICE_TASK = ("image-text-matching", "Compositional image-text matching (zero-shot choice among candidates)")
ZERO_SHOT_TASK = ("zero-shot-image-classification", "Zero-shot image classification")
RETRIEVAL_TASK = ("image-text-retrieval", "Zero-shot image-text retrieval")
TEXT_ONLY_TASK = ("sentence-similarity", "Text-only caption triplets (text encoder alone)")


@dataclass(frozen=True)
class BenchmarkDataset:
    """How a benchmark's results name their dataset in a model card's `model-index`.

    `type`: a Hub dataset id where the benchmark's authors publish it there and the runner reads those files
    (`facebook/winoground`), otherwise the benchmark's own short name (`sugarcrepe`), never a made-up Hub id;
    `name`: the benchmark and its paper; `config` and `split`: the subset and split scored, None when not
    applicable.
    """

    type: str
    name: str
    config: str | None = None
    split: str | None = "test"


@dataclass(frozen=True)
class MetricType:
    """How a model card types one metric in `model-index`: `type` (`accuracy`, `recall_at_1`, `group_score`, ...),
    `task` (one of the `*_TASK` pairs above) and `args` (e.g. `{"top_k": 5}` for a top-5 accuracy), None when it has
    none. A recall at k is typed `recall_at_<k>` without args, as MTEB's cards type retrieval (`recall_at`)."""

    type: str = "accuracy"
    task: tuple[str, str] = CHOICE_TASK
    args: Mapping[str, Any] | None = None


def choice_accuracy(metric: str) -> MetricType:
    """The type of every metric of a caption-choice benchmark: an accuracy of choosing the right caption."""
    return MetricType()


def recall_at(k: int, task: tuple[str, str] = RETRIEVAL_TASK) -> MetricType:
    """A recall at `k` (the share of queries whose right answer is among the first `k`), typed `recall_at_<k>`."""
    return MetricType(f"recall_at_{int(k)}", task)


def pair_scores(names: Mapping[str, str] | None = None, others: Callable[[str], MetricType] | None = None
                ) -> Callable[[str], MetricType]:
    """`metric_types` of a two-images x two-captions benchmark (`pairs.py`): `<score>` or `<score>/<average or
    category>` is Winoground's `text_score`, `image_score` or `group_score`; `names` maps a benchmark's own score
    names to them (BiVLC: `{"i2t": "text", "t2i": "image"}`); `others` types the keys that are not such scores
    (else ValueError)."""
    names = {"text": "text", "image": "image", "group": "group", **(names or {})}

    def metric_type(metric: str) -> MetricType:
        score = metric.split("/", 1)[0]
        if score in names:
            return MetricType(f"{names[score]}_score")
        if others is not None:
            return others(metric)
        raise ValueError(f"expected <{'|'.join(names)}>[/<average or category>], not {metric!r}")

    return metric_type


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark: the paths it needs (key -> default relative to the data root, and what goes there), how
    to run it on an engine with those paths resolved, `check`: a quick read of its annotation files with
    the same resolved paths (no images, no model) that raises `AnnotationError` when one is malformed; and for
    model cards, `dataset` (None: the card names the dataset by the benchmark's name) and `metric_types`, the
    type of each metric it emits (None: typed as caption-choice accuracies, with a warning; a function that
    raises ValueError for a metric leaves that metric out of `model-index`, with a warning naming it)."""

    name: str
    paths: Mapping[str, tuple[str, str]]
    run: Callable[..., BenchmarkResult]
    check: Callable[..., Any] | None = None
    dataset: BenchmarkDataset | None = None
    metric_types: Callable[[str], MetricType] | None = None
