"""ColorSwap: test.json in the repository's layout with images beside it, Winoground text / image / group with
strict comparisons; every caption pair has the same words, so the order-blind ceiling is 0 and the stand-in
scorer (equal lengths tie) gets nothing right; missing images counted."""

import json
from pathlib import Path

from eval_helpers import StandInScorer, solid

from hf_finegrained.evaluation import ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.colorswap import evaluate_colorswap


def write_colorswap(root: Path) -> None:
    folder = root / "colorswap"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": 0, "caption_1": "a red cup on a blue hat", "caption_2": "a blue cup on a red hat",
         "image_1": "images/img_0_1.png", "image_2": "images/img_0_2.png", "image_source": "midjourney",
         "caption_source": "human"},
        {"id": 1, "caption_1": "x" * 10, "caption_2": "y" * 50, "image_1": "images/img_1_1.png",
         "image_2": "images/img_1_2.png", "image_source": "dalle", "caption_source": "human"},  # not a swap: right
        {"id": 2, "caption_1": "a", "caption_2": "b", "image_1": "images/img_2_1.png",
         "image_2": "images/absent.png", "image_source": "dalle", "caption_source": "human"},
    ]
    for name, red in (("img_0_1", 10), ("img_0_2", 40), ("img_1_1", 10), ("img_1_2", 50), ("img_2_1", 0)):
        solid(red).save(folder / "images" / f"{name}.png")
    (folder / "test.json").write_text(json.dumps(rows), encoding="utf-8")


def test_scores_ceiling_and_missing(tmp_path):
    write_colorswap(tmp_path)
    engine = ScoringEngine(StandInScorer(), batch_size=4, progress=False)
    result = evaluate_colorswap(engine, str(tmp_path / "colorswap" / "test.json"), str(tmp_path / "colorswap"))
    assert result.metrics["text"] == result.metrics["image"] == result.metrics["group"] == 0.5
    assert result.headline == "group"
    assert result.metrics["bow_ceiling/group"] == 0.5 and result.details["bow_equal_share"]["micro"] == 0.5
    assert result.counts == {"items": 3, "scored": 2, "missing_images": 1}
    assert engine.stats.image_encodes == engine.stats.unique_images == 4


def test_runner_and_check(tmp_path):
    write_colorswap(tmp_path)
    assert check_benchmarks(["colorswap"], str(tmp_path))["colorswap"] == ("ready", "")
    doc = run_benchmarks(StandInScorer(), ["colorswap"], data_root=str(tmp_path), progress=False, log=lambda _: None)
    assert doc["benchmarks"]["colorswap"]["metrics"]["group"] == 0.5
    (tmp_path / "colorswap" / "test.json").write_text(json.dumps([{"id": 0, "caption_1": "a"}]))
    status, message = check_benchmarks(["colorswap"], str(tmp_path))["colorswap"]
    assert status == "error" and "example 0" in message and "image_1" in message
