"""The features of a hard-negative dataset; the type names live in the features themselves.

`hard_negatives` is a struct with one string field per type, in the configured order: the names travel with
the data (parquet schema, `load_dataset`), and the collator reads it as a dict keyed by type name, so no
column's meaning depends on guessing an order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets

from ..negatives.types import DEFAULT_NEGATIVE_TYPES
from ..rows import CAPTION_COLUMN, IMAGE_COLUMN, NEGATIVES_COLUMN


def negatives_feature(negative_types: Sequence[str] = DEFAULT_NEGATIVE_TYPES) -> dict[str, datasets.Value]:
    """The `hard_negatives` feature: {type name: string (None where the type does not apply)}."""
    return {name: datasets.Value("string") for name in negative_types}


def caption_features(
    negative_types: Sequence[str] | None = DEFAULT_NEGATIVE_TYPES,
    extra: Mapping[str, Any] | None = None,
) -> datasets.Features:
    """`image`, `caption`, then `extra` columns, then `hard_negatives` (left out when types is None)."""
    columns: dict[str, Any] = {IMAGE_COLUMN: datasets.Image(), CAPTION_COLUMN: datasets.Value("string")}
    columns.update(extra or {})
    if negative_types is not None:
        columns[NEGATIVES_COLUMN] = negatives_feature(negative_types)
    return datasets.Features(columns)


def negative_types_of(dataset_or_features: Any, column: str = NEGATIVES_COLUMN) -> list[str]:
    """The type names recorded in a dataset's `hard_negatives` struct feature, in order.

    Raises ValueError when the column is missing or is a plain list (whose order is not recorded).
    """
    features = getattr(dataset_or_features, "features", dataset_or_features)
    feature = features.get(column) if features is not None else None
    if isinstance(feature, Mapping):
        return list(feature)
    if feature is None:
        raise ValueError(f"no {column!r} column; columns are {list(features or {})}")
    raise ValueError(f"{column!r} is a {type(feature).__name__}, not a struct keyed by type name; pass the "
                     "type names explicitly (in the order of its entries)")
