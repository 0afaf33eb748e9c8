"""Embedding models the scoring engine can use: any object with `encode_images` / `encode_texts`; `ModelScorer`
(alias `CLIPScorer`) wraps a supported transformers model (`CLIPModel`, `SiglipModel`, `Siglip2Model`) and its
processor."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import torch
from PIL import Image

if TYPE_CHECKING:
    from ..pixels import PixelRule

logger = logging.getLogger(__name__)


class Scorer(Protocol):
    """Encodes batches; both methods return L2-normalised float32 CPU tensors of shape (batch, dim)."""

    def encode_images(self, images: list[Image.Image]) -> torch.Tensor: ...

    def encode_texts(self, texts: list[str]) -> torch.Tensor: ...


class ModelScorer:
    """Cosine-similarity scorer on a supported dual encoder (`families`: `CLIPModel`, `SiglipModel`,
    `Siglip2Model`; projected embeddings, no gradient, eval mode).

    Texts are padded as the family was trained (SigLIP: to `max_length`) and images prepared with the inputs
    its forward takes. Benchmarks rank by cosine similarity, which for SigLIP orders candidates exactly as its
    sigmoid logits `s * cos + b` do. The model is scored where it is: only an explicit `device` moves it, and
    a model placed with a `device_map` (it has `hf_device_map`) is never moved. Inputs go to the device of the
    tower that reads them.

    `image_pipeline`: "fast" (default) prepares RGB PIL images with the collator's `pixels.PixelRule` wherever that
    gives the processor's pixel values to the bit (a processor of transformers' PIL backend, a family with uint8
    pixels: CLIP and SigLIP; the images arrive decoded, so no JPEG is drafted), a quarter of the processor's time;
    anything else, and "processor", goes through the image processor. The scores are the same either way.
    """

    def __init__(self, model, processor, device: str | torch.device | None = None,
                 image_pipeline: str = "fast") -> None:
        from ..families import family_of
        from ..pixels import IMAGE_PIPELINES

        if image_pipeline not in IMAGE_PIPELINES:
            raise ValueError(f"image_pipeline={image_pipeline!r}; choose one of {IMAGE_PIPELINES}.")
        self.family = family_of(model)
        if device is not None and getattr(model, "hf_device_map", None):
            logger.warning("device=%s ignored: the model was placed with a device_map and is scored where it is",
                           device)
        elif device is not None:
            model = model.to(torch.device(device))
        self.model = model.eval()
        self.processor = processor
        self.max_length = self.family.max_text_length(processor.tokenizer, model)
        self.pixel_rule = _exact_pixel_rule(self.family, processor.image_processor) if image_pipeline == "fast" \
            else None

    @property
    def device(self) -> torch.device:
        """The device of the model's first parameter (the text tower's, on a CLIPModel)."""
        return _device_of(self.model)

    @classmethod
    def from_pretrained(cls, name_or_path: str, device: str | torch.device | None = None) -> "ModelScorer":
        """Loads a supported model and its processor from a local folder or a Hub id, onto `device` (default:
        CUDA when present, else CPU)."""
        from ..families import load_model

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model, processor, _ = load_model(name_or_path)
        return cls(model, processor, device)

    @torch.no_grad()
    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """images: N PIL images -> (N, embedding dim) unit vectors."""
        rule = self.pixel_rule
        if rule is not None and all(isinstance(image, Image.Image) and image.mode == "RGB" for image in images):
            inputs = {"pixel_values": rule.normalize(rule(images))}
        else:
            inputs = self.family.image_inputs(self.processor.image_processor, images)
        tower = getattr(self.model, "vision_model", self.model)
        device, dtype = _device_of(tower), next(tower.parameters()).dtype
        inputs = {key: value.to(device, dtype) if value.is_floating_point() else value.to(device)
                  for key, value in inputs.items()}
        # In transformers 5, get_image_features returns an output object whose pooler_output is projected.
        out = self.model.get_image_features(**inputs)
        return _unit(out.pooler_output if hasattr(out, "pooler_output") else out)

    @torch.no_grad()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """texts: M strings -> (M, embedding dim) unit vectors (padded as the family was trained, truncated to
        the tokenizer's max length)."""
        tokens = self.processor.tokenizer(texts, return_tensors="pt", **self.family.text_kwargs(self.max_length))
        device = _device_of(getattr(self.model, "text_model", self.model))
        out = self.model.get_text_features(**{key: tokens[key].to(device) for key in ("input_ids", "attention_mask")
                                              if key in tokens})
        return _unit(out.pooler_output if hasattr(out, "pooler_output") else out)


CLIPScorer = ModelScorer  # the name it had when CLIP was the only family


def _exact_pixel_rule(family, image_processor) -> "PixelRule | None":
    """The family's `PixelRule` where it reproduces `image_processor` to the bit on decoded RGB images, else None:
    the rule resizes with PIL, as transformers' PIL backend does; a torchvision-backend processor resizes in float
    (the rule then matches it only within a bound, `pixels` module docstring)."""
    from ..pixels import UnsupportedPixelRule

    try:
        from transformers.image_processing_backends import PilBackend
    except ImportError:  # transformers without backends: no claim of exactness
        return None
    if not isinstance(image_processor, PilBackend):
        return None
    try:
        rule = family.pixel_rule(image_processor)
    except UnsupportedPixelRule:
        return None
    # Every image must come out at one size for a batch (a centre crop or a fixed resize).
    return rule if rule.crop is not None or rule.resize == "fixed" else None


def _device_of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x.float(), dim=-1).cpu()
