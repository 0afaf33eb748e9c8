"""Turns rows (`image`, `caption`, `hard_negatives`) into CLIP inputs plus a negative mask."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from PIL import Image

IMAGE_COLUMN = "image"
CAPTION_COLUMN = "caption"
NEGATIVES_COLUMN = "hard_negatives"
DEFAULT_MAX_LENGTH = 77


def describe_image(value: Any) -> str:
    """A short, human-readable name of an image value for error messages (its path when it has one)."""
    if isinstance(value, (str, os.PathLike)):
        return str(value)
    if isinstance(value, Mapping):
        return str(value.get("path") or "<image bytes>")
    if isinstance(value, Image.Image):
        return getattr(value, "filename", "") or f"<PIL image {value.size}>"
    return f"<{type(value).__name__}>"


def open_image(value: Any) -> Image.Image:
    """Opens a PIL image, a path, or a `datasets.Image(decode=False)` dict ({"bytes", "path"}) as RGB."""
    if isinstance(value, Image.Image):
        image = value
    elif isinstance(value, (str, os.PathLike)):
        image = Image.open(value)
    elif isinstance(value, Mapping) and (value.get("bytes") is not None or value.get("path")):
        image = Image.open(io.BytesIO(value["bytes"])) if value.get("bytes") is not None else Image.open(value["path"])
    else:
        raise TypeError(f"expected a PIL image, a path or a {{'bytes', 'path'}} dict, got {type(value).__name__}")
    return image.convert("RGB")


def row_negatives(value: Any, negative_types: Sequence[str]) -> list[str | None]:
    """The K negatives of a row in `negative_types` order; accepts a list of K or a dict keyed by type name.

    Raises ValueError naming what is wrong (length, missing type, non-string entry).
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


class FineGrainedCollator:
    """Collates rows into `pixel_values` [B,3,H,W], `input_ids`/`attention_mask` [B+M, L], `negative_mask` [B,K].

    Texts are the B captions followed by the M valid negatives in row-major (row, type) order; invalid
    negatives (None or blank) are not encoded at all, which saves text-encoder work, and are False in
    `negative_mask`. Texts are padded to the longest in the batch and truncated at `max_length`.

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

    def __call__(self, rows: list[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        images, captions, negatives, mask = [], [], [], []
        for position, row in enumerate(rows):
            where = f"batch row {position} (caption {row.get(CAPTION_COLUMN)!r}, image {describe_image(row.get(IMAGE_COLUMN))})"
            for column in (IMAGE_COLUMN, CAPTION_COLUMN) + ((NEGATIVES_COLUMN,) if self.include_negatives else ()):
                if column not in row:
                    raise KeyError(
                        f"{where} has no '{column}' column (columns: {sorted(row)}). Rename your columns or set "
                        "remove_unused_columns=False so the Trainer keeps them."
                    )
            caption = row[CAPTION_COLUMN]
            if not isinstance(caption, str) or not caption.strip():
                raise ValueError(f"{where}: the caption is empty or not a string; drop or fix this row.")
            try:
                images.append(open_image(row[IMAGE_COLUMN]))
            except Exception as error:  # PIL raises many types for broken files
                raise ValueError(f"{where}: cannot read the image ({error}); fix or remove the file.") from error
            captions.append(caption)
            if self.include_negatives:
                try:
                    row_negs = row_negatives(row[NEGATIVES_COLUMN], self.negative_types)
                except ValueError as error:
                    raise ValueError(f"{where}: {error}.") from error
                mask.append([neg is not None for neg in row_negs])
                negatives.extend(neg for neg in row_negs if neg is not None)

        tokens = self.tokenizer(
            captions + negatives,
            padding="longest",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        batch = {
            "pixel_values": self.image_processor(images=images, return_tensors="pt")["pixel_values"],
            "input_ids": tokens["input_ids"],
            "attention_mask": tokens["attention_mask"],
        }
        if self.include_negatives:
            batch["negative_mask"] = torch.tensor(mask, dtype=torch.bool).reshape(len(rows), len(self.negative_types))
        return batch
