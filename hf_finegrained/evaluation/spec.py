"""`BenchmarkSpec`: what a benchmark module declares about itself (the files it needs, how to run it, how to
check its files). Each benchmark module holds its own spec(s); `runner.BENCHMARKS` only lists them, so a
benchmark module never imports the runner."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .results import BenchmarkResult


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark: the paths it needs (key -> default relative to the data root, and what goes there), how
    to run it on an engine with those paths resolved, and `check`: a quick read of its annotation files with
    the same resolved paths (no images, no model) that raises `AnnotationError` when one is malformed."""

    name: str
    paths: Mapping[str, tuple[str, str]]
    run: Callable[..., BenchmarkResult]
    check: Callable[..., Any] | None = None
