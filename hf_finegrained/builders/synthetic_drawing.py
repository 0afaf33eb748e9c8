"""Drawing the synthetic world's scenes: two coloured shapes of two sizes in a spatial relation (PIL)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 175, 60),
    "blue": (50, 90, 235),
    "yellow": (240, 215, 40),
    "purple": (150, 60, 195),
    "white": (245, 245, 245),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond")
SIZES: dict[str, float] = {"small": 0.25, "large": 0.42}  # side of the shape's box, as a share of the image
AXIS = {"left": "horizontal", "right": "horizontal", "above": "vertical", "below": "vertical"}
OPPOSITE = {"left": "right", "right": "left", "above": "below", "below": "above"}


@dataclass(frozen=True)
class Scene:
    """Object 0 stands in `relation` to object 1 ("object 0 is left of object 1")."""

    colors: tuple[str, str]
    shapes: tuple[str, str]
    sizes: tuple[str, str]
    relation: str

    def reversed(self) -> Scene:
        """The same picture described from the other object ("B right of A" for "A left of B")."""
        return Scene(self.colors[::-1], self.shapes[::-1], self.sizes[::-1], OPPOSITE[self.relation])

    def arrangement(self) -> tuple[str, str, str]:
        """(first shape, axis, second shape) with the first one left or above: equal for both readings."""
        scene = self if self.relation in ("left", "above") else self.reversed()
        return scene.shapes[0], AXIS[scene.relation], scene.shapes[1]


def _draw_shape(pen: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int], fill: tuple[int, int, int]):
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if shape == "circle":
        pen.ellipse(box, fill=fill)
    elif shape == "square":
        pen.rectangle(box, fill=fill)
    elif shape == "triangle":
        pen.polygon([(cx, y0), (x0, y1), (x1, y1)], fill=fill)
    elif shape == "diamond":
        pen.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=fill)
    else:
        raise ValueError(f"unknown shape {shape!r}")


def _place(rng: random.Random, sides: tuple[int, int], relation: str, size: int) -> list[tuple[int, int]]:
    """Top-left corners so that object 0 is strictly `relation` of object 1 along its axis, and that axis
    separates the centres more than the other one does."""
    first, second = (0, 1) if relation in ("left", "above") else (1, 0)  # first = the left/upper object
    gap = max(1, size // 16)
    slack = max(0, size - sides[0] - sides[1] - gap - 2)
    lead = rng.randint(0, slack)
    along = [0, 0]
    along[first] = 1 + lead
    along[second] = along[first] + sides[first] + gap + rng.randint(0, slack - lead)
    distance = abs((along[0] + sides[0] / 2) - (along[1] + sides[1] / 2))
    for _ in range(20):
        across = [rng.randint(1, size - 1 - side) for side in sides]
        if abs((across[0] + sides[0] / 2) - (across[1] + sides[1] / 2)) < distance:
            break
    else:
        across = [(size - side) // 2 for side in sides]
    horizontal = AXIS[relation] == "horizontal"
    return [(along[i], across[i]) if horizontal else (across[i], along[i]) for i in range(2)]


def draw_scene(scene: Scene, size: int, rng: random.Random) -> Image.Image:
    """An RGB image of `size` x `size` pixels on a random dark grey background."""
    shade = rng.randint(40, 100)
    image = Image.new("RGB", (size, size), (shade, shade, shade))
    pen = ImageDraw.Draw(image)
    sides = tuple(max(4, round(SIZES[name] * size)) for name in scene.sizes)
    for (x, y), side, shape, color in zip(_place(rng, sides, scene.relation, size), sides, scene.shapes, scene.colors):
        _draw_shape(pen, shape, (x, y, x + side - 1, y + side - 1), COLORS[color])
    return image
