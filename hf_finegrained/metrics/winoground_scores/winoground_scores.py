"""Winoground text, image and group scores from 2 captions x 2 images similarity matrices."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
Winoground (Thrush et al., CVPR 2022) pairs two images with two captions that use the same words in a
different order; caption 0 matches image 0 and caption 1 matches image 1. With s(c, i) the score of caption
c with image i, and every comparison strict (a tie is wrong):

- text score: s(c0, i0) > s(c1, i0) and s(c1, i1) > s(c0, i1) (for each image, the right caption wins);
- image score: s(c0, i0) > s(c0, i1) and s(c1, i1) > s(c1, i0) (for each caption, the right image wins);
- group score: both hold.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of 2x2 `list` of `float`): per example, `scores[c][i]` = score of caption c with image i.
    categories (`list` of `str`, *optional*): per example, a tag (e.g. Winoground's `collapsed_tag`), to also
        report the three scores per tag.

Returns:
    text_score (`float`), image_score (`float`), group_score (`float`): shares of examples, in [0, 1].
    num_items (`int`): number of examples.
    per_category (`dict`): per tag, its `text_score`, `image_score`, `group_score` and `count`.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> wino = evaluate.load(metric_path("winoground_scores"))
    >>> out = wino.compute(predictions=[
    ...     [[0.9, 0.2], [0.1, 0.8]],  # all four comparisons right
    ...     [[0.5, 0.6], [0.1, 0.8]],  # captions right for each image, images wrong for caption 0
    ...     [[0.5, 0.2], [0.5, 0.8]],  # tie between the captions on image 0
    ... ])
    >>> round(out["text_score"], 4), round(out["image_score"], 4), round(out["group_score"], 4)
    (0.6667, 0.6667, 0.3333)
"""

_CITATION = """
@inproceedings{thrush2022winoground,
  title={Winoground: Probing Vision and Language Models for Visio-Linguistic Compositionality},
  author={Thrush, Tristan and Jiang, Ryan and Bartolo, Max and Singh, Amanpreet and Williams, Adina and
          Kiela, Douwe and Ross, Candace},
  booktitle={CVPR},
  year={2022}
}
"""


def _scores(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s: (N, 2, 2) as [example, caption, image]; returns (text_ok, image_ok), each (N,) boolean."""
    text_ok = (s[:, 0, 0] > s[:, 1, 0]) & (s[:, 1, 1] > s[:, 0, 1])
    image_ok = (s[:, 0, 0] > s[:, 0, 1]) & (s[:, 1, 1] > s[:, 1, 0])
    return text_ok, image_ok


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class WinogroundScores(evaluate.Metric):
    """Winoground text, image and group scores, overall and per tag."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Sequence(datasets.Value("float64")))}
            ),
            reference_urls=["https://huggingface.co/datasets/facebook/winoground"],
        )

    def _compute(self, predictions: list[list[list[float]]], categories: list[str] | None = None) -> dict:
        if not predictions:
            raise ValueError("no examples to score")
        s = np.asarray(predictions, dtype=np.float64)
        if s.shape[1:] != (2, 2):
            raise ValueError(f"each prediction must be a 2x2 matrix [caption][image], got shape {s.shape[1:]}")
        text_ok, image_ok = _scores(s)
        group_ok = text_ok & image_ok
        out = {
            "text_score": float(text_ok.mean()),
            "image_score": float(image_ok.mean()),
            "group_score": float(group_ok.mean()),
            "num_items": len(s),
        }
        if categories is not None:
            if len(categories) != len(s):
                raise ValueError(f"{len(categories)} categories for {len(s)} examples")
            tags = np.array(categories, dtype=object)
            out["per_category"] = {
                tag: {
                    "text_score": float(text_ok[tags == tag].mean()),
                    "image_score": float(image_ok[tags == tag].mean()),
                    "group_score": float(group_ok[tags == tag].mean()),
                    "count": int((tags == tag).sum()),
                }
                for tag in sorted(set(categories))
            }
        return out
