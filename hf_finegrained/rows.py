"""The row schema: what one training row is, and the rules every reader of rows applies to it.

A row is a mapping with an `image` (a PIL image, a path, or a `datasets.Image(decode=False)` dict
{"bytes", "path"}), a `caption` (a non-blank string) and `hard_negatives`: one negative caption or None
per configured type, either a list in type order or a dict keyed by type name (the builders write a struct
keyed by type name). A negative is usable when it is a non-blank string that does not equal its caption
under `negatives.text.normalize`. Optional id columns (`ROW_ID_COLUMNS`) name the row in error messages.

The collator, the validation pass and the dataset report all read rows through this module, and every
per-type coverage count is a `NegativeCounts`, so they agree on what a usable caption and negative are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .negatives.text import normalize

IMAGE_COLUMN = "image"
CAPTION_COLUMN = "caption"
NEGATIVES_COLUMN = "hard_negatives"
# Columns that identify a row in error messages when present (the DataLoader gives the collator rows, not
# dataset indices); the COCO and Karpathy builders write `image_id` (and COCO `caption_id`).
ROW_ID_COLUMNS = ("id", "image_id", "caption_id")


def required_columns(include_negatives: bool = True) -> list[str]:
    """The columns every row must have: `image`, `caption` and (unless training plain CLIP) `hard_negatives`."""
    return [IMAGE_COLUMN, CAPTION_COLUMN] + ([NEGATIVES_COLUMN] if include_negatives else [])


def rename_to_row_columns(data: Any, given: Mapping[str, str], source: str,
                          flags: Mapping[str, str] | None = None) -> Any:
    """`data` (a `Dataset`, an `IterableDataset`, or a dict of splits of them) with the input's columns renamed to a
    row's (`given`: row column -> the input's name for it, e.g. {"caption": "text"}), as run_clip.py's
    `--caption_column` / `--image_column` do.

    Checked on every split before anything is read: a renamed column the input lacks, or an input holding both the
    given name and the row's name, raises ValueError naming `source`, the split, the flag (`flags`: row column ->
    flag) and the columns. A stream whose columns are unknown until read is renamed unchecked.
    """
    if isinstance(data, Mapping):
        return type(data)({split: _renamed(part, given, f"{source} (split {split!r})", flags or {})
                           for split, part in data.items()})
    return _renamed(data, given, source, flags or {})


def _renamed(part: Any, given: Mapping[str, str], source: str, flags: Mapping[str, str]) -> Any:
    columns = part.column_names
    renames = {}
    for wanted, name in given.items():
        if name == wanted:
            continue
        flag = flags.get(wanted, wanted)
        if columns is not None and name not in columns:
            raise ValueError(f"{source} has no column {name!r} ({flag}); its columns are {columns}.")
        if columns is not None and wanted in columns:
            raise ValueError(f"{source} has both {name!r} ({flag}) and {wanted!r}, the name it is read as; drop or "
                             f"rename {wanted!r} first. Its columns are {columns}.")
        renames[name] = wanted
    return part.rename_columns(renames) if renames else part


def caption_problem(caption: Any) -> str | None:
    """Why `caption` cannot be trained on, or None when it can: a caption must be a string with a non-blank
    character. The one caption rule of the collator and the validation pass."""
    if isinstance(caption, str) and caption.strip():
        return None
    return f"caption is empty or not a string ({caption!r})"


def describe_image(value: Any) -> str:
    """A short, human-readable name of an image value for error messages (its path when it has one)."""
    if isinstance(value, (str, os.PathLike)):
        return str(value)
    if isinstance(value, Mapping):
        return str(value.get("path") or "<image bytes>")
    if isinstance(value, Image.Image):
        return getattr(value, "filename", "") or f"<PIL image {value.size}>"
    return f"<{type(value).__name__}>"


def describe_row(row: Mapping[str, Any], position: int | None = None, where: str | None = None) -> str:
    """`batch row 3 (image_id=7, caption 'a cat', image /data/7.jpg)`: how an error names a row.

    `where` replaces the leading `batch row 3` (e.g. `stream row 41 of process 1`)."""
    ids = "".join(f"{key}={row[key]!r}, " for key in ROW_ID_COLUMNS if row.get(key) is not None)
    if where is None:
        where = "row" if position is None else f"batch row {position}"
    return f"{where} ({ids}caption {row.get(CAPTION_COLUMN)!r}, image {describe_image(row.get(IMAGE_COLUMN))})"


def open_image(value: Any) -> Image.Image:
    """Opens a PIL image, a path, or a `datasets.Image(decode=False)` dict ({"bytes", "path"}) as RGB.

    Dicts are decoded by `datasets.Image` itself (remote `hf://` paths, EXIF orientation), exactly as a
    dataset with `decode=True` would; every image is fully decoded here, so a truncated file raises here.
    Transparency is dropped by PIL's `convert("RGB")` (each pixel keeps its colour), as open_clip and the
    benchmarks' reference scripts do; transformers' image processors instead lay a transparent image on
    white, so on RGBA or LA images `processor(images=...)` and this package's pipeline differ. Convert such
    images before building a dataset to get the processor's result.
    """
    if isinstance(value, Image.Image):
        image = value
    elif isinstance(value, (str, os.PathLike)):
        image = Image.open(value)
    elif isinstance(value, Mapping) and (value.get("bytes") is not None or value.get("path")):
        import datasets

        image = datasets.Image().decode_example({"bytes": value.get("bytes"), "path": value.get("path")})
    else:
        raise TypeError(f"expected a PIL image, a path or a {{'bytes', 'path'}} dict, got {type(value).__name__}")
    return image.convert("RGB")


def defer_image_decoding(data: Any) -> Any:
    """`data` with its `image` column read undecoded, so that `FineGrainedCollator` decodes the images.

    A `datasets.Image()` column is otherwise decoded inside `datasets`, where a truncated or corrupt file
    stops training with a bare `OSError` naming neither row nor file; the collator's error names both.
    Applies to a `Dataset`, an `IterableDataset` (streaming) or a dict of them; anything else (a list of
    rows, a torch dataset, a string column of paths) is returned unchanged. Only the feature changes
    (no data is rewritten), and images are decoded by `datasets.Image` as before.
    """
    import datasets

    if isinstance(data, Mapping) and not isinstance(data, (datasets.Dataset, datasets.IterableDataset)):
        return type(data)({key: defer_image_decoding(value) for key, value in data.items()})
    if isinstance(data, (datasets.Dataset, datasets.IterableDataset)) and data.features is not None:
        feature = data.features.get(IMAGE_COLUMN)
        if isinstance(feature, datasets.Image) and feature.decode:
            return data.cast_column(IMAGE_COLUMN, datasets.Image(mode=feature.mode, decode=False))
    return data


def row_negatives(value: Any, negative_types: Sequence[str]) -> list[str | None]:
    """The K negatives of a row in `negative_types` order; accepts a list of K or a dict keyed by type name.

    Blank strings become None. Raises ValueError naming what is wrong (length, missing type, non-string entry).
    """
    if isinstance(value, Mapping):
        missing = [name for name in negative_types if name not in value]
        if missing:
            raise ValueError(f"hard_negatives has no entry for type(s) {missing}; it has {sorted(value)}")
        items = [value[name] for name in negative_types]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        items = list(value)
        if len(items) != len(negative_types):
            raise ValueError(
                f"hard_negatives has {len(items)} entries but {len(negative_types)} negative types are "
                f"configured ({list(negative_types)}); give one string or None per type, in that order"
            )
    else:
        raise ValueError(f"hard_negatives must be a list of {len(negative_types)} strings/None, got {type(value).__name__}")
    for item in items:
        if item is not None and not isinstance(item, str):
            raise ValueError(f"hard_negatives entries must be str or None, got {type(item).__name__}: {item!r}")
    return [item if item and item.strip() else None for item in items]


def usable_negatives(value: Any, negative_types: Sequence[str], caption: Any) -> tuple[list[str | None], list[bool]]:
    """`row_negatives`, with every negative equal to `caption` under `negatives.text.normalize` (the
    generator's never-equal rule: case, punctuation and spacing ignored) set to None too.

    Returns (negatives, masked): `masked[k]` is True where type k's negative was dropped for equalling the
    caption (such a "negative" would teach the model to reject a true caption).
    """
    negatives = row_negatives(value, negative_types)
    if not isinstance(caption, str):
        return negatives, [False] * len(negatives)
    key = normalize(caption)
    masked = [negative is not None and normalize(negative) == key for negative in negatives]
    return [None if drop else negative for negative, drop in zip(negatives, masked)], masked


@dataclass
class NegativeCounts:
    """Per-type negative counts over rows: the one count behind every "coverage" (validation, the dataset
    report, the model card).

    `rows`: rows counted; `usable[type]`: rows whose negative of that type is usable (`usable_negatives`);
    `equal_to_caption[type]`: rows whose negative of that type was masked for equalling the caption;
    `rows_without`: rows with no usable negative of any type.
    """

    negative_types: list[str]
    rows: int = 0
    rows_without: int = 0
    usable: dict[str, int] = field(init=False)
    equal_to_caption: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.negative_types = list(self.negative_types)
        self.usable = dict.fromkeys(self.negative_types, 0)
        self.equal_to_caption = dict.fromkeys(self.negative_types, 0)

    def add(self, value: Any, caption: Any) -> list[str | None]:
        """Counts one row from its `hard_negatives` value and caption; returns its usable negatives.

        Raises `row_negatives`'s ValueError, counting nothing, when `value` is malformed.
        """
        negatives, masked = usable_negatives(value, self.negative_types, caption)
        self.add_mask([negative is not None for negative in negatives], masked)
        return negatives

    def add_rows(self, values: Iterable[Any], captions: Iterable[Any]) -> NegativeCounts:
        """Counts a batch of rows (`values[i]` with `captions[i]`); returns self."""
        for value, caption in zip(values, captions, strict=True):
            self.add(value, caption)
        return self

    def add_mask(self, present: Sequence[bool], masked: Sequence[bool] | None = None) -> None:
        """Counts one row already read: `present[k]` is whether type k's negative is usable (a row of the
        collator's `negative_mask`), `masked[k]` whether it was dropped for equalling the caption."""
        if len(present) != len(self.negative_types):
            raise ValueError(f"a mask of {len(present)} entries for {len(self.negative_types)} negative types")
        self.rows += 1
        self.rows_without += not any(present)
        for name, usable, drop in zip(self.negative_types, present, masked or [False] * len(present)):
            self.usable[name] += bool(usable)
            self.equal_to_caption[name] += bool(drop)
