"""Registry of benchmarks and the runner: any set of them on one model, skipping those whose data is absent;
a benchmark whose files are broken fails alone, with the file and the problem named."""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import aro, retrieval, sugarcrepe, valse, vl_checklist, winoground, zeroshot
from .annotations import AnnotationError
from .engine import ScoringEngine, UnreadableImageError, make_engine
from .karpathy import load_karpathy_test
from .results import BenchmarkResult, results_document, without_local_paths, write_results

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark: the paths it needs (key -> default relative to the data root, and what goes there), how
    to run it on an engine with those paths resolved, and `check`: a quick read of its annotation files with
    the same resolved paths (no images, no model) that raises `AnnotationError` when one is malformed."""

    name: str
    paths: Mapping[str, tuple[str, str]]
    run: Callable[..., BenchmarkResult]
    check: Callable[..., Any] | None = None


_ARO = "github.com/mertyg/vision-language-models-are-bows"
_KARPATHY = "BLIP's Karpathy test split, storage.googleapis.com/sfr-vision-language-research/datasets/"
_COCO_IMAGES = ("coco", "the COCO folder holding val2014/ (cocodataset.org)")
_FLICKR_IMAGES = ("flickr30k", "the Flickr30k folder holding flickr30k-images/ (forms.illinois.edu/sec/229675)")


def _order(name: str) -> Callable[..., BenchmarkResult]:
    return lambda engine, annotations, images: aro.evaluate_order(engine, annotations, images, name)


def _retrieval(name: str) -> Callable[..., BenchmarkResult]:
    return lambda engine, annotations, images: retrieval.evaluate_retrieval(engine, annotations, images, name)


def _vg(kind: str) -> Callable[..., BenchmarkResult]:
    return lambda engine, annotations, images: aro.evaluate_vg(engine, annotations, images, kind)


def _zeroshot(engine: ScoringEngine, dataset: str, split: str = "test") -> BenchmarkResult:
    return zeroshot.evaluate_zeroshot(engine, _load_dataset(dataset, split))


def _check_vg(kind: str) -> Callable[..., Any]:
    return lambda annotations, images: aro.read_vg(annotations, kind)


def _check_karpathy(annotations: str, images: str) -> Any:
    return load_karpathy_test(annotations)


def _check_vl_checklist(annotations: str, images: str) -> None:
    for _, path in vl_checklist.present_files(annotations)[0]:
        vl_checklist.read_checklist_file(path)


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec("sugarcrepe", {
            "annotations": ("sugarcrepe", "the 7 SugarCrepe files (github.com/RAIVNLab/sugar-crepe, data/*.json)"),
            "images": ("coco/val2017", "COCO val2017 images (cocodataset.org)"),
        }, sugarcrepe.evaluate_sugarcrepe, lambda annotations, images: sugarcrepe.read_sugarcrepe(annotations)),
        BenchmarkSpec("aro_vg_relation", {
            "annotations": ("aro/visual_genome_relation.json", f"visual_genome_relation.json (linked from {_ARO})"),
            "images": ("aro/images", f"the unzipped vgr_vga_images.zip (linked from {_ARO})"),
        }, _vg("relation"), _check_vg("relation")),
        BenchmarkSpec("aro_vg_attribution", {
            "annotations": ("aro/visual_genome_attribution.json",
                            f"visual_genome_attribution.json (linked from {_ARO})"),
            "images": ("aro/images", f"the unzipped vgr_vga_images.zip (linked from {_ARO})"),
        }, _vg("attribution"), _check_vg("attribution")),
        BenchmarkSpec("aro_coco_order", {
            "annotations": ("coco/coco_karpathy_test.json", f"coco_karpathy_test.json ({_KARPATHY})"),
            "images": _COCO_IMAGES,
        }, _order("aro_coco_order"), _check_karpathy),
        BenchmarkSpec("aro_flickr_order", {
            "annotations": ("flickr30k/flickr30k_test.json", f"flickr30k_test.json ({_KARPATHY})"),
            "images": _FLICKR_IMAGES,
        }, _order("aro_flickr_order"), _check_karpathy),
        BenchmarkSpec("valse", {
            "annotations": ("valse", "the 11 VALSE files (github.com/Heidelberg-NLP/VALSE, data/*.json)"),
            "images": ("valse/images", f"every VALSE image in one folder by file name ({valse.IMAGES})"),
        }, lambda engine, annotations, images: valse.evaluate_valse(engine, annotations, [images]),
            lambda annotations, images: valse.read_valse(annotations)),
        BenchmarkSpec("vl_checklist", {
            "annotations": ("vl_checklist/data", "the data/ folder of github.com/om-ai-lab/VL-CheckList"),
            "images": ("vl_checklist/images", "folders vg/, swig/, hake/ as in VL-CheckList's DATASETS.md"),
        }, vl_checklist.evaluate_vl_checklist, _check_vl_checklist),
        BenchmarkSpec("winoground", {
            "annotations": ("winoground/examples.jsonl",
                            "examples.jsonl of facebook/winoground (Hugging Face Hub, gated)"),
            "images": ("winoground/images", "the images folder of facebook/winoground"),
        }, winoground.evaluate_winoground, lambda annotations, images: winoground.read_winoground(annotations)),
        BenchmarkSpec("retrieval_coco", {
            "annotations": ("coco/coco_karpathy_test.json", f"coco_karpathy_test.json ({_KARPATHY})"),
            "images": _COCO_IMAGES,
        }, _retrieval("retrieval_coco"), _check_karpathy),
        BenchmarkSpec("retrieval_flickr", {
            "annotations": ("flickr30k/flickr30k_test.json", f"flickr30k_test.json ({_KARPATHY})"),
            "images": _FLICKR_IMAGES,
        }, _retrieval("retrieval_flickr"), _check_karpathy),
        BenchmarkSpec("zeroshot", {
            "dataset": ("", "no dataset given: pass --set zeroshot.dataset=<Hub id or save_to_disk folder> "
                            "(and zeroshot.split=..., default test)"),
        }, _zeroshot),
    )
}


def _load_dataset(name_or_path: str, split: str) -> Any:
    import datasets

    if os.path.isdir(name_or_path) and os.path.exists(os.path.join(name_or_path, "dataset_info.json")):
        return datasets.load_from_disk(name_or_path)
    if os.path.isdir(name_or_path) and os.path.exists(os.path.join(name_or_path, "dataset_dict.json")):
        return datasets.load_from_disk(name_or_path)[split]
    return datasets.load_dataset(name_or_path, split=split)


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
    without repeats; "all" (or nothing) stands for every registered benchmark."""
    if values is None:
        return list(BENCHMARKS)
    items = [values] if isinstance(values, str) else list(values)
    names = [name for item in items for name in re.split(r"[,\s]+", str(item)) if name]
    if not names or names == ["all"]:
        return list(BENCHMARKS)
    return list(dict.fromkeys(names))


def check_names(names: Sequence[str]) -> None:
    """Raises `UnknownBenchmarkError` naming each unknown name (with the closest known one) and the known ones."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(BENCHMARKS), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UnknownBenchmarkError(f"unknown benchmarks: {', '.join(hints)}; known: {', '.join(BENCHMARKS)}")


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
        if result.status == "skipped" and resolved.get("images"):
            result.reason = f"{result.reason}; images looked for under {resolved['images']}"
        if result.status == "ok":
            log(f"[{name}] {result.headline} = {100 * result.metrics[result.headline]:.2f}% "
                f"({result.counts.get('scored')} scored, {result.counts.get('missing_images', 0)} missing images)")
        elif result.status == "error":
            log(f"[{name}] failed: {result.reason}")
        else:
            log(f"[{name}] skipped: {result.reason}")
        results.append(result)
    model_name = str(model) if isinstance(model, (str, os.PathLike)) else type(model).__name__
    settings = {"batch_size": batch_size, "device": device, "data_root": data_root,
                "encode_stats": vars(engine.stats).copy()}
    document = results_document(model_name, results, settings)
    if document["errors"]:
        log(f"{len(document['errors'])} of {len(names)} benchmarks failed ({', '.join(document['errors'])}); "
            "the others were scored. Fix the files named above and run those again.")
    if output_dir:
        local = [data_root, model_name] + [p for overrides in (paths or {}).values() for p in overrides.values()]
        json_path, md_path = write_results(without_local_paths(document, local), output_dir)
        log(f"wrote {json_path} and {md_path}")
    return document
