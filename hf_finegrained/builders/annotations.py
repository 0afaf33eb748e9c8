"""Reading annotation files with errors that name the file."""

from __future__ import annotations

import json
import os
from typing import Any


class AnnotationFileError(ValueError):
    """An annotation file is missing, not valid JSON, or not in the expected layout; the message names it."""


def read_json(path: str | os.PathLike, layout: str) -> Any:
    """`json.load` of `path`, raising `AnnotationFileError` naming the file and the expected `layout`."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnnotationFileError(f"cannot read annotation file {os.fspath(path)!r} ({layout} layout): "
                                  f"{type(error).__name__}: {error}") from error


def require(condition: bool, path: str | os.PathLike, message: str) -> None:
    """Raises `AnnotationFileError` naming `path` unless `condition`."""
    if not condition:
        raise AnnotationFileError(f"annotation file {os.fspath(path)!r}: {message}")
