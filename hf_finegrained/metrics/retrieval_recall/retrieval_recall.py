"""Recall@K for retrieval: a query is a hit at K when any of its right items is among its first K results."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
Recall@K for image-text retrieval (COCO 5k and Flickr30k 1k Karpathy test splits). For each query the
retrieval system returns its candidates ranked best first; the query is a hit at K when at least one of
its right candidates is among the first K. Image->text queries have several right captions (every caption
of the image counts); text->image queries have one right image. Ranks are expected with ties broken against
the right candidates, so a tie never helps (hf_finegrained's engine ranks this way).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): per query, candidate ids ranked best first: at least the first
        max(k_values), or all candidates when there are fewer.
    references (`list` of `list` of `int`): per query, the ids of its right candidates.
    k_values (`list` of `int`, defaults to `[1, 5, 10]`): the cut-offs K.

Returns:
    recall@K (`float`) for each K: share of queries with a right candidate in their first K, in [0, 1].
    num_queries (`int`): number of queries.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> recall = evaluate.load(metric_path("retrieval_recall"))
    >>> recall.compute(
    ...     predictions=[[3, 1, 2], [0, 2, 1], [2, 0, 1]],
    ...     references=[[3], [1, 2], [1]],
    ...     k_values=[1, 2],
    ... )
    {'recall@1': 0.3333333333333333, 'recall@2': 0.6666666666666666, 'num_queries': 3}
"""

_CITATION = """
@inproceedings{karpathy2015deep,
  title={Deep Visual-Semantic Alignments for Generating Image Descriptions},
  author={Karpathy, Andrej and Fei-Fei, Li},
  booktitle={CVPR},
  year={2015}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RetrievalRecall(evaluate.Metric):
    """Recall@K over ranked candidate lists, with several right candidates per query allowed."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int64")),
                    "references": datasets.Sequence(datasets.Value("int64")),
                }
            ),
        )

    def _compute(
        self, predictions: list[list[int]], references: list[list[int]], k_values: list[int] | None = None
    ) -> dict:
        if not predictions:
            raise ValueError("no queries to score")
        k_values = sorted(k_values or [1, 5, 10])
        # first_hit[q] = 0-based position of the first right candidate in query q's ranking (inf if none).
        first_hit = np.full(len(predictions), np.inf)
        for q, (ranked, right) in enumerate(zip(predictions, references)):
            if not right:
                raise ValueError(f"query {q} has no right candidate")
            right = set(right)
            for position, candidate in enumerate(ranked[: k_values[-1]]):
                if candidate in right:
                    first_hit[q] = position
                    break
        out = {f"recall@{k}": float((first_hit < k).mean()) for k in k_values}
        out["num_queries"] = len(predictions)
        return out
