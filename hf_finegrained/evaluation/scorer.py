"""Embedding models the scoring engine can use: any object with `encode_images` / `encode_texts`; `CLIPScorer`
wraps a transformers `CLIPModel` + `CLIPProcessor`."""

from __future__ import annotations

from typing import Protocol

import torch
from PIL import Image


class Scorer(Protocol):
    """Encodes batches; both methods return L2-normalised float32 CPU tensors of shape (batch, dim)."""

    def encode_images(self, images: list[Image.Image]) -> torch.Tensor: ...

    def encode_texts(self, texts: list[str]) -> torch.Tensor: ...


class CLIPScorer:
    """Cosine-similarity scorer on a transformers `CLIPModel` (projected embeddings, no gradient, eval mode)."""

    def __init__(self, model, processor, device: str | torch.device | None = None) -> None:
        self.device = torch.device(device) if device is not None else (
            torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
        )
        self.model = model.to(self.device).eval()
        self.processor = processor

    @classmethod
    def from_pretrained(cls, name_or_path: str, device: str | torch.device | None = None) -> "CLIPScorer":
        """Loads `CLIPModel` and `CLIPProcessor` from a local folder or a Hub id."""
        from transformers import CLIPModel, CLIPProcessor

        return cls(CLIPModel.from_pretrained(name_or_path), CLIPProcessor.from_pretrained(name_or_path), device)

    @torch.no_grad()
    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """images: N PIL images -> (N, projection_dim) unit vectors."""
        pixels = self.processor.image_processor(images=images, return_tensors="pt")["pixel_values"]
        dtype = next(self.model.parameters()).dtype
        # In transformers 5, get_image_features returns an output object whose pooler_output is projected.
        out = self.model.get_image_features(pixel_values=pixels.to(self.device, dtype))
        return _unit(out.pooler_output if hasattr(out, "pooler_output") else out)

    @torch.no_grad()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """texts: M strings -> (M, projection_dim) unit vectors (truncated to the tokenizer's max length)."""
        tokens = self.processor.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        out = self.model.get_text_features(
            input_ids=tokens["input_ids"].to(self.device), attention_mask=tokens["attention_mask"].to(self.device)
        )
        return _unit(out.pooler_output if hasattr(out, "pooler_output") else out)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x.float(), dim=-1).cpu()
