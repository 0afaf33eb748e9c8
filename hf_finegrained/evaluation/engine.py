"""The scoring engine: every unique image and every unique caption is encoded once, in batches, without
gradient, with a progress bar; benchmarks then read scores out of the cached embeddings."""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from .images import ImageRef
from .scorer import ModelScorer, Scorer


@dataclass
class ChoiceItem:
    """One image, its candidate captions and the index of the right one; `category` may be a "/" path."""

    image: ImageRef
    captions: list[str]
    label: int = 0
    category: str = ""


@dataclass
class EncodeStats:
    """How much encoding the engine did, summed over its calls.

    `requested_*`: items asked for, repeats included; `unique_*`: the distinct items among each call's requests
    (by image key, by string), counted from the requests; `*_encodes`: items actually sent to the scorer.
    `unique_*` < `requested_*` is the deduplication at work, `*_encodes` == `unique_*` says it held. Keys only
    identify an image within one call, so an item asked for again by a later call counts (and is encoded) again.
    """

    image_encodes: int = 0
    text_encodes: int = 0
    unique_images: int = 0
    unique_texts: int = 0
    requested_images: int = 0
    requested_texts: int = 0

    def work_ratio(self) -> float:
        """Items sent to the scorer / distinct items requested, per call (1.0 = nothing encoded twice)."""
        return (self.image_encodes + self.text_encodes) / max(1, self.unique_images + self.unique_texts)


@dataclass
class ScoringEngine:
    """Batches and deduplicates encoding for a `Scorer`; `stats` accumulates over calls."""

    scorer: Scorer
    batch_size: int = 64
    progress: bool = True
    stats: EncodeStats = field(default_factory=EncodeStats)

    def embed_images(self, refs: Sequence[ImageRef], desc: str = "images") -> tuple[torch.Tensor, dict[Hashable, int]]:
        """Encodes the distinct images among `refs`; returns (embeddings (U, D), key -> row)."""
        unique: dict[Hashable, ImageRef] = {}
        for ref in refs:
            unique.setdefault(ref.key, ref)
        self.stats.requested_images += len(refs)
        self.stats.unique_images += len(unique)
        index = {key: row for row, key in enumerate(unique)}
        todo = list(unique.values())
        chunks, unreadable = [], []
        for start in tqdm(range(0, len(todo), self.batch_size), desc=f"encoding {desc}", disable=not self.progress,
                          unit="batch"):
            batch = [_open(ref, unreadable) for ref in todo[start:start + self.batch_size]]
            if not unreadable:  # after the first bad image, only look for the others, to list them all at once
                chunks.append(self.scorer.encode_images(batch))
                self.stats.image_encodes += len(batch)
        if unreadable:
            shown = "; ".join(unreadable[:5]) + (f"; and {len(unreadable) - 5} more" if len(unreadable) > 5 else "")
            raise UnreadableImageError(
                f"{len(unreadable)} of {len(todo)} images cannot be read: {shown}. Download them again, or delete "
                "them to have their items counted as missing images"
            )
        return _stack(chunks), index

    def embed_texts(self, texts: Sequence[str], desc: str = "captions") -> tuple[torch.Tensor, dict[str, int]]:
        """Encodes the distinct strings among `texts`; returns (embeddings (U, D), text -> row)."""
        unique = list(dict.fromkeys(texts))
        self.stats.requested_texts += len(texts)
        self.stats.unique_texts += len(unique)
        # Similar lengths in a batch waste less padding; rows are mapped back through `index`.
        order = sorted(range(len(unique)), key=lambda i: len(unique[i]))
        chunks = []
        for start in tqdm(range(0, len(order), self.batch_size), desc=f"encoding {desc}", disable=not self.progress,
                          unit="batch"):
            batch = [unique[i] for i in order[start:start + self.batch_size]]
            chunks.append(self.scorer.encode_texts(batch))
            self.stats.text_encodes += len(batch)
        index = {unique[i]: row for row, i in enumerate(order)}
        return _stack(chunks), index

    def score_choices(self, items: Sequence[ChoiceItem]) -> list[list[float]]:
        """Cosine score of each item's image with each of its captions: one list per item."""
        return self.score_choices_and_texts(items, texts_too=False)[0]

    def score_choices_and_texts(
        self, items: Sequence[ChoiceItem], texts_too: bool = True
    ) -> tuple[list[list[float]], list[list[list[float]]]]:
        """`score_choices`, and per item the cosine similarities among its captions (text encoder only): a
        (C, C) matrix, `[i][j]` = cos(caption i, caption j). Both come from the same embeddings, so each unique
        image and caption is encoded once for the image-text and the text-text scores together."""
        images, image_row = self.embed_images([item.image for item in items])
        texts, text_row = self.embed_texts([c for item in items for c in item.captions])
        scores, similarities = [], []
        for item in items:
            image = images[image_row[item.image.key]]
            captions = texts[torch.tensor([text_row[c] for c in item.captions])]
            # Products summed row by row rather than a matrix product: two equal embeddings (captions cut at the
            # same 77 tokens, or an order-blind encoder) then get exactly equal scores, a tie, where a BLAS kernel
            # can round two equal rows differently and break the tie at random.
            scores.append((captions * image).sum(dim=-1).tolist())
            if texts_too:
                similarities.append((captions[:, None, :] * captions[None, :, :]).sum(dim=-1).tolist())
        return scores, similarities

    def embed_pair(
        self, refs: Sequence[ImageRef], texts: Sequence[str]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings aligned with the inputs: ((len(refs), D), (len(texts), D)); duplicates encoded once."""
        images, image_row = self.embed_images(refs)
        captions, text_row = self.embed_texts(texts)
        return (images[torch.tensor([image_row[r.key] for r in refs], dtype=torch.long)],
                captions[torch.tensor([text_row[t] for t in texts], dtype=torch.long)])


class UnreadableImageError(ValueError):
    """Image files that exist but cannot be decoded; the message names them."""


def _open(ref: ImageRef, unreadable: list[str]) -> Image.Image | None:
    """`ref.open()`, or None after adding "<file> (<problem>)" to `unreadable`."""
    try:
        return ref.open()
    except Exception as error:  # PIL raises several types for bad files (UnidentifiedImageError, OSError, ...)
        name = getattr(ref, "path", None) or repr(ref.key)
        if isinstance(error, UnidentifiedImageError):
            problem = "not an image file"
        else:
            problem = f"{type(error).__name__}: {error}"
        unreadable.append(f"{name} ({problem})")
        return None


def _stack(chunks: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat(chunks) if chunks else torch.empty(0, 0)


def rank_top_k(scores: torch.Tensor, right: Sequence[Sequence[int]], k: int, chunk: int = 1024) -> list[list[int]]:
    """Candidate ids ranked best first, top `k` per query, ties broken against the right candidates.

    scores: (Q, C) query-by-candidate scores; right[q]: the right candidate ids of query q. A right
    candidate that ties a wrong one is ranked after it, so a tie never counts as a hit.
    """
    k = min(k, scores.shape[1])
    ranked: list[list[int]] = []
    for start in range(0, scores.shape[0], chunk):
        block = scores[start:start + chunk]
        is_right = torch.zeros_like(block, dtype=torch.int8)
        for row, ids in enumerate(right[start:start + chunk]):
            is_right[row, list(ids)] = 1
        # Two stable sorts: wrong before right, then by descending score keeping that order among equals.
        first = torch.argsort(is_right, dim=1, stable=True)
        second = torch.argsort(-block.gather(1, first), dim=1, stable=True)
        ranked.extend(first.gather(1, second)[:, :k].tolist())
    return ranked


def make_engine(
    model: Any, processor: Any = None, batch_size: int = 64, device: str | None = None, progress: bool = True
) -> ScoringEngine:
    """A `ScoringEngine` from a model folder / Hub id, a `CLIPModel` (+ `processor`), a `Scorer` or an engine."""
    if isinstance(model, ScoringEngine):
        return model
    if isinstance(model, (str, os.PathLike)):
        return ScoringEngine(ModelScorer.from_pretrained(str(model), device), batch_size, progress)
    if hasattr(model, "encode_images") and hasattr(model, "encode_texts"):
        return ScoringEngine(model, batch_size, progress)
    if processor is None:
        raise ValueError("a CLIPModel needs its processor (processor=CLIPProcessor...)")
    return ScoringEngine(ModelScorer(model, processor, device), batch_size, progress)
