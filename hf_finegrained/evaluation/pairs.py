"""Two images x two captions benchmarks (Winoground's layout, also BiVLC, EqBen, VisMin, ColorSwap): caption 0
goes with image 0, caption 1 with image 1. Each unique image and caption is encoded once; the text, image and
group scores come from the `winoground_scores` metric (every comparison strict, as in each benchmark's code).

Results keys: without categories `text`, `image`, `group`; with categories `<score>/<category>` for every leaf and
group of the category paths ("kubric/loc", and "kubric" for the mean of its leaves), `<score>/micro` (over
examples) and `<score>/macro` (level by level: the mean over top-level categories of the mean of their
children). A benchmark may rename the scores (BiVLC: `i2t`, `t2i`, `group`).

Order-blind ceiling: when the two captions have the same words, a scorer blind to word order gives them equal
embeddings, so both comparisons between them tie (text score wrong) and the same image wins for both captions
(image score wrong): such an example is lost on all three scores. `bow_ceiling/<key>` is the score of that
best order-blind scorer under the same averages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..metrics import load_metric
from . import bow
from .engine import ScoringEngine
from .images import ImageRef
from .results import BenchmarkResult

SCORES = ("text", "image", "group")


@dataclass
class PairExample:
    """Two images and two captions, caption i going with image i; `category` may be a "/" path."""

    images: tuple[ImageRef, ImageRef]
    captions: tuple[str, str]
    category: str = ""


def score_matrices(engine: ScoringEngine, examples: Sequence[PairExample]) -> list[list[list[float]]]:
    """Per example the 2x2 matrix `[caption][image]` of cosine scores; unique images and captions encoded once."""
    refs = [ref for example in examples for ref in example.images]
    texts = [caption for example in examples for caption in example.captions]
    image_emb, text_emb = engine.embed_pair(refs, texts)
    image_emb = image_emb.view(len(examples), 2, -1)
    text_emb = text_emb.view(len(examples), 2, -1)
    # Products summed per pair rather than a matrix product, so that equal embeddings give exactly equal scores.
    return (text_emb[:, :, None, :] * image_emb[:, None, :, :]).sum(dim=-1).tolist()


def order_blind_matrix(captions: Sequence[str]) -> list[list[float]]:
    """The 2x2 scores of the best order-blind scorer: all equal when the captions have the same words."""
    if bow.same_words(captions[0], captions[1]):
        return [[1.0, 1.0], [1.0, 1.0]]
    return [[1.0, 0.0], [0.0, 1.0]]


def count_ties(matrices: Sequence[Sequence[Sequence[float]]]) -> dict[str, int]:
    """Examples with a tie in a comparison of the text score, and of the image score."""
    s = np.asarray(matrices, dtype=np.float64)
    text = (s[:, 0, 0] == s[:, 1, 0]) | (s[:, 1, 1] == s[:, 0, 1])
    image = (s[:, 0, 0] == s[:, 0, 1]) | (s[:, 1, 1] == s[:, 1, 0])
    return {"text": int(text.sum()), "image": int(image.sum())}


def level_means(leaves: Mapping[str, float]) -> tuple[float, dict[str, float]]:
    """(root mean, the mean of every group) from leaf values keyed by "/" paths, level by level: a group's
    value is the mean of its children's values."""
    groups: dict[str, float] = {}

    def node(prefix: tuple[str, ...]) -> float:
        path = "/".join(prefix)
        if prefix and path in leaves:
            return leaves[path]
        children = sorted({tuple(p.split("/"))[len(prefix)] for p in leaves
                           if tuple(p.split("/"))[:len(prefix)] == prefix and len(p.split("/")) > len(prefix)})
        value = float(np.mean([node(prefix + (child,)) for child in children]))
        if prefix:
            groups[path] = value
        return value

    return node(()), groups


def pair_metrics(out: Mapping[str, Any], names: Mapping[str, str], with_categories: bool) -> dict[str, float]:
    """Results keys of a `winoground_scores` output, the three scores named by `names` ("text" -> "i2t")."""
    metrics: dict[str, float] = {}
    for score in SCORES:
        key = names.get(score, score)
        if not with_categories:
            metrics[key] = out[f"{score}_score"]
            continue
        leaves = {category: values[f"{score}_score"] for category, values in out["per_category"].items()}
        root, groups = level_means(leaves)
        metrics[f"{key}/micro"] = out[f"{score}_score"]
        metrics[f"{key}/macro"] = root
        for category, value in sorted({**leaves, **groups}.items()):
            metrics[f"{key}/{category}"] = value
    return metrics


def score_pair_examples(
    engine: ScoringEngine,
    name: str,
    examples: Sequence[PairExample],
    total: int,
    missing_images: int = 0,
    names: Mapping[str, str] | None = None,
    headline: str | None = None,
    notes: Mapping[str, Any] | None = None,
) -> BenchmarkResult:
    """Scores `examples` and returns the benchmark's result (keys in the module docstring); `total` counts every
    example of the annotations, `missing_images` those left out because an image file is missing."""
    names = dict(names or {})
    counts = {"items": total, "scored": len(examples), "missing_images": missing_images}
    if not examples:
        return BenchmarkResult.skipped(name, f"no example could be scored ({missing_images} with images missing)")
    with_categories = any(example.category for example in examples)
    categories = [example.category or "uncategorised" for example in examples] if with_categories else None
    matrices = score_matrices(engine, examples)
    metric = load_metric("winoground_scores")
    out = metric.compute(predictions=matrices, categories=categories)
    oracle = metric.compute(predictions=[order_blind_matrix(e.captions) for e in examples], categories=categories)
    metrics = pair_metrics(out, names, with_categories)
    metrics.update({bow.PREFIX + k: v for k, v in pair_metrics(oracle, names, with_categories).items()})
    shares, equal = bow.equal_share((example.category or None, list(example.captions), 0) for example in examples)
    details: dict[str, Any] = {"num_ties": count_ties(matrices), "tie_rule": "ties count wrong (strict >)",
                               "bow_equal_share": shares, "bow_equal_items": equal}
    if with_categories:
        details["category_counts"] = {c: v["count"] for c, v in out["per_category"].items()}
    details.update(notes or {})
    group = names.get("group", "group")
    return BenchmarkResult(name=name, headline=headline or (f"{group}/macro" if with_categories else group),
                           metrics=metrics, counts=counts, details=details)
