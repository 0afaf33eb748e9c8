"""Zero-shot image-text retrieval on the Karpathy test splits (COCO 5k images / 25k captions, Flickr30k 1k /
5k): image->text and text->image recall@1/5/10 through the `retrieval_recall` metric; every caption of an
image is a right answer for it."""

from __future__ import annotations

from ..metrics import load_metric
from .engine import ScoringEngine, rank_top_k
from .images import FileImage, find_image
from .karpathy import load_karpathy_test
from .results import BenchmarkResult

K_VALUES = (1, 5, 10)


def evaluate_retrieval(engine: ScoringEngine, annotations: str, images: str, name: str) -> BenchmarkResult:
    """Headline `mean_recall` (mean of the six recalls); captions are used raw (the tokenizer truncates).
    An image that is missing is left out with its captions (`missing_images` counts images)."""
    entries = load_karpathy_test(annotations)
    found = [(find_image(path, [images]), captions) for path, captions in entries]
    kept = [(path, captions) for path, captions in found if path is not None]
    counts = {"items": len(entries), "scored": len(kept), "missing_images": len(entries) - len(kept)}
    if not kept:
        return BenchmarkResult.skipped(name, f"no image found under {images}")
    texts, owner = [], []
    for i, (_, captions) in enumerate(kept):
        texts += captions
        owner += [i] * len(captions)
    image_emb, text_emb = engine.embed_pair([FileImage(p) for p, _ in kept], texts)
    k = max(K_VALUES)
    i2t_right = [[] for _ in kept]
    for t, i in enumerate(owner):
        i2t_right[i].append(t)
    similarity = image_emb @ text_emb.T  # (images, captions), built once and read both ways
    i2t = rank_top_k(similarity, i2t_right, k)
    t2i_right = [[i] for i in owner]
    t2i = rank_top_k(similarity.T, t2i_right, k)
    recall = load_metric("retrieval_recall")
    metrics = {}
    for direction, ranked, right in (("i2t", i2t, i2t_right), ("t2i", t2i, t2i_right)):
        out = recall.compute(predictions=ranked, references=right, k_values=list(K_VALUES))
        metrics.update({f"{direction}_recall@{kk}": out[f"recall@{kk}"] for kk in K_VALUES})
    metrics["mean_recall"] = sum(metrics.values()) / len(metrics)
    return BenchmarkResult(name=name, headline="mean_recall", metrics=metrics,
                           counts={**counts, "captions": len(texts)})
