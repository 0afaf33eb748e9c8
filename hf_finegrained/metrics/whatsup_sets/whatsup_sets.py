"""What'sUp pair and set accuracy: the share of object pairs whose opposite prepositions are both right, and of
object pairs whose four images are all right, with the denominators of the authors' code."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
What'sUp Controlled-A and Controlled-B (Kamath et al., EMNLP 2023) photograph each pair of objects in four
spatial relations (A: on, under, left, right; B: in front of, behind, left, right). Beside the accuracy over
images, the authors' code (`Controlled_Images.evaluate_scores` in `dataset_zoo/aro_datasets.py` of
amitakamath/whatsup_vlms) reports:

- pair accuracy: for every object pair, one point when both images of an opposite pair of relations are right
  (left and right; on and under, or in front of and behind), divided by (number of images) / 2;
- set accuracy: one point per object pair whose four images are all right, divided by (number of images) / 4.

As in that code, each object pair holds one outcome per relation (a later image of the same object pair and
relation replaces an earlier one) and a relation without an outcome counts as wrong; the denominators count the
annotation's images, not the object pairs (the same when every object pair has its four images).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): per image, 1 when its right caption was chosen, else 0.
    groups (`list` of `str`): per image, its object pair ("mug|table").
    members (`list` of `str`): per image, its relation ("left", "right", "on", "under", ...).
    opposites (`list` of `list` of `str`): the relation pairs that make a pair ([["left", "right"], ["on", "under"]]).
    num_images (`int`, *optional*): the denominator's image count (defaults to the number of predictions).

Returns:
    pair_accuracy (`float`), set_accuracy (`float`): as described, in [0, 1].
    pairs_right (`int`), sets_right (`int`): the numerators.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> sets = evaluate.load(metric_path("whatsup_sets"))
    >>> out = sets.compute(
    ...     predictions=[1, 1, 1, 0, 1, 1, 1, 1],
    ...     groups=["mug|table"] * 4 + ["dog|sofa"] * 4,
    ...     members=["left", "right", "on", "under"] * 2,
    ...     opposites=[["left", "right"], ["on", "under"]],
    ... )
    >>> out["pairs_right"], out["pair_accuracy"], out["sets_right"], out["set_accuracy"]
    (3, 0.75, 1, 0.5)
"""

_CITATION = """
@inproceedings{kamath2023whatsup,
  title={What's ``up'' with vision-language models? Investigating their struggle with spatial reasoning},
  author={Kamath, Amita and Hessel, Jack and Chang, Kai-Wei},
  booktitle={EMNLP},
  year={2023}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class WhatsupSets(evaluate.Metric):
    """Pair and set accuracy of What'sUp Controlled-A / Controlled-B."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("int64")}),
            codebase_urls=["https://github.com/amitakamath/whatsup_vlms"],
        )

    def _compute(
        self,
        predictions: list[int],
        groups: list[str] | None = None,
        members: list[str] | None = None,
        opposites: list[list[str]] | None = None,
        num_images: int | None = None,
    ) -> dict:
        if not predictions:
            raise ValueError("no images to score")
        if groups is None or members is None or len(groups) != len(predictions) or len(members) != len(predictions):
            raise ValueError("groups and members must give one value per prediction")
        if not opposites or any(len(pair) != 2 for pair in opposites):
            raise ValueError("opposites must list pairs of relations")
        relations = [m for pair in opposites for m in pair]
        outcome: dict[str, dict[str, int]] = {}
        for right, group, member in zip(predictions, groups, members):
            if member not in relations:
                raise ValueError(f"relation {member!r} is not one of {relations}")
            outcome.setdefault(group, dict.fromkeys(relations, 0))[member] = int(right)  # a later image replaces
        pairs_right = sum(int(all(values[m] for m in pair)) for values in outcome.values() for pair in opposites)
        sets_right = sum(int(all(values.values())) for values in outcome.values())
        images = num_images if num_images is not None else len(predictions)
        return {
            "pair_accuracy": float(pairs_right / (images / 2)),
            "set_accuracy": float(sets_right / (images / len(relations))),
            "pairs_right": int(pairs_right),
            "sets_right": int(sets_right),
            "num_groups": len(outcome),
            "mean_right": float(np.mean(predictions)),
        }
