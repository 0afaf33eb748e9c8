"""CREPE: CSV files in the upstream layout (productivity per negative type and complexity, systematicity per
pretraining corpus and split), region crops, recall@1/3/5/10 of the caption among its own hard negatives, ties in
candidate order as upstream (strict with strict_ties), rows without negatives counted as upstream (or dropped),
systematicity only on request, each image crop and caption encoded once."""

import csv
from pathlib import Path

import pytest
from eval_helpers import StandInScorer, halves

from hf_finegrained.evaluation import AnnotationError, ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.crepe import corpora_setting, evaluate_crepe, find_files, read_csv
from hf_finegrained.metrics import load_metric

BOX = {"x": 10, "y": 0, "width": 10, "height": 10}  # the right half of `halves(20, 40)`: red 40


def _csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _row(caption: str, negs: list[str], image_id: int = 1, column: str = "hard_negs") -> dict:
    return {"image_id": image_id, "caption": caption, **BOX, column: repr(negs)}


def write_crepe(root: Path) -> None:
    """crepe/: productivity atom complexity 4 (a hit, a row ranked 3rd) and 5 (a tie, a row without negatives),
    negate complexity 4 (a row ranked 4th, a row whose image is missing); systematicity (LAION, seen compounds).
    On the crop (red 40) a 40-character caption scores highest; uncropped (red 20) a 20-character one would."""
    prod = root / "crepe" / "prod_hard_negatives"
    _csv(prod / "atom" / "prod_vg_hard_negs_atom_complexity_4.csv", [
        _row("t" * 40, ["f" * 20, "g" * 30]),
        _row("t" * 30, ["f" * 40, "g" * 35, "h" * 20]),
    ])
    _csv(prod / "atom" / "prod_vg_hard_negs_atom_complexity_5.csv", [
        _row("t" * 40, ["u" * 40]),  # tie: the caption comes first in candidate order
        _row("t" * 40, []),  # no negatives: a one-candidate set, counted as retrieved upstream
    ])
    _csv(prod / "negate" / "prod_vg_hard_negs_negate_complexity_4.csv", [
        _row("t" * 35, ["a" * 40, "b" * 38, "c" * 37, "d" * 20]),
        _row("t" * 40, ["f" * 20], image_id=999),
    ])
    syst = {"image_id": 1, "caption": "t" * 38, **BOX, "valid_hard_negs_atom": repr(["f" * 38]),
            "valid_hard_negs_comp": repr(["f" * 20]), "valid_hard_negs_combined": repr(["f" * 20, "g" * 40])}
    _csv(root / "crepe" / "syst_hard_negatives" / "syst_vg_hard_negs_seen_compounds_in_laion.csv", [syst])
    folder = root / "crepe" / "images" / "VG_100K"
    folder.mkdir(parents=True, exist_ok=True)
    halves(20, 40).save(folder / "1.jpg", format="PNG")


@pytest.fixture
def engine():
    scorer = StandInScorer()
    return ScoringEngine(scorer, batch_size=4, progress=False), scorer


def test_productivity_recalls_on_crops_ties_and_rows_without_negatives(tmp_path, engine):
    write_crepe(tmp_path)
    eng, scorer = engine
    result = evaluate_crepe(eng, str(tmp_path / "crepe"), str(tmp_path / "crepe" / "images"))
    m = result.metrics
    assert m["productivity/atom/4"] == 0.5 and m["productivity/atom/5"] == 1.0 and m["productivity/negate/4"] == 0.0
    assert m["productivity/atom/recall@1"] == 0.75 and m["productivity/atom/recall@3"] == 1.0
    assert m["productivity/negate/recall@3"] == 0.0 and m["productivity/negate/recall@5"] == 1.0
    assert m["productivity/recall@1"] == 0.375 and result.headline == "productivity/recall@1"
    assert not any(k.startswith("systematicity") for k in m)  # only on request
    assert result.counts == {"items": 6, "scored": 5, "missing_images": 1}
    assert result.details["rows_without_negatives"] == {"productivity/atom/5": 1}
    assert result.details["num_ties"] == 1
    assert result.details["recall_per_file"]["productivity/atom/4"]["recall@3"] == 1.0
    assert m["bow_ceiling/productivity/recall@1"] == 1.0
    # every row uses the same crop of the same image: encoded once; each unique caption once
    assert eng.stats.image_encodes == eng.stats.unique_images == 1
    assert scorer.images_seen == [(40, (10, 10))]
    assert eng.stats.text_encodes == eng.stats.unique_texts == len(set(scorer.texts_seen))


def test_strict_ties_and_dropping_rows_without_negatives(tmp_path, engine):
    write_crepe(tmp_path)
    root, images = str(tmp_path / "crepe"), str(tmp_path / "crepe" / "images")
    strict = evaluate_crepe(engine[0], root, images, strict_ties=True)
    assert strict.metrics["productivity/atom/5"] == 0.5 and strict.metrics["productivity/recall@1"] == 0.25
    dropped = evaluate_crepe(engine[0], root, images, strict_ties=True, drop_without_negatives="true")
    assert dropped.metrics["productivity/atom/5"] == 0.0 and dropped.counts["items"] == 6
    assert dropped.counts["scored"] == 4


def test_systematicity_on_request(tmp_path, engine):
    write_crepe(tmp_path)
    result = evaluate_crepe(engine[0], str(tmp_path / "crepe"), str(tmp_path / "crepe" / "images"),
                            systematicity="laion")
    m = result.metrics
    assert m["systematicity/laion/seen_compounds/atom"] == 1.0  # tie, caption first
    assert m["systematicity/laion/seen_compounds/comp"] == 1.0
    assert m["systematicity/laion/seen_compounds/combined"] == 0.0  # the 40-character negative fits the crop best
    assert m["productivity/recall@1"] == 0.375  # unchanged
    assert corpora_setting("all") == ("cc12m", "yfcc", "laion") and corpora_setting("") == ()
    with pytest.raises(ValueError, match="unknown corpus"):
        corpora_setting("coco")
    assert not any("systematicity" in c for c in find_files(str(tmp_path / "crepe"), ("yfcc",)))


def test_rank_recall_tie_rules():
    recall = load_metric("rank_recall")
    scores, labels = [[0.5, 0.5, 0.1], [0.5, 0.5, 0.1], [0.9, 0.5]], [0, 1, 1]
    assert recall.compute(predictions=scores, references=labels, ties="first_index")["ranks"] == [0, 1, 1]
    assert recall.compute(predictions=scores, references=labels, ties="right")["ranks"] == [0, 0, 1]
    assert recall.compute(predictions=scores, references=labels, ties="wrong")["ranks"] == [1, 1, 1]
    assert recall.compute(predictions=[[0.3]], references=[0])["recall@1"] == 1.0  # a lone candidate
    with pytest.raises(ValueError):
        recall.compute(predictions=[[0.3]], references=[0], ties="random")


def test_malformed_files_are_named(tmp_path):
    write_crepe(tmp_path)
    path = tmp_path / "crepe" / "prod_hard_negatives" / "atom" / "prod_vg_hard_negs_atom_complexity_4.csv"
    assert len(read_csv(str(path), "hard_negs")) == 2
    _csv(path, [{"image_id": 1, "caption": "x", **BOX, "hard_negs": "not a list"}])
    with pytest.raises(AnnotationError, match="line 2"):
        read_csv(str(path), "hard_negs")
    status, message = check_benchmarks(["crepe"], str(tmp_path))["crepe"]
    assert status == "error" and "prod_vg_hard_negs_atom_complexity_4.csv" in message
    _csv(path, [{"image_id": 1, "caption": "x", "hard_negs": "[]"}])
    with pytest.raises(AnnotationError, match="no column"):
        read_csv(str(path), "hard_negs")


def test_runner_skips_an_empty_folder_and_scores_the_fixture(tmp_path):
    (tmp_path / "empty" / "crepe" / "images").mkdir(parents=True)
    doc = run_benchmarks(StandInScorer(), ["crepe"], data_root=str(tmp_path / "empty"), progress=False,
                         log=lambda _: None)
    assert doc["benchmarks"]["crepe"]["status"] == "skipped" and "CREPE" in doc["benchmarks"]["crepe"]["reason"]
    write_crepe(tmp_path)
    doc = run_benchmarks(StandInScorer(), ["crepe"], data_root=str(tmp_path), progress=False, log=lambda _: None,
                         paths={"crepe": {"systematicity": "laion"}})
    assert doc["benchmarks"]["crepe"]["metrics"]["systematicity/laion/recall@1"] == pytest.approx(2 / 3)
