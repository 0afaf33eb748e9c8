"""Turning image file lists into a dataset, after a pass that lists every missing or unreadable file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import datasets

from ..negatives import HardNegativeGenerator
from ..validation import DataValidationError, find_bad_image_files
from .add_negatives import add_hard_negatives
from .features import caption_features


def check_image_files(paths: Sequence[str], source: str) -> None:
    """Raises `DataValidationError` listing every missing, truncated or otherwise undecodable file among `paths`.

    Each distinct file is decoded in full (a JPEG at reduced DCT scale, which still reads every byte): that is
    what finds truncated files. Measured on 500 files, one process on a shared 2-core machine: 64x64 PNG/JPEG
    0.16-0.19 ms per file (3x a header read); 640x480 JPEG 1.3 ms (20-35x); 640x480 PNG of noisy content 7 ms
    (about 300x). At 1.3 ms per file, COCO train2014 (83k JPEGs) takes about 2 minutes.
    """
    bad = find_bad_image_files(paths)
    if bad:
        raise DataValidationError(
            source,
            [(None, problem) for _, problem in bad],
            len(set(paths)),
            advice="put the missing files in place and replace the unreadable ones, or build with "
                   "check_images=False to skip this check (the trainer's check then lists the rows of these images)",
            unit="image files",
        )


def rows_to_dataset(
    columns: dict[str, list[Any]],
    extra_features: dict[str, Any],
    add_negatives: bool,
    negative_types: Sequence[str] | None,
    seed: int,
    generator: HardNegativeGenerator | None,
    num_proc: int | None,
    batch_size: int,
) -> datasets.Dataset:
    """A dataset of `image` (paths, decoded lazily), `caption`, extra columns and, optionally, negatives."""
    dataset = datasets.Dataset.from_dict(columns, features=caption_features(None, extra_features))
    if not add_negatives:
        return dataset
    return add_hard_negatives(dataset, negative_types=negative_types, seed=seed, generator=generator,
                              num_proc=num_proc, batch_size=batch_size)
