"""Image references the engine can deduplicate by key and open lazily: files (optionally cropped), PIL images
held in memory, rows of a `datasets.Dataset`."""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image


class ImageRef(Protocol):
    """Anything with a hashable `key` (equal keys = same pixels, encoded once) and an `open()` giving RGB PIL."""

    @property
    def key(self) -> Hashable: ...

    def open(self) -> Image.Image: ...


@dataclass(frozen=True)
class FileImage:
    """An image file, cropped to `box` = (x, y, width, height) in pixels when given (ARO's bbox crops)."""

    path: str
    box: tuple[float, float, float, float] | None = None

    @property
    def key(self) -> Hashable:
        return ("file", self.path, self.box)

    def open(self) -> Image.Image:
        with Image.open(self.path) as image:
            image = image.convert("RGB")
        if self.box is not None:
            x, y, w, h = self.box
            image = image.crop((x, y, x + w, y + h))
        return image


@dataclass(eq=False)
class MemoryImage:
    """A PIL image already in memory; `name` identifies it (defaults to the object's identity)."""

    image: Image.Image
    name: Hashable = None

    @property
    def key(self) -> Hashable:
        return ("memory", self.name if self.name is not None else id(self))

    def open(self) -> Image.Image:
        return self.image.convert("RGB")


@dataclass(eq=False)
class DatasetImage:
    """Row `index` of a `datasets.Dataset` image column, decoded only when encoded."""

    dataset: Any = field(repr=False)
    index: int
    column: str = "image"

    @property
    def key(self) -> Hashable:
        return ("dataset", id(self.dataset), self.column, self.index)

    def open(self) -> Image.Image:
        return self.dataset[self.index][self.column].convert("RGB")


def find_image(name: str, roots: Sequence[str | os.PathLike]) -> str | None:
    """The first `root/name` that exists, or None (the item is then counted as missing)."""
    for root in roots:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    return None
