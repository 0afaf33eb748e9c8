"""Loaders and scoring rules on the real SugarCrepe, VALSE and VL-CheckList annotation files (skipped when
../shared/benchmarks is absent), with tiny generated images and the stand-in scorer whose answers are known:
with every image at R = 0, a caption is right iff it is strictly shorter than its negative."""

import json
from collections import Counter
from statistics import mean

import pytest
from eval_helpers import SHARED, StandInScorer, link_images

from hf_finegrained.evaluation import ScoringEngine
from hf_finegrained.evaluation.sugarcrepe import CATEGORIES, evaluate_sugarcrepe, load_sugarcrepe
from hf_finegrained.evaluation.valse import INSTRUMENTS, evaluate_valse, load_valse
from hf_finegrained.evaluation.vl_checklist import corpus, evaluate_vl_checklist, load_vl_checklist

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/benchmarks is absent")


def _json(*parts):
    with open(SHARED.joinpath(*parts), encoding="utf-8") as f:
        return json.load(f)


def _engine():
    scorer = StandInScorer()
    return ScoringEngine(scorer, batch_size=512, progress=False), scorer


# SugarCrepe ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sugarcrepe():
    return {c: list(_json("sugarcrepe", f"{c}.json").values()) for c in CATEGORIES}


@pytest.fixture(scope="module")
def coco_root(tmp_path_factory, sugarcrepe):
    root = tmp_path_factory.mktemp("coco_val2017")
    link_images(root, (e["filename"] for entries in sugarcrepe.values() for e in entries))
    return root


def test_sugarcrepe_item_counts(coco_root):
    choice_set = load_sugarcrepe(SHARED / "sugarcrepe", coco_root)
    counts = Counter(item.category for item in choice_set.items)
    assert choice_set.total == len(choice_set.items) == 7511
    assert counts["swap_obj"] == 245 and set(counts) == set(CATEGORIES)
    assert choice_set.missing_images == 0


def test_sugarcrepe_scores_with_stand_in(coco_root, sugarcrepe):
    engine, scorer = _engine()
    result = evaluate_sugarcrepe(engine, SHARED / "sugarcrepe", coco_root)
    expected = {c: mean(len(e["caption"]) < len(e["negative_caption"]) for e in entries)
                for c, entries in sugarcrepe.items()}
    for category in CATEGORIES:
        assert result.metrics[category] == pytest.approx(expected[category])
    assert result.metrics["macro"] == pytest.approx(mean(expected.values()))
    assert result.headline == "macro"
    everything = [e for entries in sugarcrepe.values() for e in entries]
    assert result.metrics["micro"] == pytest.approx(mean(len(e["caption"]) < len(e["negative_caption"])
                                                         for e in everything))
    # the order-blind ceilings of docs/BENCHMARKS.md, on the items scored
    assert result.metrics["bow_ceiling/swap_att"] == pytest.approx(1 - 408 / 666)
    assert result.metrics["bow_ceiling/swap_obj"] == pytest.approx(1 - 166 / 245)
    assert result.metrics["bow_ceiling/add_obj"] == 1.0
    assert result.metrics["bow_ceiling/micro"] == pytest.approx(1 - 574 / 7511)
    assert result.details["bow_equal_items"]["all"] == 574
    ties = sum(len(e["caption"]) == len(e["negative_caption"]) for e in everything)
    assert ties > 100 and result.details["num_ties"] == ties  # swaps keep the length: ties counted wrong
    # images and captions repeat across items; every unique one is encoded exactly once
    stats, images = engine.stats, {e["filename"] for e in everything}
    captions = {t for e in everything for t in (e["caption"], e["negative_caption"])}
    assert stats.requested_images == len(everything) > stats.unique_images == len(images)
    assert stats.image_encodes == len(scorer.images_seen) == len(images)
    assert stats.requested_texts == 2 * len(everything) > stats.unique_texts == len(captions)
    assert stats.text_encodes == len(scorer.texts_seen) == len(captions)
    assert sorted(scorer.texts_seen) == sorted(captions)
    assert stats.work_ratio() == 1.0


def test_sugarcrepe_missing_images_are_counted_per_category(tmp_path, sugarcrepe):
    names = sorted({e["filename"] for entries in sugarcrepe.values() for e in entries})
    absent = set(names[::10])
    link_images(tmp_path, [n for n in names if n not in absent])
    expected = {c: sum(e["filename"] in absent for e in entries) for c, entries in sugarcrepe.items()}
    engine, _ = _engine()
    result = evaluate_sugarcrepe(engine, SHARED / "sugarcrepe", tmp_path)
    assert result.details["missing_by_category"] == {c: n for c, n in expected.items() if n}
    assert result.counts == {"items": 7511, "scored": 7511 - sum(expected.values()),
                             "missing_images": sum(expected.values())}
    kept = {c: [e for e in entries if e["filename"] not in absent] for c, entries in sugarcrepe.items()}
    assert result.metrics["swap_obj"] == pytest.approx(
        mean(len(e["caption"]) < len(e["negative_caption"]) for e in kept["swap_obj"]))


# VALSE --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def valse_valid():
    return {name: [s for s in _json("valse", f"{name}.json").values() if s["mturk"]["caption"] >= 2]
            for name in INSTRUMENTS}


@pytest.fixture(scope="module")
def valse_root(tmp_path_factory, valse_valid):
    root = tmp_path_factory.mktemp("valse_images")
    link_images(root, (s["image_file"] for samples in valse_valid.values() for s in samples))
    return root


def test_valse_keeps_valid_samples_only(valse_root, valse_valid):
    choice_set = load_valse(SHARED / "valse", [valse_root])
    assert choice_set.total == len(choice_set.items) == 7702
    counts = Counter(item.category.split("/")[1] for item in choice_set.items)
    assert counts == {name: len(samples) for name, samples in valse_valid.items()}
    assert sum(choice_set.notes["invalid_samples_left_out"].values()) == 8782 - 7702


def test_valse_averages_with_stand_in(valse_root, valse_valid):
    engine, _ = _engine()
    result = evaluate_valse(engine, SHARED / "valse", [valse_root])
    per_instrument = {n: mean(len(s["caption"]) < len(s["foil"]) for s in samples)
                      for n, samples in valse_valid.items()}
    for name, piece in INSTRUMENTS.items():
        assert result.metrics[f"{piece}/{name}"] == pytest.approx(per_instrument[name])
    pieces = {p: mean(per_instrument[n] for n, q in INSTRUMENTS.items() if q == p) for p in set(INSTRUMENTS.values())}
    for piece, value in pieces.items():
        assert result.metrics[piece] == pytest.approx(value)
    assert result.metrics["instrument_mean"] == pytest.approx(mean(per_instrument.values()))
    assert result.metrics["macro"] == pytest.approx(mean(pieces.values()))
    assert result.metrics["macro"] != pytest.approx(result.metrics["instrument_mean"])
    assert result.headline == "instrument_mean"
    # only actant-swap has foils with the caption's words
    equal = {n: sum(sorted(s["caption"].lower().split()) == sorted(s["foil"].lower().split()) for s in samples)
             for n, samples in valse_valid.items()}
    assert result.metrics["bow_ceiling/actions/actant-swap"] == pytest.approx(1 - 271 / 949)
    assert result.details["bow_equal_items"]["actions/actant-swap"] == 271 and equal["actant-swap"] <= 271
    assert all(result.metrics[f"bow_ceiling/{INSTRUMENTS[n]}/{n}"] == 1.0 for n in INSTRUMENTS if n != "actant-swap")


# VL-CheckList -------------------------------------------------------------------------------------------

def _present_files():
    data = SHARED / "vl_checklist" / "data"
    return {spec.category: _json("vl_checklist", "data", spec.relpaths[0])
            for spec in corpus() if (data / spec.relpaths[0]).is_file()}


@pytest.fixture(scope="module")
def vlc_files():
    return _present_files()


@pytest.fixture(scope="module")
def vlc_root(tmp_path_factory, vlc_files):
    root = tmp_path_factory.mktemp("vlc_images")
    link_images(root / "vg", (img for entries in vlc_files.values() for img, _ in entries))
    return root


def test_vl_checklist_first_1000_items_per_file(vlc_root, vlc_files):
    choice_set = load_vl_checklist(SHARED / "vl_checklist" / "data", vlc_root)
    assert len(vlc_files) == 7
    assert choice_set.notes["items_per_file"] == {c: min(1000, len(e)) for c, e in vlc_files.items()}
    assert choice_set.missing_images == 0
    assert len(choice_set.items) == sum(min(1000, len(e)) for e in vlc_files.values())
    color = [item for item in choice_set.items if item.category == "Attribute/color/vg/color"]
    first, last = vlc_files["Attribute/color/vg/color"][0], vlc_files["Attribute/color/vg/color"][999]
    assert color[0].captions == [first[1]["POS"][0], first[1]["NEG"][0]]
    assert color[-1].captions == [last[1]["POS"][0], last[1]["NEG"][0]]
    assert len(choice_set.notes["absent_files"]) == len(corpus()) - 7


def test_vl_checklist_hierarchy_with_stand_in(vlc_root, vlc_files):
    engine, _ = _engine()
    result = evaluate_vl_checklist(engine, SHARED / "vl_checklist" / "data", vlc_root)
    per_file = {c: mean(len(t["POS"][0]) < len(t["NEG"][0]) for _, t in e[:1000]) for c, e in vlc_files.items()}
    attribute = mean(v for c, v in per_file.items() if c.startswith("Attribute/"))  # one source per sub-type here
    assert result.metrics["Attribute"] == pytest.approx(attribute)
    assert result.metrics["Object"] == pytest.approx(per_file["Object/margin/vg/vg_obj_margin"])
    assert result.metrics["Relation"] == pytest.approx(per_file["Relation/action/vg/action"])
    assert result.metrics["macro"] == pytest.approx(mean([attribute, result.metrics["Object"],
                                                          result.metrics["Relation"]]))
    color = "Attribute/color/vg/color"
    assert result.details["per_category"][color] == pytest.approx(per_file[color])


def test_vl_checklist_missing_images_dropped_before_the_cap(tmp_path, vlc_files):
    color = vlc_files["Attribute/color/vg/color"]
    absent = {img for img, _ in color[:40]}
    link_images(tmp_path / "vg", [img for e in vlc_files.values() for img, _ in e if img not in absent])
    choice_set = load_vl_checklist(SHARED / "vl_checklist" / "data", tmp_path)
    existing = [i for i, (img, _) in enumerate(color) if img not in absent]
    kept = [item for item in choice_set.items if item.category == "Attribute/color/vg/color"]
    assert len(kept) == 1000
    assert kept[-1].captions[0] == color[existing[999]][1]["POS"][0]
    assert choice_set.missing_by_category["Attribute/color/vg/color"] == existing[999] + 1 - 1000
