"""Choice accuracy: an item is right when its right candidate scores strictly above every other candidate."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
Accuracy for benchmarks where each item offers several candidates (captions) for one image and exactly one
candidate is right: SugarCrepe, VALSE, VL-CheckList, ARO's COCO-Order and Flickr-Order, or any in-memory
hard-negative test split. An item counts as right only when the score of the right candidate is strictly
greater than the score of every other candidate: a tie is wrong. `ties="right"` instead counts an item right
when the right candidate ties the best other one (what ARO's code does for COCO-Order / Flickr-Order, where
`argmax` over [caption, perturbations...] returns the first of equal scores, the caption).

Items can carry a category. Categories may be paths separated by "/" ("Attribute/color/vg/color.json"):
the macro average is then taken level by level (a group's score is the mean of its children's scores, a
leaf's score is the share of right items in it), which gives VL-CheckList's "mean over sources of the mean
over files" with one call. Flat categories give the usual macro average over categories.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): per item, the score of each candidate (at least 2).
    references (`list` of `int`): per item, the index of the right candidate in its score list.
    categories (`list` of `str`, *optional*): per item, its category; "/" separates levels of a hierarchy.
    average (`str`, defaults to `"micro"`): which average `accuracy` reports: `"micro"` (share of right items
        over all items) or `"macro"` (mean over categories, level by level; needs `categories`).

Returns:
    accuracy (`float`): the average chosen by `average`, in [0, 1].
    micro_accuracy (`float`): share of right items over all items.
    macro_accuracy (`float`): mean over top-level categories (only when `categories` is given).
    num_items (`int`): number of items scored.
    num_ties (`int`): items whose right candidate tied the best other candidate (counted as `ties` says).
    per_category (`dict`): for each category and each group of the hierarchy, its accuracy.
    category_counts (`dict`): for each category and each group, its number of items.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> metric = evaluate.load(metric_path("choice_accuracy"))
    >>> out = metric.compute(
    ...     predictions=[[0.9, 0.1], [0.5, 0.5], [0.2, 0.3], [0.1, 0.4]],
    ...     references=[0, 0, 1, 0],
    ...     categories=["swap", "swap", "replace", "replace"],
    ...     average="macro",
    ... )
    >>> out["per_category"]
    {'replace': 0.5, 'swap': 0.5}
    >>> out["micro_accuracy"], out["num_ties"]
    (0.5, 1)
    >>> metric.compute(predictions=[[0.5, 0.5], [0.2, 0.3]], references=[0, 0], ties="right")["accuracy"]
    0.5
"""

_CITATION = """
@inproceedings{hsieh2023sugarcrepe,
  title={SugarCrepe: Fixing Hackable Benchmarks for Vision-Language Compositionality},
  author={Hsieh, Cheng-Yu and Zhang, Jieyu and Ma, Zixian and Kembhavi, Aniruddha and Krishna, Ranjay},
  booktitle={NeurIPS Datasets and Benchmarks},
  year={2023}
}
"""


# The strict-choice rule, defined here once. `aro_macro` (which must load alone, so cannot import this file)
# holds a verbatim copy; tests/test_eval_metrics.py fails when the two differ in source or in results.
def item_outcomes(predictions: list[list[float]], references: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per item: right when the right candidate's score is strictly above every other candidate's (a tie is
    wrong), tied when it equals the best other one. Returns (right, tied): boolean arrays of shape (num_items,);
    `ValueError` for an item with fewer than 2 scores or a right index outside them."""
    right = np.zeros(len(predictions), dtype=bool)
    tied = np.zeros(len(predictions), dtype=bool)
    for i, (scores, label) in enumerate(zip(predictions, references)):
        if len(scores) < 2 or not 0 <= label < len(scores):
            raise ValueError(f"item {i}: needs >= 2 candidate scores and a right index within them")
        others = max(s for j, s in enumerate(scores) if j != label)
        right[i] = scores[label] > others
        tied[i] = scores[label] == others
    return right, tied


def _macro(paths: list[tuple[str, ...]], right: np.ndarray) -> tuple[float, dict[str, float], dict[str, int]]:
    """Level-by-level macro average over category paths; returns (root score, node scores, node counts)."""
    scores: dict[str, float] = {}
    counts: dict[str, int] = {}

    def node(prefix: tuple[str, ...], mask: np.ndarray) -> float:
        children = sorted({p[len(prefix)] for p, m in zip(paths, mask) if m and len(p) > len(prefix)})
        leaf_mask = mask & np.array([len(p) == len(prefix) for p in paths])
        if children and leaf_mask.any():
            raise ValueError(f"category {'/'.join(prefix)!r} is both a leaf and a group")
        if not children:
            value = float(right[mask].mean())
        else:
            value = float(np.mean([
                node(prefix + (c,), mask & np.array([len(p) > len(prefix) and p[len(prefix)] == c for p in paths]))
                for c in children
            ]))
        if prefix:
            scores["/".join(prefix)] = value
            counts["/".join(prefix)] = int(mask.sum())
        return value

    root = node((), np.ones(len(paths), dtype=bool))
    return root, dict(sorted(scores.items())), dict(sorted(counts.items()))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ChoiceAccuracy(evaluate.Metric):
    """Strict choice accuracy with per-category, macro and micro averages."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float64")), "references": datasets.Value("int64")}
            ),
            reference_urls=["https://github.com/RAIVNLab/sugar-crepe", "https://github.com/Heidelberg-NLP/VALSE"],
        )

    def _compute(
        self,
        predictions: list[list[float]],
        references: list[int],
        categories: list[str] | None = None,
        average: str = "micro",
        ties: str = "wrong",
    ) -> dict:
        if not predictions:
            raise ValueError("no items to score")
        if average not in ("micro", "macro"):
            raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")
        if ties not in ("wrong", "right"):
            raise ValueError(f"ties must be 'wrong' or 'right', got {ties!r}")
        right, tied = item_outcomes(predictions, references)
        if ties == "right":
            right = right | tied
        out = {"micro_accuracy": float(right.mean()), "num_items": len(right), "num_ties": int(tied.sum())}
        if categories is not None:
            if len(categories) != len(right):
                raise ValueError(f"{len(categories)} categories for {len(right)} items")
            paths = [tuple(c.split("/")) for c in categories]
            macro, per_category, counts = _macro(paths, right)
            out.update(macro_accuracy=macro, per_category=per_category, category_counts=counts)
        elif average == "macro":
            raise ValueError("average='macro' needs categories")
        out["accuracy"] = out["macro_accuracy"] if average == "macro" else out["micro_accuracy"]
        return out
