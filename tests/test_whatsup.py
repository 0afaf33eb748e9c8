"""What'sUp: the six subsets in the authors' layout (Controlled-A/B objects, COCO/GQA-spatial lists), ties counted
right as the authors' argmax counts them (and wrong with strict_ties), pair and set accuracy with the upstream
denominators, the paper's macro and READ-CLIP's source mean, relations read from file names and captions, each
image and caption encoded once, absent files and missing images counted."""

import json
from pathlib import Path

import pytest
from eval_helpers import StandInScorer, link_images

from hf_finegrained.evaluation import BENCHMARKS, AnnotationError, ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.whatsup import (
    controlled_key, controlled_relation, evaluate_whatsup, qa_relation, read_whatsup,
)
from hf_finegrained.metrics import load_metric

RIGHT = ["a", "bb", "cc", "dd"]  # the stand-in scorer prefers the shortest caption (red 0 images)
WRONG = ["aa", "b", "cc", "dd"]
TIE = ["a", "b", "cc", "dd"]  # the right caption ties a wrong one


def _dump(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def write_whatsup(root: Path, complete: bool = False) -> None:
    """whatsup/: Controlled-A (mug|table: left right, right wrong, on a tie, under right; dog|sofa all right),
    Controlled-B (one object pair, its "behind" image missing), COCO one (1 of 2 right), COCO two (right),
    GQA one (right); vg_qa_two_obj.json absent unless `complete`."""
    folder = root / "whatsup"
    a = {"mug_left_of_table.jpeg": RIGHT, "mug_right_of_table.jpeg": WRONG, "mug_on_table.jpeg": TIE,
         "mug_under_table.jpeg": RIGHT, "dog_left_of_sofa.jpeg": RIGHT, "dog_right_of_sofa.jpeg": RIGHT,
         "dog_on_sofa.jpeg": RIGHT, "dog_under_sofa.jpeg": RIGHT}
    _dump(folder / "controlled_images_dataset.json",
          [{"image_path": f"data/controlled_images/{name}", "caption_options": options} for name, options in a.items()])
    link_images(folder / "controlled_images", list(a))
    b = ["cube_left_of_ball.jpeg", "cube_right_of_ball.jpeg", "cube_in-front_of_ball.jpeg", "cube_behind_ball.jpeg"]
    _dump(folder / "controlled_clevr_dataset.json",
          [{"image_path": f"data/controlled_clevr/{name}", "caption_options": RIGHT} for name in b])
    link_images(folder / "controlled_clevr", b[:3])
    _dump(folder / "coco_qa_one_obj.json", [[1, "cat left", "cat right"], [2, "cat right", "cat left"]])
    _dump(folder / "coco_qa_two_obj.json", [[3, "a left of b", "a right of b"]])
    link_images(folder / "val2017", ["000000000001.jpg", "000000000002.jpg", "000000000003.jpg"])
    _dump(folder / "vg_qa_one_obj.json", [[10, "x top", "x bottom"]])
    link_images(folder / "vg_images", ["10.jpg"])
    if complete:
        _dump(folder / "vg_qa_two_obj.json", [[10, "a left of b", "a right of b"]])


@pytest.fixture
def engine():
    scorer = StandInScorer()
    return ScoringEngine(scorer, batch_size=4, progress=False), scorer


def test_relations_and_object_pairs_are_read_as_the_authors_code_reads_them():
    assert controlled_relation("data/controlled_images/mug_left_of_table.jpeg", "controlled_a") == "left_of"
    assert controlled_relation("x/mug_on_table.jpeg", "controlled_a") == "on"
    assert controlled_relation("x/mug_under_table.jpeg", "controlled_a") == "under"
    assert controlled_relation("x/cube_in-front_of_ball.jpeg", "controlled_b") == "in-front_of"
    assert controlled_relation("x/cube_behind_ball.jpeg", "controlled_b") == "behind"
    # the object pair: the first and last fields of the name, the extension cut as 5 characters (".jpeg")
    assert controlled_key("data/controlled_images/beer-bottle_left_of_armchair.jpeg") == ("beer-bottle|armchair", "left")
    assert controlled_key("x/cube_in-front_of_ball.jpeg") == ("cube|ball", "in-front")
    assert qa_relation("a dog on the left", "coco_one") == "left"
    assert qa_relation("a dog to the right of a cat", "coco_two") == "right"
    assert qa_relation("a dog under a cat", "coco_two") == "below"  # neither left, right nor above
    assert qa_relation("a dog in front of a cat", "gqa_two") == "front"
    assert qa_relation("a dog on a cat", "gqa_two") == "top"


def test_fixture_scores_ties_right_and_pairs_sets_with_upstream_denominators(tmp_path, engine):
    write_whatsup(tmp_path)
    eng, scorer = engine
    result = evaluate_whatsup(eng, str(tmp_path / "whatsup"), str(tmp_path / "whatsup"))
    m = result.metrics
    assert m["controlled_a"] == 7 / 8  # the tie counts right
    assert m["controlled_b"] == 1.0 and m["coco_one"] == 0.5 and m["coco_two"] == 1.0 and m["gqa_one"] == 1.0
    assert m["macro"] == pytest.approx((7 / 8 + 1 + 0.5 + 1 + 1) / 5) and result.headline == "macro"
    assert m["micro"] == pytest.approx(13 / 15)
    assert m["source_mean"] == pytest.approx((10 / 11 + 2 / 3 + 1) / 3)
    # mug: left/right wrong, on/under right (tie); dog: both right -> 3 pairs of 8 / 2; one full set of 8 / 4
    assert m["controlled_a/pair"] == 0.75 and m["controlled_a/set"] == 0.5
    # B: the missing "behind" image counts wrong; the denominators count the 4 annotated images
    assert m["controlled_b/pair"] == 0.5 and m["controlled_b/set"] == 0.0
    assert result.counts == {"items": 16, "scored": 15, "missing_images": 1}
    assert result.details["missing_by_category"] == {"controlled_b": 1}
    assert result.details["absent_files"] == ["vg_qa_two_obj.json"]
    assert result.details["num_ties"] == 1 and "right" in result.details["tie_rule"]
    assert result.details["per_relation"]["controlled_a/on"] == 1.0
    assert result.details["per_relation"]["coco_one/right"] == 0.0
    # every order-blind ceiling is 1 here (no two options share their words)
    assert m["bow_ceiling/macro"] == 1.0
    # each unique image and caption encoded once
    assert eng.stats.image_encodes == eng.stats.unique_images == 15
    assert eng.stats.text_encodes == eng.stats.unique_texts == len(set(scorer.texts_seen))


def test_strict_ties_counts_the_tie_wrong(tmp_path, engine):
    write_whatsup(tmp_path)
    result = evaluate_whatsup(engine[0], str(tmp_path / "whatsup"), str(tmp_path / "whatsup"), strict_ties="true")
    assert result.metrics["controlled_a"] == 6 / 8
    assert result.metrics["controlled_a/pair"] == 0.5  # mug's on/under pair lost to the tie
    assert "strict" in result.details["tie_rule"]


def test_whatsup_sets_rules():
    sets = load_metric("whatsup_sets")
    opposites = [["left", "right"], ["on", "under"]]
    # a later image of the same object pair and relation replaces the earlier one
    out = sets.compute(predictions=[0, 1, 1, 1, 1], groups=["m|t"] * 5, members=["left", "left", "right", "on", "under"],
                       opposites=opposites, num_images=4)
    assert out["pairs_right"] == 2 and out["sets_right"] == 1
    # a relation with no image counts wrong
    out = sets.compute(predictions=[1, 1, 1], groups=["m|t"] * 3, members=["left", "right", "on"], opposites=opposites)
    assert out["pairs_right"] == 1 and out["sets_right"] == 0
    with pytest.raises(ValueError, match="relation"):
        sets.compute(predictions=[1], groups=["m|t"], members=["above"], opposites=opposites)


def test_registered_runs_from_the_runner_and_checks_files(tmp_path):
    write_whatsup(tmp_path)
    assert "whatsup" in BENCHMARKS
    assert check_benchmarks(["whatsup"], str(tmp_path))["whatsup"] == ("ready", "")
    doc = run_benchmarks(StandInScorer(), ["whatsup"], data_root=str(tmp_path), progress=False, log=lambda _: None,
                         paths={"whatsup": {"strict_ties": "yes"}})
    assert doc["benchmarks"]["whatsup"]["metrics"]["controlled_a"] == 6 / 8
    (tmp_path / "whatsup" / "coco_qa_one_obj.json").write_text('[[1, "only two fields"]]')
    status, message = check_benchmarks(["whatsup"], str(tmp_path))["whatsup"]
    assert status == "error" and "coco_qa_one_obj.json" in message and "entry 0" in message
    with pytest.raises(AnnotationError):
        read_whatsup(str(tmp_path / "whatsup"))
    empty = tmp_path / "empty"
    (empty / "whatsup").mkdir(parents=True)
    doc = run_benchmarks(StandInScorer(), ["whatsup"], data_root=str(empty), progress=False, log=lambda _: None)
    assert doc["benchmarks"]["whatsup"]["status"] == "skipped"
    assert "controlled_images_dataset.json" in doc["benchmarks"]["whatsup"]["reason"]
