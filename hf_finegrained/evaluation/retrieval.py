"""Image-text retrieval: image->text and text->image recall@1/5/10 through the `retrieval_recall` metric.

`evaluate_retrieval` runs the Karpathy test splits (COCO 5k images / 25k captions, Flickr30k 1k / 5k);
`evaluate_retrieval_pairs` runs any in-memory list of images and captions (e.g. a `datasets` split).
Every caption of an image is a right answer for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..metrics import load_metric
from .engine import ScoringEngine, make_engine, rank_top_k
from .images import FileImage, ImageRef, MemoryImage, find_image
from .karpathy import check_karpathy_test, karpathy_test_paths, load_karpathy_test
from .results import BenchmarkResult
from .spec import RETRIEVAL_TASK, BenchmarkDataset, BenchmarkSpec, MetricType, recall_at

K_VALUES = (1, 5, 10)


def retrieval_result(
    engine: ScoringEngine, images: Sequence[ImageRef], captions: Sequence[Sequence[str]], name: str,
    counts: dict[str, int] | None = None,
) -> BenchmarkResult:
    """Recalls of `images` against their `captions` (captions[i]: the right captions of image i).

    A caption string given for several images is one candidate, right for each of them (a retrieval
    can not tell identical texts apart). Headline `mean_recall` (mean of the six recalls).
    """
    texts: list[str] = list(dict.fromkeys(c for own in captions for c in own))
    row = {text: t for t, text in enumerate(texts)}
    i2t_right = [sorted({row[c] for c in own}) for own in captions]
    t2i_right: list[list[int]] = [[] for _ in texts]
    for i, own in enumerate(i2t_right):
        for t in own:
            t2i_right[t].append(i)
    image_emb, text_emb = engine.embed_pair(list(images), texts)
    k = max(K_VALUES)
    similarity = image_emb @ text_emb.T  # (images, captions), built once and read both ways
    recall = load_metric("retrieval_recall")
    metrics = {}
    for direction, scores, right in (("i2t", similarity, i2t_right), ("t2i", similarity.T, t2i_right)):
        ranked = rank_top_k(scores, right, k)
        out = recall.compute(predictions=ranked, references=right, k_values=list(K_VALUES))
        metrics.update({f"{direction}_recall@{kk}": out[f"recall@{kk}"] for kk in K_VALUES})
    metrics["mean_recall"] = sum(metrics.values()) / len(metrics)
    counts = {"items": len(images), "scored": len(images), **(counts or {}), "captions": len(texts)}
    return BenchmarkResult(name=name, headline="mean_recall", metrics=metrics, counts=counts)


def evaluate_retrieval(engine: ScoringEngine, annotations: str, images: str, name: str) -> BenchmarkResult:
    """Karpathy-split retrieval; captions are used raw (the tokenizer truncates). An image that is missing
    is left out with its captions (`missing_images` counts images)."""
    entries = load_karpathy_test(annotations)
    found = [(find_image(path, [images]), captions) for path, captions in entries]
    kept = [(path, captions) for path, captions in found if path is not None]
    if not kept:
        return BenchmarkResult.skipped(name, f"no image found under {images}")
    counts = {"items": len(entries), "scored": len(kept), "missing_images": len(entries) - len(kept)}
    return retrieval_result(engine, [FileImage(p) for p, _ in kept], [c for _, c in kept], name, counts)


def evaluate_retrieval_pairs(
    model: Any,
    images: Sequence[Any],
    captions: Sequence[str | Sequence[str]],
    *,
    name: str = "retrieval",
    processor: Any = None,
    batch_size: int = 64,
    device: str | None = None,
    progress: bool = True,
) -> BenchmarkResult:
    """Retrieval over in-memory pairs: `images[i]` (PIL) with its caption `captions[i]` (or a list of them).

    `model` is a model folder or Hub id, a `CLIPModel` (with `processor`), a `Scorer` or a `ScoringEngine`.
    """
    if len(images) != len(captions):
        raise ValueError(f"got {len(images)} images but {len(captions)} caption entries; give one per image")
    engine = make_engine(model, processor=processor, batch_size=batch_size, device=device, progress=progress)
    refs = [MemoryImage(image, name=("pair", i)) for i, image in enumerate(images)]
    own = [[c] if isinstance(c, str) else list(c) for c in captions]
    return retrieval_result(engine, refs, own, name)


def metric_type(metric: str) -> MetricType:
    """`SPEC.metric_types`: `<direction>_recall@<k>` is `recall_at_<k>` (as MTEB's cards), `mean_recall` (the mean of
    the six) `mean_recall`."""
    direction, _, k = metric.partition("_recall@")
    if metric == "mean_recall":
        return MetricType("mean_recall", RETRIEVAL_TASK)
    if direction in ("i2t", "t2i") and k.isdigit():
        return recall_at(int(k))
    raise ValueError(f"retrieval emits <i2t|t2i>_recall@<k> and mean_recall, not {metric!r}")


_KARPATHY = "Karpathy split (Karpathy and Fei-Fei, CVPR 2015)"
_DATASETS = {"coco": BenchmarkDataset("mscoco", f"MS-COCO 5k test images, {_KARPATHY}", "karpathy"),
             "flickr": BenchmarkDataset("flickr30k", f"Flickr30k 1k test images, {_KARPATHY}", "karpathy")}


def _karpathy_spec(name: str, dataset: str) -> BenchmarkSpec:
    return BenchmarkSpec(name, karpathy_test_paths(dataset),
                         lambda engine, annotations, images: evaluate_retrieval(engine, annotations, images, name),
                         check_karpathy_test, dataset=_DATASETS[dataset], metric_types=metric_type)


COCO_SPEC = _karpathy_spec("retrieval_coco", "coco")
FLICKR_SPEC = _karpathy_spec("retrieval_flickr", "flickr")
