"""Per-type coverage and bad-caption counts of a dataset, read from its columns (no re-parsing)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import datasets

from ..negatives.screening import DEFAULT_MAX_CHARS, DEFAULT_MAX_WORDS, SKIP_REASONS, screen_caption
from ..rows import CAPTION_COLUMN, NEGATIVES_COLUMN, NegativeCounts
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
    spacing) is masked by the collator, so it counts in `equal_to_caption`, not in `negatives`/`coverage`
    (the counts of `rows.NegativeCounts`, as in `validate_dataset` and `negative_coverage`).
    Works after `map(num_proc=...)` because everything is recomputed from the columns.
    """
    types = list(negative_types) if negative_types is not None else negative_types_of(dataset, column)
    counts = NegativeCounts(types)
    skipped: Counter = Counter()
    view = dataset.select_columns([caption_column, column])
    for batch in view.iter(batch_size=batch_size):
        reasons = (screen_caption(caption, max_words, max_chars) for caption in batch[caption_column])
        skipped.update(reason for reason in reasons if reason is not None)
        counts.add_rows(batch[column], batch[caption_column])
    rows = counts.rows
    return {
        "rows": rows,
        "negative_types": types,
        "negatives": dict(counts.usable),
        "coverage": {name: round(counts.usable[name] / rows, 4) if rows else 0.0 for name in types},
        "skipped_captions": {reason: skipped[reason] for reason in SKIP_REASONS},
        "rows_without_negatives": counts.rows_without,
        "equal_to_caption": dict(counts.equal_to_caption),
    }
