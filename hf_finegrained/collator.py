"""Turns rows (`image`, `caption`, `hard_negatives`) into CLIP inputs plus a negative mask."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from PIL import Image

from .negatives.text import normalize

logger = logging.getLogger(__name__)

IMAGE_COLUMN = "image"
CAPTION_COLUMN = "caption"
NEGATIVES_COLUMN = "hard_negatives"
DEFAULT_MAX_LENGTH = 77
# Columns that identify a row in error messages when present (the DataLoader gives the collator rows, not
# dataset indices); the COCO and Karpathy builders write `image_id` (and COCO `caption_id`).
ROW_ID_COLUMNS = ("id", "image_id", "caption_id")


def describe_image(value: Any) -> str:
    """A short, human-readable name of an image value for error messages (its path when it has one)."""
    if isinstance(value, (str, os.PathLike)):
        return str(value)
    if isinstance(value, Mapping):
        return str(value.get("path") or "<image bytes>")
    if isinstance(value, Image.Image):
        return getattr(value, "filename", "") or f"<PIL image {value.size}>"
    return f"<{type(value).__name__}>"


def describe_row(row: Mapping[str, Any], position: int | None = None) -> str:
    """`batch row 3 (image_id=7, caption 'a cat', image /data/7.jpg)`: how an error names a row."""
    ids = "".join(f"{key}={row[key]!r}, " for key in ROW_ID_COLUMNS if row.get(key) is not None)
    where = "row" if position is None else f"batch row {position}"
    return f"{where} ({ids}caption {row.get(CAPTION_COLUMN)!r}, image {describe_image(row.get(IMAGE_COLUMN))})"


def open_image(value: Any) -> Image.Image:
    """Opens a PIL image, a path, or a `datasets.Image(decode=False)` dict ({"bytes", "path"}) as RGB.

    Dicts are decoded by `datasets.Image` itself (remote `hf://` paths, EXIF orientation), exactly as a
    dataset with `decode=True` would; every image is fully decoded here, so a truncated file raises here.
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
    caption (such a "negative" would teach the model to reject a true caption). Used by the collator, the
    validation pass and the coverage counts, so all three agree.
    """
    negatives = row_negatives(value, negative_types)
    if not isinstance(caption, str):
        return negatives, [False] * len(negatives)
    key = normalize(caption)
    masked = [negative is not None and normalize(negative) == key for negative in negatives]
    return [None if drop else negative for negative, drop in zip(negatives, masked)], masked


class FineGrainedCollator:
    """Collates rows into `pixel_values` [B,3,H,W], `input_ids`/`attention_mask` [B+M, L], `negative_mask` [B,K].

    Texts are the B captions followed by the M valid negatives in row-major (row, type) order; invalid
    negatives (None, blank, or equal to their caption ignoring case, punctuation and spacing) are not
    encoded at all, which saves text-encoder work, and are False in `negative_mask`. Texts are padded to
    the longest in the batch and truncated at `max_length`.

    `counts` holds, for the rows collated in this process, `rows`, `equal_to_caption` (negatives masked for
    equalling their caption) and `truncated_captions` (captions cut at `max_length`); the first of each
    kind is logged as a warning unless its kind is in `reported` (`validate_dataset(..., collator=...)` adds
    the kinds it already warned about). With dataloader workers each worker process keeps its own counts.

    Args:
        processor: a `CLIPProcessor` (or anything with `.tokenizer` and `.image_processor`).
        negative_types: the type names, in the order of each row's `hard_negatives`.
        max_length: truncation length; default the tokenizer's `model_max_length` when finite, else 77.
        include_negatives: False collates captions and images only (plain CLIP training).
    """

    def __init__(
        self,
        processor: Any,
        negative_types: Sequence[str],
        max_length: int | None = None,
        include_negatives: bool = True,
    ) -> None:
        self.tokenizer = processor.tokenizer
        self.image_processor = processor.image_processor
        self.negative_types = list(negative_types)
        if max_length is None:
            model_max = getattr(self.tokenizer, "model_max_length", None)
            max_length = model_max if isinstance(model_max, int) and model_max < 100_000 else DEFAULT_MAX_LENGTH
        self.max_length = max_length
        self.include_negatives = include_negatives
        self.counts = {"rows": 0, "equal_to_caption": 0, "truncated_captions": 0}
        self.reported: set[str] = set()

    def _warn_once(self, kind: str, message: str) -> None:
        if kind not in self.reported:
            self.reported.add(kind)
            logger.warning("%s; later ones are only counted (collator.counts[%r]).", message, kind)

    def __call__(self, rows: list[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        images, captions, negatives, mask = [], [], [], []
        for position, row in enumerate(rows):
            for column in (IMAGE_COLUMN, CAPTION_COLUMN) + ((NEGATIVES_COLUMN,) if self.include_negatives else ()):
                if column not in row:
                    raise KeyError(
                        f"{describe_row(row, position)} has no '{column}' column (columns: {sorted(row)}). Rename "
                        "your columns or set remove_unused_columns=False so the Trainer keeps them."
                    )
            caption = row[CAPTION_COLUMN]
            if not isinstance(caption, str) or not caption.strip():
                raise ValueError(f"{describe_row(row, position)}: the caption is empty or not a string; drop or fix "
                                 "this row.")
            try:
                images.append(open_image(row[IMAGE_COLUMN]))
            except Exception as error:  # PIL raises many types for broken files
                raise ValueError(
                    f"{describe_row(row, position)}: cannot read the image ({type(error).__name__}: {error}); fix or "
                    "remove the file (validate_dataset(dataset, negative_types) lists every such row by index)."
                ) from error
            captions.append(caption)
            if self.include_negatives:
                try:
                    row_negs, masked = usable_negatives(row[NEGATIVES_COLUMN], self.negative_types, caption)
                except ValueError as error:
                    raise ValueError(f"{describe_row(row, position)}: {error}.") from error
                if any(masked):
                    self.counts["equal_to_caption"] += sum(masked)
                    names = [name for name, drop in zip(self.negative_types, masked) if drop]
                    self._warn_once("equal_to_caption", f"{describe_row(row, position)}: the {names} negative(s) "
                                    "equal the caption (ignoring case, punctuation and spacing) and are masked "
                                    "like None")
                mask.append([neg is not None for neg in row_negs])
                negatives.extend(neg for neg in row_negs if neg is not None)
        self.counts["rows"] += len(rows)

        tokens = self.tokenizer(
            captions + negatives,
            padding="longest",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        self._count_truncated(rows, captions, tokens["attention_mask"][: len(captions)].sum(1).tolist())
        batch = {
            "pixel_values": self.image_processor(images=images, return_tensors="pt")["pixel_values"],
            "input_ids": tokens["input_ids"],
            "attention_mask": tokens["attention_mask"],
        }
        if self.include_negatives:
            batch["negative_mask"] = torch.tensor(mask, dtype=torch.bool).reshape(len(rows), len(self.negative_types))
        return batch

    def _count_truncated(self, rows: list[Mapping[str, Any]], captions: list[str], lengths: list[int]) -> None:
        """Counts the captions cut at `max_length`; only those that fill it are tokenized again, untruncated."""
        full = [position for position, length in enumerate(lengths) if length >= self.max_length]
        if not full:
            return
        untruncated = self.tokenizer([captions[p] for p in full], truncation=False, verbose=False)["input_ids"]
        cut = [(p, len(ids)) for p, ids in zip(full, untruncated) if len(ids) > self.max_length]
        if cut:
            self.counts["truncated_captions"] += len(cut)
            position, length = cut[0]
            self._warn_once("truncated_captions", f"{describe_row(rows[position], position)}: the caption has "
                            f"{length} tokens and is cut to {self.max_length} tokens (the collator's max_length)")
