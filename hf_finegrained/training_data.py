"""`prepare_training_data`: the trainer's data, made ready and checked once, before the Trainer is built.

One pass does what every later step relies on: the collator (built from the processor unless given), a training
stream split across processes and checked as read (`streaming.prepare_stream`), every row of the other datasets
checked (`validation.validate_dataset`, on one process per node), images left for the collator to decode
(`rows.defer_image_decoding`: its errors name the row and the file), and the per-type coverage of the training
rows counted once. The `TrainingData` it returns is what the trainer, its card and its callbacks read.

Then, as the Trainer reads the data: `with_row_indices` (a map-style dataset's rows carry their index, for the
collator's errors) and `stream_loader` (each process batches its own part of a stream).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .collator import FineGrainedCollator, IndexedRows
from .families import ModelFamily
from .pixels import UnsupportedPixelRule
from .rows import defer_image_decoding, open_image
from .streaming import is_stream, prepare_stream
from .training_args import FineGrainedTrainingArguments
from .validation import ValidationReport, negative_coverage, validate_dataset

logger = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """The data a `FineGrainedTrainer` trains on, as `prepare_training_data` made it ready.

    `reports`: the validation report of each dataset checked ahead, by label (`train_dataset`,
    `eval_dataset['name']`; on the first process of each node only, and none with `validate_data=False`).
    `num_train_rows` and `negative_coverage` (rows with a usable negative, per type): of a map-style training set,
    counted once (by the validation when it ran); None / empty for a stream, whose coverage is counted as it is
    trained on (`callbacks.CardDataCallback`), or for a dict of training sets.
    """

    collator: Any
    train_dataset: Any
    eval_dataset: Any
    stream: bool = False
    reports: dict[str, ValidationReport] = field(default_factory=dict)
    num_train_rows: int | None = None
    negative_coverage: dict[str, int] = field(default_factory=dict)

    @property
    def train_report(self) -> ValidationReport | None:
        return self.reports.get("train_dataset")


def prepare_training_data(args: FineGrainedTrainingArguments, model: Any, family: ModelFamily,
                          processing_class: Any = None, data_collator: Any = None, train_dataset: Any = None,
                          eval_dataset: Any = None) -> TrainingData:
    """Builds the collator if none is given, prepares a training stream, validates the other datasets and counts
    the training rows' coverage (module docstring); raises `DataValidationError` listing every bad row, or a
    ValueError naming a setting the data does not allow."""
    types = list(args.negative_types) if args.use_hard_negatives else []
    if data_collator is None:
        if processing_class is None:
            raise ValueError("Pass processing_class=<the model's processor> (e.g. CLIPProcessor, "
                             "SiglipProcessor) or a data_collator.")
        max_length = family.max_text_length(processing_class.tokenizer, model, args.max_text_length)
        data_collator = FineGrainedCollator(processing_class, types, max_length=max_length,
                                            include_negatives=args.use_hard_negatives, family=family,
                                            image_pipeline=_image_pipeline(args.image_pipeline, family,
                                                                           processing_class))
    stream = is_stream(train_dataset)
    if stream:
        if args.max_steps <= 0:
            raise ValueError("train_dataset is a stream (an IterableDataset, e.g. load_dataset(..., "
                             "streaming=True)) whose length is unknown, so the schedule needs a step count: set "
                             "max_steps (--max_steps N); num_train_epochs is not used for streams.")
        train_dataset = prepare_stream(train_dataset, types, include_negatives=args.use_hard_negatives,
                                       generate_negatives=args.generate_negatives, seed=args.seed,
                                       process_index=args.process_index, world_size=args.world_size,
                                       check=args.validate_data,
                                       decode=getattr(data_collator, "decode_image", open_image))
    elif args.generate_negatives and train_dataset is not None:
        raise ValueError("generate_negatives=True makes negatives as a stream is read; this train_dataset is not "
                         "a stream. Add them once with hf_finegrained.builders.add_hard_negatives(dataset, ...), "
                         "or pass the data as an IterableDataset (dataset.to_iterable_dataset()).")
    reports: dict[str, ValidationReport] = {}
    # One process per node reads the data (every rank holds the same datasets); the others wait, and a
    # failure there ends the launch before any of them trains.
    with args.main_process_first(desc="dataset validation"):
        if args.validate_data and args.local_process_index == 0:
            # A training stream is checked as it is read instead (`streaming.CheckedRows`).
            for name, dataset in (("train_dataset", None if stream else train_dataset), ("eval_dataset", eval_dataset)):
                for split, data in (dataset.items() if isinstance(dataset, dict) else [(None, dataset)]):
                    if data is not None:
                        label = f"{name}[{split!r}]" if split else name
                        reports[label] = validate_dataset(data, types, include_negatives=args.use_hard_negatives,
                                                          name=label, collator=data_collator)
                        if reports[label].rows:  # 0: an iterable dataset, not read ahead (it warned)
                            logger.info("%s: %d rows validated.", label, reports[label].rows)
    single = None if stream or isinstance(train_dataset, dict) else train_dataset
    coverage: dict[str, int] = {}
    if types and single is not None:
        counted = reports.get("train_dataset")
        coverage = dict(counted.negatives) if counted is not None and counted.validated else \
            (negative_coverage(single, types) or {})
    if isinstance(data_collator, FineGrainedCollator):  # it decodes images itself, naming any unreadable file
        train_dataset, eval_dataset = defer_image_decoding(train_dataset), defer_image_decoding(eval_dataset)
    return TrainingData(data_collator, train_dataset, eval_dataset, stream=stream, reports=reports,
                        num_train_rows=len(single) if hasattr(single, "__len__") else None,
                        negative_coverage=coverage)


def _image_pipeline(asked: str, family: ModelFamily, processor: Any) -> str:
    """The collator's image path: `asked`, except "fast" for a family or processor without one (SigLIP 2; a
    processor that pads or resizes otherwise), which falls back to "processor", saying why."""
    if asked != "fast":
        return asked
    try:
        family.pixel_rule(processor.image_processor)
    except UnsupportedPixelRule as error:
        logger.info("image_pipeline='fast' is not available here, so images go through the processor: %s", error)
        return "processor"
    return asked


def _is_map_style(dataset: Any) -> bool:
    """Whether `dataset` is read by index (a `datasets.Dataset`, a list of rows, a torch map-style dataset)."""
    return (dataset is not None and not is_stream(dataset) and not isinstance(dataset, torch.utils.data.IterableDataset)
            and hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__"))


def with_row_indices(dataset: Any, remove_unused_columns: Callable[[Any], Any]) -> Any:
    """A map-style dataset as `collator.IndexedRows` (after `remove_unused_columns`, the Trainer's, for a
    `datasets.Dataset`), so that the collator's errors name the dataset row and the columns as the user gave
    them; anything else unchanged."""
    if not _is_map_style(dataset):
        return dataset
    import datasets

    columns = None
    if isinstance(dataset, datasets.Dataset):
        columns = list(dataset.column_names)
        dataset = remove_unused_columns(dataset)
    return IndexedRows(dataset, columns)


def stream_loader(stream: Any, collate: Callable[[list[Any]], dict[str, Any]], batch_size: int,
                  args: FineGrainedTrainingArguments, accelerator: Any) -> Any:
    """The loader of this process's part of a training stream (`streaming.prepare_stream` split it), with the
    Trainer's loader settings; `collate` is a `streaming.StreamCollator`, so batches carry the counts of the rows
    checked."""
    from accelerate.data_loader import prepare_data_loader
    from torch.utils.data import DataLoader

    workers = args.dataloader_num_workers
    loader = DataLoader(
        stream, batch_size=batch_size, collate_fn=collate, num_workers=workers,
        pin_memory=args.dataloader_pin_memory and args.device.type != "cpu",  # torch warns on CPU
        drop_last=args.dataloader_drop_last,
        persistent_workers=args.dataloader_persistent_workers if workers else False,
        prefetch_factor=args.dataloader_prefetch_factor if workers else None,
        multiprocessing_context=args.dataloader_multiprocessing_context if workers else None,
    )
    # One process's view (num_processes=1): under several processes, accelerate's own preparation would
    # read the whole stream on each and keep one batch in N of this process's part, dropping rows.
    return prepare_data_loader(loader, accelerator.device, num_processes=1, process_index=0,
                               put_on_device=accelerator.device_placement, dispatch_batches=False,
                               non_blocking=accelerator.non_blocking)
