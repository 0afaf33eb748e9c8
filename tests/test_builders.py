"""Builders: COCO and Karpathy layouts, bad files, the dataset card, and the parquet round trip."""

from __future__ import annotations

import json

import datasets
import pytest
from huggingface_hub import DatasetCard
from PIL import Image

from hf_finegrained.builders import (
    AnnotationFileError,
    CocoCaptionsBuilder,
    KarpathyCaptionsBuilder,
    caption_features,
    export_parquet,
    negative_types_of,
    negatives_report,
)
from hf_finegrained.negatives import HardNegativeGenerator, word_multiset
from hf_finegrained.rows import row_negatives
from hf_finegrained.training_args import DEFAULT_NEGATIVE_TYPES
from hf_finegrained.validation import DataValidationError, validate_dataset

COLORS = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
CAPTIONS = [
    "A dog chasing a cat on the grass.",
    "a red car next to a blue bus",
    "",
    "A white cat on a black chair.",
    "a man riding a horse",
    "Un chat noir est assis sur la chaise rouge",
]


def write_images(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name, color in zip(names, COLORS * 3):
        Image.new("RGB", (16, 12), color).save(folder / name)


def write_coco(tmp_path, captions=CAPTIONS, image_names=("a.png", "b.png", "c.png")):
    write_images(tmp_path / "images", image_names)
    annotation = {
        "images": [{"id": 10 + i, "file_name": name} for i, name in enumerate(image_names)],
        "annotations": [{"id": 100 + i, "image_id": 10 + i % len(image_names), "caption": caption}
                        for i, caption in enumerate(captions)],
    }
    path = tmp_path / "captions_train2014.json"
    path.write_text(json.dumps(annotation))
    return path


@pytest.fixture(scope="module")
def coco_dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coco")
    return CocoCaptionsBuilder(write_coco(folder), folder / "images").build(seed=0)


def test_coco_builder_declares_features(coco_dataset):
    extra = {"image_id": datasets.Value("int64"), "caption_id": datasets.Value("int64")}
    assert coco_dataset.features == caption_features(DEFAULT_NEGATIVE_TYPES, extra)
    assert negative_types_of(coco_dataset) == list(DEFAULT_NEGATIVE_TYPES)
    assert coco_dataset["caption"] == CAPTIONS
    assert coco_dataset["image_id"] == [10, 11, 12, 10, 11, 12]
    row = coco_dataset[0]
    assert row["image"].size == (16, 12) and row["image"].getpixel((0, 0)) == COLORS[0]
    assert row["hard_negatives"] == HardNegativeGenerator(seed=0).generate_one(CAPTIONS[0])
    assert word_multiset(row["hard_negatives"]["swap_object"]) == word_multiset(CAPTIONS[0])
    assert all(v is None for v in coco_dataset[2]["hard_negatives"].values())  # empty caption
    # the trainer's collator reads the struct by type name, in any configured order
    assert row_negatives(row["hard_negatives"], DEFAULT_NEGATIVE_TYPES[::-1])[-1] == row["hard_negatives"][
        DEFAULT_NEGATIVE_TYPES[0]]


def test_report_counts_coverage_and_bad_captions(coco_dataset):
    report = negatives_report(coco_dataset)
    assert report["rows"] == 6
    assert report["skipped_captions"] == {"not_string": 0, "empty": 1, "too_long": 0, "non_english": 1}
    assert report["rows_without_negatives"] == 2
    expected = {name: sum(row[name] is not None for row in coco_dataset["hard_negatives"])
                for name in DEFAULT_NEGATIVE_TYPES}
    assert report["negatives"] == expected and expected["swap_object"] >= 2
    assert report["coverage"]["swap_object"] == round(expected["swap_object"] / 6, 4)


def test_missing_and_broken_images_are_all_listed(tmp_path):
    path = write_coco(tmp_path)
    (tmp_path / "images" / "a.png").unlink()
    (tmp_path / "images" / "c.png").write_bytes(b"not an image")
    with pytest.raises(DataValidationError) as error:
        CocoCaptionsBuilder(path, tmp_path / "images").build(add_negatives=False)
    message = str(error.value)
    assert "a.png" in message and "c.png" in message and "b.png" not in message
    assert len(error.value.problems) == 2
    # without the check the dataset builds, and the trainer's validation pass lists the bad rows
    dataset = CocoCaptionsBuilder(path, tmp_path / "images", check_images=False).build(add_negatives=False)
    with pytest.raises(DataValidationError) as error:
        validate_dataset(dataset, DEFAULT_NEGATIVE_TYPES, include_negatives=False)
    assert {index for index, _ in error.value.problems} >= {0, 2, 3, 5}


@pytest.mark.parametrize(
    "content, match",
    [("{not json", "JSONDecodeError"), (json.dumps({"images": []}), "expected COCO captions"),
     (json.dumps({"images": [{"id": 1, "file_name": "x.jpg"}], "annotations": [{"image_id": 2, "caption": "a"}]}),
      "missing from 'images'")],
)
def test_unreadable_annotation_file_is_named(tmp_path, content, match):
    path = tmp_path / "bad_captions.json"
    path.write_text(content)
    with pytest.raises(AnnotationFileError, match=match) as error:
        CocoCaptionsBuilder(path, tmp_path).build()
    assert "bad_captions.json" in str(error.value)
    with pytest.raises(AnnotationFileError, match="absent.json"):
        CocoCaptionsBuilder(tmp_path / "absent.json", tmp_path).build()


def test_karpathy_builder_splits(tmp_path):
    write_images(tmp_path / "val2014", ["v1.jpg", "v2.jpg"])
    write_images(tmp_path / "train2014", ["t1.jpg"])
    data = {"dataset": "coco", "images": [
        {"filepath": "train2014", "filename": "t1.jpg", "split": "train", "cocoid": 1,
         "sentences": [{"raw": "a dog chasing a cat"}, {"raw": "a red car"}]},
        {"filepath": "val2014", "filename": "v1.jpg", "split": "restval", "cocoid": 2,
         "sentences": [{"raw": "a man riding a horse"}]},
        {"filepath": "val2014", "filename": "v2.jpg", "split": "test", "cocoid": 3,
         "sentences": [{"raw": "A white cat on a black chair."}]},
    ]}
    path = tmp_path / "dataset_coco.json"
    path.write_text(json.dumps(data))
    splits = KarpathyCaptionsBuilder(path, tmp_path).build()
    assert sorted(splits) == ["test", "train"]
    assert splits["train"]["caption"] == ["a dog chasing a cat", "a red car", "a man riding a horse"]
    assert splits["train"]["image_id"] == [1, 1, 2]
    assert splits["test"][0]["hard_negatives"]["swap_attribute"] == "A black cat on a white chair."
    assert splits["test"].features == caption_features(DEFAULT_NEGATIVE_TYPES, {"image_id": datasets.Value("int64")})
    with pytest.raises(AnnotationFileError, match="validation"):
        KarpathyCaptionsBuilder(path, tmp_path).build(splits=["validation"])


def test_parquet_export_round_trip(coco_dataset, tmp_path):
    test_split = coco_dataset.select([0, 1])
    folder = export_parquet(datasets.DatasetDict({"train": coco_dataset, "test": test_split}), tmp_path / "out",
                            max_rows_per_file=4)
    assert sorted(p.name for p in (folder / "data").iterdir()) == [
        "test-00000-of-00001.parquet", "train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    # a private cache: `datasets` may reuse the cache of an earlier export to a same-named folder
    loaded = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "cache"))
    assert loaded["train"].features == coco_dataset.features
    assert loaded["train"]["caption"] == coco_dataset["caption"]
    assert loaded["train"]["hard_negatives"] == coco_dataset["hard_negatives"]
    assert loaded["test"]["caption"] == test_split["caption"]
    assert loaded["train"][1]["image"].getpixel((3, 3)) == COLORS[1]  # bytes were embedded
    card = (folder / "README.md").read_text()
    metadata = DatasetCard.load(folder / "README.md").data.to_dict()  # as the Hub reads it
    assert metadata["pretty_name"] == "Hard-negative caption dataset"
    assert metadata["configs"][0]["data_files"][0] == {"split": "train", "path": "data/train-*.parquet"}
    info = metadata["hf_finegrained"]
    assert info["negative_types"] == list(DEFAULT_NEGATIVE_TYPES)
    report = negatives_report(coco_dataset)
    assert info["splits"]["train"]["negatives"] == report["negatives"]
    assert info["splits"]["train"]["skipped_captions"]["non_english"] == 1
    assert "| swap_object |" in card
