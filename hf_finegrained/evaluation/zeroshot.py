"""Zero-shot classification on any `datasets` image-classification dataset: one text embedding per class
(the normalised mean over prompt templates, as in CLIP), top-1/top-5 through the `zeroshot_accuracy` metric."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from ..metrics import load_metric
from .engine import ScoringEngine, rank_top_k
from .images import DatasetImage
from .results import BenchmarkResult
from .spec import ZERO_SHOT_TASK, BenchmarkSpec, MetricType

DEFAULT_TEMPLATES = ("a photo of a {}.",)


def _columns(dataset: Any, image_column: str | None, label_column: str | None) -> tuple[str, str]:
    import datasets

    features = dataset.features
    image_column = image_column or next(k for k, v in features.items() if isinstance(v, datasets.Image))
    label_column = label_column or next(k for k, v in features.items() if isinstance(v, datasets.ClassLabel))
    return image_column, label_column


def class_embeddings(engine: ScoringEngine, class_names: Sequence[str], templates: Sequence[str]) -> torch.Tensor:
    """(num_classes, D): per class, the mean of its unit template embeddings, renormalised."""
    prompts = [t.format(name) for name in class_names for t in templates]
    _, text_emb = engine.embed_pair([], prompts)
    means = text_emb.view(len(class_names), len(templates), -1).mean(dim=1)
    return torch.nn.functional.normalize(means, dim=-1)


def evaluate_zeroshot(
    engine: ScoringEngine,
    dataset: Any,
    name: str = "zeroshot",
    class_names: Sequence[str] | None = None,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    image_column: str | None = None,
    label_column: str | None = None,
    average: str = "micro",
) -> BenchmarkResult:
    """`dataset`: a `datasets.Dataset` with an Image column and a ClassLabel column (or pass the names).
    Class names default to the ClassLabel names with "_" as spaces. Headline `top1`."""
    image_column, label_column = _columns(dataset, image_column, label_column)
    names = list(class_names or [n.replace("_", " ") for n in dataset.features[label_column].names])
    classes = class_embeddings(engine, names, templates)
    refs = [DatasetImage(dataset, i, image_column) for i in range(len(dataset))]
    image_emb, _ = engine.embed_pair(refs, [])
    labels = [int(label) for label in dataset[label_column]]
    ranked = rank_top_k(image_emb @ classes.T, [[label] for label in labels], 5)
    out = load_metric("zeroshot_accuracy").compute(predictions=ranked, references=labels, k_values=[1, 5],
                                                   average=average)
    metrics = {f"top{k}": out[f"top{k}_accuracy"] for k in (1, 5) if f"top{k}_accuracy" in out}
    return BenchmarkResult(name=name, headline="top1", metrics=metrics,
                           counts={"items": len(dataset), "scored": len(dataset), "missing_images": 0},
                           details={"num_classes": len(names), "templates": list(templates), "average": average})


def load_dataset_split(name_or_path: str, split: str = "test") -> Any:
    """`split` of a Hub dataset id, or a `save_to_disk` folder (a `Dataset`, or a `DatasetDict` to take `split` of)."""
    import datasets

    if os.path.isdir(name_or_path) and os.path.exists(os.path.join(name_or_path, "dataset_info.json")):
        return datasets.load_from_disk(name_or_path)
    if os.path.isdir(name_or_path) and os.path.exists(os.path.join(name_or_path, "dataset_dict.json")):
        return datasets.load_from_disk(name_or_path)[split]
    return datasets.load_dataset(name_or_path, split=split)


def _run(engine: ScoringEngine, dataset: str, split: str = "test") -> BenchmarkResult:
    return evaluate_zeroshot(engine, load_dataset_split(dataset, split))


def metric_type(metric: str) -> MetricType:
    """`SPEC.metric_types`: `top<k>` is a zero-shot classification accuracy at k."""
    if not (metric.startswith("top") and metric[3:].isdigit()):
        raise ValueError(f"zeroshot emits top<k> accuracies, not {metric!r}")
    return MetricType(task=ZERO_SHOT_TASK, args={"top_k": int(metric[3:])})


# Its dataset is chosen at run time: a card names it by the benchmark's name.
SPEC = BenchmarkSpec("zeroshot", {
    "dataset": ("", "no dataset given: pass --set zeroshot.dataset=<Hub id or save_to_disk folder> "
                    "(and zeroshot.split=..., default test)"),
}, _run, metric_types=metric_type)
