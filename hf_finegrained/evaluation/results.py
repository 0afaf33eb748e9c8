"""Benchmark results: one `BenchmarkResult` per benchmark, written as a results JSON and a Markdown table."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

RESULTS_FORMAT = "hf_finegrained.eval/1"


@dataclass
class BenchmarkResult:
    """Scores of one benchmark. `metrics` holds flat numbers in [0, 1] (fractions, not %), `headline` names the
    one a model card shows first; `counts` has `items` (in the annotations), `scored` and `missing_images`."""

    name: str
    status: str = "ok"  # "ok", "skipped" (data absent) or "error" (data unreadable or scoring failed)
    headline: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    @classmethod
    def skipped(cls, name: str, reason: str) -> "BenchmarkResult":
        return cls(name=name, status="skipped", reason=reason)

    @classmethod
    def failed(cls, name: str, reason: str) -> "BenchmarkResult":
        return cls(name=name, status="error", reason=reason)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("name")
        return {k: v for k, v in out.items() if v not in (None, {}) or k in ("metrics", "counts")}


def results_document(model: str, results: list[BenchmarkResult], settings: dict[str, Any]) -> dict[str, Any]:
    """The results JSON: format tag, model, time, settings, one entry per benchmark keyed by name, and
    `errors`: name -> reason of every benchmark that failed (empty when none did)."""
    from .. import __version__

    return {
        "format": RESULTS_FORMAT,
        "model": model,
        "hf_finegrained_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": settings,
        "benchmarks": {r.name: r.to_dict() for r in results},
        "errors": {r.name: r.reason for r in results if r.status == "error"},
    }


def markdown_table(document: dict[str, Any]) -> str:
    """One row per metric of each scored benchmark (headline first, in %), then the failed and the skipped
    benchmarks with their reasons."""
    lines = [
        f"Results for `{document['model']}` (hf_finegrained {document['hf_finegrained_version']}).",
        "",
        "| Benchmark | Metric | Score (%) | Items scored | Missing images |",
        "|---|---|---:|---:|---:|",
    ]
    skipped, failed = [], []
    for name, entry in document["benchmarks"].items():
        if entry["status"] != "ok":
            (failed if entry["status"] == "error" else skipped).append(f"- {name}: {entry.get('reason', 'skipped')}")
            continue
        metrics = entry["metrics"]
        headline = entry.get("headline")
        keys = ([headline] if headline else []) + [k for k in metrics if k != headline]
        counts = entry["counts"]
        for i, key in enumerate(keys):
            value = metrics[key]
            score = "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"
            metric = f"**{key}**" if i == 0 and headline else key
            scored = str(counts.get("scored", "")) if i == 0 else ""
            missing = str(counts.get("missing_images", "")) if i == 0 else ""
            lines.append(f"| {name if i == 0 else ''} | {metric} | {score} | {scored} | {missing} |")
    if failed:
        lines += ["", "Failed:", ""] + failed
    if skipped:
        lines += ["", "Skipped:", ""] + skipped
    return "\n".join(lines) + "\n"


def write_results(document: dict[str, Any], output_dir: str | os.PathLike) -> tuple[str, str]:
    """Writes `results.json` and `results.md` into `output_dir`; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    json_path = os.path.join(output_dir, "results.json")
    md_path = os.path.join(output_dir, "results.md")
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, allow_nan=False)
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(markdown_table(document))
    return json_path, md_path


def public_path(path: str | os.PathLike) -> str:
    """How a published file shows a local path: a relative path as given, an absolute one by its base name."""
    path = os.fspath(path)
    return (os.path.basename(os.path.normpath(path)) or path) if os.path.isabs(path) else path


def without_local_paths(value: Any, local_paths: Iterable[str | os.PathLike | None]) -> Any:
    """A copy of `value` (a results document) whose strings show each absolute path of `local_paths`, and
    anything under it, by `public_path` (so "/home/me/data/valse/x.json" becomes "data/valse/x.json"), and the
    home folder as "~"; relative paths and Hub ids are kept."""
    replacements = {}
    for path in local_paths:
        if path and os.path.isabs(os.fspath(path)):
            for form in {os.fspath(path), os.path.normpath(os.fspath(path))}:
                replacements[form] = public_path(path)
    home = os.path.expanduser("~")
    if os.path.isabs(home) and home != os.sep:
        replacements.setdefault(home, "~")
    if not replacements:
        return value
    # One pass, longest first: a path is replaced as a whole before any shorter path it contains.
    pattern = re.compile("|".join(re.escape(p) for p in sorted(replacements, key=len, reverse=True)))

    def clean(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(lambda match: replacements[match.group(0)], item)
        if isinstance(item, dict):
            return {clean(k): clean(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [clean(v) for v in item]
        return item

    return clean(value)
