"""Images stored resized at build time: once per data set instead of once per row and epoch in every dataloader
worker (img2dataset's 256 px JPEGs for open_clip are the model).

`ImageResize` says how (the shortest side, an optional centre crop, the JPEG quality); `resize_images` applies it to
a dataset's `image` column and records each image's original size in `original_width` / `original_height`;
`export_parquet(image_resize=...)` and `hf-finegrained-build ... --image_shortest_side N` store the result and say so
in the dataset card. An image whose shortest side is already at most N is kept as it is (its bytes unchanged,
unless a crop is asked for): nothing is enlarged.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import datasets
from PIL import Image, ImageOps

from ..pixels import ORIENTATION, TRANSPOSED, centre_crop_box, shortest_edge_size
from ..rows import IMAGE_COLUMN

ORIGINAL_WIDTH, ORIGINAL_HEIGHT = "original_width", "original_height"


@dataclass(frozen=True)
class ImageResize:
    """How a builder stores each image.

    Attributes:
        shortest_side: the shorter side, in pixels, of each stored image (aspect kept; bicubic, after a JPEG is
            decoded at the smallest DCT scale still at least this size). 256 suits 224 px models: their own
            resize and crop still happen in the collator, on a 256 px image instead of the original.
        center_crop: also crop the centre square (`shortest_side` x `shortest_side`); off by default, as the
            model's processor crops anyway and SigLIP's squashes the whole image instead.
        quality: the JPEG quality of the stored images (1-95).
    """

    shortest_side: int
    center_crop: bool = False
    quality: int = 90

    def __post_init__(self) -> None:
        if isinstance(self.shortest_side, bool) or not isinstance(self.shortest_side, int) or self.shortest_side < 1:
            raise ValueError(f"shortest_side must be a positive number of pixels; got {self.shortest_side!r}.")
        if isinstance(self.quality, bool) or not isinstance(self.quality, int) or not 1 <= self.quality <= 95:
            raise ValueError(f"quality must be a JPEG quality in 1-95; got {self.quality!r}.")

    def card_entry(self) -> dict[str, Any]:
        """What the dataset card records under `hf_finegrained: images:`."""
        return {"shortest_side": self.shortest_side, "center_crop": self.center_crop, "jpeg_quality": self.quality,
                "original_size_columns": [ORIGINAL_WIDTH, ORIGINAL_HEIGHT]}

    def sentence(self) -> str:
        """The dataset card's sentence about the stored images."""
        crop = f", centre-cropped to {self.shortest_side}x{self.shortest_side}" if self.center_crop else ""
        return (f"Images are stored resized at build time: shortest side {self.shortest_side} px (bicubic; smaller "
                f"images kept as they were){crop}, JPEG quality {self.quality}. Each row's original size is in "
                f"`{ORIGINAL_WIDTH}` and `{ORIGINAL_HEIGHT}`.")


def resize_image(value: dict[str, Any], resize: ImageResize) -> tuple[dict[str, Any], int, int]:
    """An undecoded image (`{"bytes", "path"}`) stored as `resize` says: the new `{"bytes", "path"}` and the
    original (upright) width and height."""
    data, path = value.get("bytes"), value.get("path")
    image = Image.open(io.BytesIO(data) if data is not None else path)
    stored = image.size
    orientation = image.getexif().get(ORIENTATION)
    upright = (stored[1], stored[0]) if orientation in TRANSPOSED else stored
    target = shortest_edge_size(*upright, resize.shortest_side)
    if min(upright) <= resize.shortest_side and not resize.center_crop:
        if data is None:
            with open(path, "rb") as handle:
                data = handle.read()
        return {"bytes": data, "path": os.path.basename(path) if path else None}, *upright
    if min(upright) > resize.shortest_side and image.format == "JPEG":
        image.draft(image.mode, (target[1], target[0]) if orientation in TRANSPOSED else target)
    image.load()
    if orientation is not None:
        image = ImageOps.exif_transpose(image)
    image = image.convert("RGB")
    if min(upright) > resize.shortest_side:
        image = image.resize(target, resample=Image.Resampling.BICUBIC)
    if resize.center_crop:
        side = min(image.size)
        image = image.crop(centre_crop_box(*image.size, side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=resize.quality)
    name = os.path.splitext(os.path.basename(path))[0] + ".jpg" if path else None
    return {"bytes": buffer.getvalue(), "path": name}, *upright


def _resize_batch(batch: dict[str, list[Any]], indices: list[int], resize: ImageResize) -> dict[str, list[Any]]:
    images, widths, heights = [], [], []
    for index, value in zip(indices, batch[IMAGE_COLUMN]):
        try:
            stored, width, height = resize_image(value, resize)
        except Exception as error:  # PIL raises many types for broken files
            where = value.get("path") or "its bytes"
            raise ValueError(f"row {index}: cannot resize the image ({where}: {type(error).__name__}: {error}); "
                             "fix or drop this row (the builders' image check lists every such file).") from error
        images.append(stored)
        widths.append(width)
        heights.append(height)
    return {IMAGE_COLUMN: images, ORIGINAL_WIDTH: widths, ORIGINAL_HEIGHT: heights}


def resize_images(data: datasets.Dataset | datasets.DatasetDict, resize: ImageResize,
                  num_proc: int | None = None) -> datasets.Dataset | datasets.DatasetDict:
    """`data` with every `image` stored as `resize` says (JPEG bytes in the table) and its original size in two
    new int32 columns, `original_width` and `original_height`. A data set that has them already is refused (its
    images were resized before: their original size is not that of the images now)."""
    if isinstance(data, datasets.DatasetDict):
        return datasets.DatasetDict({name: resize_images(split, resize, num_proc) for name, split in data.items()})
    if IMAGE_COLUMN not in data.column_names:
        raise ValueError(f"no {IMAGE_COLUMN!r} column to resize (columns: {data.column_names}).")
    already = [name for name in (ORIGINAL_WIDTH, ORIGINAL_HEIGHT) if name in data.column_names]
    if already:
        raise ValueError(f"the data already has {already}: its images were resized when it was built; resize "
                         "from the original images instead.")
    raw = data.cast_column(IMAGE_COLUMN, datasets.Image(decode=False))
    features = raw.features.copy()
    features[ORIGINAL_WIDTH] = datasets.Value("int32")
    features[ORIGINAL_HEIGHT] = datasets.Value("int32")
    resized = raw.map(_resize_batch, fn_kwargs={"resize": resize}, with_indices=True, batched=True, batch_size=64,
                      features=features, num_proc=num_proc, desc=f"resizing images to {resize.shortest_side} px")
    return resized.cast_column(IMAGE_COLUMN, datasets.Image())
