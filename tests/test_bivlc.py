"""BiVLC: a local copy of the Hub dataset in its layout (parquet files with image, caption, negative_caption,
negative_image, type, subtype), I2T / T2I / group with every comparison strict, micro (the paper's), per type and
type/subtype, macro over the types, the order-blind ceiling, each image and caption encoded once."""

from pathlib import Path

import pytest
from eval_helpers import StandInScorer, solid

from hf_finegrained.evaluation import AnnotationError, ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.bivlc import evaluate_bivlc, load_bivlc
from hf_finegrained.evaluation.hub_copy import parquet_files

# (image red, negative image red, caption, negative caption, type, subtype); the stand-in scorer gives
# cos(pi/1000 * (red - len(caption))).
ROWS = [
    (10, 50, "c" * 10, "n" * 50, "replace", "obj"),  # every comparison right
    (10, 12, "red cube blue ball", "blue cube red ball", "swap", "att"),  # same words, same length: ties, all wrong
    (10, 12, "c" * 10, "n" * 11, "add", "obj"),  # I2T right; T2I lost to a tie (s(C1,I0) = s(C1,I1))
]


def write_bivlc(root: Path, rows=ROWS, name: str = "test-00000-of-00001.parquet") -> Path:
    """bivlc/data/<name>: the parquet layout of a `huggingface-cli download` of imirandam/BiVLC."""
    import datasets

    features = datasets.Features({"image": datasets.Image(), "caption": datasets.Value("string"),
                                  "negative_caption": datasets.Value("string"), "negative_image": datasets.Image(),
                                  "type": datasets.Value("string"), "subtype": datasets.Value("string")})
    data = {"image": [solid(r[0]) for r in rows], "negative_image": [solid(r[1]) for r in rows],
            "caption": [r[2] for r in rows], "negative_caption": [r[3] for r in rows],
            "type": [r[4] for r in rows], "subtype": [r[5] for r in rows]}
    path = root / "bivlc" / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(data, features=features).to_parquet(str(path))
    return path


def test_scores_per_type_micro_and_macro(tmp_path):
    write_bivlc(tmp_path)
    scorer = StandInScorer()
    engine = ScoringEngine(scorer, batch_size=4, progress=False)
    result = evaluate_bivlc(engine, str(tmp_path / "bivlc"))
    m = result.metrics
    assert (m["i2t/micro"], m["t2i/micro"], m["group/micro"]) == (2 / 3, 1 / 3, 1 / 3)
    assert result.headline == "group/micro"
    assert (m["i2t/replace"], m["i2t/swap"], m["i2t/add"]) == (1.0, 0.0, 1.0)
    assert (m["t2i/add"], m["group/add/obj"]) == (0.0, 0.0)
    assert m["i2t/macro"] == pytest.approx(2 / 3) and m["group/macro"] == pytest.approx(1 / 3)
    # the swap's captions have the same words: an order-blind scorer loses it on all three scores
    assert m["bow_ceiling/i2t/micro"] == m["bow_ceiling/t2i/micro"] == m["bow_ceiling/group/micro"] == 2 / 3
    assert m["bow_ceiling/group/swap"] == 0.0
    assert result.details["num_ties"] == {"text": 1, "image": 1}
    assert result.counts == {"items": 3, "scored": 3, "missing_images": 0}
    assert engine.stats.image_encodes == engine.stats.unique_images == 6
    assert engine.stats.text_encodes == engine.stats.unique_texts == 5  # "c" * 10 twice: encoded once


def test_runner_reads_the_local_copy_and_names_a_foreign_one(tmp_path):
    write_bivlc(tmp_path)
    assert check_benchmarks(["bivlc"], str(tmp_path))["bivlc"] == ("ready", "")
    doc = run_benchmarks(StandInScorer(), ["bivlc"], data_root=str(tmp_path), progress=False, log=lambda _: None)
    assert doc["benchmarks"]["bivlc"]["metrics"]["group/micro"] == pytest.approx(1 / 3)
    absent = check_benchmarks(["bivlc"], str(tmp_path / "nothing"))["bivlc"]
    assert absent[0] == "absent" and "imirandam/BiVLC" in absent[1]
    import datasets

    other = tmp_path / "other"
    (other / "bivlc").mkdir(parents=True)
    datasets.Dataset.from_dict({"caption": ["x"]}).to_parquet(str(other / "bivlc" / "test.parquet"))
    status, message = check_benchmarks(["bivlc"], str(other))["bivlc"]
    assert status == "error" and "no column" in message and "'image'" in message
    (other / "bivlc" / "test.parquet").write_text("not parquet")
    with pytest.raises(AnnotationError, match="cannot be read"):
        load_bivlc(str(other / "bivlc"))


def test_split_files_are_picked_by_name(tmp_path):
    write_bivlc(tmp_path)
    write_bivlc(tmp_path, ROWS[:1], name="train-00000-of-00001.parquet")
    files = parquet_files(str(tmp_path / "bivlc"), "test")
    assert [Path(f).name for f in files] == ["test-00000-of-00001.parquet"]
    _, examples = load_bivlc(str(tmp_path / "bivlc"))
    assert len(examples) == 3
