"""VisMin: a local copy of the Hub dataset (a `save_to_disk` DatasetDict with a test split, as the authors' eval.py
loads it; or parquet files), text / image / group per category with strict comparisons (metric.py), micro and
macro, each image and caption encoded once."""

from pathlib import Path

import pytest
from eval_helpers import StandInScorer, solid

from hf_finegrained.evaluation import ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.vismin import evaluate_vismin

ROWS = [  # (red 0, red 1, text 0, text 1, category)
    (10, 50, "t" * 10, "u" * 50, "object"),  # all right
    (10, 50, "t" * 10, "u" * 50, "object"),  # the same images and texts again: encoded once
    (10, 12, "t" * 10, "u" * 11, "attribute"),  # text right, image tie
    (30, 30, "a dog on a cat", "a cat on a dog", "relation"),  # same words, same images: everything ties
]


def write_vismin(root: Path, save_to_disk: bool = True) -> None:
    import datasets

    features = datasets.Features({"id": datasets.Value("int64"), "text_0": datasets.Value("string"),
                                  "text_1": datasets.Value("string"), "image_0": datasets.Image(),
                                  "image_1": datasets.Image(), "category": datasets.Value("string")})
    data = {"id": list(range(len(ROWS))), "image_0": [solid(r[0]) for r in ROWS],
            "image_1": [solid(r[1]) for r in ROWS], "text_0": [r[2] for r in ROWS], "text_1": [r[3] for r in ROWS],
            "category": [r[4] for r in ROWS]}
    dataset = datasets.Dataset.from_dict(data, features=features)
    if save_to_disk:
        datasets.DatasetDict({"test": dataset}).save_to_disk(str(root / "vismin"))
    else:
        (root / "vismin" / "data").mkdir(parents=True, exist_ok=True)
        dataset.to_parquet(str(root / "vismin" / "data" / "test-00000-of-00001.parquet"))


@pytest.mark.parametrize("save_to_disk", [True, False])
def test_per_category_micro_macro(tmp_path, save_to_disk):
    write_vismin(tmp_path, save_to_disk)
    scorer = StandInScorer()
    engine = ScoringEngine(scorer, batch_size=4, progress=False)
    result = evaluate_vismin(engine, str(tmp_path / "vismin"))
    m = result.metrics
    assert (m["text/object"], m["image/object"], m["group/object"]) == (1.0, 1.0, 1.0)
    assert (m["text/attribute"], m["image/attribute"], m["group/attribute"]) == (1.0, 0.0, 0.0)
    assert (m["text/relation"], m["image/relation"], m["group/relation"]) == (0.0, 0.0, 0.0)
    assert m["group/micro"] == 0.5 and m["group/macro"] == pytest.approx(1 / 3) and result.headline == "group/macro"
    assert m["text/macro"] == pytest.approx(2 / 3)
    assert m["bow_ceiling/group/relation"] == 0.0 and m["bow_ceiling/group/micro"] == 0.75
    # the 4 rows hold 8 image cells, each decoded from its own row: keys are per row, 8 encodes; texts dedup to 5
    assert engine.stats.image_encodes == engine.stats.unique_images == 8
    assert engine.stats.text_encodes == engine.stats.unique_texts == 5


def test_runner(tmp_path):
    write_vismin(tmp_path)
    assert check_benchmarks(["vismin"], str(tmp_path))["vismin"] == ("ready", "")
    doc = run_benchmarks(StandInScorer(), ["vismin"], data_root=str(tmp_path), progress=False, log=lambda _: None)
    assert doc["benchmarks"]["vismin"]["metrics"]["group/micro"] == 0.5
