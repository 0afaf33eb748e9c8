"""Adding the `hard_negatives` column to any `datasets.Dataset` with a caption column."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import datasets

from ..negatives import HardNegativeGenerator
from ..negatives.text import corpus_vocabulary
from ..rows import CAPTION_COLUMN, NEGATIVES_COLUMN
from .features import negatives_feature


CORPUS = "corpus"  # `vocabulary=` value: the words of the dataset's own captions


class _NegativesMap:
    """The picklable batched map function; each worker process loads the spaCy model once."""

    def __init__(self, generator: HardNegativeGenerator, caption_column: str, column: str) -> None:
        self.generator = generator
        self.caption_column = caption_column
        self.column = column

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[dict[str, str | None]]]:
        return {self.column: self.generator.generate(batch[self.caption_column], progress=False)}


def add_hard_negatives(
    dataset: datasets.Dataset | datasets.IterableDataset,
    negative_types: Sequence[str] | None = None,
    seed: int = 0,
    caption_column: str = CAPTION_COLUMN,
    column: str = NEGATIVES_COLUMN,
    generator: HardNegativeGenerator | None = None,
    batch_size: int = 1000,
    num_proc: int | None = None,
    desc: str = "hard negatives",
    profile: str | None = None,
    vocabulary: Iterable[str] | str | None = None,
) -> datasets.Dataset | datasets.IterableDataset:
    """`dataset` plus a `hard_negatives` struct column ({type: negative or None}) made from `caption_column`.

    Runs `dataset.map(batched=True, num_proc=num_proc)`; results do not depend on `batch_size` or `num_proc`
    (each negative is a function of seed, type and caption). An existing `column` is replaced. An
    `IterableDataset` gets the same map, run lazily as rows are read (in the dataloader workers, if any);
    `num_proc` and `desc` do not apply to it.

    `profile`: the rules' profile when no `generator` is given, "strict" (default: the audited filters) or
    "permissive" (every candidate keeping only the type's invariants, as the CE-CLIP reference; see
    docs/NEGATIVES.md). A model that proposes negatives comes with a generator:
    `generator=HardNegativeGenerator(proposer=CausalLMProposer(...))` (one process: `num_proc=None`).

    `vocabulary`: the words negatives may write (`HardNegativeGenerator(vocabulary=...)`): a collection of words, or
    "corpus" for the words of this dataset's own captions (a `Dataset` only: a stream cannot be read twice). None
    (default): the generator's own setting.
    """
    columns = dataset.column_names
    if columns is not None and caption_column not in columns:
        raise ValueError(f"no caption column {caption_column!r}; columns are {columns}")
    if generator is not None and profile is not None and profile != generator.profile:
        raise ValueError(f"profile {profile!r} differs from the generator's {generator.profile!r}; give one of them")
    generator = generator or HardNegativeGenerator(types=negative_types, seed=seed, profile=profile or "strict")
    if negative_types is not None and list(negative_types) != generator.types:
        raise ValueError(f"negative_types {list(negative_types)} differ from the generator's {generator.types}")
    if isinstance(vocabulary, str) and vocabulary != CORPUS:
        raise ValueError(f"vocabulary must be {CORPUS!r} or a collection of words; got {vocabulary!r}")
    if vocabulary == CORPUS:
        if isinstance(dataset, datasets.IterableDataset):
            raise ValueError("vocabulary='corpus' reads the caption column first, which a stream cannot do twice; "
                             "give the words (`negatives.text.corpus_vocabulary(captions)` on a sample)")
        vocabulary = corpus_vocabulary(dataset[caption_column])
    if vocabulary is not None:
        generator = generator.with_vocabulary(vocabulary)
    function = _NegativesMap(generator, caption_column, column)
    features = dataset.features.copy() if dataset.features is not None else None
    if features is not None:
        features[column] = negatives_feature(generator.types)
    if isinstance(dataset, datasets.IterableDataset):
        return dataset.map(function, batched=True, batch_size=batch_size, features=features)
    return dataset.map(
        function,
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        features=features,
        desc=desc,
    )
