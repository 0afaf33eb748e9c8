"""Bad data never passes silently (issue 12): truncated images, missing or useless negatives, cut captions,
non-integer image ids."""

from __future__ import annotations

import json
import logging

import datasets
import pytest
from helpers import NEGATIVE_TYPES, draw, make_dataset
from PIL import Image
from transformers import CLIPModel, CLIPProcessor

from hf_finegrained import FineGrainedCollator, FineGrainedTrainer, FineGrainedTrainingArguments
from hf_finegrained.builders import AnnotationFileError, CocoCaptionsBuilder, KarpathyCaptionsBuilder, negatives_report
from hf_finegrained.validation import DataValidationError, negative_coverage, validate_dataset

LONG_CAPTION = " ".join(["a red circle on a white background"] * 20)  # about 140 tokens, over 77


@pytest.fixture(scope="module")
def processor(tiny_clip_dir):
    return CLIPProcessor.from_pretrained(tiny_clip_dir)


def truncated_copy(image: Image.Image, path, fmt: str = "JPEG"):
    """Saves `image` to `path` and cuts the file to 60% of its bytes: the header still parses."""
    image.save(path, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    with Image.open(path) as opened:  # the old header-only check passed such a file
        assert opened.size == image.size
    return path


def path_dataset(tmp_path, count=4, bad=(), fmt="JPEG", extra=None):
    """`count` rows whose images are files; the rows in `bad` get a truncated file."""
    rows = make_dataset(count).to_list()
    paths = []
    for index in range(count):
        image = draw("red", "circle", size=64)
        path = tmp_path / f"img{index}.{fmt.lower()}"
        if index in bad:
            truncated_copy(image, path, fmt)
        else:
            image.save(path, format=fmt)
        paths.append(str(path))
    features = datasets.Features({"image": datasets.Image(), "caption": datasets.Value("string"),
                                  "hard_negatives": datasets.Sequence(datasets.Value("string")),
                                  **(extra or {})})
    columns = {"image": paths, "caption": [r["caption"] for r in rows],
               "hard_negatives": [r["hard_negatives"] for r in rows]}
    for name in extra or {}:
        columns[name] = [100 + index for index in range(count)]
    return datasets.Dataset.from_dict(columns, features=features)


def make_args(tmp_path, **overrides):
    settings = dict(output_dir=str(tmp_path / "run"), per_device_train_batch_size=2, max_steps=2, report_to=[],
                    use_cpu=True, seed=0, negative_types=NEGATIVE_TYPES, disable_tqdm=True, save_strategy="no",
                    logging_steps=1, learning_rate=1e-3)
    settings.update(overrides)
    return FineGrainedTrainingArguments(**settings)


def make_trainer(model_dir, args, train):
    return FineGrainedTrainer(model=CLIPModel.from_pretrained(model_dir), args=args, train_dataset=train,
                              processing_class=CLIPProcessor.from_pretrained(model_dir))


# --- item 5: truncated images -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image_fails_validation_naming_row_and_file(tmp_path, fmt):
    dataset = path_dataset(tmp_path, count=4, bad={2}, fmt=fmt)
    with pytest.raises(DataValidationError) as error:
        validate_dataset(dataset, NEGATIVE_TYPES)
    assert [index for index, _ in error.value.problems] == [2]
    message = str(error.value)
    assert f"row 2: cannot read image {tmp_path / ('img2.' + fmt.lower())}" in message
    assert "truncated" in message


def test_truncated_bytes_and_lazily_opened_images_fail_validation(tmp_path):
    path = truncated_copy(draw("blue", "square", size=64), tmp_path / "cut.jpg")
    rows = [
        {"image": {"bytes": path.read_bytes(), "path": "cut.jpg"}, "caption": "a blue square",
         "hard_negatives": ["a red square", None, None, None]},
        {"image": Image.open(path), "caption": "a blue square", "hard_negatives": ["a red square", None, None, None]},
        {"image": draw("red", "circle"), "caption": "a red circle",
         "hard_negatives": ["a blue circle", None, None, None]},
    ]
    with pytest.raises(DataValidationError) as error:
        validate_dataset(rows, NEGATIVE_TYPES)
    assert [index for index, _ in error.value.problems] == [0, 1]
    assert "cut.jpg" in error.value.problems[0][1] and "truncated" in error.value.problems[1][1]


def test_builder_image_check_decodes_the_whole_file(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    draw("red", "circle").save(folder / "good.jpg")
    truncated_copy(draw("blue", "square", size=64), folder / "cut.jpg")
    annotation = {"images": [{"id": 1, "file_name": "good.jpg"}, {"id": 2, "file_name": "cut.jpg"}],
                  "annotations": [{"id": 5, "image_id": 1, "caption": "a red circle"},
                                  {"id": 6, "image_id": 2, "caption": "a blue square"}]}
    path = tmp_path / "captions.json"
    path.write_text(json.dumps(annotation))
    with pytest.raises(DataValidationError) as error:
        CocoCaptionsBuilder(path, folder).build(add_negatives=False)
    assert len(error.value.problems) == 1 and "cut.jpg" in str(error.value) and "good.jpg" not in str(error.value)


def test_image_failing_inside_training_names_the_row_and_the_file(tiny_clip_dir, tmp_path):
    """A stream whose rows are not checked as read (validate_data=False; checked, the row is skipped and named:
    tests/test_streaming.py): the collator, not `datasets`, decodes and names the culprit."""
    dataset = path_dataset(tmp_path, count=4, bad={3}, extra={"image_id": datasets.Value("int64")})
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, validate_data=False), dataset.to_iterable_dataset())
    with pytest.raises(ValueError) as error:
        trainer.train()
    message = str(error.value)
    assert str(tmp_path / "img3.jpeg") in message and "image_id=103" in message
    assert "image file is truncated" in message and "fix or remove the file" in message


def test_collator_names_the_file_of_undecoded_image_dicts(processor, tmp_path):
    path = truncated_copy(draw("blue", "square", size=64), tmp_path / "cut.png", "PNG")
    row = {"image": {"bytes": None, "path": str(path)}, "caption": "a blue square", "caption_id": 7,
           "hard_negatives": [None] * 4}
    with pytest.raises(ValueError, match=rf"batch row 0 \(caption_id=7, .*image {path}\).*cannot read the image"):
        FineGrainedCollator(processor, NEGATIVE_TYPES)([row])


# --- item 7: missing and useless negatives -------------------------------------------------------------------


def test_no_usable_negative_at_all_fails_unless_plain_clip(tmp_path):
    rows = make_dataset(4).to_list()
    for row in rows:
        row["hard_negatives"] = [None, " ", row["caption"].upper(), None]  # blank, and equal to the caption
    dataset = datasets.Dataset.from_list(rows, features=make_dataset(1).features)
    with pytest.raises(DataValidationError, match=r"no usable hard negative.*use_hard_negatives=False") as error:
        validate_dataset(dataset, NEGATIVE_TYPES)
    assert "4 negative(s) equal to their caption were masked" in str(error.value)
    assert validate_dataset(dataset, NEGATIVE_TYPES, include_negatives=False).rows == 4


def test_trainer_refuses_ce_clip_without_negatives(tiny_clip_dir, tmp_path):
    rows = make_dataset(4).to_list()
    for row in rows:
        row["hard_negatives"] = [None] * 4
    dataset = datasets.Dataset.from_list(rows, features=make_dataset(1).features)
    with pytest.raises(DataValidationError, match="no usable hard negative"):
        make_trainer(tiny_clip_dir, make_args(tmp_path), dataset)
    plain = make_trainer(tiny_clip_dir, make_args(tmp_path, use_hard_negatives=False), dataset)
    assert plain.negative_types == []


def test_a_type_with_zero_coverage_warns(caplog):
    rows = make_dataset(6, invalid_rate=0.0).to_list()
    for row in rows:
        row["hard_negatives"][1] = None
    with caplog.at_level(logging.WARNING, logger="hf_finegrained.validation"):
        report = validate_dataset(rows, NEGATIVE_TYPES, check_images=False, name="mine")
    warnings = [r.getMessage() for r in caplog.records if "coverage 0%" in r.getMessage()]
    assert len(warnings) == 1 and f"'{NEGATIVE_TYPES[1]}'" in warnings[0] and "mine" in warnings[0]
    assert report.negatives == {NEGATIVE_TYPES[0]: 6, NEGATIVE_TYPES[1]: 0, NEGATIVE_TYPES[2]: 6, NEGATIVE_TYPES[3]: 6}


def test_negative_equal_to_its_caption_is_masked_counted_and_reported(processor, caplog):
    rows = make_dataset(3, invalid_rate=0.0).to_list()
    rows[0]["caption"] = "a red circle on a white background"
    rows[0]["hard_negatives"] = ["  A RED circle on a white background. ",  # same words: case, spaces, '.'
                                 "a blue circle on a white background", "a red square on a white background",
                                 "a red circle under a white background"]
    rows[1]["hard_negatives"][2] = rows[1]["caption"]
    rows[2]["hard_negatives"][2] = rows[2]["caption"].replace("a white", "the white")  # a real negative
    with caplog.at_level(logging.WARNING, logger="hf_finegrained.validation"):
        report = validate_dataset(rows, NEGATIVE_TYPES, check_images=False)
    assert report.equal_to_caption == {NEGATIVE_TYPES[0]: 1, NEGATIVE_TYPES[1]: 0, NEGATIVE_TYPES[2]: 1,
                                       NEGATIVE_TYPES[3]: 0}
    assert report.negatives[NEGATIVE_TYPES[0]] == 2 and report.negatives[NEGATIVE_TYPES[2]] == 2
    assert any("2 negative(s) equal to their caption" in r.getMessage() for r in caplog.records)
    assert report.card_entries()["negatives equal to their caption (masked)"] == 2

    collator = FineGrainedCollator(processor, NEGATIVE_TYPES)
    batch = collator(rows)
    assert batch["negative_mask"].tolist() == [[False, True, True, True], [True, True, False, True],
                                               [True, True, True, True]]
    assert batch["input_ids"].shape[0] == 3 + 10  # the masked ones are not encoded
    assert collator.counts["equal_to_caption"] == 2

    dataset = datasets.Dataset.from_list(rows, features=make_dataset(1).features)
    assert negative_coverage(dataset, NEGATIVE_TYPES)[NEGATIVE_TYPES[0]] == 2
    named = dataset.map(lambda row: {"hard_negatives": dict(zip(NEGATIVE_TYPES, row["hard_negatives"]))})
    report = negatives_report(named, NEGATIVE_TYPES)
    assert report["equal_to_caption"][NEGATIVE_TYPES[0]] == 1 and report["negatives"][NEGATIVE_TYPES[0]] == 2


# --- item 8: captions longer than the text model's positions ---------------------------------------------------


def test_long_captions_are_counted_and_warned_once(processor, caplog):
    rows = make_dataset(5).to_list()
    rows[1]["caption"] = rows[4]["caption"] = LONG_CAPTION
    collator = FineGrainedCollator(processor, NEGATIVE_TYPES, max_length=77)
    with caplog.at_level(logging.WARNING):
        report = validate_dataset(rows, NEGATIVE_TYPES, check_images=False, collator=collator)
        collator(rows[:2])
        collator(rows[2:])
    assert report.truncated_captions == 2 and report.max_length == 77
    assert report.card_entries()["captions longer than 77 tokens (cut to 77)"] == 2
    warnings = [r.getMessage() for r in caplog.records if "tokens" in r.getMessage()]
    assert len(warnings) == 1 and "2 of 5 captions" in warnings[0] and "row 1" in warnings[0]
    assert collator.counts["truncated_captions"] == 2  # still counted, not warned again


def test_collator_alone_warns_once_about_cut_captions(processor, caplog):
    collator = FineGrainedCollator(processor, NEGATIVE_TYPES, max_length=77)
    rows = make_dataset(4).to_list()
    rows[0]["caption"] = rows[3]["caption"] = LONG_CAPTION
    rows[2]["caption"] = " ".join(["circle"] * 75)  # exactly 77 tokens with start and end: not cut
    assert len(processor.tokenizer(rows[2]["caption"])["input_ids"]) == 77
    with caplog.at_level(logging.WARNING, logger="hf_finegrained.collator"):
        collator(rows[:2])
        collator(rows[2:])
    assert collator.counts["truncated_captions"] == 2
    assert len([r for r in caplog.records if "cut to 77 tokens" in r.getMessage()]) == 1


def test_model_card_counts_cut_captions(tiny_clip_dir, tmp_path):
    rows = make_dataset(6).to_list()
    rows[0]["caption"] = rows[5]["caption"] = LONG_CAPTION
    dataset = datasets.Dataset.from_list(rows, features=make_dataset(1).features)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path), dataset)
    assert trainer.card_info.data_checks["captions longer than 77 tokens (cut to 77)"] == 2
    (tmp_path / "card").mkdir()
    trainer.create_model_card(str(tmp_path / "card"))
    text = (tmp_path / "card" / "README.md").read_text()
    assert "captions longer than 77 tokens (cut to 77): 2" in text


# --- item 11: non-integer image ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "images, annotations, match",
    [
        ([{"id": "x7", "file_name": "a.png"}], [{"id": 1, "image_id": "x7", "caption": "a cat"}],
         r"images\[0\] has a non-integer 'id': 'x7'"),
        ([{"id": 1, "file_name": "a.png"}], [{"id": 1, "image_id": 1, "caption": "a"},
                                             {"id": 2, "image_id": "one", "caption": "a cat"}],
         r"annotations\[1\] has a non-integer 'image_id': 'one'"),
        ([{"id": 1, "file_name": "a.png"}], [{"id": 2.5, "image_id": 1, "caption": "a cat"}],
         r"annotations\[0\] has a non-integer 'id': 2.5"),
    ],
)
def test_non_integer_coco_ids_name_file_entry_and_key(tmp_path, images, annotations, match):
    path = tmp_path / "odd_captions.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations}))
    with pytest.raises(AnnotationFileError, match=match) as error:
        CocoCaptionsBuilder(path, tmp_path, check_images=False).read()
    assert "odd_captions.json" in str(error.value)


def test_integer_like_ids_still_read(tmp_path):
    path = tmp_path / "captions.json"
    path.write_text(json.dumps({"images": [{"id": "12", "file_name": "a.png"}],
                                "annotations": [{"id": 3.0, "image_id": 12, "caption": "a cat"}]}))
    columns = CocoCaptionsBuilder(path, tmp_path, check_images=False).read()
    assert columns["image_id"] == [12] and columns["caption_id"] == [3]


def test_non_integer_karpathy_id_names_file_entry_and_key(tmp_path):
    path = tmp_path / "dataset_odd.json"
    path.write_text(json.dumps({"images": [
        {"filename": "a.jpg", "split": "train", "cocoid": 4, "sentences": [{"raw": "a cat"}]},
        {"filename": "b.jpg", "split": "test", "cocoid": "COCO_b", "sentences": [{"raw": "a dog"}]},
    ]}))
    with pytest.raises(AnnotationFileError,
                       match=r"dataset_odd.json.*images\[1\] has a non-integer 'cocoid': 'COCO_b'"):
        KarpathyCaptionsBuilder(path, tmp_path, check_images=False).read()
