"""Cards the Hub reads right: every registered benchmark names its dataset and types every metric it emits; the
model-index of a card passes huggingface_hub's own parsing and the Hub's model-index rules."""

import logging

import pytest
from eval_helpers import StandInScorer
from test_suite_presets import write_suite

from hf_finegrained.evaluation import run_benchmarks
from hf_finegrained.evaluation.bow import PREFIX as CEILING
from hf_finegrained.evaluation.runner import REGISTERED
from hf_finegrained.model_card import eval_results, results_from_report

NEW = ["whatsup", "crepe", "bivlc", "mmvp_vlm", "vismin", "eqben", "spec", "colorswap"]
# Hub dataset ids of the annotations the runner reads, where the authors publish them there.
HUB_IDS = {"bivlc": "imirandam/BiVLC", "vismin": "mair-lab/vismin-bench", "mmvp_vlm": "MMVP/MMVP_VLM",
           "spec": "wjpoom/SPEC", "winoground": "facebook/winoground"}


@pytest.mark.parametrize("spec", REGISTERED, ids=lambda spec: spec.name)
def test_every_registered_benchmark_names_its_dataset_and_types_its_metrics(spec):
    """The card's only source of a benchmark's dataset and metric types (no fallback to a guess): a new benchmark
    registered without them fails here. `zeroshot` chooses its dataset at run time and so has none."""
    assert spec.metric_types is not None, f"{spec.name}: BenchmarkSpec(metric_types=...) missing"
    if spec.name == "zeroshot":
        assert spec.dataset is None
        return
    assert spec.dataset is not None, f"{spec.name}: BenchmarkSpec(dataset=...) missing"
    assert spec.dataset.type and spec.dataset.name
    if spec.name in HUB_IDS:
        assert spec.dataset.type == HUB_IDS[spec.name]
    else:  # a short name, never a made-up Hub id
        assert "/" not in spec.dataset.type, spec.dataset.type


@pytest.fixture(scope="module")
def suite_results(tmp_path_factory):
    """The new benchmarks' results (`CardInfo.results` layout) on their fixtures, scored by the stand-in scorer."""
    root = tmp_path_factory.mktemp("suite")
    write_suite(root, complete=True)
    document = run_benchmarks(StandInScorer(), NEW, data_root=str(root), progress=False, log=lambda _: None)
    return results_from_report(document)


def test_every_metric_the_new_benchmarks_emit_is_typed_by_its_spec(suite_results, caplog):
    assert sorted(suite_results) == sorted(NEW)
    with caplog.at_level(logging.WARNING, logger="hf_finegrained.model_card"):
        found = eval_results(suite_results)
    assert "left out of model-index" not in caplog.text and "declares no metric types" not in caplog.text
    expected = {(b, m) for b, metrics in suite_results.items() for m in metrics if not m.startswith(CEILING)}
    typed = {(r.dataset_type, r.metric_name): r for r in found}
    by_benchmark = {spec.name: spec.dataset.type for spec in REGISTERED if spec.dataset}
    assert set(typed) == {(by_benchmark[b], m) for b, m in expected}

    def kind(benchmark, metric):
        return typed[by_benchmark[benchmark], metric].metric_type

    assert kind("bivlc", "i2t/micro") == "text_score" and kind("bivlc", "t2i/replace") == "image_score"
    assert kind("bivlc", "group/micro") == "group_score" and kind("vismin", "group/macro") == "group_score"
    assert kind("colorswap", "text") == "text_score" and kind("eqben", "image/kubric") == "image_score"
    assert kind("mmvp_vlm", "pair/macro") == "pair_accuracy" and kind("mmvp_vlm", "group/micro") == "group_score"
    assert kind("crepe", "productivity/recall@3") == "recall_at_3"
    assert kind("crepe", "productivity/atom/4") == "recall_at_1"
    assert kind("whatsup", "controlled_a/pair") == "pair_accuracy" and kind("whatsup", "macro") == "accuracy"
    assert kind("spec", "t2i/macro") == "accuracy"
    # Choosing among candidates is its own task, not zero-shot image classification.
    assert {r.task_type for r in found} == {"image-text-matching"}
    assert typed["imirandam/BiVLC", "group/micro"].dataset_name.startswith("BiVLC")
