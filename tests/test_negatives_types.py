"""`negatives/types.py` is the one owner of the negative types: every other list of them is read from it."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import hf_finegrained
from hf_finegrained import training_args
from hf_finegrained.builders import features
from hf_finegrained.synthetic import CATEGORY_NAMES, world as synthetic_world
from hf_finegrained.negatives import RULES, HardNegativeGenerator, types
from hf_finegrained.synthetic.evaluation import CATEGORIES, GROUPS

# Pinned: the default run's dataset fields, thresholds and report columns follow these orders.
DEFAULT_ORDER = ("swap_object", "swap_attribute", "replace_object", "replace_attribute", "replace_relation")
REPORT_ORDER = ("swap_att", "swap_obj", "replace_att", "replace_obj", "replace_rel")


def test_the_owner_holds_the_names_orders_and_short_names():
    assert types.DEFAULT_NEGATIVE_TYPES == tuple(kind.name for kind in types.NEGATIVE_TYPES) == DEFAULT_ORDER
    assert types.REPORT_CATEGORIES == REPORT_ORDER
    assert types.SHORT_NAMES == {kind.name: kind.short for kind in types.NEGATIVE_TYPES}
    assert list(types.SHORT_NAMES.values()) == list(REPORT_ORDER)
    positions = sorted(kind.report_position for kind in types.NEGATIVE_TYPES)
    assert positions == list(range(len(types.NEGATIVE_TYPES)))
    assert len({kind.name for kind in types.NEGATIVE_TYPES}) == len({kind.short for kind in types.NEGATIVE_TYPES}) == 5


def test_every_other_list_is_the_owners():
    names = types.DEFAULT_NEGATIVE_TYPES
    assert training_args.DEFAULT_NEGATIVE_TYPES is names
    assert hf_finegrained.DEFAULT_NEGATIVE_TYPES is names
    negative_types = training_args.FineGrainedTrainingArguments.__dataclass_fields__["negative_types"]
    assert negative_types.default_factory() == list(names)
    assert list(RULES) == list(names)
    assert all(RULES[name].__name__ == name for name in names)
    assert HardNegativeGenerator(nlp=object()).types == list(names)
    assert list(features.negatives_feature()) == list(names)
    assert list(features.caption_features()["hard_negatives"]) == list(names)
    assert synthetic_world.SyntheticWorld.negative_types == names
    assert CATEGORY_NAMES is types.SHORT_NAMES
    assert list(CATEGORY_NAMES.items()) == list(types.SHORT_NAMES.items())
    assert CATEGORIES == types.REPORT_CATEGORIES == tuple(CATEGORY_NAMES.values())
    assert GROUPS["seen"] == GROUPS["held_out"] == CATEGORIES + ("average",)


def test_the_worlds_ground_truth_makes_every_type():
    rng = random.Random(0)
    scene, style = synthetic_world._sample(rng)
    assert list(synthetic_world.ground_truth_negatives(scene, style, rng)) == list(types.DEFAULT_NEGATIVE_TYPES)


def test_the_owner_imports_nothing_from_the_package():
    tree = ast.parse(Path(types.__file__).read_text())
    imported = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert all(isinstance(node, ast.ImportFrom) and node.level == 0 for node in imported)
    assert {node.module for node in imported} <= {"__future__", "dataclasses"}


def test_the_training_arguments_read_the_names_without_spacy():
    code = "import sys, hf_finegrained.training_args; assert 'spacy' not in sys.modules, 'spacy imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
