"""Streaming training data: a `datasets.IterableDataset` split across processes, given hard negatives and checked
row by row as it is read.

`FineGrainedTrainer` turns a training stream into `CheckedRows` (`prepare_stream`), in this order:

1. **Columns**: when the stream declares its features, a missing `image` or `caption` column, or a missing
   `hard_negatives` column without `generate_negatives`, stops the run before training.
2. **Processes**: `datasets.distributed.split_dataset_by_node` gives each process its own shards (or, when
   the shards do not divide evenly, every `world_size`-th row), so each row is read once per epoch by one
   process. The trainer then batches each process's rows itself (`FineGrainedTrainer.get_train_dataloader`):
   accelerate would otherwise read the whole stream on every process and keep one batch in N
   (`IterableDatasetShard`), or dispatch batches from process 0 and slice them, which would cut the
   negatives off `input_ids` (so `dispatch_batches` stays off).
3. **Negatives** (`generate_negatives`): rows without `hard_negatives` get `HardNegativeGenerator`'s, made by
   `IterableDataset.map` where the rows are read, i.e. inside each dataloader worker (the generator is
   pickled without its spaCy pipeline and loads it once per worker).
4. **Rows**: `CheckedRows` applies `validation.row_problems` to each row and decodes its image in full (the
   decoded image goes on to the collator, so it is decoded once); a bad row is skipped before batching, so
   batches keep their size. It runs where the rows are read (the dataloader workers, with
   `dataloader_num_workers > 0`), whose counts would not reach the main process by themselves: each row
   carries the counts since the previous one (`STREAM_KEY`), `StreamCollator` sums them into the batch, and
   the trainer adds them up in the main process (`StreamCounts`), names the first `NAMED_ROWS` bad rows in
   the log and the model card, and stops once the share of bad rows passes `max_bad_row_rate`, judged from
   the `MIN_ROWS_JUDGED`-th row a process has read on (so one early bad row does not stop a run). The log and
   the error name a bad row's image by its local path; the model card, which is published, by its file name
   only (`public_text`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .rows import (
    CAPTION_COLUMN,
    IMAGE_COLUMN,
    NEGATIVES_COLUMN,
    defer_image_decoding,
    describe_row,
    open_image,
    required_columns,
)
from .validation import missing_image_problem, row_problems, unreadable_image_problem

logger = logging.getLogger(__name__)

STREAM_KEY = "_finegrained_stream"  # the per-row (then per-batch) counts of the rows checked before it
MIN_ROWS_JUDGED = 100  # rows a process reads before its share of bad rows is judged
NAMED_ROWS = 5  # bad rows named in the log, in the model card and in the error
NEGATIVES_BATCH = 64  # captions per spaCy batch when negatives are made on the fly
GENERATE_HINT = "pass generate_negatives=True (--generate_negatives) to make them on the fly as rows are read"


def public_text(text: str, image: Any) -> str:
    """`text` (a bad row's name and reason) as a published card may hold it: the folders of the row's image path
    are taken out wherever the path appears (its file name stays, e.g. `img3.png`), and any other mention of the
    home folder becomes `~`."""
    path = image.get("path") if isinstance(image, Mapping) else image
    if isinstance(path, (str, os.PathLike)):
        folder = os.path.dirname(os.fspath(path))
        if folder:
            text = text.replace(folder.rstrip(os.sep) + os.sep, "")
    home = os.path.expanduser("~")
    if home and home != os.sep:
        text = text.replace(home, "~")
    return text


class BadRowRateError(ValueError):
    """Raised when the share of bad rows a process has skipped passes `max_bad_row_rate`."""


def is_stream(data: Any) -> bool:
    """Whether `data` is a `datasets.IterableDataset` (streaming rows)."""
    import datasets

    return isinstance(data, datasets.IterableDataset)


def check_stream_columns(stream: Any, include_negatives: bool, generate_negatives: bool) -> None:
    """Stops before training when the stream declares its features and a column the rows need is not among
    them (a stream with unknown features is checked row by row instead)."""
    features = getattr(stream, "features", None)
    if features is None:
        return
    missing = [column for column in required_columns(include_negatives) if column not in features]
    if generate_negatives and NEGATIVES_COLUMN in missing:
        missing.remove(NEGATIVES_COLUMN)
    if not missing:
        return
    hint = f" For `{NEGATIVES_COLUMN}`, {GENERATE_HINT}, or train plain CLIP with use_hard_negatives=False." \
        if NEGATIVES_COLUMN in missing else ""
    raise ValueError(f"train_dataset (a stream) has no {', '.join(repr(c) for c in missing)} column; it has "
                     f"{sorted(features)}. Rename with `dataset.rename_column(old, new)`.{hint}")


class NegativesFiller:
    """`IterableDataset.map(batched=True)` function: `hard_negatives` (in `negative_types` order) for the rows
    that have none (no such column, or None), from `generator`; other rows keep theirs."""

    def __init__(self, generator: Any, negative_types: Sequence[str]) -> None:
        self.generator = generator
        self.negative_types = list(negative_types)

    def __call__(self, batch: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
        size = len(next(iter(batch.values())))
        captions = batch.get(CAPTION_COLUMN) or [None] * size
        negatives = list(batch.get(NEGATIVES_COLUMN) or [None] * size)
        todo = [index for index, value in enumerate(negatives) if value is None]
        made = self.generator.generate([captions[index] for index in todo], progress=False) if todo else []
        for index, row in zip(todo, made):
            negatives[index] = [row[name] for name in self.negative_types]
        return {NEGATIVES_COLUMN: negatives}


def prepare_stream(stream: Any, negative_types: Sequence[str], include_negatives: bool = True,
                   generate_negatives: bool = False, seed: int = 0, process_index: int = 0, world_size: int = 1,
                   check: bool = True, decode: Callable[[Any], Any] = open_image) -> CheckedRows:
    """The training rows of this process (module docstring): columns checked, images left undecoded for the
    check, this process's part of the stream, negatives made when asked, each row checked as it is read (its
    image decoded by `decode`: the collator's, `FineGrainedCollator.decode_image`, so that the fast path's
    reduced-scale decode applies to streams too)."""
    check_stream_columns(stream, include_negatives, generate_negatives and include_negatives)
    stream = defer_image_decoding(stream)
    if world_size > 1:
        from datasets.distributed import split_dataset_by_node

        stream = split_dataset_by_node(stream, rank=process_index, world_size=world_size)
    if generate_negatives and include_negatives:
        from .negatives import HardNegativeGenerator

        filler = NegativesFiller(HardNegativeGenerator(types=negative_types, seed=seed), negative_types)
        stream = stream.map(filler, batched=True, batch_size=NEGATIVES_BATCH)
    return CheckedRows(stream, negative_types, include_negatives, check=check,
                       process=process_index if world_size > 1 else None, decode=decode)


class CheckedRows(torch.utils.data.IterableDataset):
    """The rows of `stream` that can be trained on, in order; each carries, under `STREAM_KEY`, the counts of
    the rows read since the one before it (`{"read", "skipped", "named", "public"}`: the bad rows named with
    their local paths, and as a published card names them, `public_text`), bad ones included.

    A row is bad when `validation.row_problems` finds a problem or its image does not decode in full; a good
    row's image is replaced by the decoded RGB image. Each row is held until the next good one is found, so
    the bad rows at the end of the stream are counted on the last good row. A stream (or a dataloader
    worker's part of it) without a single good row raises, naming its first bad rows. `check=False` passes
    the rows through unchecked, without counts. `decode` opens an image (`rows.open_image`, or the collator's
    fast-path decode).
    """

    def __init__(self, stream: Any, negative_types: Sequence[str], include_negatives: bool = True,
                 check: bool = True, process: int | None = None, decode: Callable[[Any], Any] = open_image) -> None:
        self.stream = stream
        self.decode = decode
        self.negative_types = list(negative_types)
        self.include_negatives = include_negatives
        self.check = check
        self.process = process

    def set_epoch(self, epoch: int) -> None:
        """Passed on to the stream (its shuffling, if any, depends on the epoch)."""
        if hasattr(self.stream, "set_epoch"):
            self.stream.set_epoch(epoch)

    def _where(self, position: int) -> str:
        worker = torch.utils.data.get_worker_info()
        parts = [f"stream row {position}"]
        if worker is not None and worker.num_workers > 1:
            parts.append(f"of dataloader worker {worker.id}")
        if self.process is not None:
            parts.append(f"of process {self.process}")
        return " ".join(parts)

    def _problem(self, row: dict[str, Any]) -> str | None:
        """The row's first problem, or None after replacing its image by the decoded one."""
        found = row_problems(row, self.negative_types, self.include_negatives, check_images=False)
        if found:
            if NEGATIVES_COLUMN not in row and self.include_negatives:
                found[0] += f" ({GENERATE_HINT})"
            return "; ".join(found)
        value = row[IMAGE_COLUMN]
        problem = missing_image_problem(value)
        if problem:
            return problem
        try:
            row[IMAGE_COLUMN] = self.decode(value)
        except Exception as error:  # PIL raises many types for broken files
            return unreadable_image_problem(value, error)
        return None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.check:
            yield from self.stream
            return
        read = skipped = total_read = good = 0
        named: list[str] = []
        public: list[str] = []
        sent_names = 0
        held = None
        for position, row in enumerate(self.stream):
            row = dict(row)
            read += 1
            total_read += 1
            problem = self._problem(row)
            if problem:
                skipped += 1
                if sent_names + len(named) < NAMED_ROWS:
                    named.append(f"{describe_row(row, where=self._where(position))}: {problem}")
                    public.append(public_text(named[-1], row.get(IMAGE_COLUMN)))
                continue
            good += 1
            if held is not None:
                held[STREAM_KEY] = {"read": read - 1, "skipped": skipped, "named": named, "public": public}
                sent_names += len(named)
                yield held
                read, skipped, named, public = 1, 0, [], []
            held = row
        if held is not None:
            held[STREAM_KEY] = {"read": read, "skipped": skipped, "named": named, "public": public}
            yield held
        elif total_read:
            listed = "".join(f"\n- {name}" for name in named)
            raise BadRowRateError(f"none of the {total_read} training rows read here can be trained on; the first "
                                  f"ones:{listed}\nFix or drop these rows in the data.")


@dataclass
class StreamCounts:
    """The rows of a training stream read and skipped by this process (or, merged, by all), and the first
    `NAMED_ROWS` bad ones, each named with its reason: `named` with local paths (log, errors), `public` as the
    published model card names them (`public_text`: image file names only)."""

    read: int = 0
    skipped: int = 0
    named: list[str] = field(default_factory=list)
    public: list[str] = field(default_factory=list)

    def add(self, info: Mapping[str, Any]) -> list[str]:
        """Adds a batch's counts (`StreamCollator`); returns the bad rows named for the first time."""
        self.read += int(info["read"])
        self.skipped += int(info["skipped"])
        room = max(0, NAMED_ROWS - len(self.named))
        new = list(info["named"])[:room]
        self.named.extend(new)
        self.public.extend(list(info.get("public", info["named"]))[:room])
        return new

    @classmethod
    def merged(cls, parts: Sequence[StreamCounts]) -> StreamCounts:
        """The counts of several processes together (their named rows in process order, the first kept)."""
        total = cls()
        for part in parts:
            total.add({"read": part.read, "skipped": part.skipped, "named": part.named, "public": part.public})
        return total

    def check(self, max_rate: float, step: int) -> None:
        """Raises `BadRowRateError` once `MIN_ROWS_JUDGED` rows are read and the share of bad ones passes
        `max_rate`."""
        if self.read < MIN_ROWS_JUDGED or self.skipped <= max_rate * self.read:
            return
        listed = "".join(f"\n- {name}" for name in self.named)
        raise BadRowRateError(
            f"{self.skipped} of the {self.read} training rows read by this process are bad "
            f"({self.skipped / self.read:.1%}, more than max_bad_row_rate={max_rate:.1%}); training stopped at step "
            f"{step}. The first bad rows:{listed}\nFix or drop these rows in the data (e.g. "
            "`dataset.filter(...)`, or rebuild the files), or raise --max_bad_row_rate to train on without them."
        )

    def card_entries(self) -> dict[str, int]:
        """The counts a model card shows, by human-readable label."""
        return {"rows read from the stream": self.read, "bad rows skipped": self.skipped}


class StreamCollator:
    """Wraps a collate function: takes each row's `STREAM_KEY` counts off before collating and puts their sum
    on the batch under the same key (the trainer takes it off before the model sees the batch)."""

    def __init__(self, collate: Callable[[list[Any]], dict[str, Any]]) -> None:
        self.collate = collate

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        info = {"read": 0, "skipped": 0, "named": [], "public": []}
        clean = []
        for row in rows:
            counts = row.get(STREAM_KEY)
            if counts is not None:
                info["read"] += counts["read"]
                info["skipped"] += counts["skipped"]
                info["named"].extend(counts["named"])
                info["public"].extend(counts.get("public", counts["named"]))
                row = {key: value for key, value in row.items() if key != STREAM_KEY}
            clean.append(row)
        batch = self.collate(clean)
        if info["read"]:
            batch[STREAM_KEY] = info
        return batch
