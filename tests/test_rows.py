"""The row schema (`hf_finegrained.rows`): one caption rule and one negative count, shared by every reader."""

from __future__ import annotations

import ast
from pathlib import Path

import datasets
import pytest
from helpers import NEGATIVE_TYPES, draw, make_dataset
from transformers import CLIPProcessor

import hf_finegrained.collator as collator_module
import hf_finegrained.validation as validation_module
from hf_finegrained import FineGrainedCollator
from hf_finegrained.builders import negatives_report
from hf_finegrained.rows import NegativeCounts, caption_problem, required_columns
from hf_finegrained.validation import DataValidationError, negative_coverage, validate_dataset

NEGATIVES = ["a white circle on a red background", "a blue circle on a white background", None, None]


@pytest.fixture(scope="module")
def processor(tiny_clip_dir):
    return CLIPProcessor.from_pretrained(tiny_clip_dir)


def test_rows_imports_none_of_its_readers():
    tree = ast.parse((Path(collator_module.__file__).parent / "rows.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"collator", "validation", "trainer", "builders"}


def test_collator_and_validation_use_the_one_caption_rule():
    assert collator_module.caption_problem is caption_problem
    assert validation_module.caption_problem is caption_problem
    assert required_columns() == ["image", "caption", "hard_negatives"] and required_columns(False) == ["image",
                                                                                                      "caption"]


@pytest.mark.parametrize(
    "caption,usable",
    [
        ("a red circle", True),
        ("  a red circle ", True),
        ("\u200b", True),  # a zero-width space is not whitespace to str.strip: both must keep it
        ("", False),
        ("   ", False),
        ("\t\n", False),
        ("\u3000", False),  # an ideographic space is
        (None, False),
        (7, False),
    ],
)
def test_collator_and_validation_accept_the_same_captions(processor, caption, usable):
    row = {"image": draw("red", "circle"), "caption": caption, "hard_negatives": NEGATIVES}
    assert (caption_problem(caption) is None) is usable

    try:
        FineGrainedCollator(processor, NEGATIVE_TYPES)([row])
        collator_accepts = True
    except ValueError as error:
        assert "caption is empty or not a string" in str(error) and "batch row 0" in str(error)
        collator_accepts = False

    try:
        validate_dataset([row], NEGATIVE_TYPES, check_images=False)
        validation_accepts = True
    except DataValidationError as error:
        assert error.problems == [(0, caption_problem(caption))]
        validation_accepts = False

    assert collator_accepts is validation_accepts is usable


def _coverage_rows() -> list[dict]:
    """Rows whose negatives are usable, None, blank, or equal to the caption up to case, punctuation, spacing."""
    rows = make_dataset(4, invalid_rate=0.0).to_list()
    rows[0]["hard_negatives"] = [None, "  ", rows[0]["caption"].upper() + "!", "a blue square"]
    rows[1]["hard_negatives"] = [None, None, None, None]
    rows[2]["hard_negatives"] = ["a", rows[2]["caption"].replace(" ", "  "), "b", None]
    return rows  # row 3 keeps its four usable negatives


def test_every_coverage_count_is_the_same_count(processor):
    rows = _coverage_rows()
    expected = NegativeCounts(NEGATIVE_TYPES).add_rows([r["hard_negatives"] for r in rows],
                                                       [r["caption"] for r in rows])
    types = NEGATIVE_TYPES
    assert expected.rows == 4 and expected.rows_without == 1
    assert expected.usable == dict(zip(types, [2, 1, 2, 2]))
    assert expected.equal_to_caption == dict(zip(types, [0, 1, 1, 0]))

    dataset = datasets.Dataset.from_list(rows, features=make_dataset(1).features)
    report = validate_dataset(dataset, types, check_images=False)
    assert report.negatives == expected.usable and report.equal_to_caption == expected.equal_to_caption
    assert negative_coverage(dataset, types) == expected.usable

    named = dataset.map(lambda row: {"hard_negatives": dict(zip(types, row["hard_negatives"]))})
    card = negatives_report(named, types)
    assert card["negatives"] == expected.usable and card["equal_to_caption"] == expected.equal_to_caption
    assert card["rows"] == expected.rows and card["rows_without_negatives"] == expected.rows_without
    assert card["coverage"] == {name: expected.usable[name] / 4 for name in types}

    # What the trainer counts on the rows it trains on: the collator's mask, counted the same way.
    mask = FineGrainedCollator(processor, types)(rows)["negative_mask"]
    trained = NegativeCounts(types)
    for present in mask.tolist():
        trained.add_mask(present)
    assert trained.usable == expected.usable and trained.rows_without == expected.rows_without
    assert dict(zip(types, mask.sum(0).tolist())) == expected.usable


def test_a_malformed_row_raises_and_counts_nothing():
    counts = NegativeCounts(NEGATIVE_TYPES)
    with pytest.raises(ValueError, match="hard_negatives has 2 entries but 4 negative types"):
        counts.add(["x", None], "a cat")
    with pytest.raises(ValueError, match="a mask of 3 entries for 4 negative types"):
        counts.add_mask([True, False, True])
    assert counts.rows == 0 and not any(counts.usable.values())
    assert counts.add({name: "a dog" for name in NEGATIVE_TYPES}, "A cat.") == ["a dog"] * 4
    assert counts.rows == 1 and counts.usable == dict.fromkeys(NEGATIVE_TYPES, 1)
