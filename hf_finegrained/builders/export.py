"""Parquet export with a dataset card that `datasets.load_dataset(folder)` reads back with the same features."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
from datasets.table import embed_table_storage
from huggingface_hub import DatasetCard, DatasetCardData

from ..output_folder import staged_folder
from ..rows import CAPTION_COLUMN, NEGATIVES_COLUMN
from .features import negative_types_of
from .report import negatives_report

CARD_KEY = "hf_finegrained"


def _embed_images(dataset: datasets.Dataset) -> datasets.Dataset:
    """Copies image files into the table (as `push_to_hub` does), so the parquet files stand alone."""
    format_ = dataset.format
    embedded = dataset.with_format("arrow").map(embed_table_storage, batched=True, keep_in_memory=True,
                                                desc="embedding images")
    return embedded.with_format(**format_)


def export_parquet(
    data: datasets.Dataset | datasets.DatasetDict,
    folder: str | os.PathLike,
    negative_types: Sequence[str] | None = None,
    embed_images: bool = True,
    max_rows_per_file: int = 100_000,
    title: str = "Hard-negative caption dataset",
    description: str = "",
    extra_metadata: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Writes `folder/data/{split}-XXXXX-of-YYYYY.parquet` and `folder/README.md`; returns the folder.

    The folder is written beside `folder` and moved into place when complete: a failed export leaves no
    partial folder and an existing `folder` as it was. A non-empty `folder` is refused
    (`output_folder.OutputFolderError`) unless `overwrite`, which replaces it whole (no stale shard of an
    earlier export is left for `load_dataset` to read). A split with `hard_negatives` needs a `caption` column
    (the names the trainer reads, `rows.py`); another caption column name is refused before anything is written.

    The card's YAML holds `configs:` (so `load_dataset(folder)` finds the splits), and under
    `hf_finegrained:` the type names and, per split, the counts of `negatives_report` (negatives and
    coverage per type, skipped bad captions, rows without negatives, negatives equal to their caption). A plain
    `Dataset` is the `train` split.

    Note: `load_dataset` caches what it reads, and may serve an earlier export to a folder of the same name
    from that cache; after re-exporting, load with `download_mode="force_redownload"` or a fresh `cache_dir`.
    """
    splits = data if isinstance(data, datasets.DatasetDict) else datasets.DatasetDict({"train": data})
    for name, split in splits.items():
        if NEGATIVES_COLUMN in split.column_names and CAPTION_COLUMN not in split.column_names:
            raise ValueError(f"split {name!r} has {NEGATIVES_COLUMN!r} but no {CAPTION_COLUMN!r} column (columns: "
                             f"{split.column_names}); the trainer reads {CAPTION_COLUMN!r}: rename the caption column "
                             f"first, e.g. `dataset.rename_column('text', {CAPTION_COLUMN!r})`.")
    folder = Path(folder)
    with staged_folder(folder, overwrite) as staged:
        (staged / "data").mkdir()
        reports = {}
        for name, split in splits.items():
            reports[name] = None
            if NEGATIVES_COLUMN in split.column_names:
                types = list(negative_types) if negative_types is not None else negative_types_of(split)
                reports[name] = negatives_report(split, types)
            if embed_images:
                split = _embed_images(split)
            shards = max(1, math.ceil(len(split) / max_rows_per_file))
            for index in range(shards):
                shard = split.shard(num_shards=shards, index=index, contiguous=True)
                shard.to_parquet(str(staged / "data" / f"{name}-{index:05d}-of-{shards:05d}.parquet"))
        dataset_card(splits, reports, title, description, extra_metadata).save(staged / "README.md")
    return folder


def dataset_card(
    splits: datasets.DatasetDict,
    reports: dict[str, dict[str, Any] | None],
    title: str,
    description: str = "",
    extra_metadata: dict[str, Any] | None = None,
) -> DatasetCard:
    """The dataset card: `huggingface_hub` card data (`pretty_name`, the `configs` that `load_dataset` reads,
    the counts under `hf_finegrained:`) plus human-readable tables of the counts. `str(card)` is README.md."""
    first = next((r for r in reports.values() if r), None)
    data = DatasetCardData(
        pretty_name=title,
        configs=[{
            "config_name": "default",
            "data_files": [{"split": name, "path": f"data/{name}-*.parquet"} for name in splits],
        }],
        **{CARD_KEY: {
            "negative_types": first["negative_types"] if first else [],
            "negatives_column": NEGATIVES_COLUMN,
            "splits": {name: {k: v for k, v in (r or {"rows": len(splits[name])}).items() if k != "negative_types"}
                       for name, r in reports.items()},
            **(extra_metadata or {}),
        }},
    )
    lines = [f"# {title}", ""]
    if description:
        lines += [description.strip(), ""]
    lines += [
        "Columns: `image` (`datasets.Image`), `caption` (string), `hard_negatives` (a struct with one string "
        "field per negative type, None where the type does not apply), plus any extra columns listed below. "
        "Load with `datasets.load_dataset(\"<this folder>\")`; the type names are the struct's field names.",
        "",
        f"Features: `{', '.join(f'{k}: {type(v).__name__}' for k, v in next(iter(splits.values())).features.items())}`",
        "",
    ]
    for name, report in reports.items():
        lines += [f"## Split `{name}`", ""]
        if report is None:
            lines += [f"{len(splits[name])} rows, no hard negatives.", ""]
            continue
        lines += [f"{report['rows']} rows; {report['rows_without_negatives']} rows without any negative.", "",
                  "| type | negatives | coverage |", "|---|---:|---:|"]
        lines += [f"| {t} | {report['negatives'][t]} | {report['coverage'][t]:.1%} |" for t in report["negatives"]]
        skipped = ", ".join(f"{reason}: {count}" for reason, count in report["skipped_captions"].items())
        lines += ["", f"Captions skipped by the generator (no negatives): {skipped}.", ""]
        equal = sum(report.get("equal_to_caption", {}).values())
        if equal:
            lines += [f"{equal} negatives equal to their caption (ignoring case, punctuation and spacing) are masked "
                      "at training time and not counted above.", ""]
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n")
