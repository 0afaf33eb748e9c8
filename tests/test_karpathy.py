"""One Karpathy reader (`evaluation.karpathy.read_karpathy_images`) for the dataset builder and the benchmarks:
both read the same entries from the same file, each with its own error type, naming the file and the entry."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import hf_finegrained.builders.karpathy as builder_module
import hf_finegrained.evaluation.karpathy as reader
from hf_finegrained.builders import AnnotationFileError, KarpathyCaptionsBuilder
from hf_finegrained.evaluation import AnnotationError
from hf_finegrained.evaluation.karpathy import KarpathyImage, load_karpathy_test, read_karpathy_images

IMAGES = [
    {"filepath": "train2014", "filename": "t1.jpg", "split": "train", "cocoid": 1,
     "sentences": [{"raw": "a dog chasing a cat"}, {"raw": "a red car"}]},
    {"filepath": "val2014", "filename": "v1.jpg", "split": "restval", "imgid": 2,
     "sentences": [{"raw": "a man riding a horse"}]},
    {"filename": "v2.jpg", "split": "test", "cocoid": 3, "sentences": [{"raw": "a white cat"}, {"raw": "a chair"}]},
    {"filepath": "val2014", "filename": "v3.jpg", "split": "test", "sentences": [{"raw": "two birds"}]},
    {"filepath": "val2014", "filename": "v4.jpg", "split": "val", "sentences": [{"raw": "a boat"}]},
]


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_builder_and_benchmarks_use_the_one_reader():
    assert builder_module.read_karpathy_images is reader.read_karpathy_images
    # the layout's keys are read in one place: the builder never indexes an entry by them
    tree = ast.parse(Path(builder_module.__file__).read_text())
    keys = {n.slice.value for n in ast.walk(tree) if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant)}
    keys |= {a.value for n in ast.walk(tree) if isinstance(n, ast.Call) for a in n.args if isinstance(a, ast.Constant)}
    assert not keys & {"images", "filename", "filepath", "split", "sentences", "raw"}, keys


def test_reader_gives_every_split_in_file_order(tmp_path):
    images = read_karpathy_images(_write(tmp_path / "dataset_coco.json", {"images": IMAGES}))
    assert [(i.number, i.path, i.split) for i in images] == [
        (0, "train2014/t1.jpg", "train"), (1, "val2014/v1.jpg", "restval"), (2, "v2.jpg", "test"),
        (3, "val2014/v3.jpg", "test"), (4, "val2014/v4.jpg", "val")]
    assert images[0].captions == ["a dog chasing a cat", "a red car"] and images[1].entry["imgid"] == 2
    assert images[4].where == "images[4]"
    only_test = read_karpathy_images(tmp_path / "dataset_coco.json", splits=["test"])
    assert [i.number for i in only_test] == [2, 3] and all(isinstance(i, KarpathyImage) for i in only_test)


def test_builder_and_benchmark_read_the_same_test_split(tmp_path):
    path = _write(tmp_path / "dataset_coco.json", {"images": IMAGES})
    columns = KarpathyCaptionsBuilder(path, tmp_path / "root", check_images=False).read()
    test = load_karpathy_test(path)
    assert test == [("v2.jpg", ["a white cat", "a chair"]), ("val2014/v3.jpg", ["two birds"])]
    assert columns["test"]["image"] == [str(tmp_path / "root" / p) for p, captions in test for _ in captions]
    assert columns["test"]["caption"] == [c for _, captions in test for c in captions]
    assert columns["test"]["image_id"] == [3, 3, 3]  # cocoid, else the entry's position
    assert columns["train"]["image_id"] == [1, 1, 2] and columns["validation"]["caption"] == ["a boat"]


def test_a_sentence_without_text_is_none_for_the_builder_and_an_error_for_the_benchmark(tmp_path):
    entry = {"filename": "a.jpg", "split": "test", "sentences": [{"raw": "fine"}, {"tokens": ["no", "raw"]}]}
    path = _write(tmp_path / "dataset_x.json", {"images": [entry]})
    assert KarpathyCaptionsBuilder(path, tmp_path, check_images=False).read()["test"]["caption"] == ["fine", None]
    with pytest.raises(AnnotationError, match=r"dataset_x\.json: images\[0\] sentence 1 has no 'raw' field"):
        load_karpathy_test(path)


@pytest.mark.parametrize("data,words", [
    ({"images": [{"split": "train", "sentences": []}]}, ["images[0]", "'filename'"]),
    ({"images": [{"filename": "a.jpg", "sentences": []}]}, ["images[0]", "'split'"]),
    ({"images": [{"filename": "a.jpg", "split": "train", "sentences": "a cat"}]}, ["images[0]", "'sentences'"]),
    ({"images": ["a.jpg"]}, ["images[0]", "text"]),
    ({"images": {"a.jpg": []}}, ["the top level", "'images'"]),
    ([{"image": "a.jpg", "caption": ["a cat"]}], ['an object with "images"', "a list"]),
    ({"annotations": []}, ['an object with "images"', "'annotations'"]),
])
def test_builder_errors_name_the_file_and_entry(tmp_path, data, words):
    path = _write(tmp_path / "dataset_bad.json", data)
    with pytest.raises(AnnotationFileError) as error:
        KarpathyCaptionsBuilder(path, tmp_path, check_images=False).read()
    message = str(error.value)
    assert str(path) in message and "expected Karpathy split" in message
    for word in words:
        assert word in message, (word, message)


def test_builder_names_an_unreadable_file(tmp_path):
    path = tmp_path / "dataset_cut.json"
    path.write_text('{"images": [{"filename"')
    with pytest.raises(AnnotationFileError, match=r"dataset_cut\.json: not valid JSON"):
        KarpathyCaptionsBuilder(path, tmp_path, check_images=False).read()
    with pytest.raises(AnnotationFileError, match=r"absent\.json: cannot be read"):
        KarpathyCaptionsBuilder(tmp_path / "absent.json", tmp_path, check_images=False).read()


def test_builder_keeps_its_own_split_and_id_checks(tmp_path):
    path = _write(tmp_path / "dataset_odd.json", {"images": [
        {"filename": "a.jpg", "split": "holdout", "sentences": [{"raw": "a cat"}]}]})
    with pytest.raises(AnnotationFileError, match=r"dataset_odd\.json.*image entry 0 has unknown split 'holdout'"):
        KarpathyCaptionsBuilder(path, tmp_path, check_images=False).read()


@pytest.mark.parametrize("data,words", [
    ({"images": [{"filename": "a.jpg", "split": "test", "sentences": [{"raw": None}]}]},
     ["images[0] sentence 0", "'raw'", "null"]),
    ({"images": [{"filepath": 3, "filename": "a.jpg", "split": "test", "sentences": []}]},
     ["images[0]", "'filepath'"]),
    ({"images": [{"split": "test", "sentences": []}]}, ["images[0]", "'filename'"]),
    ({"images": [{"filename": "a.jpg", "split": "train"}]}, []),  # another split: not read further
    ({"captions": []}, ["Karpathy test split", "'captions'"]),
    ([{"image": "a.jpg"}], ["entry 0", "'caption'"]),
    ([{"image": "a.jpg", "caption": []}], ["entry 0 'caption'", "empty list"]),
])
def test_benchmark_errors_name_the_file_and_entry(tmp_path, data, words):
    path = _write(tmp_path / "karpathy_test.json", data)
    if not words:
        assert load_karpathy_test(path) == []
        return
    with pytest.raises(AnnotationError) as error:
        load_karpathy_test(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message, (word, message)
