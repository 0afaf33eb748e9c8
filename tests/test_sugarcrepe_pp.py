"""SugarCrepe++: the triplet rules (ITT, TOT, ITT with each positive alone; ties wrong) on hand-made scores,
the benchmark on a small fixture (known answers, ceilings, micro and macro, each image and caption encoded
once), its registration, and the loader on the real files (skipped when ../shared/benchmarks is absent)."""

import json

import pytest
from eval_helpers import SHARED, StandInScorer, link_images, write_sugarcrepe_pp

from hf_finegrained.evaluation import BENCHMARKS, ScoringEngine, benchmark_names, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.sugarcrepe_pp import (
    CATEGORIES, evaluate_sugarcrepe_pp, load_sugarcrepe_pp, read_sugarcrepe_pp,
)
from hf_finegrained.metrics import load_metric

REAL = SHARED / "sugarcrepe_pp"
REAL_COUNTS = {"replace_att": 788, "replace_obj": 1652, "replace_rel": 1406, "swap_att": 666, "swap_obj": 245}


def _one(image, text=None):
    """The triplet metric on one item: {task: right?}."""
    out = load_metric("sugarcrepe_pp_triplet").compute(predictions=[image],
                                                        text_scores=None if text is None else [text])
    return {task: out[task] == 1.0 for task in ("itt", "itt_p1", "itt_p2", "tot") if task in out}, out["num_ties"]


# The rules on hand-made scores ------------------------------------------------------------------------------

@pytest.mark.parametrize("image, itt, p1, p2, ties", [
    ([0.9, 0.8, 0.1], True, True, True, 0),
    ([0.9, 0.1, 0.5], False, True, False, 0),   # P2 below N
    ([0.5, 0.7, 0.5], False, False, True, 1),   # P1 ties N: wrong, for ITT too
    ([0.7, 0.5, 0.5], False, True, False, 1),   # P2 ties N
    ([0.5, 0.5, 0.5], False, False, False, 1),  # everything ties
    ([0.2, 0.3, 0.9], False, False, False, 0),
])
def test_itt_needs_both_positives_strictly_above_the_negative(image, itt, p1, p2, ties):
    right, num_ties = _one(image)
    assert right == {"itt": itt, "itt_p1": p1, "itt_p2": p2}
    assert num_ties["itt"] == ties and "tot" not in num_ties


@pytest.mark.parametrize("text, tot, tie", [
    ([0.9, 0.2, 0.3], True, False),   # cos(P1,P2) above cos(P1,N) and cos(P2,N)
    ([0.5, 0.5, 0.1], False, True),   # ties cos(P1,N)
    ([0.5, 0.1, 0.5], False, True),   # ties cos(P2,N)
    ([0.5, 0.5, 0.5], False, True),
    ([0.5, 0.6, 0.1], False, False),  # P1 closer to N than to P2
    ([0.5, 0.1, 0.6], False, False),  # P2 closer to N than to P1
])
def test_tot_needs_the_positives_closer_to_each_other_than_either_to_the_negative(text, tot, tie):
    right, num_ties = _one([0.9, 0.8, 0.1], text)
    assert right["tot"] is tot and num_ties["tot"] == int(tie)
    assert right["itt"]  # the image task is scored apart from the text one


def test_triplet_metric_micro_and_macro_per_task():
    # a: 3 items, ITT 2/3 right; b: 1 item, wrong -> micro 2/4, macro (2/3 + 0) / 2
    out = load_metric("sugarcrepe_pp_triplet").compute(
        predictions=[[0.9, 0.8, 0.1]] * 2 + [[0.1, 0.8, 0.5], [0.1, 0.1, 0.5]],
        text_scores=[[0.9, 0.1, 0.1]] * 4, categories=["a", "a", "a", "b"])
    assert out["itt"] == 0.5 and out["macro"]["itt"] == pytest.approx(1 / 3)
    assert out["per_category"]["a"]["itt"] == pytest.approx(2 / 3) and out["per_category"]["b"]["itt_p2"] == 0.0
    assert out["tot"] == out["macro"]["tot"] == 1.0 and out["category_counts"] == {"a": 3, "b": 1}
    with pytest.raises(ValueError):
        load_metric("sugarcrepe_pp_triplet").compute(predictions=[[0.1, 0.2]])


# The benchmark on a fixture ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("scpp")
    write_sugarcrepe_pp(root)
    return root


def _engine():
    scorer = StandInScorer()
    return ScoringEngine(scorer, batch_size=4, progress=False), scorer


def test_fixture_scores_ceilings_and_averages(fixture_root):
    engine, scorer = _engine()
    result = evaluate_sugarcrepe_pp(engine, fixture_root / "sugarcrepe_pp", fixture_root / "coco" / "val2017")
    assert result.headline == "itt/macro"
    assert result.counts == {"items": 10, "scored": 9, "missing_images": 1}
    assert result.details["missing_by_category"] == {"swap_obj": 1}
    two = [c for c in CATEGORIES if c != "swap_obj"]  # item 0 right everywhere, item 1 (P1 ties N) as documented
    expected = {"itt": 0.5, "tot": 0.5, "itt_p1": 0.5, "itt_p2": 1.0}
    for task, value in expected.items():
        for category in two:
            assert result.metrics[f"{task}/{category}"] == value, (task, category)
        assert result.metrics[f"{task}/swap_obj"] == 1.0
        assert result.metrics[f"{task}/micro"] == pytest.approx((4 * 2 * value + 1) / 9)
        assert result.metrics[f"{task}/macro"] == pytest.approx((4 * value + 1) / 5)
    assert result.details["num_ties"] == {"itt": 4, "itt_p1": 4, "itt_p2": 0, "tot": 0}
    # item 1's negative has P1's words: an order-blind scorer ties on ITT, ITT-P1 and TOT, not on ITT-P2
    for task in ("itt", "itt_p1", "tot"):
        assert result.metrics[f"bow_ceiling/{task}/replace_att"] == 0.5
        assert result.metrics[f"bow_ceiling/{task}/macro"] == pytest.approx(0.6)
        assert result.metrics[f"bow_ceiling/{task}/micro"] == pytest.approx(5 / 9)
    assert result.metrics["bow_ceiling/itt_p2/micro"] == result.metrics["bow_ceiling/itt/swap_obj"] == 1.0
    assert result.details["bow_equal_share"] == {**{c: 0.5 for c in two}, "swap_obj": 0.0,
                                                 "micro": pytest.approx(4 / 9)}
    assert result.details["bow_equal_items"] == {**{c: 1 for c in two}, "swap_obj": 0, "all": 4}
    assert all(0.0 <= v <= 1.0 for v in result.metrics.values())
    # 2 images and 6 captions, each encoded once for both tasks
    stats = engine.stats
    assert (stats.requested_images, stats.unique_images, stats.image_encodes) == (9, 2, 2)
    assert (stats.requested_texts, stats.unique_texts, stats.text_encodes) == (27, 6, 6)
    assert sorted(scorer.texts_seen) == sorted(["a cat", "one cat", "a black dog on a mat", "dog bites man", "man",
                                                "man bites dog"])


def test_registered_under_its_name_for_the_command_and_train_py(fixture_root, tmp_path):
    assert "sugarcrepe_pp" in BENCHMARKS and benchmark_names("sugarcrepe,sugarcrepe_pp") == ["sugarcrepe",
                                                                                            "sugarcrepe_pp"]
    assert BENCHMARKS["sugarcrepe_pp"].paths["images"][0] == BENCHMARKS["sugarcrepe"].paths["images"][0]
    assert check_benchmarks(["sugarcrepe_pp"], str(fixture_root)) == {"sugarcrepe_pp": ("ready", "")}
    absent = check_benchmarks(["sugarcrepe_pp"], str(tmp_path))["sugarcrepe_pp"]
    assert absent[0] == "absent" and "github.com/Sri-Harsha/scpp" in absent[1]
    engine, _ = _engine()
    document = run_benchmarks(engine, ["sugarcrepe_pp"], data_root=str(fixture_root), output_dir=str(tmp_path),
                              progress=False, log=lambda message: None)
    entry = document["benchmarks"]["sugarcrepe_pp"]
    assert entry["status"] == "ok" and entry["headline"] == "itt/macro"
    table = (tmp_path / "results.md").read_text()
    assert "| sugarcrepe_pp | **itt/macro** | 60.00 | 60.00 | 9 | 1 |" in table
    assert "|  | itt_p2/micro | 100.00 | 100.00 |  |  |" in table and "Order-blind ceiling (%)" in table
    assert json.loads((tmp_path / "results.json").read_text())["benchmarks"]["sugarcrepe_pp"]["metrics"] == \
        entry["metrics"]

    from hf_finegrained import training_command as train

    data_args = train.parse(["--benchmarks", "sugarcrepe_pp", "--model_name_or_path", "m",
                             "--benchmark_data_root", str(fixture_root)])[1]
    assert data_args.benchmarks == ["sugarcrepe_pp"]
    train.check_benchmarks_before_training(data_args)  # raises SystemExit when a name or file is wrong


def test_malformed_entry_is_named(tmp_path):
    from hf_finegrained.evaluation import AnnotationError

    folder = tmp_path / "sugarcrepe_pp"
    folder.mkdir()
    (folder / "swap_att.json").write_text(json.dumps([{"id": 7, "filename": "a.jpg", "caption": "x",
                                                       "negative_caption": "y"}]))
    with pytest.raises(AnnotationError, match=r"swap_att\.json.*id 7.*caption2"):
        read_sugarcrepe_pp(folder)
    entries, absent = read_sugarcrepe_pp(tmp_path / "nowhere")
    assert entries == {} and absent == [f"{c}.json" for c in CATEGORIES]


# The real files ---------------------------------------------------------------------------------------------

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/benchmarks is absent")


@pytest.fixture(scope="module")
def real_entries():
    return {c: json.loads((REAL / f"{c}.json").read_text(encoding="utf-8")) for c in CATEGORIES}


@pytest.fixture(scope="module")
def real_images(tmp_path_factory, real_entries):
    root = tmp_path_factory.mktemp("scpp_val2017")
    link_images(root, (e["filename"] for entries in real_entries.values() for e in entries))
    return root


@needs_real
def test_real_files_item_counts_per_file(real_entries, real_images):
    entries, absent = read_sugarcrepe_pp(REAL)
    assert absent == [] and {c: len(rows) for c, rows in entries.items()} == REAL_COUNTS
    assert sum(REAL_COUNTS.values()) == 4757
    choice_set = load_sugarcrepe_pp(REAL, real_images)
    assert choice_set.total == len(choice_set.items) == 4757 and choice_set.missing_images == 0
    first = choice_set.items[0]
    raw = real_entries["replace_att"][0]
    assert first.category == "replace_att" and first.label == 0
    assert first.captions == [raw["caption"], raw["caption2"], raw["negative_caption"]]


@needs_real
def test_real_files_scored_with_the_stand_in(real_entries, real_images):
    """With every image at R = 0, a caption scores higher the shorter it is and equal lengths tie exactly, so the
    image tasks are known from the lengths; TOT compares distances between caption lengths (equal distances may
    round either way, so those items bound it from both sides)."""
    engine, scorer = _engine()
    engine.batch_size = 512
    result = evaluate_sugarcrepe_pp(engine, REAL, real_images)
    for category, entries in real_entries.items():
        lengths = [(len(e["caption"]), len(e["caption2"]), len(e["negative_caption"])) for e in entries]
        n = len(lengths)
        assert result.metrics[f"itt/{category}"] == pytest.approx(sum(a < c and b < c for a, b, c in lengths) / n)
        assert result.metrics[f"itt_p1/{category}"] == pytest.approx(sum(a < c for a, b, c in lengths) / n)
        assert result.metrics[f"itt_p2/{category}"] == pytest.approx(sum(b < c for a, b, c in lengths) / n)
        sure = sum(abs(a - b) < abs(a - c) and abs(a - b) < abs(b - c) for a, b, c in lengths)
        maybe = sum(abs(a - b) <= abs(a - c) and abs(a - b) <= abs(b - c) and a != c and b != c
                    for a, b, c in lengths)
        assert sure / n - 1e-9 <= result.metrics[f"tot/{category}"] <= maybe / n + 1e-9
    assert result.counts == {"items": 4757, "scored": 4757, "missing_images": 0}
    everything = [e for entries in real_entries.values() for e in entries]
    captions = {e[k] for e in everything for k in ("caption", "caption2", "negative_caption")}
    stats = engine.stats
    assert stats.requested_texts == 3 * 4757 > stats.unique_texts == len(captions) == stats.text_encodes
    assert stats.unique_images == len({e["filename"] for e in everything}) == stats.image_encodes
    assert len(scorer.texts_seen) == len(captions) and stats.work_ratio() == 1.0
