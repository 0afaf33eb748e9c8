"""Model families: everything that differs between CLIP, SigLIP and SigLIP 2, in one place.

A `ModelFamily` says how a batch is encoded (image inputs, the B + M texts, the exponentiated scale and,
for SigLIP, the bias), how texts are padded (SigLIP was trained with `padding="max_length"` and pools the
last position, so longest-padding would give it other text embeddings), whether the logit scale is clamped
after each optimizer step, and which contrastive form the family was trained with (softmax or sigmoid).
The trainer, the collator, the distillation teacher, the scorer and `examples/train.py` read it;
`family_of(model)` finds it from the model's config and refuses any other model, listing the supported ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


DEFAULT_MAX_TEXT_LENGTH = 77  # CLIP's context length: texts kept when neither tokenizer nor model says


class UnsupportedModelError(TypeError):
    """A model (or processor) of a family this package does not support."""


def unwrap(model: nn.Module) -> nn.Module:
    """The model under DDP/accelerate (`.module`) and PEFT (`.get_base_model()`) wrappers."""
    while hasattr(model, "module"):
        model = model.module
    if hasattr(model, "get_base_model"):
        model = model.get_base_model()
    return model


@dataclass(frozen=True)
class ModelFamily:
    """What one family of dual encoders needs.

    Attributes:
        name: "clip", "siglip" or "siglip2".
        model_type: the `config.model_type` of its dual-encoder model.
        model_class: the transformers class name (`CLIPModel`, `SiglipModel`, `Siglip2Model`).
        contrastive: the loss form it was trained with: "softmax" (CLIP) or "sigmoid" (SigLIP).
        text_padding: how its texts are padded: "longest" or "max_length" (to `max_length`).
        clamps_scale: whether `logit_scale` (log space) is clamped to [0, `logit_scale_max`] after every
            optimizer step (CLIP's rule; SigLIP trains it unclamped).
        image_keys: the image processor's outputs the model's forward takes.
        uint8_pixels: whether the collator's fast path (`pixels.PixelRule`: uint8 pixels at the model's size,
            normalised on the device) can stand in for the image processor: True for CLIP (shortest-edge resize
            and centre crop) and SigLIP (resize to a square); False for SigLIP 2, whose NaFlex processor cuts
            variable-size images into patches.
    """

    name: str
    model_type: str
    model_class: str
    contrastive: str
    text_padding: str
    clamps_scale: bool
    image_keys: tuple[str, ...] = ("pixel_values",)
    uint8_pixels: bool = True

    def max_text_length(self, tokenizer: Any = None, model_or_config: Any = None, override: int | None = None) -> int:
        """The one rule for how many tokens a text keeps (training, validation and scoring alike): `override`
        when given (`--max_text_length`); else the smaller of the tokenizer's `model_max_length` (when finite: a
        tokenizer without a limit says 1e30) and the text model's `max_position_embeddings` (of a model or its
        config); `DEFAULT_MAX_TEXT_LENGTH` (CLIP's 77) when neither is known."""
        if override is not None:
            return override
        limits = []
        tokenizer_limit = getattr(tokenizer, "model_max_length", None)
        if isinstance(tokenizer_limit, int) and tokenizer_limit < 100_000:
            limits.append(tokenizer_limit)
        config = getattr(unwrap(model_or_config), "config", model_or_config) if model_or_config is not None else None
        positions = getattr(getattr(config, "text_config", None), "max_position_embeddings", None)
        if isinstance(positions, int):
            limits.append(positions)
        return min(limits) if limits else DEFAULT_MAX_TEXT_LENGTH

    def text_kwargs(self, max_length: int) -> dict[str, Any]:
        """Tokenizer arguments for a batch of texts: the family's padding, truncated at `max_length`."""
        return {"padding": self.text_padding, "truncation": True, "max_length": max_length}

    def image_inputs(self, image_processor: Any, images: list[Any]) -> dict[str, torch.Tensor]:
        """The image tensors the model's forward takes, from PIL images."""
        out = image_processor(images=images, return_tensors="pt")
        return {key: out[key] for key in self.image_keys}

    def pixel_rule(self, image_processor: Any) -> Any:
        """The fast path's `pixels.PixelRule` read from the family's image processor (its resize, crop, filter,
        mean and std); `pixels.UnsupportedPixelRule` for a family or processor it cannot reproduce."""
        from .pixels import PixelRule, UnsupportedPixelRule

        if not self.uint8_pixels:
            raise UnsupportedPixelRule(f"{self.model_class} ({self.name}) takes its image processor's patches "
                                       "(pixel_attention_mask, spatial_shapes), which the uint8 fast path does not "
                                       "make; use image_pipeline='processor'.")
        return PixelRule.from_processor(image_processor)

    def encode_batch(self, model: nn.Module, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor | None]:
        """One forward of `model` (so DDP hooks fire) on the images and the B + M texts of a collated batch.

        Returns `image_embeds` [B, D], `text_embeds` [B, D], `negative_embeds` [B, K, D] (zeros where the mask
        is False; None without negatives), `negative_mask` [B, K], `negative_positions` [M] (the valid negatives'
        row-major places in B x K, counted from the shapes, so the loss selects them without a host sync),
        `logit_scale` (exponentiated, 0-d) and `logit_bias` (0-d, SigLIP; None for CLIP).
        """
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"),
                        **{key: inputs[key] for key in self.image_keys})
        image_embeds, texts = outputs.image_embeds, outputs.text_embeds
        batch = image_embeds.shape[0]
        mask = inputs.get("negative_mask")
        negative_embeds = positions = None
        if mask is not None:
            count = texts.shape[0] - batch  # the valid negatives, from the shapes: no host read of the mask
            try:  # checked on the device (an accelerator reports a failure at a later kernel launch)
                torch._assert_async(mask.sum() == count)
            except RuntimeError as error:
                raise ValueError(
                    f"got {texts.shape[0]} texts for {batch} captions and {int(mask.sum())} valid negatives; "
                    "the batch was not built by FineGrainedCollator"
                ) from error
            positions = _true_positions(mask.reshape(-1), count)
            flat = texts.new_zeros(batch * mask.shape[1], texts.shape[1])
            negative_embeds = flat.index_put((positions,), texts[batch:]).reshape(batch, mask.shape[1], -1)
        base = unwrap(model)
        bias = getattr(base, "logit_bias", None)
        return {
            "image_embeds": image_embeds,
            "text_embeds": texts[:batch],
            "negative_embeds": negative_embeds,
            "negative_mask": mask,
            "negative_positions": positions,
            "logit_scale": base.logit_scale.exp().reshape(()),
            "logit_bias": bias.reshape(()) if bias is not None else None,
        }

    def caption_embeddings(self, model: nn.Module, inputs: Mapping[str, torch.Tensor], batch: int
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        """Image [B, D] and caption [B, D] embeddings of a collated batch's images and first `batch` texts
        (the captions; negatives are not encoded)."""
        text = {"input_ids": inputs["input_ids"][:batch]}
        if inputs.get("attention_mask") is not None:
            text["attention_mask"] = inputs["attention_mask"][:batch]
        out = model(**text, **{key: inputs[key] for key in self.image_keys})
        return out.image_embeds, out.text_embeds


def _true_positions(flags: torch.Tensor, count: int) -> torch.Tensor:
    """[count] the indices of the True entries of a 1-d bool tensor holding `count` of them; without a host sync
    where `torch.nonzero_static` runs (CPU, CUDA), else by `nonzero`."""
    if flags.device.type in ("cpu", "cuda"):
        return torch.nonzero_static(flags, size=count).squeeze(1)
    return flags.nonzero().squeeze(1)


CLIP = ModelFamily("clip", "clip", "CLIPModel", contrastive="softmax", text_padding="longest", clamps_scale=True)
SIGLIP = ModelFamily("siglip", "siglip", "SiglipModel", contrastive="sigmoid", text_padding="max_length",
                     clamps_scale=False)
SIGLIP2 = ModelFamily("siglip2", "siglip2", "Siglip2Model", contrastive="sigmoid", text_padding="max_length",
                      clamps_scale=False, image_keys=("pixel_values", "pixel_attention_mask", "spatial_shapes"),
                      uint8_pixels=False)
FAMILIES: dict[str, ModelFamily] = {family.name: family for family in (CLIP, SIGLIP, SIGLIP2)}


def supported() -> str:
    return ", ".join(f"{family.model_class} ({family.name})" for family in FAMILIES.values())


def family_of(model: Any) -> ModelFamily:
    """The family of a model (wrappers and PEFT included) or of its config; `UnsupportedModelError` otherwise."""
    config = model if not isinstance(model, nn.Module) else getattr(unwrap(model), "config", None)
    model_type = getattr(config, "model_type", None)
    for family in FAMILIES.values():
        if family.model_type == model_type:
            if isinstance(model, nn.Module) and type(unwrap(model)).__name__ != family.model_class:
                break
            return family
    name = type(unwrap(model)).__name__ if isinstance(model, nn.Module) else f"a config of type {model_type!r}"
    raise UnsupportedModelError(
        f"{name} is not a supported dual encoder. Supported: {supported()}. Load one with "
        "hf_finegrained.families.load_model(name_or_path) or the transformers class named."
    )


def load_model(name_or_path: str) -> tuple[nn.Module, Any, ModelFamily]:
    """A supported model, its processor and its family from a folder or Hub id (`AutoModel`, `AutoProcessor`)."""
    from transformers import AutoConfig, AutoModel, AutoProcessor

    family = family_of(AutoConfig.from_pretrained(name_or_path))
    return AutoModel.from_pretrained(name_or_path), AutoProcessor.from_pretrained(name_or_path), family
