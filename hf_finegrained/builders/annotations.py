"""Reading annotation files with errors that name the file."""

from __future__ import annotations

import json
import os
import re
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


def require_int(value: Any, path: str | os.PathLike, entry: str, key: str) -> int:
    """`value` as an int (an int, an integral float, or a string of digits), else `AnnotationFileError`.

    The message names the file, the entry (e.g. `annotations[3]`) and the key, since ids become int64 columns.
    """
    if isinstance(value, int) and not isinstance(value, bool):  # True is an int to Python, never an id
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return int(value)
    raise AnnotationFileError(f"annotation file {os.fspath(path)!r}: {entry} has a non-integer {key!r}: {value!r}; "
                              "ids must be integers (fix the entry, or drop it from the file)")
