"""Winoground (Thrush et al., CVPR 2022): 400 examples of 2 images x 2 captions; text, image and group
scores through the `winoground_scores` metric."""

from __future__ import annotations

import os

import torch

from ..metrics import load_metric
from .annotations import field, read_jsonl
from .engine import ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, MetricType


def read_winoground(annotation_file: str | os.PathLike) -> list[dict]:
    """Every example of `examples.jsonl` with `images` (2 names), `captions` (2) and `tag`; `AnnotationError`
    naming the file and line when one is malformed."""
    examples = []
    for n, row in enumerate(read_jsonl(annotation_file)):
        where = f"example {n} (id {row.get('id')!r})" if isinstance(row, dict) and "id" in row else f"example {n}"
        examples.append({"images": [field(row, f"image_{i}", annotation_file, where) for i in (0, 1)],
                         "captions": [field(row, f"caption_{i}", annotation_file, where) for i in (0, 1)],
                         "tag": row.get("collapsed_tag") or row.get("tag") or "all"})
    return examples


def load_winoground(annotation_file: str | os.PathLike, image_root: str | os.PathLike) -> tuple[list[dict], int]:
    """Examples whose two images exist, with `images` (2 paths), `captions` (2) and `tag`; plus the number
    of examples dropped for a missing image."""
    examples, missing = [], 0
    for example in read_winoground(annotation_file):
        paths = [_image_path(name, image_root) for name in example["images"]]
        if None in paths:
            missing += 1
            continue
        examples.append({**example, "images": paths})
    return examples, missing


def _image_path(name: str, root: str | os.PathLike) -> str | None:
    names = [name] if os.path.splitext(name)[1] else [name + ext for ext in (".png", ".jpg", ".jpeg")]
    for candidate in names:
        path = find_image(candidate, [root])
        if path:
            return path
    return None


def evaluate_winoground(engine: ScoringEngine, annotations: str, images: str) -> BenchmarkResult:
    """Headline `group`; also `text`, `image`, and per-tag scores in `details`."""
    examples, missing = load_winoground(annotations, images)
    counts = {"items": len(examples) + missing, "scored": len(examples), "missing_images": missing}
    if not examples:
        return BenchmarkResult.skipped("winoground", f"no example could be scored ({missing} with images missing)")
    refs = [FileImage(p) for ex in examples for p in ex["images"]]
    texts = [c for ex in examples for c in ex["captions"]]
    image_emb, text_emb = engine.embed_pair(refs, texts)
    image_emb = image_emb.view(len(examples), 2, -1)
    text_emb = text_emb.view(len(examples), 2, -1)
    matrices = torch.einsum("ncd,nid->nci", text_emb, image_emb)  # (N, caption, image)
    out = load_metric("winoground_scores").compute(predictions=matrices.tolist(),
                                                   categories=[ex["tag"] for ex in examples])
    return BenchmarkResult(
        name="winoground", headline="group",
        metrics={"text": out["text_score"], "image": out["image_score"], "group": out["group_score"]},
        counts=counts, details={"per_category": out["per_category"]},
    )


def metric_type(metric: str) -> MetricType:
    """`SPEC.metric_types`: Winoground's three scores as its paper names them (each needs two or four comparisons
    right, not one)."""
    if metric not in ("text", "image", "group"):
        raise ValueError(f"winoground emits text, image and group scores, not {metric!r}")
    return MetricType(f"{metric}_score")


SPEC = BenchmarkSpec("winoground", {
    "annotations": ("winoground/examples.jsonl", "examples.jsonl of facebook/winoground (Hugging Face Hub, gated)"),
    "images": ("winoground/images", "the images folder of facebook/winoground"),
}, evaluate_winoground, lambda annotations, images: read_winoground(annotations),
    dataset=BenchmarkDataset("facebook/winoground", "Winoground (Thrush et al., CVPR 2022)"), metric_types=metric_type)
