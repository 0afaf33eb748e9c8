"""The hard-negative types: the one list of their names, their default order and their short benchmark names.

Everything else reads this list: the rules (`rules.RULES`, one function per type, named after it), the
trainer's default (`training_args.DEFAULT_NEGATIVE_TYPES`), the dataset features, and the synthetic
world's report categories (`synthetic.world.CATEGORY_NAMES`, `synthetic.evaluation.CATEGORIES`).
A new type is one line here plus its rule (and its ground-truth edit if the synthetic world should score it).

This module imports nothing from the package, so that any module may read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NegativeType:
    """One negative type.

    Attributes:
        name: the rule's name, the `hard_negatives` field and the name thresholds are logged under.
        short: the SugarCrepe-style category name reports use ("swap_att").
        report_position: its column in benchmark reports, which list swaps before replaces and attributes
            before objects (SugarCrepe's naming), not in the default order.
    """

    name: str
    short: str
    report_position: int


# In the default order: the order of the `hard_negatives` fields and of the trainer's `negative_types`.
NEGATIVE_TYPES: tuple[NegativeType, ...] = (
    NegativeType("swap_object", "swap_obj", report_position=1),
    NegativeType("swap_attribute", "swap_att", report_position=0),
    NegativeType("replace_object", "replace_obj", report_position=3),
    NegativeType("replace_attribute", "replace_att", report_position=2),
    NegativeType("replace_relation", "replace_rel", report_position=4),
)

DEFAULT_NEGATIVE_TYPES: tuple[str, ...] = tuple(kind.name for kind in NEGATIVE_TYPES)
# {name: short name}, in the report order (swap_att, swap_obj, replace_att, replace_obj, replace_rel).
SHORT_NAMES: dict[str, str] = {
    kind.name: kind.short for kind in sorted(NEGATIVE_TYPES, key=lambda kind: kind.report_position)
}
REPORT_CATEGORIES: tuple[str, ...] = tuple(SHORT_NAMES.values())
