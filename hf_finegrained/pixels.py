"""Images to model pixels off the image processor's hot path: a reduced-scale decode, the processor's resize and
crop in uint8, and the normalisation on the training device.

`PixelRule.from_processor(image_processor)` reads what an image processor does to an RGB image (resize to a
shortest edge or to a fixed size, centre crop, resampling filter, rescale and normalisation) from its config, and
then does the same in three cheaper steps:

1. `decode`: a JPEG larger than needed is decoded in PIL's draft mode (libjpeg's DCT scaling) at the smallest of
   1/2, 1/4, 1/8 that is still at least the resize target in both sides; other formats, and JPEGs already small
   enough, are decoded in full, as `rows.open_image` does (EXIF orientation as `datasets.Image` applies it).
2. `pixels`: the processor's resize (PIL, the processor's filter, the same output size rule) and centre crop,
   kept in uint8: a batch of [B, 3, H, W] uint8, a quarter of the float bytes to copy to the device.
3. `normalize` (on the device, in the trainer): each uint8 level of each channel looked up in a [3, 256] table
   made by the processor itself from the 256 levels (`do_rescale`, `rescale_factor`, `do_normalize`,
   `image_mean`, `image_std`), so the values are the processor's to the bit.

Where it differs from the processor: only step 1, and only for JPEGs decoded at reduced scale (the DCT-scaled image
is not the full image resampled; `tests/test_pixels.py` states the bound). An image that is not a JPEG file (a PIL
image, a PNG) or a JPEG that needs no reduction gives the processor's pixels exactly, after normalisation. The
reference is the processor this rule was read from: a torchvision-backend processor (`CLIPImageProcessor` with
torchvision installed) resizes in float and is then matched within the same kind of bound, not exactly
(not tested here: no torchvision in this environment).

Supported: processors of the PIL or torchvision backends whose resize is `shortest_edge` (CLIP) or
`height`/`width` (SigLIP), with an optional centre crop and no padding. Others (SigLIP 2's NaFlex patches) raise
`UnsupportedPixelRule`: use the processor path (`image_pipeline="processor"`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

IMAGE_PIPELINES = ("fast", "processor")  # `image_pipeline=` of the collator, `--image_pipeline`, `ModelScorer`
ORIENTATION = 0x0112  # the EXIF orientation tag
TRANSPOSED = (5, 6, 7, 8)  # orientations that swap width and height
RESIZED = "hf_finegrained_resized"  # `PIL.Image.info` key: a drafted JPEG that `PixelRule.decode` resized


class UnsupportedPixelRule(ValueError):
    """An image processor whose steps `PixelRule` cannot reproduce (use the processor path)."""


def _size_field(size: Any, name: str) -> Any:
    return size.get(name) if isinstance(size, Mapping) else getattr(size, name, None)


def shortest_edge_size(width: int, height: int, shortest_edge: int) -> tuple[int, int]:
    """(width, height) of an image resized so that its shorter side is `shortest_edge`, the longer one truncated
    as `transformers.image_transforms.get_resize_output_image_size` does (`int(edge * long / short)`)."""
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(shortest_edge * long / short)
    return (shortest_edge, new_long) if width <= height else (new_long, shortest_edge)


def centre_crop_box(width: int, height: int, crop_width: int, crop_height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the centre crop as `transformers.image_transforms.center_crop` places it."""
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return left, top, left + crop_width, top + crop_height


@dataclass
class PixelRule:
    """An image processor's steps, read from its config (module docstring).

    Attributes:
        resize: "shortest_edge" (CLIP: the shorter side to `size`, aspect kept), "fixed" (SigLIP: `size` high
            and `width` wide, aspect not kept) or "none".
        size: the shortest edge, or the fixed height.
        width: the fixed width ("fixed" only).
        crop: (height, width) of the centre crop, or None.
        resample: the PIL filter (`Image.Resampling`) of the resize.
        table: [3, 256] float32, the processor's output value of each uint8 level in each channel.
    """

    resize: str
    size: int | None
    width: int | None
    crop: tuple[int, int] | None
    resample: int
    table: torch.Tensor
    _device_tables: dict[str, torch.Tensor] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_processor(cls, image_processor: Any) -> "PixelRule":
        """The rule of an image processor; `UnsupportedPixelRule` naming what it cannot reproduce."""
        name = type(image_processor).__name__
        if getattr(image_processor, "do_pad", False):
            raise UnsupportedPixelRule(f"{name} pads images (do_pad=True), which the uint8 fast path does not do.")
        for attribute in ("size", "do_resize", "resample", "do_center_crop"):
            if not hasattr(image_processor, attribute):
                raise UnsupportedPixelRule(f"{name} has no `{attribute}`: not an image processor with a resize and "
                                           "centre crop (SigLIP 2's NaFlex processor patchifies instead).")
        size = image_processor.size
        resize, edge, width = "none", None, None
        if image_processor.do_resize:
            shortest, longest = _size_field(size, "shortest_edge"), _size_field(size, "longest_edge")
            height, fixed_width = _size_field(size, "height"), _size_field(size, "width")
            if shortest and not longest:
                resize, edge = "shortest_edge", int(shortest)
            elif height and fixed_width and not shortest:
                resize, edge, width = "fixed", int(height), int(fixed_width)
            else:
                raise UnsupportedPixelRule(f"{name} resizes by {size}; the fast path reproduces a `shortest_edge` "
                                           "or a `height`/`width` resize only.")
        crop = None
        if image_processor.do_center_crop:
            crop_size = image_processor.crop_size
            crop = (int(_size_field(crop_size, "height")), int(_size_field(crop_size, "width")))
        resample = image_processor.resample
        resample = int(getattr(resample, "value", resample)) if resample is not None else int(Image.Resampling.BILINEAR)
        if resample not in {int(r) for r in Image.Resampling}:
            raise UnsupportedPixelRule(f"{name} resamples with {image_processor.resample!r}, not a PIL filter.")
        return cls(resize, edge, width, crop, resample, _level_table(image_processor))

    def resize_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) the resize step makes of an image of `width` x `height`."""
        if self.resize == "shortest_edge":
            return shortest_edge_size(width, height, self.size)
        if self.resize == "fixed":
            return self.width, self.size
        return width, height

    def decode(self, value: Any) -> Image.Image:
        """An RGB PIL image from what `rows.open_image` takes (a PIL image, a path, a `{"bytes", "path"}` dict), a
        JPEG file decoded at the smallest DCT scale still at least the resize target (module docstring)."""
        from .rows import open_image

        if isinstance(value, Image.Image):
            return value.convert("RGB")
        if isinstance(value, (str, os.PathLike)):
            return self._drafted(Image.open(value), exif=False).convert("RGB")
        if isinstance(value, Mapping):
            data, path = value.get("bytes"), value.get("path")
            if data is not None:
                return self._drafted(Image.open(io.BytesIO(data)), exif=True).convert("RGB")
            if path and os.path.exists(str(path)):
                return self._drafted(Image.open(path), exif=True).convert("RGB")
        return open_image(value)  # remote paths and anything else: decoded in full, as before

    def _drafted(self, image: Image.Image, exif: bool) -> Image.Image:
        """`image` loaded, EXIF-transposed when `exif` (as `datasets.Image.decode_example`, which
        `rows.open_image` uses for dicts). A JPEG larger than needed is decoded in draft mode and resized to the
        target here, before the transposition (the drafted image's partial last row and column lie at its
        bottom right in the stored orientation), and marked so that `pixels` does not resize it again."""
        stored = image.size
        orientation = image.getexif().get(ORIENTATION) if exif else None
        drafted = None
        if image.format == "JPEG" and self.resize != "none":
            turned = orientation in TRANSPOSED
            target = self.resize_size(*((stored[1], stored[0]) if turned else stored))
            target = (target[1], target[0]) if turned else target
            drafted = image.draft(image.mode, target)
        image.load()
        if drafted is not None and image.size != stored:
            image = image.convert("RGB").resize(target, resample=self.resample, box=drafted[1])
            image.info[RESIZED] = True
        if orientation is not None:
            resized = image.info.get(RESIZED, False)
            image = ImageOps.exif_transpose(image)
            image.info[RESIZED] = resized
        return image

    def pixels(self, image: Image.Image) -> np.ndarray:
        """[3, H, W] uint8: the processor's resize and centre crop of an RGB image (from `decode`, which may
        have resized a drafted JPEG already)."""
        if self.resize != "none" and not image.info.get(RESIZED):
            target = self.resize_size(*image.size)
            if target != image.size:
                image = image.resize(target, resample=self.resample)
        array = np.asarray(image)
        if self.crop is not None:
            crop_height, crop_width = self.crop
            left, top, right, bottom = centre_crop_box(array.shape[1], array.shape[0], crop_width, crop_height)
            if top >= 0 and left >= 0 and bottom <= array.shape[0] and right <= array.shape[1]:
                array = array[top:bottom, left:right]
            else:  # smaller than the crop: the processor pads, and its own function says how
                from transformers.image_transforms import center_crop
                from transformers.image_utils import ChannelDimension

                chw = center_crop(np.ascontiguousarray(array.transpose(2, 0, 1)), (crop_height, crop_width),
                                  data_format=ChannelDimension.FIRST, input_data_format=ChannelDimension.FIRST)
                return np.ascontiguousarray(chw.astype(np.uint8))
        return np.ascontiguousarray(array.transpose(2, 0, 1))

    def __call__(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """[B, 3, H, W] uint8 of RGB images (from `decode`); every image must come out at the same size (a crop or a
        fixed resize)."""
        arrays = [self.pixels(image) for image in images]
        shapes = {array.shape for array in arrays}
        if len(shapes) > 1:
            raise ValueError(f"images of sizes {sorted(shapes)} cannot be stacked: the processor neither crops nor "
                             "resizes to a fixed size; use image_pipeline='processor'.")
        return torch.from_numpy(np.stack(arrays))

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] float32 on `pixels`' device from [B, 3, H, W] uint8: the processor's rescale and
        normalisation, looked up per level (no host sync)."""
        key = str(pixels.device)
        table = self._device_tables.get(key)
        if table is None:
            table = self._device_tables[key] = self.table.to(pixels.device).reshape(-1)
        offsets = torch.arange(0, 3 * 256, 256, device=pixels.device, dtype=torch.int32).view(1, 3, 1, 1)
        index = pixels.to(torch.int32) + offsets
        return table.index_select(0, index.reshape(-1)).view(pixels.shape)

    def __getstate__(self) -> dict[str, Any]:  # dataloader workers get the table, not device copies
        return {**self.__dict__, "_device_tables": {}}


def _level_table(image_processor: Any) -> torch.Tensor:
    """[3, 256] float32: the processor's own rescale and normalisation of every uint8 level in every channel, from
    one 1 x 256 image run through it without resize or crop."""
    levels = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)  # [1, 256, 3]
    out = image_processor(images=Image.fromarray(levels, "RGB"), do_resize=False, do_center_crop=False,
                          return_tensors="pt")["pixel_values"]  # "pt": both the PIL and torchvision backends
    return out.to(torch.float32).reshape(3, 256).clone()


def normalize_batch(inputs: dict[str, Any], rule: PixelRule | None) -> dict[str, Any]:
    """`inputs` with uint8 `pixel_values` normalised on their device by `rule` (float pixel values pass as they
    are); a ValueError when uint8 pixels come without a rule."""
    pixels = inputs.get("pixel_values")
    if isinstance(pixels, torch.Tensor) and pixels.dtype == torch.uint8:
        if rule is None:
            raise ValueError("pixel_values are uint8 (the collator's fast path) but no PixelRule is known to "
                             "normalise them: pass the FineGrainedCollator that made them as data_collator.")
        inputs = {**inputs, "pixel_values": rule.normalize(pixels)}
    return inputs
