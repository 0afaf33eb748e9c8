"""Writing a file so that a kill never leaves half of it: the package's one rule for its own files (the
thresholds, the model card and its plots, an EMA teacher, a LoRA adapter's config)."""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import IO, Any, Callable


def atomic_write(path: str, write: Callable[[IO[Any]], None], binary: bool = False) -> None:
    """Writes `path` through a temporary file of the same folder, then `os.replace`: a kill at any moment leaves
    either the previous file or the new one whole, never a partial one.

    `write` receives the open temporary file (text: UTF-8, newlines untranslated; or binary). On an error the
    temporary file is removed and the error raised; the previous file is untouched.
    """
    folder, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") if binary else open(temporary, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
