"""ARO macro accuracy: strict 2-way choice accuracy per group (relation or attribute pair), averaged over groups."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
Macro-averaged accuracy of ARO's VG-Relation and VG-Attribution (Yuksekgonul et al., ICLR 2023). Each item
is an image crop with candidate captions, one right; it counts as right only when the right caption scores
strictly above every other one (a tie is wrong). Accuracy is computed per group (the relation name for
VG-Relation, "attr1_attr2" for VG-Attribution), groups are filtered, and the kept groups are averaged with
equal weight.

`protocol` applies the ARO authors' filters: "vg_relation" leaves out the relations listed in their
evaluation code (the 157 relations they call symmetric, whose swapped caption can also be true);
"vg_attribution" keeps only attribute pairs with at least 25 items. Both can also be set explicitly.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): per item, the score of each candidate caption (at least 2).
    references (`list` of `int`): per item, the index of the right caption.
    groups (`list` of `str`): per item, its relation name or attribute pair.
    protocol (`str`, *optional*): `"vg_relation"` or `"vg_attribution"`, to apply the ARO filters.
    exclude_groups (`list` of `str`, *optional*): groups left out of the macro average (added to the protocol's).
    min_group_size (`int`, *optional*): groups with fewer items are left out (overrides the protocol's).

Returns:
    macro_accuracy (`float`): mean accuracy over the kept groups.
    micro_accuracy (`float`): share of right items over all items (no filter).
    num_items (`int`), num_groups (`int`): items scored, groups kept.
    per_group (`dict`): accuracy of each kept group; group_counts (`dict`): its number of items.
    left_out_groups (`list`): groups dropped by the filters.

Examples:
    >>> import evaluate
    >>> from hf_finegrained.metrics import metric_path
    >>> aro = evaluate.load(metric_path("aro_macro"))
    >>> out = aro.compute(
    ...     predictions=[[0.1, 0.9], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5], [0.2, 0.8]],
    ...     references=[1, 1, 1, 1, 1],
    ...     groups=["on", "on", "holding", "holding", "near"],
    ...     protocol="vg_relation",
    ... )
    >>> out["per_group"], out["macro_accuracy"], out["left_out_groups"]
    ({'holding': 0.5, 'on': 0.5}, 0.5, ['near'])
"""

_CITATION = """
@inproceedings{yuksekgonul2023when,
  title={When and why vision-language models behave like bags-of-words, and what to do about it?},
  author={Yuksekgonul, Mert and Bianchi, Federico and Kalluri, Pratyusha and Jurafsky, Dan and Zou, James},
  booktitle={ICLR},
  year={2023}
}
"""

# Relation names the ARO evaluation code leaves out of the VG-Relation macro average.
VG_RELATION_EXCLUDED = frozenset((
    "adjusting|attached to|between|bigger than|biting|boarding|brushing|chewing|cleaning|climbing|"
    "close to|coming from|coming out of|contain|crossing|dragging|draped over|drinking|drinking from|"
    "driving|driving down|driving on|eating from|eating in|enclosing|exiting|facing|filled with|"
    "floating in|floating on|flying|flying above|flying in|flying over|flying through|full of|going down|"
    "going into|going through|grazing in|growing in|growing on|guiding|hanging from|hanging in|"
    "hanging off|hanging over|higher than|holding onto|hugging|in between|jumping off|jumping on|"
    "jumping over|kept in|larger than|leading|leaning over|leaving|licking|longer than|looking in|"
    "looking into|looking out|looking over|looking through|lying next to|lying on top of|making|"
    "mixed with|mounted on|moving|on the back of|on the edge of|on the front of|on the other side of|"
    "opening|painted on|parked at|parked beside|parked by|parked in|parked in front of|parked near|"
    "parked next to|perched on|petting|piled on|playing|playing in|playing on|playing with|pouring|"
    "reaching for|reading|reflected on|riding on|running in|running on|running through|seen through|"
    "sitting behind|sitting beside|sitting by|sitting in front of|sitting near|sitting next to|"
    "sitting under|skiing down|skiing on|sleeping in|sleeping on|smiling at|sniffing|splashing|"
    "sprinkled on|stacked on|standing against|standing around|standing behind|standing beside|"
    "standing in front of|standing near|standing next to|staring at|stuck in|surrounding|swimming in|"
    "swinging|talking to|topped with|touching|traveling down|traveling on|tying|typing on|underneath|"
    "wading in|waiting for|walking across|walking by|walking down|walking next to|walking through|"
    "working in|working on|worn on|wrapped around|wrapped in|by|of|near|next to|with|beside|"
    "on the side of|around"
).split("|"))
VG_ATTRIBUTION_MIN_COUNT = 25


# The strict-choice rule: a verbatim copy of `item_outcomes` in choice_accuracy/choice_accuracy.py, where it is
# defined (an `evaluate` module loads alone, so it cannot import that file); tests/test_eval_metrics.py fails
# when the two differ in source or in results.
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


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class AroMacro(evaluate.Metric):
    """Per-group strict choice accuracy with ARO's group filters, averaged over groups."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float64")), "references": datasets.Value("int64")}
            ),
            codebase_urls=["https://github.com/mertyg/vision-language-models-are-bows"],
        )

    def _compute(
        self,
        predictions: list[list[float]],
        references: list[int],
        groups: list[str] | None = None,
        protocol: str | None = None,
        exclude_groups: list[str] | None = None,
        min_group_size: int | None = None,
    ) -> dict:
        if not predictions:
            raise ValueError("no items to score")
        if groups is None or len(groups) != len(predictions):
            raise ValueError("groups must give one group per item")
        excluded, min_count = set(exclude_groups or ()), 1
        if protocol == "vg_relation":
            excluded |= VG_RELATION_EXCLUDED
        elif protocol == "vg_attribution":
            min_count = VG_ATTRIBUTION_MIN_COUNT
        elif protocol is not None:
            raise ValueError(f"protocol must be 'vg_relation', 'vg_attribution' or None, got {protocol!r}")
        if min_group_size is not None:
            min_count = min_group_size

        right, _ = item_outcomes(predictions, references)
        names = np.array(groups, dtype=object)
        per_group, counts, left_out = {}, {}, []
        for group in sorted(set(groups)):
            mask = names == group
            if group in excluded or mask.sum() < min_count:
                left_out.append(group)
                continue
            per_group[group] = float(right[mask].mean())
            counts[group] = int(mask.sum())
        if not per_group:
            raise ValueError("every group was left out by the filters")
        return {
            "macro_accuracy": float(np.mean(list(per_group.values()))),
            "micro_accuracy": float(right.mean()),
            "num_items": len(right),
            "num_groups": len(per_group),
            "per_group": per_group,
            "group_counts": counts,
            "left_out_groups": left_out,
        }
