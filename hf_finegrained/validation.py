"""A pass over a training dataset that finds every bad row before the first training step."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .rows import (
    CAPTION_COLUMN,
    IMAGE_COLUMN,
    NEGATIVES_COLUMN,
    NegativeCounts,
    caption_problem,
    describe_image,
    required_columns,
    row_negatives,
)

logger = logging.getLogger(__name__)
MAX_LISTED = 50
TOKENIZE_CHUNK = 1000


TRAINER_ADVICE = ("fix or drop these rows before training (e.g. `dataset.filter(...)`), or pass validate_data=False "
                  "to skip this check")


class DataValidationError(ValueError):
    """Raised with every bad row of a dataset; ``problems`` holds (row index, message) pairs.

    `advice` says what the reader can do (by default, the trainer's options); `unit` names what `num_rows`
    counts ("rows", or "image files" for a builder's check)."""

    def __init__(self, name: str, problems: list[tuple[int | None, str]], num_rows: int,
                 advice: str = TRAINER_ADVICE, unit: str = "rows") -> None:
        self.problems = problems
        self.lines = [f"row {index}: {msg}" if index is not None else msg for index, msg in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            self.lines.append(f"... and {len(problems) - MAX_LISTED} more")
        super().__init__(f"{name}: {len(problems)} problem(s) in {num_rows} {unit}; {advice}:\n"
                         + "\n".join(self.lines))


@dataclass
class ValidationReport:
    """What `validate_dataset` counted in a dataset that passed.

    `negatives`: usable negatives per type (not None, not blank, not equal to their caption: see `rows`);
    `equal_to_caption`: negatives masked per type for equalling their caption (ignoring case, punctuation and
    spacing, see `negatives.text.normalize`); `truncated_captions`: captions longer than `max_length` tokens
    (None when no tokenizer was given); `validated` is False for an iterable dataset, which is not read ahead.
    """

    name: str
    rows: int = 0
    validated: bool = True
    negatives: dict[str, int] = field(default_factory=dict)
    equal_to_caption: dict[str, int] = field(default_factory=dict)
    truncated_captions: int | None = None
    max_length: int | None = None

    def card_entries(self) -> dict[str, int]:
        """The counts a model card shows, by human-readable label."""
        if not self.validated:
            return {}
        entries = {"rows": self.rows}
        if self.equal_to_caption:
            entries["negatives equal to their caption (masked)"] = sum(self.equal_to_caption.values())
        if self.truncated_captions is not None:
            label = f"captions longer than {self.max_length} tokens (cut to {self.max_length})"
            entries[label] = self.truncated_captions
        return entries


def _decode(value: Any) -> None:
    """Decodes the whole image, raising whatever PIL raises for a missing, truncated or corrupt file.

    A JPEG is decoded in draft mode (DCT scaling): every byte is still read, so truncation is still found,
    at about two thirds of the cost of a full-size decode.
    """
    if isinstance(value, Image.Image):
        value.load()  # no-op for an image in memory; reads the file of a lazily opened one
        return
    if isinstance(value, dict):
        source = io.BytesIO(value["bytes"]) if value.get("bytes") is not None else value["path"]
    else:
        source = value
    with Image.open(source) as image:
        if image.format == "JPEG":
            image.draft(image.mode, (1, 1))
        image.load()


def _image_key(value: Any) -> Any:
    """A key under which identical images are decoded once (rows of COCO share files); None: no caching."""
    if isinstance(value, (str, os.PathLike)):
        return ("path", os.fspath(value))
    if isinstance(value, dict):
        if value.get("bytes") is not None:
            return ("bytes", hashlib.blake2b(value["bytes"], digest_size=16).digest())
        return ("path", value.get("path"))
    return None


def missing_image_problem(value: Any) -> str | None:
    """Why `value` holds no image at all (None, or a dict with neither bytes nor a path), or None."""
    if value is None:
        return "image is missing (None)"
    if isinstance(value, dict) and value.get("bytes") is None and not value.get("path"):
        return "image has neither bytes nor a path"
    return None


def unreadable_image_problem(value: Any, error: Exception) -> str:
    """How a row's problem names an image that failed to decode with `error`."""
    return f"cannot read image {describe_image(value)} ({type(error).__name__}: {error}); fix or remove the file"


def _image_problem(value: Any, cache: dict[Any, str | None] | None = None) -> str | None:
    problem = missing_image_problem(value)
    if problem:
        return problem
    key = _image_key(value) if cache is not None else None
    if key is not None and key in cache:
        return cache[key]
    try:
        _decode(value)
        problem = None
    except Exception as error:  # PIL raises many types for broken files
        problem = unreadable_image_problem(value, error)
    if key is not None:
        cache[key] = problem
    return problem


def row_problems(row: Mapping[str, Any], negative_types: Sequence[str], include_negatives: bool = True,
                 check_images: bool = True, cache: dict[Any, str | None] | None = None) -> list[str]:
    """Why one row cannot be trained on (empty when it can): the rule of `validate_dataset` and of the rows of a
    training stream (`streaming.CheckedRows`).

    A missing column is the only problem reported for its row; otherwise the caption (`rows.caption_problem`),
    `hard_negatives` (one string/None per type, `rows.row_negatives`) and, with `check_images`, the image
    (decoded in full, each distinct file or byte string once per `cache`) are each checked.
    """
    absent = [column for column in required_columns(include_negatives) if column not in row]
    if absent:
        return [f"missing column(s) {absent}; the row has {sorted(row)}"]
    problems = []
    problem = caption_problem(row[CAPTION_COLUMN])
    if problem:
        problems.append(problem)
    if include_negatives:
        try:
            row_negatives(row[NEGATIVES_COLUMN], negative_types)
        except ValueError as error:
            problems.append(str(error))
    if check_images:
        problem = _image_problem(row[IMAGE_COLUMN], cache)
        if problem:
            problems.append(problem)
    return problems


def _count_long_captions(tokenizer: Any, max_length: int, captions: list[tuple[int, str]],
                         long: list[tuple[int, int]]) -> None:
    """Appends (row index, token count) for every caption of `captions` longer than `max_length` tokens."""
    if not captions:
        return
    ids = tokenizer([caption for _, caption in captions], truncation=False, verbose=False)["input_ids"]
    long.extend((index, len(tokens)) for (index, _), tokens in zip(captions, ids) if len(tokens) > max_length)
    captions.clear()


def validate_dataset(
    dataset: Any,
    negative_types: Sequence[str],
    include_negatives: bool = True,
    check_images: bool = True,
    name: str = "dataset",
    collator: Any = None,
) -> ValidationReport:
    """Checks every row of `dataset`; returns a `ValidationReport`, or raises `DataValidationError`.

    A row is bad when a column is missing, the caption is empty or not a string, `hard_negatives` does not
    hold one string/None per type, or (with `check_images`) the image cannot be decoded: every image is
    decoded in full (a truncated file fails here, not mid-training), each distinct file or byte string once.
    With `include_negatives`, the dataset is also bad when no type has a single usable negative (training
    would be plain CLIP); a type without any is logged as a warning, and so are negatives equal to their
    caption, which are masked like None (and counted). With a `collator` (a `FineGrainedCollator`), captions
    longer than its `max_length` tokens are counted and logged once, and the kinds warned about here are
    added to `collator.reported` so training does not repeat them. Iterable datasets are not read ahead
    (the report has `validated=False`): `FineGrainedTrainer` checks the rows of a training stream as they are
    read with `row_problems`, skipping and counting bad ones (`streaming`).
    """
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a hard dependency
        datasets = None
    if datasets is not None and isinstance(dataset, datasets.IterableDataset):
        logger.warning("%s is an IterableDataset: rows are not validated ahead (a training stream's rows are "
                       "checked as they are read, bad ones skipped and counted; an unreadable image of an "
                       "evaluation stream fails at its batch, naming the file).", name)
        return ValidationReport(name, validated=False)
    types = list(negative_types)
    required = required_columns(include_negatives)
    if datasets is not None and isinstance(dataset, datasets.Dataset):
        missing = [column for column in required if column not in dataset.column_names]
        if missing:
            raise DataValidationError(
                name,
                [(None, f"missing column(s) {missing}; the dataset has {dataset.column_names}. Rename with "
                 "`dataset.rename_column(old, new)` or build it with hf_finegrained's builders.")],
                len(dataset),
            )
        dataset = dataset.select_columns(required)
        if isinstance(dataset.features.get(IMAGE_COLUMN), datasets.Image):
            dataset = dataset.cast_column(IMAGE_COLUMN, datasets.Image(decode=False))

    tokenizer = getattr(collator, "tokenizer", None)
    max_length = getattr(collator, "max_length", None) if tokenizer is not None else None
    counts = NegativeCounts(types)
    report = ValidationReport(name, negatives=counts.usable, equal_to_caption=counts.equal_to_caption,
                              truncated_captions=0 if max_length else None, max_length=max_length)
    problems: list[tuple[int | None, str]] = []
    decoded: dict[Any, str | None] = {}
    pending: list[tuple[int, str]] = []
    long: list[tuple[int, int]] = []
    for index, row in enumerate(dataset):
        report.rows += 1
        found = row_problems(row, types, include_negatives, check_images, decoded)
        problems.extend((index, problem) for problem in found)
        if any(column not in row for column in required):
            continue
        caption = row[CAPTION_COLUMN]
        if max_length and caption_problem(caption) is None:
            pending.append((index, caption))
            if len(pending) >= TOKENIZE_CHUNK:
                _count_long_captions(tokenizer, max_length, pending, long)
        if include_negatives:
            with contextlib.suppress(ValueError):  # a malformed value is among `found` already
                counts.add(row[NEGATIVES_COLUMN], caption)
    if max_length:
        _count_long_captions(tokenizer, max_length, pending, long)
        report.truncated_captions = len(long)

    masked_total = sum(report.equal_to_caption.values())
    masked_note = f"; {masked_total} negative(s) equal to their caption were masked" if masked_total else ""
    empty_types = [type_name for type_name, count in report.negatives.items() if count == 0]
    if include_negatives and types and report.rows and len(empty_types) == len(types):
        problems.append((None, (
            f"no usable hard negative in any row for any of the types {types} (coverage 0% for every type"
            f"{masked_note}): CE-CLIP would train as plain CLIP. Add negatives (e.g. "
            "hf_finegrained.builders.add_hard_negatives), check that `hard_negatives` holds them under these "
            "type names, or train plain CLIP on purpose with use_hard_negatives=False."
        )))
    if problems:
        raise DataValidationError(name, problems, report.rows)

    warned = set()
    if include_negatives and empty_types:
        logger.warning("%s: no row has a usable %s negative (coverage 0%%): its loss terms and CMR threshold will "
                       "not train. Check the type names of `hard_negatives`, or leave the type out of "
                       "negative_types.", name, ", ".join(repr(t) for t in empty_types))
    if masked_total:
        warned.add("equal_to_caption")
        per_type = {type_name: count for type_name, count in report.equal_to_caption.items() if count}
        logger.warning("%s: %d negative(s) equal to their caption (ignoring case, punctuation and spacing) are "
                       "masked like None and not trained on: %s.", name, masked_total, per_type)
    if long:
        warned.add("truncated_captions")
        examples = ", ".join(f"row {index}: {length} tokens" for index, length in long[:3])
        logger.warning("%s: %d of %d captions are longer than %d tokens and will be cut to %d (e.g. %s); the text "
                       "model sees no more. Shorten or drop them if their ends matter.", name, len(long),
                       report.rows, max_length, max_length, examples)
    if collator is not None and hasattr(collator, "reported"):
        collator.reported.update(warned)
    return report


def negative_coverage(dataset: Any, negative_types: Sequence[str]) -> dict[str, int] | None:
    """Rows with a usable negative, per type (None for datasets that cannot be read twice, e.g. iterable).

    Negatives equal to their caption are not counted, as the collator masks them (`rows.NegativeCounts`).
    """
    import datasets

    if not isinstance(dataset, datasets.Dataset) or NEGATIVES_COLUMN not in dataset.column_names:
        return None
    counts = NegativeCounts(negative_types)
    columns = [NEGATIVES_COLUMN] + ([CAPTION_COLUMN] if CAPTION_COLUMN in dataset.column_names else [])
    for batch in dataset.select_columns(columns).iter(batch_size=10_000):
        captions = batch.get(CAPTION_COLUMN) or [None] * len(batch[NEGATIVES_COLUMN])
        counts.add_rows(batch[NEGATIVES_COLUMN], captions)
    return counts.usable


def find_bad_image_files(paths: Iterable[str | os.PathLike]) -> list[tuple[str, str]]:
    """(path, problem) for every image file among `paths` that is missing or cannot be decoded in full.

    Each distinct path is decoded once; dataset builders call this before building so every bad file is
    listed at once, long before training.
    """
    bad = []
    for path in dict.fromkeys(str(p) for p in paths):
        problem = _image_problem(path)
        if problem:
            bad.append((path, problem))
    return bad
