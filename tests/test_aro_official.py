"""ARO's official macro rules, checked against its code (mertyg/vision-language-models-are-bows @81fdd20d,
`dataset_zoo/aro_datasets.py` and the replication notebook): VG-Relation leaves out the notebook's 157 symmetric
relations and keeps every other relation whatever its size; VG-Attribution keeps the attribute pairs with at least
25 items; a tie goes to the false caption (wrong). The notebook's list is compared when a snapshot of the ARO
repository is on this machine (the test is skipped otherwise)."""

import ast
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from hf_finegrained.metrics import load_metric

MIRROR = Path(os.environ.get("ARO_REPO", "/work/.mirror/mertyg+vision-language-models-are-bows/repo"))
NOTEBOOK = "notebooks/Replicate ARO! VG-Relation, VG-Attribution.ipynb"


def _excluded():
    import importlib.util

    from hf_finegrained.metrics import metric_path

    spec = importlib.util.spec_from_file_location("aro_macro", f"{metric_path('aro_macro')}/aro_macro.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VG_RELATION_EXCLUDED, module.VG_ATTRIBUTION_MIN_COUNT


def test_the_excluded_relations_and_the_attribute_threshold():
    excluded, min_count = _excluded()
    assert len(excluded) == 157 and min_count == 25
    assert {"next to", "on the side of", "around", "by", "of", "with", "near"} <= excluded
    assert not {"on", "wearing", "holding", "in", "behind", "under"} & excluded


@pytest.mark.skipif(not MIRROR.is_dir(), reason="no snapshot of the ARO repository on this machine")
def test_the_excluded_relations_are_the_notebooks_list():
    text = subprocess.run(["git", "-C", str(MIRROR), "show", f"HEAD:{NOTEBOOK}"], capture_output=True, text=True,
                          check=True).stdout
    source = "".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    symmetric = ast.literal_eval(re.search(r"symmetric = (\[.*?\])", source, re.S).group(1))
    assert set(symmetric) == _excluded()[0] and len(symmetric) == len(set(symmetric)) == 157


def test_vg_relation_keeps_every_size_and_drops_the_symmetric_ones():
    out = load_metric("aro_macro").compute(
        predictions=[[0.2, 0.8], [0.9, 0.1], [0.5, 0.5], [0.1, 0.9]], references=[1, 1, 1, 1],
        groups=["on", "on", "wearing", "next to"], protocol="vg_relation")
    # "wearing" has one item, a tie: kept, and wrong (argmax over [false, true] takes the false caption)
    assert out["per_group"] == {"on": 0.5, "wearing": 0.0} and out["left_out_groups"] == ["next to"]
    assert out["macro_accuracy"] == 0.25 and out["micro_accuracy"] == 0.5


@pytest.mark.parametrize("size, kept", [(24, False), (25, True)])
def test_vg_attribution_keeps_pairs_of_at_least_25_items(size, kept):
    out = load_metric("aro_macro").compute(
        predictions=[[0.1, 0.9]] * size + [[0.9, 0.1]] * 30, references=[1] * (size + 30),
        groups=["red_blue"] * size + ["big_small"] * 30, protocol="vg_attribution")
    assert ("red_blue" in out["per_group"]) is kept
    assert out["macro_accuracy"] == (0.5 if kept else 0.0)
