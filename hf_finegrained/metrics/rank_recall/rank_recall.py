"""Recall@k of the right candidate among each item's own candidates, with the tie rule of the upstream code."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
Each item offers its own candidates (captions for one image, or images for one caption) and one right candidate.
Its rank is the number of candidates placed before the right one; recall@k is the share of items whose right
candidate is among the first k. Recall@1 is the accuracy of an `argmax` choice.

A candidate scoring strictly above the right one always comes before it. Candidates scoring exactly as much
are placed by `ties`:

- `"wrong"` (strict): every equal candidate comes first, so a tie never counts as a hit;
- `"right"`: every equal candidate comes after the right one;
- `"first_index"`: equal candidates keep their order in the item, as `argmax` (first maximum) and a stable
  descending sort place them. This is the rule of code that takes `argmax` or sorts the scores: SPEC
  (`scores.argmax(dim=-1) == label`), CREPE (the right caption first, `torch.argsort(descending=True)`), and
  What'sUp (right caption first, `np.argmax`). With the right candidate first it equals `"right"`.

With `categories`, recall is also given per category, with `micro` (over items) and `macro` (mean over
categories) averages.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): per item, the score of each of its candidates (at least 1).
    references (`list` of `int`): per item, the index of the right candidate.
    k_values (`list` of `int`, defaults to `[1]`): the k of each recall@k.
    ties (`str`, defaults to `"wrong"`): `"wrong"`, `"right"` or `"first_index"` (see the description).
    categories (`list` of `str`, *optional*): per item, its category.

Returns:
    recall@<k> (`float`): share of items whose right candidate is among the first k, for each k.
    num_items (`int`), num_ties (`int`): items, and items whose right candidate ties another candidate.
    ranks (`list` of `int`): per item, the number of candidates placed before the right one.
    per_category (`dict`): with `categories`, each category's `recall@<k>` and `count`.
    macro (`dict`): with `categories`, `recall@<k>` averaged over categories.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> recall = evaluate.load(metric_path("rank_recall"))
    >>> scores = [[0.9, 0.1, 0.3], [0.5, 0.5, 0.1], [0.2, 0.2, 0.9]]
    >>> recall.compute(predictions=scores, references=[0, 1, 1], k_values=[1, 2])["recall@1"]  # strict
    0.3333333333333333
    >>> out = recall.compute(predictions=scores, references=[0, 1, 1], k_values=[1, 2], ties="first_index")
    >>> out["ranks"], round(out["recall@2"], 4), out["num_ties"]
    ([0, 1, 2], 0.6667, 2)
    >>> recall.compute(predictions=scores, references=[0, 1, 1], ties="right")["recall@1"]
    0.6666666666666666
"""

_CITATION = """
@inproceedings{ma2023crepe,
  title={CREPE: Can Vision-Language Foundation Models Reason Compositionally?},
  author={Ma, Zixian and Hong, Jerry and Gul, Mustafa Omer and Gandhi, Mona and Gao, Irena and Krishna, Ranjay},
  booktitle={CVPR},
  year={2023}
}
"""

TIES = ("wrong", "right", "first_index")


def item_ranks(predictions: list[list[float]], references: list[int], ties: str) -> tuple[np.ndarray, np.ndarray]:
    """Per item, (the number of candidates placed before the right one, whether another candidate ties it)."""
    if ties not in TIES:
        raise ValueError(f"ties must be one of {', '.join(TIES)}, got {ties!r}")
    ranks = np.zeros(len(predictions), dtype=np.int64)
    tied = np.zeros(len(predictions), dtype=bool)
    for i, (scores, label) in enumerate(zip(predictions, references)):
        if not scores or not 0 <= label < len(scores):
            raise ValueError(f"item {i}: needs at least 1 candidate score and a right index within them")
        right = scores[label]
        above = sum(1 for s in scores if s > right)
        equal = [j for j, s in enumerate(scores) if s == right and j != label]
        tied[i] = bool(equal)
        if ties == "wrong":
            above += len(equal)
        elif ties == "first_index":
            above += sum(1 for j in equal if j < label)
        ranks[i] = above
    return ranks, tied


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RankRecall(evaluate.Metric):
    """Recall@k of the right candidate among each item's own candidates, per category."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float64")), "references": datasets.Value("int64")}
            ),
            codebase_urls=["https://github.com/RAIVNLab/CREPE", "https://github.com/wjpoom/SPEC"],
        )

    def _compute(
        self,
        predictions: list[list[float]],
        references: list[int],
        k_values: list[int] | None = None,
        ties: str = "wrong",
        categories: list[str] | None = None,
    ) -> dict:
        if not predictions:
            raise ValueError("no items to score")
        k_values = list(k_values or [1])
        if any(int(k) < 1 for k in k_values):
            raise ValueError(f"every k must be >= 1, got {k_values}")
        ranks, tied = item_ranks(predictions, references, ties)
        out = {f"recall@{k}": float((ranks < k).mean()) for k in k_values}
        out.update(num_items=len(ranks), num_ties=int(tied.sum()), ranks=ranks.tolist())
        if categories is not None:
            if len(categories) != len(ranks):
                raise ValueError(f"{len(categories)} categories for {len(ranks)} items")
            names = np.array(categories, dtype=object)
            per_category = {}
            for category in sorted(set(categories)):
                mask = names == category
                per_category[category] = {**{f"recall@{k}": float((ranks[mask] < k).mean()) for k in k_values},
                                          "count": int(mask.sum())}
            out["per_category"] = per_category
            out["macro"] = {f"recall@{k}": float(np.mean([v[f"recall@{k}"] for v in per_category.values()]))
                            for k in k_values}
        return out
