"""Registry of benchmarks and the runner: any set of them on one model, skipping those whose data is absent."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import aro, retrieval, sugarcrepe, valse, vl_checklist, winoground, zeroshot
from .engine import ScoringEngine
from .results import BenchmarkResult, results_document, write_results
from .scorer import CLIPScorer


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark: the paths it needs (key -> default relative to the data root, and what goes there) and
    how to run it on an engine with those paths resolved."""

    name: str
    paths: Mapping[str, tuple[str, str]]
    run: Callable[..., BenchmarkResult]


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


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec("sugarcrepe", {
            "annotations": ("sugarcrepe", "the 7 SugarCrepe files (github.com/RAIVNLab/sugar-crepe, data/*.json)"),
            "images": ("coco/val2017", "COCO val2017 images (cocodataset.org)"),
        }, sugarcrepe.evaluate_sugarcrepe),
        BenchmarkSpec("aro_vg_relation", {
            "annotations": ("aro/visual_genome_relation.json", f"visual_genome_relation.json (linked from {_ARO})"),
            "images": ("aro/images", f"the unzipped vgr_vga_images.zip (linked from {_ARO})"),
        }, _vg("relation")),
        BenchmarkSpec("aro_vg_attribution", {
            "annotations": ("aro/visual_genome_attribution.json",
                            f"visual_genome_attribution.json (linked from {_ARO})"),
            "images": ("aro/images", f"the unzipped vgr_vga_images.zip (linked from {_ARO})"),
        }, _vg("attribution")),
        BenchmarkSpec("aro_coco_order", {
            "annotations": ("coco/coco_karpathy_test.json", f"coco_karpathy_test.json ({_KARPATHY})"),
            "images": _COCO_IMAGES,
        }, _order("aro_coco_order")),
        BenchmarkSpec("aro_flickr_order", {
            "annotations": ("flickr30k/flickr30k_test.json", f"flickr30k_test.json ({_KARPATHY})"),
            "images": _FLICKR_IMAGES,
        }, _order("aro_flickr_order")),
        BenchmarkSpec("valse", {
            "annotations": ("valse", "the 11 VALSE files (github.com/Heidelberg-NLP/VALSE, data/*.json)"),
            "images": ("valse/images", f"every VALSE image in one folder by file name ({valse.IMAGES})"),
        }, lambda engine, annotations, images: valse.evaluate_valse(engine, annotations, [images])),
        BenchmarkSpec("vl_checklist", {
            "annotations": ("vl_checklist/data", "the data/ folder of github.com/om-ai-lab/VL-CheckList"),
            "images": ("vl_checklist/images", "folders vg/, swig/, hake/ as in VL-CheckList's DATASETS.md"),
        }, vl_checklist.evaluate_vl_checklist),
        BenchmarkSpec("winoground", {
            "annotations": ("winoground/examples.jsonl",
                            "examples.jsonl of facebook/winoground (Hugging Face Hub, gated)"),
            "images": ("winoground/images", "the images folder of facebook/winoground"),
        }, winoground.evaluate_winoground),
        BenchmarkSpec("retrieval_coco", {
            "annotations": ("coco/coco_karpathy_test.json", f"coco_karpathy_test.json ({_KARPATHY})"),
            "images": _COCO_IMAGES,
        }, _retrieval("retrieval_coco")),
        BenchmarkSpec("retrieval_flickr", {
            "annotations": ("flickr30k/flickr30k_test.json", f"flickr30k_test.json ({_KARPATHY})"),
            "images": _FLICKR_IMAGES,
        }, _retrieval("retrieval_flickr")),
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


def make_engine(
    model: Any, processor: Any = None, batch_size: int = 64, device: str | None = None, progress: bool = True
) -> ScoringEngine:
    """A `ScoringEngine` from a model folder / Hub id, a `CLIPModel` (+ `processor`), a `Scorer` or an engine."""
    if isinstance(model, ScoringEngine):
        return model
    if isinstance(model, (str, os.PathLike)):
        return ScoringEngine(CLIPScorer.from_pretrained(str(model), device), batch_size, progress)
    if hasattr(model, "encode_images") and hasattr(model, "encode_texts"):
        return ScoringEngine(model, batch_size, progress)
    if processor is None:
        raise ValueError("a CLIPModel needs its processor (processor=CLIPProcessor...)")
    return ScoringEngine(CLIPScorer(model, processor, device), batch_size, progress)


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
    `output_dir`, writes `results.json` and `results.md` there. `paths[name][key]` overrides a default path."""
    names = list(benchmarks or BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise KeyError(f"unknown benchmarks {unknown}; known: {', '.join(BENCHMARKS)}")
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
        if result.status != "ok" and resolved.get("images"):
            result.reason = f"{result.reason}; images looked for under {resolved['images']}"
        if result.status == "ok":
            log(f"[{name}] {result.headline} = {100 * result.metrics[result.headline]:.2f}% "
                f"({result.counts.get('scored')} scored, {result.counts.get('missing_images', 0)} missing images)")
        else:
            log(f"[{name}] skipped: {result.reason}")
        results.append(result)
    model_name = str(model) if isinstance(model, (str, os.PathLike)) else type(model).__name__
    settings = {"batch_size": batch_size, "device": device, "data_root": data_root,
                "encode_stats": vars(engine.stats).copy()}
    document = results_document(model_name, results, settings)
    if output_dir:
        json_path, md_path = write_results(document, output_dir)
        log(f"wrote {json_path} and {md_path}")
    return document
