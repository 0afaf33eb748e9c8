"""Test data: one coloured shape per image, a caption and four hand-made hard negatives.

The richer synthetic compositional world (several shapes in spatial relations, held-out combinations) lives in
`hf_finegrained.builders`.
"""

from __future__ import annotations

import random

import datasets
from PIL import Image, ImageDraw

COLORS = {"red": (220, 30, 30), "green": (30, 180, 30), "blue": (30, 60, 220), "yellow": (230, 210, 20)}
SHAPES = ("square", "circle", "triangle")
NEGATIVE_TYPES = ["swap_object", "replace_attribute", "replace_object", "replace_relation"]


def draw(color: str, shape: str, size: int = 40) -> Image.Image:
    image = Image.new("RGB", (size, size), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    box = (8, 8, size - 8, size - 8)
    if shape == "square":
        pen.rectangle(box, fill=COLORS[color])
    elif shape == "circle":
        pen.ellipse(box, fill=COLORS[color])
    else:
        pen.polygon([(size // 2, 6), (6, size - 6), (size - 6, size - 6)], fill=COLORS[color])
    return image


def make_rows(count: int, seed: int = 0, invalid_rate: float = 0.25) -> list[dict]:
    """`count` rows with `image` (PIL), `caption` and 4 `hard_negatives` (some None)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        color, shape = rng.choice(list(COLORS)), rng.choice(SHAPES)
        other_color = rng.choice([c for c in COLORS if c != color])
        other_shape = rng.choice([s for s in SHAPES if s != shape])
        caption = f"a {color} {shape} on a white background"
        negatives = [
            f"a white {shape} on a {color} background",
            f"a {other_color} {shape} on a white background",
            f"a {color} {other_shape} on a white background",
            f"a {color} {shape} under a white background",
        ]
        negatives = [None if rng.random() < invalid_rate else neg for neg in negatives]
        rows.append({"image": draw(color, shape), "caption": caption, "hard_negatives": negatives})
    return rows


def make_dataset(count: int, seed: int = 0, invalid_rate: float = 0.25) -> datasets.Dataset:
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "caption": datasets.Value("string"),
            "hard_negatives": datasets.Sequence(datasets.Value("string")),
        }
    )
    return datasets.Dataset.from_list(make_rows(count, seed, invalid_rate), features=features)


def all_captions() -> list[str]:
    """Every text the rows above can contain (to train the test tokenizer on)."""
    texts = []
    for color in list(COLORS) + ["white"]:
        for shape in SHAPES:
            for relation in ("on", "under"):
                texts.append(f"a {color} {shape} {relation} a white background")
                texts.append(f"a white {shape} {relation} a {color} background")
    return texts
