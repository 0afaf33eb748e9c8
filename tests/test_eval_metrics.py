"""The shipped `evaluate` modules: loadable offline by path, doctest examples hold, scoring rules."""

import doctest
import importlib.util
import inspect

import evaluate
import pytest

from hf_finegrained.metrics import METRICS, load_metric, metric_path


@pytest.mark.parametrize("name", METRICS)
def test_module_loads_by_path_and_documents_itself(name):
    module = evaluate.load(metric_path(name))
    assert module.description.strip() and module.inputs_description.strip() and module.citation.strip()
    assert "Examples:" in module.inputs_description


def _module_file(name):
    spec = importlib.util.spec_from_file_location(name, f"{metric_path(name)}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", METRICS)
def test_doctest_examples_pass(name):
    module = _module_file(name)
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    test = parser.get_doctest(module._KWARGS_DESCRIPTION, {}, name, None, 0)
    assert test.examples
    runner.run(test)
    assert runner.failures == 0


def test_choice_accuracy_counts_ties_wrong_and_needs_strictly_above_every_other():
    out = load_metric("choice_accuracy").compute(
        predictions=[[0.5, 0.5], [0.6, 0.5, 0.6], [0.7, 0.1, 0.69], [0.2, 0.9]],
        references=[0, 0, 0, 1],
    )
    assert out["accuracy"] == pytest.approx(0.5)  # items 3 and 4 only
    assert out["num_ties"] == 2


def test_choice_accuracy_macro_differs_from_micro():
    # category a: 3/4 right, category b: 0/1 right -> micro 3/5, macro (0.75 + 0) / 2
    predictions = [[1, 0]] * 3 + [[0, 1]] + [[0, 1]]
    categories = ["a"] * 4 + ["b"]
    metric = load_metric("choice_accuracy")
    micro = metric.compute(predictions=predictions, references=[0] * 5, categories=categories, average="micro")
    macro = metric.compute(predictions=predictions, references=[0] * 5, categories=categories, average="macro")
    assert micro["accuracy"] == pytest.approx(0.6) and macro["accuracy"] == pytest.approx(0.375)
    assert macro["per_category"] == {"a": 0.75, "b": 0.0}
    assert macro["category_counts"] == {"a": 4, "b": 1}


def test_choice_accuracy_hierarchical_macro_weights_each_level_equally():
    # Attribute/color: source vg has files f1 (1.0, 1 item) and f2 (0.0, 3 items) -> vg 0.5; source vaw 1.0
    # -> color 0.75. Relation/action: 0.0. Root = (0.75 + 0.0) / 2.
    categories = ["Attribute/color/vg/f1"] + ["Attribute/color/vg/f2"] * 3 + ["Attribute/color/vaw/f3",
                                                                               "Relation/action/vg/f4"]
    predictions = [[1, 0], [0, 1], [0, 1], [0, 1], [1, 0], [0, 1]]
    out = load_metric("choice_accuracy").compute(predictions=predictions, references=[0] * 6,
                                                 categories=categories, average="macro")
    assert out["per_category"]["Attribute/color/vg"] == pytest.approx(0.5)
    assert out["per_category"]["Attribute/color"] == pytest.approx(0.75)
    assert out["accuracy"] == pytest.approx(0.375)
    assert out["micro_accuracy"] == pytest.approx(2 / 6)


def test_choice_accuracy_rejects_bad_inputs():
    metric = load_metric("choice_accuracy")
    with pytest.raises(ValueError):
        metric.compute(predictions=[[1.0]], references=[0])
    with pytest.raises(ValueError):
        metric.compute(predictions=[[1.0, 0.0]], references=[2])
    with pytest.raises(ValueError):
        metric.compute(predictions=[[1.0, 0.0]], references=[0], average="macro")


def test_aro_macro_filters():
    metric = load_metric("aro_macro")
    predictions = [[0.9, 0.1]] * 30 + [[0.1, 0.9]] * 10 + [[0.9, 0.1]] * 2 + [[0.5, 0.5]]
    groups = ["red_blue"] * 30 + ["big_small"] * 10 + ["wet_dry"] * 2 + ["on"]
    vga = metric.compute(predictions=predictions, references=[0] * 43, groups=groups, protocol="vg_attribution")
    assert vga["per_group"] == {"red_blue": 1.0}  # the others have < 25 items
    assert set(vga["left_out_groups"]) == {"big_small", "wet_dry", "on"}
    everything = metric.compute(predictions=predictions, references=[0] * 43, groups=groups)
    assert everything["macro_accuracy"] == pytest.approx((1.0 + 0.0 + 1.0 + 0.0) / 4)
    assert everything["micro_accuracy"] == pytest.approx(32 / 43)
    vgr = metric.compute(predictions=[[1, 0], [0, 1], [1, 0]], references=[0, 0, 0],
                         groups=["on", "next to", "wearing"], protocol="vg_relation")
    assert vgr["per_group"] == {"on": 1.0, "wearing": 1.0} and vgr["left_out_groups"] == ["next to"]



def test_strict_choice_rule_is_defined_once_and_copied_verbatim():
    # Each evaluate module loads alone, so aro_macro cannot import choice_accuracy: it holds a copy of the rule's
    # definition, which must stay identical to it, and use it.
    definition, copy = _module_file("choice_accuracy"), _module_file("aro_macro")
    assert inspect.getsource(copy.item_outcomes) == inspect.getsource(definition.item_outcomes)
    assert "item_outcomes(predictions, references)" in inspect.getsource(copy.AroMacro._compute)


# (scores, right index, right?): ties with any other candidate are wrong, strictly above all others is right
STRICT_CASES = [
    ([0.5, 0.5], 0, False),
    ([0.5, 0.5], 1, False),
    ([0.6, 0.5, 0.6], 0, False),
    ([0.7, 0.1, 0.69], 0, True),
    ([0.2, 0.9], 1, True),
    ([0.9, 0.2], 1, False),
    ([0.3, 0.3, 0.3, 0.3], 2, False),
    ([0.1, 0.4, 0.4], 0, False),
    ([0.5, 0.4, 0.4], 0, True),
    ([1.0, 1.0 - 1e-12], 0, True),
    ([-1.0, -2.0], 0, True),
    ([3, 2, 3, 1, 0], 2, False),
    ([0, 1, 2, 3, 4], 4, True),
]


@pytest.mark.parametrize("scores,label,right", STRICT_CASES)
def test_choice_accuracy_and_aro_macro_apply_the_same_strict_rule(scores, label, right):
    choice = load_metric("choice_accuracy").compute(predictions=[scores], references=[label])
    aro = load_metric("aro_macro").compute(predictions=[scores], references=[label], groups=["g"])
    assert choice["micro_accuracy"] == aro["micro_accuracy"] == aro["per_group"]["g"] == float(right)
    assert choice["num_ties"] == int(scores[label] == max(s for j, s in enumerate(scores) if j != label))


@pytest.mark.parametrize("scores,label", [([1.0], 0), ([1.0, 0.0], 2), ([1.0, 0.0], -1)])
def test_choice_accuracy_and_aro_macro_reject_the_same_bad_items(scores, label):
    for name, extra in (("choice_accuracy", {}), ("aro_macro", {"groups": ["g"]})):
        with pytest.raises(ValueError, match="item 0: needs >= 2 candidate scores"):
            load_metric(name).compute(predictions=[scores], references=[label], **extra)

def test_winoground_per_category_and_strictness():
    out = load_metric("winoground_scores").compute(
        predictions=[[[1.0, 0.0], [0.0, 1.0]], [[0.8, 0.8], [0.0, 1.0]]], categories=["Object", "Relation"]
    )
    assert out["per_category"]["Object"]["group_score"] == 1.0
    # second example: s(c0,i0) == s(c0,i1) -> image score fails, text score holds
    assert out["per_category"]["Relation"]["text_score"] == 1.0
    assert out["per_category"]["Relation"]["image_score"] == 0.0


def test_retrieval_recall_counts_any_right_candidate():
    out = load_metric("retrieval_recall").compute(
        predictions=[[5, 4, 3, 2, 1], [0, 1, 2, 3, 4]], references=[[1, 4], [9]], k_values=[1, 2, 5]
    )
    assert out == {"recall@1": 0.0, "recall@2": 0.5, "recall@5": 0.5, "num_queries": 2}


def test_zeroshot_skips_k_above_class_count():
    out = load_metric("zeroshot_accuracy").compute(predictions=[[1, 0], [0, 1]], references=[1, 1], k_values=[1, 5])
    assert out == {"top1_accuracy": 0.5, "num_items": 2}
