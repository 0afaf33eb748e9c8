"""Registry of benchmarks and the runner: any set of them on one model, skipping those whose data is absent;
a benchmark whose files are broken fails alone, with the file and the problem named.

Each benchmark module declares its own `BenchmarkSpec` (its files, how to run it, how to check its files);
`REGISTERED` below lists them, one line per benchmark, in the order they run and are listed. Adding a
benchmark: its module with its spec, and one line here."""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import (
    aro, bivlc, colorswap, crepe, eqben, mmvp, retrieval, spec_benchmark, sugarcrepe, sugarcrepe_pp, valse,
    vismin, vl_checklist, whatsup, winoground, zeroshot,
)
from .annotations import AnnotationError
from .engine import UnreadableImageError, make_engine
from .results import BenchmarkResult, absent_files_note, results_document, without_local_paths, write_results
from .spec import BenchmarkSpec

logger = logging.getLogger(__name__)

REGISTERED: tuple[BenchmarkSpec, ...] = (
    sugarcrepe.SPEC,
    sugarcrepe_pp.SPEC,
    aro.VG_RELATION_SPEC,
    aro.VG_ATTRIBUTION_SPEC,
    aro.COCO_ORDER_SPEC,
    aro.FLICKR_ORDER_SPEC,
    valse.SPEC,
    vl_checklist.SPEC,
    winoground.SPEC,
    whatsup.SPEC,
    crepe.SPEC,
    bivlc.SPEC,
    mmvp.SPEC,
    vismin.SPEC,
    eqben.SPEC,
    spec_benchmark.SPEC,
    colorswap.SPEC,
    retrieval.COCO_SPEC,
    retrieval.FLICKR_SPEC,
    zeroshot.SPEC,
)

BENCHMARKS: dict[str, BenchmarkSpec] = {spec.name: spec for spec in REGISTERED}
if len(BENCHMARKS) != len(REGISTERED):
    raise RuntimeError(f"two registered benchmarks share a name: {[spec.name for spec in REGISTERED]}")

# Names that stand for several benchmarks on the command line. "compositional": every benchmark but retrieval and
# zero-shot (those whose files are absent are skipped, each with what to download); the others reproduce the
# benchmark columns of a peer's results table, to put a run beside it (docs/BENCHMARKS.md, "Presets").
PRESETS: dict[str, tuple[str, ...]] = {
    "compositional": tuple(name for name in BENCHMARKS
                           if not name.startswith("retrieval_") and name != "zeroshot"),
    # READ-CLIP (NeurIPS 2025), README table "Reproducing the Paper": WhatsUp, VALSE, CREPE, SugarCrepe, SugarCrepe++.
    "readclip": ("whatsup", "valse", "crepe", "sugarcrepe", "sugarcrepe_pp"),
}
if set(PRESETS) & set(BENCHMARKS) or any(n not in BENCHMARKS for names in PRESETS.values() for n in names):
    raise RuntimeError("a preset shares a benchmark's name or lists an unknown benchmark")


def resolve_paths(spec: BenchmarkSpec, data_root: str | None, overrides: Mapping[str, str]) -> tuple[dict, str | None]:
    """The spec's paths (overrides first, else data_root/default); returns (paths, None) or (partial, message)
    when something is missing, the message naming what to download and where to put it."""
    paths, lacking = {}, []
    for key, (default, what) in spec.paths.items():
        value = overrides.get(key) or (os.path.join(data_root, default) if data_root and default else None)
        paths[key] = value
        if not default:  # not a file under the data root (a dataset id): only required to be given
            if not value:
                lacking.append(what)
        elif not value or not os.path.exists(value):
            lacking.append(f"put {what} at {value or '<data root>/' + default}")
    paths.update({k: v for k, v in overrides.items() if k not in paths})
    return paths, ("data absent; " + "; ".join(lacking)) if lacking else None


class UnknownBenchmarkError(KeyError):
    """Benchmark names that are not in `BENCHMARKS`; the message lists the known ones and close matches."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def benchmark_names(values: str | Sequence[str] | None) -> list[str]:
    """Benchmark names from "a,b", "a b", ["a", "b"] or ["a,b"] (the forms a command line gives), in order and
    without repeats; "all" (or nothing) stands for every registered benchmark, a name of `PRESETS` for its
    benchmarks."""
    if values is None:
        return list(BENCHMARKS)
    items = [values] if isinstance(values, str) else list(values)
    names = [name for item in items for name in re.split(r"[,\s]+", str(item)) if name]
    if not names or names == ["all"]:
        return list(BENCHMARKS)
    expanded = [member for name in names for member in PRESETS.get(name, (name,))]
    return list(dict.fromkeys(expanded))


def check_names(names: Sequence[str]) -> None:
    """Raises `UnknownBenchmarkError` naming each unknown name (with the closest known one) and the known ones."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(BENCHMARKS), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UnknownBenchmarkError(f"unknown benchmarks: {', '.join(hints)}; known: {', '.join(BENCHMARKS)}; "
                                    f"presets: {', '.join(PRESETS)}")


def check_benchmarks(
    benchmarks: Sequence[str] | None = None,
    data_root: str | None = None,
    paths: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, tuple[str, str]]:
    """Checks, without a model, that `benchmarks` can run: known names (else `UnknownBenchmarkError`), data
    present, annotation files readable and in their layout. Images are not opened (that happens when scoring).

    Returns name -> (status, message): "ready" (message empty), "absent" (the message says what to download
    and where to put it; `run_benchmarks` skips such a benchmark) or "error" (the message names the file and
    the problem; `run_benchmarks` would fail that benchmark).
    """
    names = benchmark_names(benchmarks)
    check_names(names)
    out = {}
    for name in names:
        spec = BENCHMARKS[name]
        resolved, problem = resolve_paths(spec, data_root, (paths or {}).get(name, {}))
        if problem:
            out[name] = ("absent", problem)
            continue
        try:
            if spec.check is not None:
                spec.check(**resolved)
        except Exception as error:
            out[name] = ("error", _failure(error, resolved))
            continue
        out[name] = ("ready", "")
    return out


def _failure(error: Exception, resolved: Mapping[str, Any]) -> str:
    """The reason recorded for a benchmark that raised `error`: data errors name their file already; any other
    error gets its type and the benchmark's files."""
    if isinstance(error, (AnnotationError, UnreadableImageError)):
        return str(error)
    files = ", ".join(f"{key}={value}" for key, value in resolved.items())
    return f"{type(error).__name__}: {error} (files: {files})"


def outcome_summary(results: Sequence[BenchmarkResult]) -> str | None:
    """The closing line of a run that did not score everything it could: which benchmarks failed, which were
    scored (or that none was), which were skipped. None when none failed and at least one was scored."""
    by_status: dict[str, list[str]] = {"ok": [], "error": [], "skipped": []}
    for result in results:
        by_status.setdefault(result.status, []).append(result.name)
    scored, failed, skipped = by_status["ok"], by_status["error"], by_status["skipped"]
    if scored and not failed:
        return None
    parts = [f"{len(failed)} of {len(results)} benchmarks failed ({', '.join(failed)})"] if failed else []
    if scored:
        parts.append(f"scored: {', '.join(scored)}")
    else:
        parts.append("none was scored" if failed else "no benchmark was scored")
    if skipped:
        parts.append(f"skipped: {', '.join(skipped)}")
    text = "; ".join(parts)
    advice = "Fix the files named above and run the failed ones again." if failed else "The reasons are above."
    return f"{text[0].upper()}{text[1:]}. {advice}"


def run_benchmarks(
    model: Any,
    benchmarks: Sequence[str] | None = None,
    data_root: str | None = None,
    paths: Mapping[str, Mapping[str, str]] | None = None,
    output_dir: str | None = None,
    processor: Any = None,
    batch_size: int = 64,
    device: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Runs `benchmarks` (default: all registered) on `model`; returns the results document and, with
    `output_dir`, writes `results.json` and `results.md` there. `paths[name][key]` overrides a default path.

    A benchmark whose data is absent is skipped; one whose files are malformed (or whose scoring raises) fails
    alone: status "error", the reason naming the file and the problem, listed in the document's `errors`; the
    others still run and are written. The returned document keeps local paths in its messages; the written
    files show them relative to the data root or by base name (they get published with the model).
    """
    names = benchmark_names(benchmarks)
    check_names(names)
    engine = make_engine(model, processor=processor, batch_size=batch_size, device=device, progress=progress)
    results = []
    for name in names:
        resolved, problem = resolve_paths(BENCHMARKS[name], data_root, (paths or {}).get(name, {}))
        if problem:
            log(f"[{name}] skipped: {problem}")
            results.append(BenchmarkResult.skipped(name, problem))
            continue
        log(f"[{name}] running")
        try:
            result = BENCHMARKS[name].run(engine, **resolved)
        except ImportError as error:  # an optional dependency (spaCy for the Order tasks)
            result = BenchmarkResult.skipped(name, str(error))
        except Exception as error:
            if not isinstance(error, (AnnotationError, UnreadableImageError)):
                logger.warning("[%s] failed with an unexpected error", name, exc_info=True)
            result = BenchmarkResult.failed(name, _failure(error, resolved))
        if result.status == "skipped" and resolved.get("images") and "images missing" in (result.reason or ""):
            result.reason = f"{result.reason}; images looked for under {resolved['images']}"
        if result.status == "ok":
            log(f"[{name}] {result.headline} = {100 * result.metrics[result.headline]:.2f}% "
                f"({result.counts.get('scored')} scored, {result.counts.get('missing_images', 0)} missing images)")
            absent = result.details.get("absent_files")
            if absent:
                log(f"[{name}] {absent_files_note(absent)}, looked for under "
                    f"{resolved.get('annotations') or data_root}")
        elif result.status == "error":
            log(f"[{name}] failed: {result.reason}")
        else:
            log(f"[{name}] skipped: {result.reason}")
        results.append(result)
    model_name = str(model) if isinstance(model, (str, os.PathLike)) else type(model).__name__
    settings = {"batch_size": batch_size, "device": device, "data_root": data_root,
                "encode_stats": vars(engine.stats).copy()}
    document = results_document(model_name, results, settings)
    summary = outcome_summary(results)
    if summary:
        log(summary)
    if output_dir:
        local = [data_root, model_name] + [p for overrides in (paths or {}).values() for p in overrides.values()]
        json_path, md_path = write_results(without_local_paths(document, local), output_dir)
        log(f"wrote {json_path} and {md_path}")
    return document
