"""Drawing the synthetic world's scenes: two coloured shapes of two sizes in a spatial relation (PIL)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

# Twelve colours and four shapes: two scenes of a batch of 64 seldom hold the same two objects (about 2.5
# pairs a batch; 11 with the six colours and four shapes of the first world). The colours are words the spaCy
# tagger reads as adjectives and the negatives lexicon knows, so the generator can swap and replace them;
# the shapes differ at the scale of the patch grid, which a small ViT learns quickly.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 175, 60),
    "blue": (50, 90, 235),
    "yellow": (240, 215, 40),
    "purple": (150, 60, 195),
    "white": (250, 250, 250),
    "orange": (245, 140, 20),
    "pink": (250, 150, 200),
    "brown": (140, 80, 30),
    "black": (10, 10, 10),
    "teal": (0, 150, 140),
    "beige": (215, 190, 140),
}
SHAPES: tuple[str, ...] = ("square", "ring", "bar", "pillar")
SIZES: dict[str, float] = {"small": 0.33, "large": 0.5}  # side of the shape's box, as a share of the image
AXIS = {"left": "horizontal", "right": "horizontal", "above": "vertical", "below": "vertical"}
OPPOSITE = {"left": "right", "right": "left", "above": "below", "below": "above"}


@dataclass(frozen=True)
class Scene:
    """Object 0 stands in `relation` to object 1 ("object 0 is left of object 1"); `extras` are objects the
    caption does not name (distractors), each (colour, shape, size), drawn where they touch neither object."""

    colors: tuple[str, str]
    shapes: tuple[str, str]
    sizes: tuple[str, str]
    relation: str
    extras: tuple[tuple[str, str, str], ...] = ()

    def moved(self) -> Scene:
        """The same objects with their places exchanged ("A right of B" for "A left of B")."""
        return Scene(self.colors, self.shapes, self.sizes, OPPOSITE[self.relation], self.extras)

    def reversed(self) -> Scene:
        """The same picture described from the other object ("B right of A" for "A left of B")."""
        return Scene(self.colors[::-1], self.shapes[::-1], self.sizes[::-1], OPPOSITE[self.relation], self.extras)

    def arrangement(self) -> tuple[str, str, str]:
        """(first shape, axis, second shape) with the first one left or above: equal for both readings."""
        scene = self if self.relation in ("left", "above") else self.reversed()
        return scene.shapes[0], AXIS[scene.relation], scene.shapes[1]


def _draw_shape(pen: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int], fill: tuple[int, int, int]):
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if shape == "square":
        pen.rectangle(box, fill=fill)
    elif shape == "ring":
        pen.ellipse(box, outline=fill, width=max(2, round((x1 - x0) / 4)))
    elif shape == "bar":
        pen.rectangle((x0, cy - (y1 - y0) / 6, x1, cy + (y1 - y0) / 6), fill=fill)
    elif shape == "pillar":
        pen.rectangle((cx - (x1 - x0) / 6, y0, cx + (x1 - x0) / 6, y1), fill=fill)
    else:
        raise ValueError(f"unknown shape {shape!r}; the world draws {SHAPES}")


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


def _background(size: int, rng: random.Random, parity: int) -> Image.Image:
    """A dark grey canvas; its shade (40-101) is even for `parity` 0 and odd for 1."""
    shade = 40 + 2 * rng.randint(0, 30) + parity
    return Image.new("RGB", (size, size), (shade, shade, shade))


def draw_scene(scene: Scene, size: int, rng: random.Random, parity: int = 0) -> Image.Image:
    """An RGB image of `size` x `size` pixels on a random dark grey background of shade parity `parity`.

    The synthetic world draws training images with parity 0 and evaluation images with parity 1, so no
    evaluation image can ever equal a training image, however long the training stream runs.
    """
    image = _background(size, rng, parity)
    pen = ImageDraw.Draw(image)
    sides = tuple(max(4, round(SIZES[name] * size)) for name in scene.sizes)
    corners = _place(rng, sides, scene.relation, size)
    if scene.extras:
        corners, extra_boxes = _place_extras(rng, sides, scene, size, corners)
        for box, (color, shape, _) in zip(extra_boxes, scene.extras):
            _draw_shape(pen, shape, box, COLORS[color])
    for (x, y), side, shape, color in zip(corners, sides, scene.shapes, scene.colors):
        _draw_shape(pen, shape, (x, y, x + side - 1, y + side - 1), COLORS[color])
    return image


def _place_extras(rng: random.Random, sides: tuple[int, int], scene: Scene, size: int,
                  corners: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], list[tuple[int, int, int, int]]]:
    """Corners of the two named objects and boxes of the extras, no box touching another (1 px apart): the
    named objects are placed again (at most 50 times) until every extra finds a free place among 40 tries.
    A layout that never fits raises: the world's sizes make that practically impossible (tested)."""
    extra_sides = [max(4, round(SIZES[name] * size)) for _, _, name in scene.extras]
    for attempt in range(50):
        if attempt:
            corners = _place(rng, sides, scene.relation, size)
        taken = [(x, y, x + side - 1, y + side - 1) for (x, y), side in zip(corners, sides)]
        boxes = []
        for side in extra_sides:
            for _ in range(40):
                x, y = rng.randint(1, size - 1 - side), rng.randint(1, size - 1 - side)
                box = (x, y, x + side - 1, y + side - 1)
                if not any(_touch(box, other) for other in taken):
                    taken.append(box)
                    boxes.append(box)
                    break
        if len(boxes) == len(extra_sides):
            return corners, boxes
    raise ValueError(f"no free place for the extra objects of {scene} in a {size} px image")


def _touch(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two boxes overlap or are less than 2 px apart."""
    return not (a[2] + 2 <= b[0] or b[2] + 2 <= a[0] or a[3] + 2 <= b[1] or b[3] + 2 <= a[1])


def draw_object(color: str, shape: str, size_name: str, size: int, rng: random.Random, parity: int = 0,
                place: str | None = None) -> Image.Image:
    """One shape alone: anywhere (`place` None), or in the middle of the left, right, top or bottom third
    (`place` "left", "right", "above" or "below")."""
    image = _background(size, rng, parity)
    side = max(4, round(SIZES[size_name] * size))
    low, high = 1, size - 1 - side
    if place is None:
        x, y = rng.randint(low, high), rng.randint(low, high)
    else:
        edge = (low, max(low, size // 3 - side // 2))  # the centre lies in the outer third
        far = (min(high, size - size // 3 - side // 2), high)
        middle = (max(low, size // 3 - side // 2), min(high, size - size // 3 - side // 2))
        band = {"left": (edge, middle), "right": (far, middle), "above": (middle, edge), "below": (middle, far)}[place]
        x, y = rng.randint(*band[0]), rng.randint(*band[1])
    _draw_shape(ImageDraw.Draw(image), shape, (x, y, x + side - 1, y + side - 1), COLORS[color])
    return image
