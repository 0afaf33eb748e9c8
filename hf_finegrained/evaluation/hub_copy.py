"""Reading a local copy of a benchmark published as a Hub dataset (BiVLC, VisMin): the folder written by
`huggingface-cli download <id> --repo-type dataset --local-dir <folder>` (parquet files) or by
`Dataset.save_to_disk` / `DatasetDict.save_to_disk`. Nothing is downloaded: the benchmark's files must be there."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from typing import Any

from .annotations import AnnotationError


def parquet_files(folder: str | os.PathLike, split: str) -> list[str]:
    """The parquet files of `split` under `folder`: those in a folder named after the split or whose name starts
    with it (`data/test-00000-of-00001.parquet`), else every parquet file there."""
    files = sorted(glob.glob(os.path.join(folder, "**", "*.parquet"), recursive=True))
    named = []
    for path in files:
        parts = os.path.relpath(path, folder).split(os.sep)
        if split in parts[:-1] or parts[-1].startswith(split):
            named.append(path)
    return named or files


def load_local_dataset(folder: str | os.PathLike, split: str, columns: Sequence[str], what: str) -> Any:
    """The `split` of the dataset saved under `folder` as a `datasets.Dataset`, checked to have `columns`;
    `AnnotationError` naming the folder when it holds no dataset or lacks a column. `what` names the benchmark's
    source in messages ("imirandam/BiVLC on the Hub")."""
    import datasets

    folder = os.fspath(folder)
    try:
        if os.path.isfile(os.path.join(folder, "dataset_dict.json")):
            saved = datasets.load_from_disk(folder)
            if split not in saved:
                raise AnnotationError(f"{folder}: the saved dataset has no {split!r} split (splits: {list(saved)})")
            dataset = saved[split]
        elif os.path.isfile(os.path.join(folder, "state.json")):
            dataset = datasets.load_from_disk(folder)
        else:
            files = parquet_files(folder, split)
            if not files:
                raise AnnotationError(
                    f"{folder}: no parquet file and no saved dataset; download {what} into this folder "
                    f"(huggingface-cli download <id> --repo-type dataset --local-dir {folder})")
            dataset = datasets.Dataset.from_parquet(files)
    except AnnotationError:
        raise
    except Exception as error:  # arrow / parquet errors for cut or foreign files
        raise AnnotationError(f"{folder}: cannot be read as a dataset ({type(error).__name__}: {error}); "
                              f"download {what} again") from None
    lacking = [c for c in columns if c not in dataset.column_names]
    if lacking:
        raise AnnotationError(f"{folder}: the dataset has no column {', '.join(map(repr, lacking))} (columns: "
                              f"{', '.join(dataset.column_names)}); is it {what}?")
    return dataset
