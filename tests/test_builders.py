"""Builders: COCO and Karpathy layouts, bad files, the dataset card, and the parquet round trip."""

from __future__ import annotations

import json
from unittest import mock

import datasets
import pytest
from huggingface_hub import DatasetCard
from PIL import Image

from hf_finegrained.builders import (
    AnnotationFileError,
    add_hard_negatives,
    CocoCaptionsBuilder,
    KarpathyCaptionsBuilder,
    caption_features,
    export_parquet,
    negative_types_of,
    negatives_report,
)
from hf_finegrained.builders.cli import main as build_main
from hf_finegrained.negatives import HardNegativeGenerator, word_multiset
from hf_finegrained.negatives.text import corpus_vocabulary
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
    assert "check_images=False" in message and "validate_data" not in message  # the builder's own option
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


# Issue 26, item 4: `hf-finegrained-build negatives --caption_column text`, the example of its --help --------


def _texts_and_pictures(path, texts, image_column="picture"):
    """A user's dataset file whose caption column is not the trainer's name: `text` (and images)."""
    pictures = [Image.new("RGB", (16, 12), color) for color in (COLORS * 3)[:len(texts)]]
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict({"text": texts, image_column: pictures}).to_parquet(str(path))
    return path


def test_the_negatives_command_writes_the_columns_the_trainer_reads(tmp_path):
    texts = [CAPTIONS[0], CAPTIONS[1], CAPTIONS[3], CAPTIONS[4]]
    expected = HardNegativeGenerator(seed=0).generate(texts)
    # the example of the command's --help, on a folder of parquet files with a `text` column
    _texts_and_pictures(tmp_path / "my_parquet_folder" / "train.parquet", texts, image_column="image")
    out = tmp_path / "with_negatives"
    build_main(["negatives", "--dataset_path", str(tmp_path / "my_parquet_folder"), "--caption_column", "text",
                "--output_dir", str(out)])
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))["train"]
    assert sorted(loaded.column_names) == ["caption", "hard_negatives", "image"]
    assert loaded["caption"] == texts and [dict(row) for row in loaded["hard_negatives"]] == expected
    assert validate_dataset(loaded, DEFAULT_NEGATIVE_TYPES).rows == 4  # what the trainer checks before training

    # an image column of another name, renamed as well
    source = _texts_and_pictures(tmp_path / "mine.parquet", texts)
    build_main(["negatives", "--dataset_path", str(source), "--caption_column", "text", "--image_column", "picture",
                "--output_dir", str(tmp_path / "renamed")])
    renamed = datasets.load_dataset(str(tmp_path / "renamed"), cache_dir=str(tmp_path / "cache1"))["train"]
    assert sorted(renamed.column_names) == ["caption", "hard_negatives", "image"]
    assert isinstance(renamed.features["image"], datasets.Image) and renamed[1]["image"].getpixel((2, 2)) == COLORS[1]
    assert [dict(row) for row in renamed["hard_negatives"]] == expected

    # a JSON Lines file with only a `text` column: read by its extension, written as `caption`
    lines = tmp_path / "captions.jsonl"
    lines.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts))
    build_main(["negatives", "--dataset_path", str(lines), "--caption_column", "text", "--output_dir", str(tmp_path / "text_only")])
    text_only = datasets.load_dataset(str(tmp_path / "text_only"), cache_dir=str(tmp_path / "cache2"))["train"]
    assert sorted(text_only.column_names) == ["caption", "hard_negatives"] and text_only["caption"] == texts


def test_the_negatives_command_keeps_negatives_to_the_corpus_words_when_asked(tmp_path):
    texts = [CAPTIONS[0], CAPTIONS[1], CAPTIONS[3], CAPTIONS[4]]
    lines = tmp_path / "captions.jsonl"
    lines.write_text("".join(json.dumps({"caption": text}) + "\n" for text in texts))
    words = corpus_vocabulary(texts)
    expected = HardNegativeGenerator(seed=0, vocabulary=words).generate(texts)
    assert expected != HardNegativeGenerator(seed=0).generate(texts)  # the lists write other words here
    build_main(["negatives", "--dataset_path", str(lines), "--negatives_vocabulary", "corpus",
                "--output_dir", str(tmp_path / "closed")])
    closed = datasets.load_dataset(str(tmp_path / "closed"), cache_dir=str(tmp_path / "cache"))["train"]
    assert [dict(row) for row in closed["hard_negatives"]] == expected
    with pytest.raises(SystemExit, match="min_count must be >= 1"):
        build_main(["negatives", "--dataset_path", str(lines), "--negatives_vocabulary", "corpus",
                    "--negatives_vocabulary_min_count", "0", "--output_dir", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()
    with pytest.raises(ValueError, match="stream cannot"):
        add_hard_negatives(datasets.Dataset.from_dict({"caption": texts}).to_iterable_dataset(), vocabulary="corpus")


def test_the_negatives_command_stops_before_generating_on_a_wrong_column(tmp_path):
    source = _texts_and_pictures(tmp_path / "mine.parquet", [CAPTIONS[0], CAPTIONS[1]])
    out = tmp_path / "out"
    with mock.patch("hf_finegrained.builders.add_hard_negatives", side_effect=AssertionError("generation started")):
        with pytest.raises(SystemExit, match=r"no column 'caption' \(--caption_column\); its columns are"):
            build_main(["negatives", "--dataset_path", str(source), "--output_dir", str(out)])
        with pytest.raises(SystemExit, match=r"no column 'image' \(--image_column\)"):
            build_main(["negatives", "--dataset_path", str(source), "--caption_column", "text", "--image_column", "image",
                        "--output_dir", str(out)])
        both = datasets.Dataset.from_dict({"text": ["a", "b"], "caption": ["c", "d"]})
        both.to_parquet(str(tmp_path / "both.parquet"))
        with pytest.raises(SystemExit, match=r"has both 'text' \(--caption_column\) and 'caption'"):
            build_main(["negatives", "--dataset_path", str(tmp_path / "both.parquet"), "--caption_column", "text",
                        "--output_dir", str(out)])
    assert not out.exists()


def test_a_failed_build_leaves_no_partial_folder_and_the_old_one_intact(tmp_path):
    source = _texts_and_pictures(tmp_path / "mine.parquet", [CAPTIONS[0], CAPTIONS[1]])
    flags = ["negatives", "--dataset_path", str(source), "--caption_column", "text", "--image_column", "picture"]
    with mock.patch("hf_finegrained.builders.export.dataset_card", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError, match="disk full"):  # after every shard was written
            build_main([*flags, "--output_dir", str(tmp_path / "new")])
        assert not (tmp_path / "new").exists()
        old = tmp_path / "old"
        (old / "data").mkdir(parents=True)
        (old / "data" / "train-00000-of-00002.parquet").write_text("an earlier export")
        (old / "README.md").write_text("its card")
        with pytest.raises(SystemExit, match="is not empty.*--overwrite"):
            build_main([*flags, "--output_dir", str(old)])
        with pytest.raises(RuntimeError, match="disk full"):
            build_main([*flags, "--output_dir", str(old), "--overwrite"])
    assert (old / "README.md").read_text() == "its card"
    assert [p.name for p in (old / "data").iterdir()] == ["train-00000-of-00002.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.parquet", "old"]
    build_main([*flags, "--output_dir", str(old), "--overwrite"])  # replaced whole: no stale shard is left to be read
    assert [p.name for p in (old / "data").iterdir()] == ["train-00000-of-00001.parquet"]
    with pytest.raises(SystemExit, match="holds the input data.*even with --overwrite"):
        build_main([*flags, "--output_dir", str(tmp_path), "--overwrite"])


# Issue 26, item 10 (d): the command's missing-image error names the command's own options -----------------


def test_the_coco_command_names_its_own_flags_when_images_are_missing(tmp_path):
    path = write_coco(tmp_path)
    (tmp_path / "images" / "a.png").unlink()
    (tmp_path / "images" / "c.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    flags = ["coco", "--annotations", str(path), "--images", str(tmp_path / "images"), "--output_dir", str(out)]
    with pytest.raises(SystemExit) as raised:
        build_main(flags)
    message = str(raised.value)
    assert "a.png" in message and "c.png" in message and "2 image file(s)" in message
    assert f"--images {tmp_path / 'images'}" in message and "--no_check_images" in message
    assert "validate_data" not in message and "check_images=False" not in message  # not this command's options
    assert not out.exists()
    # what the message says of --no-check-images holds: a missing file still stops the build, an unreadable one not
    with pytest.raises(FileNotFoundError, match="a.png"):
        build_main([*flags, "--no_check_images"])
    assert not out.exists()
    write_images(tmp_path / "images", ["a.png"])
    build_main([*flags, "--no_check_images"])
    assert datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))["train"].num_rows == len(CAPTIONS)
