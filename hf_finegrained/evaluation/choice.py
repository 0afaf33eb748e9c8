"""Choice benchmarks (one image, several captions, one right): scoring through the engine and the
`choice_accuracy` metric, and the one-call API for benchmarks built from in-memory items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..metrics import load_metric
from . import bow
from .engine import ChoiceItem, ScoringEngine, make_engine
from .images import MemoryImage
from .results import BenchmarkResult


@dataclass
class ChoiceSet:
    """Items ready to score plus what was left out: `missing_images` counts items whose image file was not
    found (also per category), `total` every item the annotations offered under the benchmark's protocol."""

    items: list[ChoiceItem]
    total: int
    missing_images: int = 0
    missing_by_category: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


def score_choice_set(
    engine: ScoringEngine,
    name: str,
    choice_set: ChoiceSet,
    average: str = "micro",
    headline: str | None = None,
    leaf_mean: str | None = None,
    ties: str = "wrong",
    scores: list[list[float]] | None = None,
) -> BenchmarkResult:
    """Scores `choice_set` and returns its result: per-category accuracies, `micro` and (with categories)
    `macro` averages; `headline` picks which one leads (defaults to `average`). With hierarchical categories,
    `leaf_mean` names an extra metric: the plain mean over the leaf categories. `ties`: "wrong" (strict, the
    default) or "right" (ARO's Order tasks); `details["num_ties"]` counts the tied items either way.

    Beside each accuracy `key`, `bow_ceiling/<key>` is the best an order-blind scorer could reach on the same
    items under the same averaging and tie rule (`bow.py`); `details["bow_equal_share"]` gives, per category
    and over all items, the share of items whose right caption has the same words as a wrong one. `scores`: the
    items' scores when the caller has them already (`engine.score_choices(choice_set.items)`), so that a benchmark
    computing more from the same scores encodes nothing twice."""
    counts = {"items": choice_set.total, "scored": len(choice_set.items), "missing_images": choice_set.missing_images}
    if not choice_set.items:
        return BenchmarkResult.skipped(name, f"no item could be scored ({choice_set.missing_images} images missing)")
    if scores is None:
        scores = engine.score_choices(choice_set.items)
    labels = [item.label for item in choice_set.items]
    has_categories = any(item.category for item in choice_set.items)
    categories = [item.category or "uncategorised" for item in choice_set.items] if has_categories else None
    metrics = _accuracies(scores, labels, categories, average, leaf_mean, ties)
    oracle = [bow.order_blind_scores(item.captions, item.label) for item in choice_set.items]
    ceilings = _accuracies(oracle, labels, categories, average, leaf_mean, ties)
    out = metrics.pop("_out")
    ceilings.pop("_out")
    metrics.update({bow.PREFIX + key: value for key, value in ceilings.items()})
    shares, equal = bow.equal_share((category, item.captions, item.label)
                                    for category, item in zip(categories or [None] * len(labels), choice_set.items))
    details = {"num_ties": out["num_ties"], "tie_rule": f"ties count {ties}",
               "category_counts": out.get("category_counts", {}), "bow_equal_share": shares, "bow_equal_items": equal}
    if choice_set.missing_by_category:
        details["missing_by_category"] = choice_set.missing_by_category
    details.update(choice_set.notes)
    return BenchmarkResult(name=name, headline=headline or (average if has_categories else "micro"),
                           metrics=metrics, counts=counts, details=details)


def _accuracies(
    scores: list[list[float]],
    labels: list[int],
    categories: list[str] | None,
    average: str,
    leaf_mean: str | None,
    ties: str,
) -> dict[str, Any]:
    """Per-category accuracies, `micro`, `macro` (with categories) and `leaf_mean`, through `choice_accuracy`;
    the metric's whole output under "_out"."""
    metric = load_metric("choice_accuracy")
    out = metric.compute(predictions=scores, references=labels, categories=categories,
                         average=average if categories else "micro", ties=ties)
    metrics: dict[str, Any] = dict(out.get("per_category", {}))
    metrics["micro"] = out["micro_accuracy"]
    if categories:
        metrics["macro"] = out["macro_accuracy"]
    if leaf_mean and categories:
        metrics[leaf_mean] = metric.compute(predictions=scores, references=labels, average="macro", ties=ties,
                                            categories=[c.replace("/", "|") for c in categories])["macro_accuracy"]
    metrics["_out"] = out
    return metrics


def choice_set_from_rows(
    rows: Iterable[Mapping[str, Any] | ChoiceItem],
    categories: Sequence[str] | None = None,
    image_key: str = "image",
    caption_key: str = "caption",
    negatives_key: str = "negatives",
) -> ChoiceSet:
    """Turns in-memory rows into 2-way items (right caption vs one negative), one item per non-None negative.

    A row is a `ChoiceItem` (used as is) or a mapping with a PIL image, a right caption and its negatives:
    either a mapping category -> caption or None, or a list aligned with `categories` (None where a
    category has no negative). The row's image is shared by its items and encoded once.
    """
    items, total, absent = [], 0, Counter()
    for n, row in enumerate(rows):
        if isinstance(row, ChoiceItem):
            items.append(row)
            total += 1
            continue
        image = MemoryImage(row[image_key], name=("row", n))
        negatives = row[negatives_key]
        if not isinstance(negatives, Mapping):
            if categories is None or len(categories) != len(negatives):
                raise ValueError("a list of negatives needs `categories` of the same length")
            negatives = dict(zip(categories, negatives))
        for category, negative in negatives.items():
            total += 1
            if negative is None:
                absent[category] += 1
                continue
            items.append(ChoiceItem(image, [row[caption_key], negative], label=0, category=category))
    return ChoiceSet(items=items, total=total, notes={"no_negative": dict(absent)} if absent else {})


def evaluate_choice(
    model: Any,
    rows: Iterable[Mapping[str, Any] | ChoiceItem],
    *,
    name: str = "choice",
    categories: Sequence[str] | None = None,
    average: str = "macro",
    processor: Any = None,
    batch_size: int = 64,
    device: str | None = None,
    progress: bool = True,
    image_key: str = "image",
    caption_key: str = "caption",
    negatives_key: str = "negatives",
) -> BenchmarkResult:
    """Scores an in-memory choice benchmark in one call; see `choice_set_from_rows` for the row layout.

    `model` is a model folder or Hub id, a `CLIPModel` (with `processor`), a `Scorer` or a `ScoringEngine`.
    Returns per-category accuracies plus `micro` and `macro` (headline: `average`); `counts["items"]` counts
    (row, category) pairs, `details["no_negative"]` those without a negative.
    """
    engine = make_engine(model, processor=processor, batch_size=batch_size, device=device, progress=progress)
    choice_set = choice_set_from_rows(rows, categories, image_key, caption_key, negatives_key)
    return score_choice_set(engine, name, choice_set, average=average)
