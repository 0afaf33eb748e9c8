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
from .resize import ImageResize, resize_images

CARD_KEY = "hf_finegrained"
TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "dataset_card.md"


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
    license: str | None = None,
    generator: Any = None,
    image_resize: ImageResize | None = None,
    num_proc: int | None = None,
) -> Path:
    """Writes `folder/data/{split}-XXXXX-of-YYYYY.parquet` and `folder/README.md`; returns the folder.

    The folder is written beside `folder` and moved into place when complete: a failed export leaves no
    partial folder and an existing `folder` as it was. A non-empty `folder` is refused
    (`output_folder.OutputFolderError`) unless `overwrite`, which replaces it whole (no stale shard of an
    earlier export is left for `load_dataset` to read). A split with `hard_negatives` needs a `caption` column
    (the names the trainer reads, `rows.py`); another caption column name is refused before anything is written.

    The card's YAML holds `configs:` (so `load_dataset(folder)` finds the splits), and under
    `hf_finegrained:` the type names and, per split, the counts of `negatives_report` (negatives and
    coverage per type, skipped bad captions, rows without negatives, negatives equal to their caption); also
    `license` (a Hub licence id, when given), task categories and `dataset_info` from the features; `generator`
    (the `HardNegativeGenerator` that made the negatives) adds its settings and seed (`dataset_card`). A plain
    `Dataset` is the `train` split. `image_resize` (`resize.ImageResize`) stores every image resized (shortest side,
    optional centre crop, JPEG quality; `resize.resize_images`, over `num_proc` processes) with its original size
    in `original_width` / `original_height`, and the card says so (a sentence, and `hf_finegrained: images:`).

    Note: `load_dataset` caches what it reads, and may serve an earlier export to a folder of the same name
    from that cache; after re-exporting, load with `download_mode="force_redownload"` or a fresh `cache_dir`.
    """
    splits = data if isinstance(data, datasets.DatasetDict) else datasets.DatasetDict({"train": data})
    for name, split in splits.items():
        if NEGATIVES_COLUMN in split.column_names and CAPTION_COLUMN not in split.column_names:
            raise ValueError(f"split {name!r} has {NEGATIVES_COLUMN!r} but no {CAPTION_COLUMN!r} column (columns: "
                             f"{split.column_names}); the trainer reads {CAPTION_COLUMN!r}: rename the caption column "
                             f"first, e.g. `dataset.rename_column('text', {CAPTION_COLUMN!r})`.")
    if image_resize is not None:
        splits = resize_images(splits, image_resize, num_proc=num_proc)
        extra_metadata = {**(extra_metadata or {}), "images": image_resize.card_entry()}
        description = f"{description.strip()}\n\n{image_resize.sentence()}".strip()
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
        dataset_card(splits, reports, title, description, extra_metadata, license, generator).save(staged / "README.md")
    return folder


def describe_feature(feature: Any) -> str:
    """A `datasets` feature in words: `string`, `image`, `list of string`, `struct {a: string, b: string}`."""
    if isinstance(feature, dict):
        return "struct {" + ", ".join(f"{name}: {describe_feature(inner)}" for name, inner in feature.items()) + "}"
    if isinstance(feature, (list, tuple)):
        return f"list of {describe_feature(feature[0])}" if feature else "list"
    if isinstance(feature, datasets.Value):
        return feature.dtype
    if isinstance(feature, datasets.ClassLabel):
        return f"class label ({', '.join(feature.names)})"
    if isinstance(feature, (datasets.Sequence, getattr(datasets, "List", datasets.Sequence))):
        return f"list of {describe_feature(feature.feature)}"
    return type(feature).__name__.lower()


def generator_settings(generator: Any) -> dict[str, Any]:
    """What made the negatives (a `HardNegativeGenerator`): the settings that change them, seed first."""
    def name(part: Any) -> str | None:
        if part is None:
            return None
        return getattr(part, "model_name", None) or getattr(part, "name", None) or type(part).__name__

    settings = {"seed": generator.seed, "profile": generator.profile, "types": list(generator.types),
                "spacy_model": generator.model or "default", "max_words": generator.max_words,
                "max_chars": generator.max_chars}
    if generator.vocabulary is not None:
        settings.update(vocabulary_words=len(generator.vocabulary))
    if generator.scorer is not None:
        settings.update(scorer=name(generator.scorer), scorer_candidates=generator.scorer_candidates)
    if generator.proposer is not None:
        settings.update(proposer=name(generator.proposer), fallback_to_rules=generator.fallback_to_rules)
    return settings


def _dataset_info(splits: datasets.DatasetDict) -> dict[str, Any] | None:
    """`dataset_info` of the card: the features (None when the splits' features differ: one config cannot declare
    both) and the number of rows of each split, as `datasets` writes it for the Hub (without sizes in bytes, not
    measured)."""
    from datasets.info import DatasetInfo
    from datasets.splits import SplitDict, SplitInfo

    features = next(iter(splits.values())).features
    if any(split.features != features for split in splits.values()):
        return None
    info = DatasetInfo(features=features, splits=SplitDict({name: SplitInfo(name, num_examples=len(split))
                                                            for name, split in splits.items()}))
    entry = info._to_yaml_dict()
    entry["splits"] = [{k: v for k, v in split.items() if k != "num_bytes"} for split in entry.get("splits", [])]
    return entry


def dataset_card(
    splits: datasets.DatasetDict,
    reports: dict[str, dict[str, Any] | None],
    title: str,
    description: str = "",
    extra_metadata: dict[str, Any] | None = None,
    license: str | None = None,
    generator: Any = None,
) -> DatasetCard:
    """The dataset card, from `templates/dataset_card.md` (`DatasetCard.from_template`): `huggingface_hub` card data
    (`pretty_name`, `license`, `task_categories`, `dataset_info` from the features, the `configs` that
    `load_dataset` reads, under `hf_finegrained:` the counts and the generator's settings) plus readable features,
    the generator's settings and seed, and tables of the counts. `str(card)` is README.md.

    Task categories: image-to-text and zero-shot image classification, the Hub's categories of the pairs and of
    what a model trained on them does (a dual encoder choosing among captions).
    """
    first = next((r for r in reports.values() if r), None)
    settings = generator_settings(generator) if generator is not None else None
    data = DatasetCardData(
        pretty_name=title,
        license=license,
        task_categories=["image-to-text", "zero-shot-image-classification"],
        configs=[{
            "config_name": "default",
            "data_files": [{"split": name, "path": f"data/{name}-*.parquet"} for name in splits],
        }],
        dataset_info=_dataset_info(splits),
        **{CARD_KEY: {
            "negative_types": first["negative_types"] if first else [],
            "negatives_column": NEGATIVES_COLUMN,
            **({"generator": settings} if settings else {}),
            "splits": {name: {k: v for k, v in (r or {"rows": len(splits[name])}).items() if k != "negative_types"}
                       for name, r in reports.items()},
            **(extra_metadata or {}),
        }},
    )
    features = next(iter(splits.values())).features
    return DatasetCard.from_template(
        data, template_path=str(TEMPLATE), title=title, description=description.strip(), license=license,
        features=[(name, describe_feature(feature)) for name, feature in features.items()],
        generator={k: ", ".join(v) if isinstance(v, list) else v for k, v in settings.items()} if settings else None,
        splits=[{"name": name, "rows": len(splits[name]), "report": report,
                 "equal": sum((report or {}).get("equal_to_caption", {}).values())}
                for name, report in reports.items()],
    )
