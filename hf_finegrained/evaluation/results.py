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

from ..version import __version__
from .bow import split_ceilings
from .published import SOURCES, published_for

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
    """One row per metric of each scored benchmark (headline first, in %), the failed and the skipped benchmarks
    with their reasons, then the published ViT-B/32 numbers beside the metrics that have some
    (`published_comparison`). A metric with an order-blind ceiling (`bow_ceiling/<metric>`, see `bow.py`) shows
    it in its own column beside the score, not as a row of its own."""
    with_ceilings = any(split_ceilings(entry.get("metrics", {}))[1] for entry in document["benchmarks"].values())
    ceiling_header, ceiling_rule = (" Order-blind ceiling (%) |", "---:|") if with_ceilings else ("", "")
    lines = [
        f"Results for `{document['model']}` (hf_finegrained {document['hf_finegrained_version']}).",
        "",
        f"| Benchmark | Metric | Score (%) |{ceiling_header} Items scored | Missing images |",
        f"|---|---|---:|{ceiling_rule}---:|---:|",
    ]
    skipped, failed = [], []
    for name, entry in document["benchmarks"].items():
        if entry["status"] != "ok":
            (failed if entry["status"] == "error" else skipped).append(f"- {name}: {entry.get('reason', 'skipped')}")
            continue
        metrics, ceilings = split_ceilings(entry["metrics"])
        headline = entry.get("headline")
        keys = ([headline] if headline in metrics else []) + [k for k in metrics if k != headline]
        counts = entry["counts"]
        for i, key in enumerate(keys):
            metric = f"**{key}**" if i == 0 and headline in metrics else key
            scored = str(counts.get("scored", "")) if i == 0 else ""
            missing = str(counts.get("missing_images", "")) if i == 0 else ""
            ceiling = f" {_percent(ceilings[key]) if key in ceilings else ''} |" if with_ceilings else ""
            lines.append(f"| {name if i == 0 else ''} | {metric} | {_percent(metrics[key])} |{ceiling} {scored} | "
                         f"{missing} |")
    if with_ceilings:
        lines += ["", "Order-blind ceiling: the best score a scorer blind to word order could reach on the same items "
                      "(an item whose negative has the same words as its right caption is a tie for it, and counts "
                      "as the benchmark counts ties)."]
    incomplete = [f"- {name}: {absent_files_note(entry['details']['absent_files'])}"
                  for name, entry in document["benchmarks"].items()
                  if entry["status"] == "ok" and entry.get("details", {}).get("absent_files")]
    if incomplete:
        lines += ["", "Scored without some of their files:", ""] + incomplete
    if failed:
        lines += ["", "Failed:", ""] + failed
    if skipped:
        lines += ["", "Skipped:", ""] + skipped
    lines += published_comparison(document)
    return "\n".join(lines) + "\n"


def absent_files_note(absent: list[str], listed: int = 10) -> str:
    """`2 annotation files absent (not scored): a.json, b.json` (the first `listed` named)."""
    names = ", ".join(absent[:listed]) + (f" and {len(absent) - listed} more" if len(absent) > listed else "")
    return f"{len(absent)} annotation file{'s' if len(absent) != 1 else ''} absent (not scored): {names}"


def published_comparison(document: dict[str, Any]) -> list[str]:
    """The lines of `results.md`'s section "Beside published ViT-B/32 numbers": for each scored metric with
    published numbers (`published.py`, the rows of docs/BENCHMARKS.md that map one-to-one onto our metrics),
    the run's value and each published one with its model and source key, then the legend of the keys used.
    No lines when no scored metric has a published number."""
    rows, used = [], set()
    for name, entry in document["benchmarks"].items():
        if entry["status"] != "ok":
            continue
        metrics = split_ceilings(entry["metrics"])[0]
        headline = entry.get("headline")
        shown = False
        for key in ([headline] if headline in metrics else []) + [k for k in metrics if k != headline]:
            for i, number in enumerate(published_for(name, key)):
                rows.append(f"| {'' if shown else name} | {'' if i else key} | {'' if i else _percent(metrics[key])} | "
                            f"{number.model} | {number.percent} | [{number.source}] | {number.note} |")
                shown = True
                used.add(number.source)
    if not rows:
        return []
    legend = [f"- [{key}] {source.reference}; harness: {source.harness}." for key, source in SOURCES.items()
              if key in used]
    return ["", "## Beside published ViT-B/32 numbers", "",
            "| Benchmark | Metric | This run (%) | Model | Published (%) | Source | Note |",
            "|---|---|---:|---|---:|---|---|", *rows, "",
            "Sources:", "", *legend, "",
            "Numbers from other harnesses differ from this one's by about a point for the same checkpoint, some by "
            "several (ties, image preprocessing, prompts, the copy of the data), and an average compares only with "
            "an average of the same kind (see the notes): docs/BENCHMARKS.md of hf_finegrained, \"Published "
            "ViT-B/32 numbers for comparison\"."]


def _percent(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"


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
