"""Per-type coverage and bad-caption counts of a dataset, read from its columns (no re-parsing)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import datasets

from ..collator import CAPTION_COLUMN, NEGATIVES_COLUMN, usable_negatives
from ..negatives.screening import DEFAULT_MAX_CHARS, DEFAULT_MAX_WORDS, SKIP_REASONS, screen_caption
from .features import negative_types_of


def negatives_report(
    dataset: datasets.Dataset,
    negative_types: Sequence[str] | None = None,
    caption_column: str = CAPTION_COLUMN,
    column: str = NEGATIVES_COLUMN,
    max_words: int = DEFAULT_MAX_WORDS,
    max_chars: int = DEFAULT_MAX_CHARS,
    batch_size: int = 10_000,
) -> dict[str, Any]:
    """Counts for a dataset card.

    Returns {"rows", "negatives": {type: count}, "coverage": {type: share of rows}, "skipped_captions":
    {reason: count} (the captions the generator refused: see `screen_caption`), "rows_without_negatives",
    "equal_to_caption": {type: count}}. A negative equal to its caption (ignoring case, punctuation and
    spacing) is masked by the collator, so it counts in `equal_to_caption`, not in `negatives`/`coverage`.
    Works after `map(num_proc=...)` because everything is recomputed from the columns.
    """
    types = list(negative_types) if negative_types is not None else negative_types_of(dataset, column)
    counts: Counter = Counter()
    equal: Counter = Counter()
    skipped: Counter = Counter()
    rows = without = 0
    view = dataset.select_columns([caption_column, column])
    for batch in view.iter(batch_size=batch_size):
        for caption, value in zip(batch[caption_column], batch[column]):
            rows += 1
            reason = screen_caption(caption, max_words, max_chars)
            if reason is not None:
                skipped[reason] += 1
            negatives, masked = usable_negatives(value, types, caption)
            present = [neg is not None for neg in negatives]
            counts.update(name for name, ok in zip(types, present) if ok)
            equal.update(name for name, drop in zip(types, masked) if drop)
            without += not any(present)
    return {
        "rows": rows,
        "negative_types": types,
        "negatives": {name: counts[name] for name in types},
        "coverage": {name: round(counts[name] / rows, 4) if rows else 0.0 for name in types},
        "skipped_captions": {reason: skipped[reason] for reason in SKIP_REASONS},
        "rows_without_negatives": without,
        "equal_to_caption": {name: equal[name] for name in types},
    }
