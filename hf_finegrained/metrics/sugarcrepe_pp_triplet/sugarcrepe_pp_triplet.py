"""SugarCrepe++ triplet accuracies: two positive captions and one negative, scored with the image (ITT) and
with the text encoder alone (TOT)."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
SugarCrepe++ (Dumpala et al., NeurIPS 2024 Datasets and Benchmarks) gives each image two positive captions,
P1 and P2 (the same meaning in other words), and one negative N (P1 with one edit). With cos(a, b) the cosine
similarity of two embeddings, and every comparison strict (a tie is wrong), as in the authors' test scripts:

- ITT (image-text task): cos(I, P1) > cos(I, N) and cos(I, P2) > cos(I, N);
- ITT with P1 only: cos(I, P1) > cos(I, N); with P2 only: cos(I, P2) > cos(I, N);
- TOT (text-only task, text encoder alone): cos(P1, P2) > cos(P1, N) and cos(P1, P2) > cos(P2, N).

Items may carry a category (the benchmark's file: replace_att, swap_obj, ...); each task is then also
reported per category, with its micro (over items) and macro (over categories) averages.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): per item, the image's scores of its 3 captions, in the order
        [P1, P2, N]: `[cos(I, P1), cos(I, P2), cos(I, N)]`.
    text_scores (`list` of `list` of `float`, *optional*): per item, the text-text scores
        `[cos(P1, P2), cos(P1, N), cos(P2, N)]`; without them, no TOT.
    categories (`list` of `str`, *optional*): per item, its category.

Returns:
    itt, itt_p1, itt_p2, tot (`float`): share of right items over all items (micro), in [0, 1]; `tot` only
        with `text_scores`.
    num_items (`int`): number of items scored.
    num_ties (`dict`): per task, the items that are wrong only because of a tie (right if equal scores counted).
    per_category (`dict`): per category, each task's accuracy (only with `categories`).
    macro (`dict`): per task, the mean over categories of its accuracy (only with `categories`).
    category_counts (`dict`): per category, its number of items (only with `categories`).

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> triplet = evaluate.load(metric_path("sugarcrepe_pp_triplet"))
    >>> out = triplet.compute(
    ...     predictions=[[0.9, 0.8, 0.1], [0.9, 0.1, 0.5], [0.5, 0.7, 0.5]],
    ...     text_scores=[[0.9, 0.2, 0.3], [0.5, 0.5, 0.1], [0.8, 0.1, 0.1]],
    ...     categories=["swap_att", "swap_att", "replace_obj"],
    ... )
    >>> round(out["itt"], 4), round(out["itt_p1"], 4), round(out["itt_p2"], 4), round(out["tot"], 4)
    (0.3333, 0.6667, 0.6667, 0.6667)
    >>> out["num_ties"]
    {'itt': 1, 'itt_p1': 1, 'itt_p2': 0, 'tot': 1}
    >>> out["macro"]["itt_p1"], out["per_category"]["swap_att"]["itt"]
    (0.5, 0.5)
"""

_CITATION = """
@inproceedings{dumpala2024sugarcrepepp,
  title={SUGARCREPE++ Dataset: Vision-Language Model Sensitivity to Semantic and Lexical Alterations},
  author={Dumpala, Sri Harsha and Jaiswal, Aman and Sastry, Chandramouli and Milios, Evangelos and
          Oore, Sageev and Sajjad, Hassan},
  booktitle={NeurIPS Datasets and Benchmarks},
  year={2024}
}
"""

TASKS = ("itt", "itt_p1", "itt_p2", "tot")


def _matrix(values: list[list[float]], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"each item of {name} needs 3 scores, got shape {array.shape[1:]}")
    return array


def triplet_outcomes(
    image_scores: np.ndarray, text_scores: np.ndarray | None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per task: (right, tied) boolean arrays over items. `tied`: wrong under the strict rule, right if equal
    scores counted (a tie decided the item)."""
    p1, p2, n = image_scores[:, 0], image_scores[:, 1], image_scores[:, 2]
    checks = {"itt": [(p1, n), (p2, n)], "itt_p1": [(p1, n)], "itt_p2": [(p2, n)]}
    if text_scores is not None:
        p1p2, p1n, p2n = text_scores[:, 0], text_scores[:, 1], text_scores[:, 2]
        checks["tot"] = [(p1p2, p1n), (p1p2, p2n)]
    out = {}
    for task, pairs in checks.items():
        strict = np.logical_and.reduce([a > b for a, b in pairs])
        loose = np.logical_and.reduce([a >= b for a, b in pairs])
        out[task] = (strict, loose & ~strict)
    return out


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SugarcrepePPTriplet(evaluate.Metric):
    """SugarCrepe++ ITT, ITT-P1, ITT-P2 and TOT accuracies, overall and per category."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("float64"))}),
            codebase_urls=["https://github.com/Sri-Harsha/scpp"],
        )

    def _compute(
        self,
        predictions: list[list[float]],
        text_scores: list[list[float]] | None = None,
        categories: list[str] | None = None,
    ) -> dict:
        if not predictions:
            raise ValueError("no items to score")
        image = _matrix(predictions, "predictions")
        text = None if text_scores is None else _matrix(text_scores, "text_scores")
        if text is not None and len(text) != len(image):
            raise ValueError(f"{len(text)} text_scores for {len(image)} items")
        outcomes = triplet_outcomes(image, text)
        out: dict = {task: float(right.mean()) for task, (right, _) in outcomes.items()}
        out["num_items"] = len(image)
        out["num_ties"] = {task: int(tied.sum()) for task, (_, tied) in outcomes.items()}
        if categories is not None:
            if len(categories) != len(image):
                raise ValueError(f"{len(categories)} categories for {len(image)} items")
            names = np.array(categories, dtype=object)
            groups = sorted(set(categories))
            out["per_category"] = {
                group: {task: float(right[names == group].mean()) for task, (right, _) in outcomes.items()}
                for group in groups
            }
            out["macro"] = {task: float(np.mean([out["per_category"][g][task] for g in groups])) for task in outcomes}
            out["category_counts"] = {group: int((names == group).sum()) for group in groups}
        return out
