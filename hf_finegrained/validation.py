"""A pass over a training dataset that finds every bad row before the first training step."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

from PIL import Image

from .collator import CAPTION_COLUMN, IMAGE_COLUMN, NEGATIVES_COLUMN, describe_image, row_negatives

logger = logging.getLogger(__name__)
MAX_LISTED = 50


class DataValidationError(ValueError):
    """Raised with every bad row of a dataset; ``problems`` holds (row index, message) pairs."""

    def __init__(self, name: str, problems: list[tuple[int | None, str]], num_rows: int) -> None:
        self.problems = problems
        lines = [f"row {index}: {msg}" if index is not None else msg for index, msg in problems[:MAX_LISTED]]
        more = f"\n... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        super().__init__(
            f"{name}: {len(problems)} problem(s) in {num_rows} rows; fix or drop these rows before training "
            f"(e.g. `dataset.filter(...)`), or pass validate_data=False to skip this check:\n"
            + "\n".join(lines)
            + more
        )


def _image_problem(value: Any) -> str | None:
    if value is None:
        return "image is missing (None)"
    try:
        if isinstance(value, Image.Image):
            return None
        if isinstance(value, dict) and value.get("bytes") is None and not value.get("path"):
            return "image has neither bytes nor a path"
        _open_header(value)
    except Exception as error:  # PIL raises many types for broken files
        return f"cannot read image {describe_image(value)} ({type(error).__name__}: {error}); fix or remove the file"
    return None


def _open_header(value: Any) -> None:
    """Parses only the image header (cheap), raising whatever PIL raises for a missing or broken file."""
    if isinstance(value, dict):
        source = io.BytesIO(value["bytes"]) if value.get("bytes") is not None else value["path"]
    else:
        source = value
    with Image.open(source) as image:
        image.size  # noqa: B018 - forces the header parse


def validate_dataset(
    dataset: Any,
    negative_types: Sequence[str],
    include_negatives: bool = True,
    check_images: bool = True,
    name: str = "dataset",
) -> int:
    """Checks every row of `dataset`; returns the number of rows, or raises `DataValidationError`.

    A row is bad when a column is missing, the caption is empty or not a string, `hard_negatives` does not
    hold one string/None per type, or (with `check_images`) the image cannot be opened. A `datasets.Dataset`
    with an `Image` column is read with `decode=False` so only headers are parsed. Iterable datasets are
    not checked (a warning says so).
    """
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a hard dependency
        datasets = None
    if datasets is not None and isinstance(dataset, datasets.IterableDataset):
        logger.warning("%s is an IterableDataset: rows are not validated ahead of training.", name)
        return 0
    required = [IMAGE_COLUMN, CAPTION_COLUMN] + ([NEGATIVES_COLUMN] if include_negatives else [])
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

    problems: list[tuple[int | None, str]] = []
    num_rows = 0
    for index, row in enumerate(dataset):
        num_rows += 1
        absent = [column for column in required if column not in row]
        if absent:
            problems.append((index, f"missing column(s) {absent}; the row has {sorted(row)}"))
            continue
        caption = row[CAPTION_COLUMN]
        if not isinstance(caption, str) or not caption.strip():
            problems.append((index, f"caption is empty or not a string ({caption!r})"))
        if include_negatives:
            try:
                row_negatives(row[NEGATIVES_COLUMN], negative_types)
            except ValueError as error:
                problems.append((index, str(error)))
        if check_images:
            problem = _image_problem(row[IMAGE_COLUMN])
            if problem:
                problems.append((index, problem))
    if problems:
        raise DataValidationError(name, problems, num_rows)
    return num_rows


def negative_coverage(dataset: Any, negative_types: Sequence[str]) -> dict[str, int] | None:
    """Rows with a valid negative, per type (None for datasets that cannot be read twice, e.g. iterable)."""
    import datasets

    if not isinstance(dataset, datasets.Dataset) or NEGATIVES_COLUMN not in dataset.column_names:
        return None
    counts = dict.fromkeys(negative_types, 0)
    for value in dataset.select_columns([NEGATIVES_COLUMN])[NEGATIVES_COLUMN]:
        for name, negative in zip(negative_types, row_negatives(value, negative_types)):
            counts[name] += negative is not None
    return counts


def find_bad_image_files(paths: Iterable[str | os.PathLike]) -> list[tuple[str, str]]:
    """(path, problem) for every image file among `paths` that is missing or whose header cannot be read.

    Each distinct path is opened once, header only; dataset builders call this before building so every bad
    file is listed at once, long before training.
    """
    bad = []
    for path in dict.fromkeys(str(p) for p in paths):
        problem = _image_problem(path)
        if problem:
            bad.append((path, problem))
    return bad
