"""Scoring a model on the synthetic world: compositional categories, general-ability probes, a linear probe.

Groups of scores (fractions in [0, 1]), each from its own split of `SyntheticWorld`:

    seen      the five categories on new images of seen combinations (`validation_seen` / `test_seen`) and
              their mean, `average`: the headline, like SugarCrepe on COCO images
    held_out  the same on images holding held-out combinations (`validation` / `test`): out of distribution
    general   zero-shot classification of single objects (`zeroshot_top1`, one class per colour and shape)
              and image-text retrieval R@1 both ways (`i2t_R@1`, `t2i_R@1`) on the `retrieval` split

A category counts an item right when the true caption scores strictly above its ground-truth negative.
`relation_probe` checks that an image encoder sees what the text must bind: logistic regressions on frozen
image embeddings predicting where the object of each colour sits (`object_relation`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import datasets
import torch

from .drawing import COLORS, OPPOSITE
from .world import CATEGORY_NAMES, ZEROSHOT_CLASSES
from ..negatives.types import REPORT_CATEGORIES

CATEGORIES: tuple[str, ...] = REPORT_CATEGORIES  # swap_att, swap_obj, replace_att, replace_obj, replace_rel
GROUPS: dict[str, tuple[str, ...]] = {
    "seen": CATEGORIES + ("average",),
    "held_out": CATEGORIES + ("average",),
    "general": ("zeroshot_top1", "i2t_R@1", "t2i_R@1"),
}
ZEROSHOT_TEMPLATE = "a picture of {}."  # the world's own wording ("a picture of ..." is a caption template)
RELATIONS = ("left", "right", "above", "below")


def _engine(model: Any, processor: Any = None) -> Any:
    from ..evaluation.engine import make_engine

    return make_engine(model, processor=processor, progress=False)


def choice_rows(split: datasets.Dataset) -> list[dict[str, Any]]:
    """Rows for `evaluate_choice`: image, caption and one ground-truth negative per category."""
    return [{"image": row["image"], "caption": row["caption"],
             "negatives": {CATEGORY_NAMES.get(name, name): text for name, text in row["hard_negatives"].items()}}
            for row in split]


def category_scores(engine: Any, split: datasets.Dataset) -> dict[str, float]:
    """Accuracy per category (strict `>`) and their mean, `average` (categories without items left out)."""
    from ..evaluation.choice import choice_set_from_rows, score_choice_set

    metrics = score_choice_set(engine, "synthetic", choice_set_from_rows(choice_rows(split))).metrics
    scores = {name: metrics.get(name, math.nan) for name in CATEGORIES}
    scores["average"] = statistics.fmean(v for v in scores.values() if not math.isnan(v))
    return scores


def general_scores(engine: Any, zeroshot: datasets.Dataset | None, retrieval: datasets.Dataset | None) -> dict[str, float]:
    """Zero-shot top-1 over the `ZEROSHOT_CLASSES` (colour x shape), and retrieval R@1 both ways (each when its split is given)."""
    from ..evaluation.images import MemoryImage
    from ..evaluation.retrieval import retrieval_result
    from ..evaluation.zeroshot import evaluate_zeroshot

    scores = {}
    if zeroshot is not None:
        names = [("an " if name[0] in "aeiou" else "a ") + name for name in ZEROSHOT_CLASSES]
        scores["zeroshot_top1"] = evaluate_zeroshot(engine, zeroshot, class_names=names,
                                                    templates=(ZEROSHOT_TEMPLATE,)).metrics["top1"]
    if retrieval is not None:
        refs = [MemoryImage(image, name=("retrieval", i)) for i, image in enumerate(retrieval["image"])]
        metrics = retrieval_result(engine, refs, [[c] for c in retrieval["caption"]], "retrieval").metrics
        scores.update({"i2t_R@1": metrics["i2t_recall@1"], "t2i_R@1": metrics["t2i_recall@1"]})
    return scores


def score_world(
    model: Any,
    splits: Mapping[str, datasets.Dataset],
    processor: Any = None,
    seen: str = "test_seen",
    held_out: str | None = "test",
) -> dict[str, dict[str, float]]:
    """{"seen": ..., "held_out": ..., "general": ...} (see the module docstring) for the splits present.

    `model`: a `CLIPModel` (with `processor`), a folder or anything `make_engine` takes. Choose settings with
    seen="validation_seen", held_out="validation"; the general probes have one split each.
    """
    engine = _engine(model, processor)
    out = {"seen": category_scores(engine, splits[seen])}
    if held_out and held_out in splits:
        out["held_out"] = category_scores(engine, splits[held_out])
    general = general_scores(engine, splits.get("zeroshot"), splits.get("retrieval"))
    if general:
        out["general"] = general
    return out


def object_relation(colors: Sequence[str], relation: str, color: str) -> str:
    """Where the object of `color` sits relative to the other one ("left", "right", "above" or "below").

    A caption's relation is read from its first-named object; this label names the object, so it is a
    function of the picture alone ("red left of blue" and "blue right of red" both put red "left").
    """
    return relation if colors[0] == color else OPPOSITE[relation]


def image_embeddings(engine: Any, images: Sequence[Any], name: str) -> torch.Tensor:
    """(N, D) unit image embeddings of PIL `images`."""
    from ..evaluation.images import MemoryImage

    refs = [MemoryImage(image, name=(name, i)) for i, image in enumerate(images)]
    return engine.embed_pair(refs, [])[0].float()


def fit_linear_probe(features: torch.Tensor, labels: torch.Tensor, num_classes: int, l2: float = 1e-4,
                     steps: int = 200) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression (L-BFGS, L2 penalty `l2` on the weights) on standardised features.

    features: (N, D); labels: (N,) in [0, num_classes). Returns (mean, std, weight (D, C), bias (C,)).
    """
    mean, std = features.mean(0), features.std(0).clamp_min(1e-6)
    x = (features - mean) / std
    weight = torch.zeros(x.shape[1], num_classes, dtype=x.dtype, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=x.dtype, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weight + bias, labels) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return mean, std, weight.detach(), bias.detach()


def relation_probe(model: Any, fit: Iterable[Mapping[str, Any]], test: Iterable[Mapping[str, Any]],
                   processor: Any = None, l2: float = 1e-4) -> dict[str, float]:
    """Linear probes on frozen image embeddings: "where is the <colour> object?" (4 classes, `RELATIONS`).

    One logistic regression per colour, fitted on the images of `fit` that hold that colour (rows with
    `image`, `colors`, `relation`, e.g. a training-distribution stream) and scored on those of `test`
    (e.g. test_seen); every (image, colour) pair counts once. `accuracy` is over all pairs, `chance` the
    share of the most frequent label. A high accuracy says the image embedding holds which object is where:
    what a model then gets wrong on relations is the binding on the text side. The L2 penalty was chosen
    on validation images.
    """
    engine = _engine(model, processor)
    fit_rows, test_rows = list(fit), list(test)
    fit_x = image_embeddings(engine, [row["image"] for row in fit_rows], "probe-fit")
    test_x = image_embeddings(engine, [row["image"] for row in test_rows], "probe-test")
    right = total = 0
    counts = torch.zeros(len(RELATIONS))
    for color in COLORS:
        def pairs(rows: list[Mapping[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
            kept = [(n, RELATIONS.index(object_relation(row["colors"], row["relation"], color)))
                    for n, row in enumerate(rows) if color in row["colors"]]
            return torch.tensor([n for n, _ in kept], dtype=torch.long), torch.tensor([y for _, y in kept], dtype=torch.long)

        fit_index, fit_y = pairs(fit_rows)
        test_index, test_y = pairs(test_rows)
        if not len(test_index):
            continue
        counts += torch.bincount(test_y, minlength=len(RELATIONS))
        total += len(test_index)
        if len(fit_y.unique()) < 2:
            right += int((test_y == (fit_y[0] if len(fit_y) else 0)).sum())
            continue
        mean, std, weight, bias = fit_linear_probe(fit_x[fit_index], fit_y, len(RELATIONS), l2=l2)
        predicted = (((test_x[test_index] - mean) / std) @ weight + bias).argmax(1)
        right += int((predicted == test_y).sum())
    return {"accuracy": right / max(1, total), "chance": counts.max().item() / max(1, total), "pairs": total}
