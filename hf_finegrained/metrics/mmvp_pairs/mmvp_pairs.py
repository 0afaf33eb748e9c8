"""MMVP-VLM pair accuracy: each statement of a pair picks one of the pair's two images; the pair counts when both
pick their own image. Ties go to the second image, as in the authors' code."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
MMVP-VLM (Tong et al., CVPR 2024) holds 9 visual patterns x 15 pairs of images; each image has a statement.
The authors' `scripts/evaluate_vlm.py` (tsb0601/MMVP) scores, for each statement, its two candidate images
(the softmax of the logits over the two images), predicts the first image when its probability is above 0.5 and
the second otherwise, and counts a pair when both statements predict their own image (the first image for an odd
question id, the second for an even one). An exact tie (probability 0.5) therefore goes to the **second** image:
right for the statement of the second image, wrong for the first. `ties="wrong"` counts every tie wrong instead.
The probability is above 0.5 exactly when the first image's score is above the second's, so this metric takes
the scores. The accuracy is reported per pattern; the caller assigns the patterns.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of 2x2 `list` of `float`): per pair, `scores[statement][image]`.
    references (`list` of 2 `int`): per pair, the right image (0 or 1) of statement 0 and statement 1.
    categories (`list` of `str`, *optional*): per pair, its visual pattern.
    ties (`str`, defaults to `"second_image"`): `"second_image"` (the authors' rule) or `"wrong"`.

Returns:
    accuracy (`float`): share of pairs whose two statements both pick their own image.
    num_items (`int`), num_ties (`int`): pairs, and statements whose two image scores are equal.
    per_category (`dict`): with `categories`, each pattern's `accuracy` and `count`.
    macro_accuracy (`float`): with `categories`, the mean over patterns.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> mmvp = evaluate.load(metric_path("mmvp_pairs"))
    >>> out = mmvp.compute(predictions=[[[0.9, 0.2], [0.1, 0.8]], [[0.5, 0.5], [0.1, 0.8]], [[0.3, 0.4], [0.4, 0.4]]],
    ...                    references=[[0, 1], [0, 1], [0, 1]], categories=["Texts", "Texts", "Quantity and Count"])
    >>> out["accuracy"], out["num_ties"], out["per_category"]["Texts"]["accuracy"]
    (0.3333333333333333, 2, 0.5)
    >>> mmvp.compute(predictions=[[[0.3, 0.4], [0.4, 0.4]]], references=[[1, 1]])["accuracy"]  # both ties to image 2
    1.0
    >>> mmvp.compute(predictions=[[[0.3, 0.4], [0.4, 0.4]]], references=[[1, 1]], ties="wrong")["accuracy"]
    0.0
"""

_CITATION = """
@inproceedings{tong2024eyes,
  title={Eyes Wide Shut? Exploring the Visual Shortcomings of Multimodal LLMs},
  author={Tong, Shengbang and Liu, Zhuang and Zhai, Yuexiang and Ma, Yi and LeCun, Yann and Xie, Saining},
  booktitle={CVPR},
  year={2024}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MmvpPairs(evaluate.Metric):
    """MMVP-VLM pair accuracy, per visual pattern."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({
                "predictions": datasets.Sequence(datasets.Sequence(datasets.Value("float64"))),
                "references": datasets.Sequence(datasets.Value("int64")),
            }),
            codebase_urls=["https://github.com/tsb0601/MMVP"],
        )

    def _compute(
        self,
        predictions: list[list[list[float]]],
        references: list[list[int]],
        categories: list[str] | None = None,
        ties: str = "second_image",
    ) -> dict:
        if not predictions:
            raise ValueError("no pairs to score")
        if ties not in ("second_image", "wrong"):
            raise ValueError(f"ties must be 'second_image' or 'wrong', got {ties!r}")
        s = np.asarray(predictions, dtype=np.float64)
        gt = np.asarray(references, dtype=np.int64)
        if s.shape[1:] != (2, 2) or gt.shape != (len(s), 2) or not np.isin(gt, (0, 1)).all():
            raise ValueError("each prediction must be 2x2 [statement][image] and each reference two image indices")
        first = s[:, :, 0] > s[:, :, 1]  # (N, statement): the first image predicted
        tied = s[:, :, 0] == s[:, :, 1]
        chosen = np.where(first, 0, 1)
        statement_right = chosen == gt
        if ties == "wrong":
            statement_right &= ~tied
        right = statement_right.all(axis=1)
        out = {"accuracy": float(right.mean()), "num_items": len(right), "num_ties": int(tied.sum())}
        if categories is not None:
            if len(categories) != len(right):
                raise ValueError(f"{len(categories)} categories for {len(right)} pairs")
            names = np.array(categories, dtype=object)
            out["per_category"] = {c: {"accuracy": float(right[names == c].mean()), "count": int((names == c).sum())}
                                   for c in dict.fromkeys(categories)}
            out["macro_accuracy"] = float(np.mean([v["accuracy"] for v in out["per_category"].values()]))
        return out
