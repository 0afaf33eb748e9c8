"""Writing a whole output folder at once, never over something by surprise.

`staged_folder(folder)` gives a scratch folder beside `folder` to write into and moves it into place only
when everything was written: a failure leaves no partial folder and leaves an existing `folder` as it was.
An existing non-empty `folder` is refused unless `overwrite` is given, and is then replaced whole (none of its
files survive beside the new ones). `check_output_folder` also refuses an output that is, or holds, one of
the inputs being read, with `overwrite` or not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path


class OutputFolderError(ValueError):
    """The output folder would replace an input, is a file, or is a non-empty folder without `overwrite`."""


def check_output_folder(
    folder: str | os.PathLike,
    overwrite: bool = False,
    inputs: Mapping[str, str | os.PathLike | None] | None = None,
    overwrite_hint: str = "overwrite=True",
) -> None:
    """Raises `OutputFolderError` when writing `folder` would lose something.

    Args:
        folder: the folder to be written.
        overwrite: whether an existing non-empty folder may be replaced whole.
        inputs: what is read, by description (e.g. {"fine-tuned model": path}); an entry that is not an
            existing local path (a Hub id, None) is ignored. An output that is an input, or a folder holding
            one, is refused even with `overwrite`: replacing it would delete what is being read.
        overwrite_hint: how the caller's user asks for `overwrite` (a flag name in a command's messages).
    """
    target = Path(os.path.abspath(folder)).resolve()
    for what, path in (inputs or {}).items():
        if path is None or not os.path.exists(path):
            continue
        source = Path(os.path.abspath(path)).resolve()
        if source == target or target in source.parents:
            relation = "is" if source == target else "holds"
            raise OutputFolderError(
                f"the output folder {folder} {relation} the {what} ({path}): writing it would replace what is "
                f"being read, so this is refused even with {overwrite_hint}. Choose another output folder.")
    if os.path.lexists(folder) and not os.path.isdir(folder):
        raise OutputFolderError(f"the output {folder} exists and is not a folder; give a folder path.")
    if os.path.isdir(folder) and any(os.scandir(folder)) and not overwrite:
        raise OutputFolderError(
            f"the output folder {folder} is not empty; give a new or empty folder, or pass {overwrite_hint} to "
            "replace it (every file in it is removed).")


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


@contextlib.contextmanager
def staged_folder(
    folder: str | os.PathLike,
    overwrite: bool = False,
    inputs: Mapping[str, str | os.PathLike | None] | None = None,
    overwrite_hint: str = "overwrite=True",
) -> Iterator[Path]:
    """Yields an empty scratch folder beside `folder` (`.<name>.partial-<random>`) to write the output into.

    When the block ends without an error, the scratch folder becomes `folder`; an existing `folder` (allowed by
    `check_output_folder`: empty, or with `overwrite`) is moved aside first and removed after, so none of its
    files remain. When the block raises, the scratch folder is removed and `folder` is left untouched. Only a
    kill (no Python cleanup) can leave a `.<name>.partial-*` folder behind; it is never read.
    """
    check_output_folder(folder, overwrite, inputs, overwrite_hint)
    target = Path(os.path.abspath(folder))
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    staged.mkdir()
    aside = None
    try:
        yield staged
        check_output_folder(folder, overwrite, inputs, overwrite_hint)  # again: it may have changed meanwhile
        if os.path.lexists(target):
            aside = target.parent / f".{target.name}.replaced-{uuid.uuid4().hex[:8]}"
            os.rename(target, aside)
        try:
            os.rename(staged, target)
        except BaseException:
            if aside is not None:
                os.rename(aside, target)
            raise
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    if aside is not None:
        _remove(aside)
