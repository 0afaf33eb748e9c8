"""Embedding models the scoring engine can use: any object with `encode_images` / `encode_texts`; `CLIPScorer`
wraps a transformers `CLIPModel` + `CLIPProcessor`."""

from __future__ import annotations

import logging
from typing import Protocol

import torch
from PIL import Image

logger = logging.getLogger(__name__)


class Scorer(Protocol):
    """Encodes batches; both methods return L2-normalised float32 CPU tensors of shape (batch, dim)."""

    def encode_images(self, images: list[Image.Image]) -> torch.Tensor: ...

    def encode_texts(self, texts: list[str]) -> torch.Tensor: ...


class CLIPScorer:
    """Cosine-similarity scorer on a transformers `CLIPModel` (projected embeddings, no gradient, eval mode).

    The model is scored where it is: only an explicit `device` moves it, and a model placed with a
    `device_map` (it has `hf_device_map`) is never moved. Inputs go to the device of the tower that reads them.
    """

    def __init__(self, model, processor, device: str | torch.device | None = None) -> None:
        if device is not None and getattr(model, "hf_device_map", None):
            logger.warning("device=%s ignored: the model was placed with a device_map and is scored where it is",
                           device)
        elif device is not None:
            model = model.to(torch.device(device))
        self.model = model.eval()
        self.processor = processor

    @property
    def device(self) -> torch.device:
        """The device of the model's first parameter (the text tower's, on a CLIPModel)."""
        return _device_of(self.model)

    @classmethod
    def from_pretrained(cls, name_or_path: str, device: str | torch.device | None = None) -> "CLIPScorer":
        """Loads `CLIPModel` and `CLIPProcessor` from a local folder or a Hub id, onto `device` (default: CUDA
        when present, else CPU)."""
        from transformers import CLIPModel, CLIPProcessor

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        return cls(CLIPModel.from_pretrained(name_or_path), CLIPProcessor.from_pretrained(name_or_path), device)

    @torch.no_grad()
    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """images: N PIL images -> (N, projection_dim) unit vectors."""
        pixels = self.processor.image_processor(images=images, return_tensors="pt")["pixel_values"]
        tower = getattr(self.model, "vision_model", self.model)
        dtype = next(tower.parameters()).dtype
        # In transformers 5, get_image_features returns an output object whose pooler_output is projected.
        out = self.model.get_image_features(pixel_values=pixels.to(_device_of(tower), dtype))
        return _unit(out.pooler_output if hasattr(out, "pooler_output") else out)

    @torch.no_grad()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """texts: M strings -> (M, projection_dim) unit vectors (truncated to the tokenizer's max length)."""
        tokens = self.processor.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        device = _device_of(getattr(self.model, "text_model", self.model))
        out = self.model.get_text_features(
            input_ids=tokens["input_ids"].to(device), attention_mask=tokens["attention_mask"].to(device)
        )
        return _unit(out.pooler_output if hasattr(out, "pooler_output") else out)


def _device_of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x.float(), dim=-1).cpu()
