"""SPEC: image2text.json / text2image.json per subset folder in the upstream layout, argmax accuracy in both
directions (the first of equal maxima predicted, every tie wrong with strict_ties), the unweighted mean over
subsets, absent subsets listed, each image and caption encoded once across both directions."""

import json
from pathlib import Path

import pytest
from eval_helpers import StandInScorer, solid

from hf_finegrained.evaluation import AnnotationError, ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.spec_benchmark import evaluate_spec, read_file


def write_spec(root: Path, complete: bool = False) -> None:
    """spec/absolute_size and spec/count (the four other subsets absent unless `complete`: then they hold count's
    items). Stand-in: red 0 query images prefer the shortest caption; a caption query prefers the image whose red
    equals its length; equal reds tie exactly."""
    subsets = ["absolute_size", "count"] + (["relative_size", "absolute_spatial", "relative_spatial", "existence"]
                                            if complete else [])
    items = [
        ("absolute_size",
         [{"query": "i2t/0.png", "keys": ["aa", "b", "ccc"], "label": 1},   # right
          {"query": "i2t/0.png", "keys": ["a", "b", "cc"], "label": 1}],    # tie: argmax picks index 0, wrong
         [{"query": "x" * 20, "keys": ["t2i/r20.png", "t2i/r40.png"], "label": 0},  # right
          {"query": "x" * 20, "keys": ["t2i/r20.png", "t2i/r20b.png"], "label": 1}]),  # tie, label second: wrong
        ("count",
         [{"query": "i2t/0.png", "keys": ["a", "b"], "label": 0}],  # tie, label first: right
         [{"query": "x" * 20, "keys": ["t2i/r20.png", "t2i/r20b.png"], "label": 0}]),  # tie, label first: right
    ]
    for subset in subsets:
        _, i2t, t2i = items[0] if subset == "absolute_size" else items[1]
        folder = root / "spec" / subset
        for name, red in (("i2t/0.png", 0), ("t2i/r20.png", 20), ("t2i/r20b.png", 20), ("t2i/r40.png", 40)):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            solid(red).save(folder / name)
        (folder / "image2text.json").write_text(json.dumps(i2t))
        (folder / "text2image.json").write_text(json.dumps(t2i))


def test_argmax_accuracy_both_directions_and_subset_mean(tmp_path):
    write_spec(tmp_path)
    engine = ScoringEngine(StandInScorer(), batch_size=4, progress=False)
    result = evaluate_spec(engine, str(tmp_path / "spec"), str(tmp_path / "spec"))
    m = result.metrics
    assert (m["i2t/absolute_size"], m["i2t/count"]) == (0.5, 1.0)
    assert (m["t2i/absolute_size"], m["t2i/count"]) == (0.5, 1.0)
    assert m["i2t/macro"] == m["t2i/macro"] == 0.75 and result.headline == "i2t/macro"
    assert m["i2t/micro"] == pytest.approx(2 / 3)
    assert result.details["num_ties"] == {"i2t": 2, "t2i": 2}
    assert result.details["absent_files"] == ["relative_size/", "absolute_spatial/", "relative_spatial/", "existence/"]
    assert result.counts == {"items": 6, "scored": 6, "missing_images": 0}
    # the images used (count has no r40) and the unique captions, each encoded once
    assert engine.stats.image_encodes == engine.stats.unique_images == 7
    assert engine.stats.text_encodes == engine.stats.unique_texts == 6


def test_strict_ties(tmp_path):
    write_spec(tmp_path)
    engine = ScoringEngine(StandInScorer(), progress=False)
    result = evaluate_spec(engine, str(tmp_path / "spec"), strict_ties=True)
    assert result.metrics["i2t/macro"] == result.metrics["t2i/macro"] == 0.25


def test_runner_and_file_problems(tmp_path):
    write_spec(tmp_path)
    assert check_benchmarks(["spec"], str(tmp_path))["spec"] == ("ready", "")
    doc = run_benchmarks(StandInScorer(), ["spec"], data_root=str(tmp_path), progress=False, log=lambda _: None)
    assert doc["benchmarks"]["spec"]["metrics"]["t2i/macro"] == 0.75
    path = tmp_path / "spec" / "count" / "image2text.json"
    path.write_text(json.dumps([{"query": "i2t/0.png", "keys": ["a"], "label": 3}]))
    with pytest.raises(AnnotationError, match="outside its 1 keys"):
        read_file(str(path), "i2t")
    assert check_benchmarks(["spec"], str(tmp_path))["spec"][0] == "error"
