"""Zero-shot classification top-K accuracy from ranked class predictions."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
Top-K accuracy of zero-shot image classification (Radford et al., 2021): the image is compared with one text
embedding per class (averaged over prompt templates) and the classes are ranked by score. An image is right
at K when its class is among the first K. Ranks are expected with ties broken against the right class.
`average="macro"` gives the mean per-class accuracy that some datasets report (e.g. FGVC Aircraft, Pets).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): per image, class ids ranked best first (at least max(k_values)).
    references (`list` of `int`): per image, its class id.
    k_values (`list` of `int`, defaults to `[1, 5]`): the cut-offs K (a K above the number of classes is skipped).
    average (`str`, defaults to `"micro"`): `"micro"` (share of images) or `"macro"` (mean over classes).

Returns:
    top{K}_accuracy (`float`) for each K, in [0, 1].
    num_items (`int`): number of images.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> zeroshot = evaluate.load(metric_path("zeroshot_accuracy"))
    >>> zeroshot.compute(predictions=[[0, 1], [0, 1], [1, 0]], references=[0, 1, 1], k_values=[1])
    {'top1_accuracy': 0.6666666666666666, 'num_items': 3}
    >>> zeroshot.compute(predictions=[[0, 1], [0, 1], [1, 0]], references=[0, 1, 1], k_values=[1], average="macro")
    {'top1_accuracy': 0.75, 'num_items': 3}
"""

_CITATION = """
@inproceedings{radford2021learning,
  title={Learning Transferable Visual Models From Natural Language Supervision},
  author={Radford, Alec and Kim, Jong Wook and Hallacy, Chris and Ramesh, Aditya and Goh, Gabriel and others},
  booktitle={ICML},
  year={2021}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ZeroshotAccuracy(evaluate.Metric):
    """Top-K accuracy, micro or macro over classes."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("int64")), "references": datasets.Value("int64")}
            ),
            reference_urls=["https://github.com/openai/CLIP"],
        )

    def _compute(
        self,
        predictions: list[list[int]],
        references: list[int],
        k_values: list[int] | None = None,
        average: str = "micro",
    ) -> dict:
        if not predictions:
            raise ValueError("no images to score")
        if average not in ("micro", "macro"):
            raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")
        num_ranked = min(len(p) for p in predictions)
        labels = np.asarray(references)
        out = {}
        for k in sorted(k_values or [1, 5]):
            if k > num_ranked:
                continue
            hit = np.array([label in ranked[:k] for ranked, label in zip(predictions, references)])
            if average == "micro":
                out[f"top{k}_accuracy"] = float(hit.mean())
            else:
                out[f"top{k}_accuracy"] = float(np.mean([hit[labels == c].mean() for c in np.unique(labels)]))
        out["num_items"] = len(predictions)
        return out
