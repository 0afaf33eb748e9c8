"""Turns rows (`image`, `caption`, `hard_negatives`) into CLIP inputs plus a negative mask."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .families import CLIP, ModelFamily
from .pixels import IMAGE_PIPELINES
from .rows import (
    CAPTION_COLUMN,
    IMAGE_COLUMN,
    NEGATIVES_COLUMN,
    caption_problem,
    describe_row,
    open_image,
    required_columns,
    usable_negatives,
)

logger = logging.getLogger(__name__)

INDEX_KEY = "__index__"  # a row's index in the user's dataset (`IndexedRows`), for error messages
COLUMNS_KEY = "__columns__"  # the dataset's columns as the user gave them (`IndexedRows`), for error messages
ROW_KEYS = (INDEX_KEY, COLUMNS_KEY)


class IndexedRows(torch.utils.data.Dataset):
    """A map-style dataset whose rows reach the collator with their dataset index (`INDEX_KEY`) and the dataset's
    columns as the user gave them (`COLUMNS_KEY`), so that `FineGrainedCollator`'s errors name `dataset row 5`
    (not its place in the batch) and the user's own columns (not those left after the Trainer dropped unused ones).

    `FineGrainedTrainer` wraps its map-style datasets in it when it builds a loader, after the Trainer's column
    removal (`remove_unused_columns`), which keeps both keys. `columns`: the original column names (of a
    `datasets.Dataset`); None takes each row's own keys (a list of rows). Rows that are not mappings pass as they are.
    """

    def __init__(self, data: Any, columns: Sequence[str] | None = None) -> None:
        self.data = data
        self.columns = list(columns) if columns is not None else None

    def __len__(self) -> int:
        return len(self.data)

    def _with_index(self, index: Any, row: Any) -> Any:
        if not isinstance(row, Mapping):
            return row
        return {**row, INDEX_KEY: int(index), COLUMNS_KEY: self.columns if self.columns is not None else list(row)}

    def __getitem__(self, index: int) -> Any:
        return self._with_index(index, self.data[index])

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """A batch of rows in one read where the dataset can (`datasets.Dataset.__getitems__`)."""
        getitems = getattr(self.data, "__getitems__", None)
        rows = getitems(indices) if getitems else [self.data[index] for index in indices]
        return [self._with_index(index, row) for index, row in zip(indices, rows)]


def _describe(row: Mapping[str, Any], position: int) -> str:
    """`describe_row` naming the dataset row when the row carries its index (`IndexedRows`), else the batch row."""
    where = f"dataset row {row[INDEX_KEY]}" if row.get(INDEX_KEY) is not None else None
    return describe_row(row, position, where=where)


class FineGrainedCollator:
    """Collates rows into `pixel_values` [B,3,H,W], `input_ids`/`attention_mask` [B+M, L], `negative_mask` [B,K].

    Texts are the B captions followed by the M valid negatives in row-major (row, type) order; invalid
    negatives (None, blank, or equal to their caption ignoring case, punctuation and spacing) are not
    encoded at all, which saves text-encoder work, and are False in `negative_mask`. Texts are padded as the
    model family was trained (`ModelFamily.text_padding`: CLIP to the longest in the batch, SigLIP to
    `max_length`) and truncated at `max_length`; `attention_mask` is included when the tokenizer makes one
    (SigLIP's does not). Image inputs are those the family's forward takes (SigLIP 2 adds
    `pixel_attention_mask` and `spatial_shapes`).

    Images take one of two paths (`image_pipeline`). "processor" (the reference): each image decoded in full and
    run through the image processor, float `pixel_values` [B, 3, H, W] ready for the model. "fast"
    (`pixels.PixelRule`, read from the processor's config): JPEGs decoded at reduced scale when larger than
    needed, resized and cropped as the processor does, kept in uint8: `pixel_values` is [B, 3, H, W] uint8 and
    must be normalised on the device (`pixels.normalize_batch` with `collator.pixel_rule`, which
    `FineGrainedTrainer.compute_loss` does) before the model sees it. Non-JPEG images (PNGs, in-memory images)
    give the processor's values exactly; reduced-scale JPEGs differ slightly (docs/PERFORMANCE.md). SigLIP 2
    has no fast path.

    `counts` holds, for the rows collated in this process, `rows`, `equal_to_caption` (negatives masked for
    equalling their caption) and `truncated_captions` (captions cut at `max_length`); the first of each
    kind is logged as a warning unless its kind is in `reported` (`validate_dataset(..., collator=...)` adds
    the kinds it already warned about). With dataloader workers each worker process keeps its own counts.

    Args:
        processor: the model's processor (anything with `.tokenizer` and `.image_processor`).
        negative_types: the type names, in the order of each row's `hard_negatives`.
        max_length: truncation length; default `ModelFamily.max_text_length` of the tokenizer (its
            `model_max_length` when finite, else 77). The trainer passes the rule's value for the model.
        include_negatives: False collates captions and images only (plain CLIP training).
        family: the model family (`families.CLIP` by default).
        image_pipeline: "processor" (default here: the batch feeds a model as it is) or "fast" (uint8 pixels,
            normalised on the device; the trainer's default, `FineGrainedTrainingArguments.image_pipeline`).
    """

    def __init__(
        self,
        processor: Any,
        negative_types: Sequence[str],
        max_length: int | None = None,
        include_negatives: bool = True,
        family: ModelFamily = CLIP,
        image_pipeline: str = "processor",
    ) -> None:
        if image_pipeline not in IMAGE_PIPELINES:
            raise ValueError(f"image_pipeline={image_pipeline!r}; choose one of {IMAGE_PIPELINES}.")
        self.family = family
        self.tokenizer = processor.tokenizer
        self.image_processor = processor.image_processor
        self.image_pipeline = image_pipeline
        self.pixel_rule = family.pixel_rule(self.image_processor) if image_pipeline == "fast" else None
        self.negative_types = list(negative_types)
        self.max_length = family.max_text_length(self.tokenizer, override=max_length)
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
            for column in required_columns(self.include_negatives):
                if column not in row:
                    columns = row.get(COLUMNS_KEY) or sorted(key for key in row if key not in ROW_KEYS)
                    raise KeyError(
                        f"{_describe(row, position)} has no '{column}' column (the dataset's columns: {columns}). "
                        "Rename your columns; with a plain `Trainer` (which keeps only its model's arguments), use "
                        "FineGrainedTrainer or set remove_unused_columns=False so the Trainer keeps them."
                    )
            caption = row[CAPTION_COLUMN]
            problem = caption_problem(caption)
            if problem:
                raise ValueError(f"{_describe(row, position)}: {problem}; drop or fix this row.")
            try:
                images.append(self.decode_image(row[IMAGE_COLUMN]))
            except Exception as error:  # PIL raises many types for broken files
                raise ValueError(
                    f"{_describe(row, position)}: cannot read the image ({type(error).__name__}: {error}); fix or "
                    "remove the file (validate_dataset(dataset, negative_types) lists every such row by index)."
                ) from error
            captions.append(caption)
            if self.include_negatives:
                try:
                    row_negs, masked = usable_negatives(row[NEGATIVES_COLUMN], self.negative_types, caption)
                except ValueError as error:
                    raise ValueError(f"{_describe(row, position)}: {error}.") from error
                if any(masked):
                    self.counts["equal_to_caption"] += sum(masked)
                    names = [name for name, drop in zip(self.negative_types, masked) if drop]
                    self._warn_once("equal_to_caption", f"{_describe(row, position)}: the {names} negative(s) "
                                    "equal the caption (ignoring case, punctuation and spacing) and are masked "
                                    "like None")
                mask.append([neg is not None for neg in row_negs])
                negatives.extend(neg for neg in row_negs if neg is not None)
        self.counts["rows"] += len(rows)

        tokens = self.tokenizer(captions + negatives, return_tensors="pt", **self.family.text_kwargs(self.max_length))
        self._count_truncated(rows, captions, self._lengths(tokens)[: len(captions)])
        if self.pixel_rule is not None:
            batch = {"pixel_values": self.pixel_rule(images), "input_ids": tokens["input_ids"]}
        else:
            batch = {**self.family.image_inputs(self.image_processor, images), "input_ids": tokens["input_ids"]}
        if "attention_mask" in tokens:
            batch["attention_mask"] = tokens["attention_mask"]
        if self.include_negatives:
            batch["negative_mask"] = torch.tensor(mask, dtype=torch.bool).reshape(len(rows), len(self.negative_types))
        return batch

    @property
    def decode_image(self) -> Any:
        """The image decode of this collator's path: `rows.open_image`, or the fast path's `PixelRule.decode`
        (a stream's row check decodes with it too, so each image is decoded once)."""
        return self.pixel_rule.decode if self.pixel_rule is not None else open_image

    def _lengths(self, tokens: Mapping[str, torch.Tensor]) -> list[int]:
        """Tokens of each text: the attention mask's sum, or (a tokenizer without one) the non-pad ids."""
        if "attention_mask" in tokens:
            return tokens["attention_mask"].sum(1).tolist()
        return (tokens["input_ids"] != self.tokenizer.pad_token_id).sum(1).tolist()

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
            self._warn_once("truncated_captions", f"{_describe(rows[position], position)}: the caption has "
                            f"{length} tokens and is cut to {self.max_length} tokens (the collator's max_length)")
