"""Reading annotation files with errors that name the file, the entry and the problem.

Every loader reads through these helpers, so a cut download, a file of another benchmark or a row with a
missing or null field becomes an `AnnotationError` saying where and what, never a bare `KeyError` or
`JSONDecodeError` from somewhere inside the loader.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

_KINDS = {dict: "a JSON object", list: "a JSON list", str: "text", int: "a number", float: "a number"}


class AnnotationError(ValueError):
    """An annotation file that cannot be read in its benchmark's layout; the message names the file and entry."""


def describe(value: Any) -> str:
    """How a JSON value is called in messages: "null", "a list", "an object", "text", ..."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def read_json(path: str | os.PathLike) -> Any:
    """The parsed JSON of `path`; `AnnotationError` when it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as error:
        raise AnnotationError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); the file may be "
            "cut short or not the benchmark's file: download it again"
        ) from None
    except UnicodeDecodeError as error:
        raise AnnotationError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); download it again") \
            from None
    except OSError as error:
        raise AnnotationError(f"{path}: cannot be read ({error.strerror or error})") from None


def read_jsonl(path: str | os.PathLike) -> list[Any]:
    """One parsed JSON value per non-blank line of `path`; `AnnotationError` naming the first bad line."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise AnnotationError(
                        f"{path}: line {number} is not valid JSON ({error.msg}); the file may be cut short or "
                        "not the benchmark's file: download it again"
                    ) from None
    except UnicodeDecodeError as error:
        raise AnnotationError(f"{path}: not UTF-8 text ({error.reason}); download it again") from None
    except OSError as error:
        raise AnnotationError(f"{path}: cannot be read ({error.strerror or error})") from None
    return rows


def expect(value: Any, kind: type, path: str | os.PathLike, what: str) -> Any:
    """`value` when it is a `kind` (dict or list), else an `AnnotationError`: "<path>: expected <what>, got ..."."""
    ok = isinstance(value, Mapping) if kind is dict else isinstance(value, kind)
    if not ok:
        raise AnnotationError(f"{path}: expected {_KINDS.get(kind, kind.__name__)} {what}, got {describe(value)}")
    return value


def field(entry: Any, key: str, path: str | os.PathLike, where: str, kind: type | tuple[type, ...] = str) -> Any:
    """`entry[key]` checked to be a `kind` (text by default); `where` names the entry ("entry '12'")."""
    if not isinstance(entry, Mapping):
        raise AnnotationError(f"{path}: {where} is {describe(entry)}, expected an object with {key!r}")
    if key not in entry:
        raise AnnotationError(f"{path}: {where} has no {key!r} field (fields: {', '.join(map(repr, entry))})")
    value = entry[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        wanted = " or ".join(dict.fromkeys(_KINDS.get(k, k.__name__) for k in kinds))
        raise AnnotationError(f"{path}: {where}: {key!r} is {describe(value)}, expected {wanted}")
    return value


def texts(value: Any, path: str | os.PathLike, where: str) -> list[str]:
    """`value` checked to be a non-empty list of strings (a caption list)."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    if not isinstance(value, list):
        shown = describe(value)
    elif not value:
        shown = "an empty list"
    else:
        shown = f"a list holding {describe(next(v for v in value if not isinstance(v, str)))}"
    raise AnnotationError(f"{path}: {where} is {shown}, expected a list of captions (text)")
