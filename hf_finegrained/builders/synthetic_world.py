"""The synthetic compositional world: a CPU-sized benchmark and training set, built in seconds, no files.

Each image shows two shapes (colour x shape x size) with one left of / right of / above / below the other.
Captions name both objects and the relation through varied templates. The test split holds scenes with
combinations never seen in training: colour-shape bindings (`HELD_OUT_BINDINGS`) or spatial arrangements
(`HELD_OUT_ARRANGEMENTS`); its `hard_negatives` are ground truth, one per category, made by editing the
scene and re-rendering the caption with the same template. Training negatives come from the spaCy
`HardNegativeGenerator`, as for real data.

Why a bag-of-words model fails it: the swap negatives have exactly the words of the positive, and the
replace_relation negative ("A right of B" for "A left of B") has exactly the words of a *true* caption of
the same picture ("B right of A"). Only composition (which attribute binds to which object, which object
is the subject of the relation) separates them. The replace categories for objects and attributes use
words absent from the picture and are the easy ones.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import datasets

from ..negatives import HardNegativeGenerator
from ..training_args import DEFAULT_NEGATIVE_TYPES
from .add_negatives import add_hard_negatives
from .features import caption_features
from .synthetic_drawing import COLORS, OPPOSITE, SHAPES, SIZES, Scene, draw_scene

HELD_OUT_BINDINGS: tuple[tuple[str, str], ...] = (
    ("red", "triangle"), ("green", "circle"), ("blue", "diamond"),
    ("yellow", "square"), ("purple", "triangle"), ("white", "diamond"),
)
# (left or upper shape, axis, right or lower shape)
HELD_OUT_ARRANGEMENTS: tuple[tuple[str, str, str], ...] = (
    ("circle", "horizontal", "square"), ("triangle", "horizontal", "diamond"),
    ("square", "vertical", "triangle"), ("diamond", "vertical", "circle"),
)
TEMPLATES: tuple[str, ...] = (
    "{a} {rel} {b}",
    "{a} is {rel} {b}",
    "there is {a} {rel} {b}",
    "{a} sits {rel} {b}",
    "a picture of {a} {rel} {b}",
    "{a} placed {rel} {b}",
    "in this image {a} is {rel} {b}",
)
# Variants line up across relations so that "A left of B" and "B right of A" use the same words.
RELATION_PHRASES: dict[str, tuple[str, ...]] = {
    "left": ("to the left of", "left of", "on the left of"),
    "right": ("to the right of", "right of", "on the right of"),
    "above": ("above", "over", "above"),
    "below": ("below", "under", "beneath"),
}
# The names the SugarCrepe-style categories use, for reports.
CATEGORY_NAMES = {"swap_attribute": "swap_att", "swap_object": "swap_obj", "replace_attribute": "replace_att",
                  "replace_object": "replace_obj", "replace_relation": "replace_rel"}


@dataclass(frozen=True)
class Style:
    """How a scene is put into words; kept fixed when a ground-truth negative is rendered."""

    template: int
    phrase: int
    article: str  # "a" or "the"
    mention_sizes: bool
    capitalize: bool
    period: bool


def render(scene: Scene, style: Style) -> str:
    """The caption of `scene` in `style`."""
    objects = [
        f"{style.article} " + (f"{size} " if style.mention_sizes else "") + f"{color} {shape}"
        for color, shape, size in zip(scene.colors, scene.shapes, scene.sizes)
    ]
    text = TEMPLATES[style.template].format(a=objects[0], rel=RELATION_PHRASES[scene.relation][style.phrase],
                                            b=objects[1])
    if style.capitalize:
        text = text[0].upper() + text[1:]
    return text + ("." if style.period else "")


def held_out_combinations(scene: Scene, bindings: Sequence[tuple[str, str]],
                          arrangements: Sequence[tuple[str, str, str]]) -> list[str]:
    """The held-out combinations a scene contains, e.g. ["binding: red triangle", "arrangement: ..."]."""
    found = [f"binding: {c} {s}" for c, s in zip(scene.colors, scene.shapes) if (c, s) in bindings]
    first, axis, second = scene.arrangement()
    if (first, axis, second) in arrangements:
        found.append(f"arrangement: {first} {'left of' if axis == 'horizontal' else 'above'} {second}")
    return found


def ground_truth_negatives(scene: Scene, style: Style, rng: random.Random) -> dict[str, str]:
    """One false caption per category, differing from the true one only where the category says."""
    colors, shapes = scene.colors, scene.shapes
    which = rng.randrange(2)
    new_color = rng.choice([c for c in COLORS if c not in colors])
    new_shape = rng.choice([s for s in SHAPES if s not in shapes])
    edited = {
        "swap_object": Scene(colors, shapes[::-1], scene.sizes, scene.relation),
        "swap_attribute": Scene(colors[::-1], shapes, scene.sizes, scene.relation),
        "replace_object": Scene(colors, _set(shapes, which, new_shape), scene.sizes, scene.relation),
        "replace_attribute": Scene(_set(colors, which, new_color), shapes, scene.sizes, scene.relation),
        "replace_relation": Scene(colors, shapes, scene.sizes, OPPOSITE[scene.relation]),
    }
    return {name: render(negative, style) for name, negative in edited.items()}


def _set(pair: tuple[str, str], index: int, value: str) -> tuple[str, str]:
    return (value, pair[1]) if index == 0 else (pair[0], value)


def _sample(rng: random.Random) -> tuple[Scene, Style]:
    colors = tuple(rng.sample(sorted(COLORS), 2))
    shapes = tuple(rng.sample(SHAPES, 2))
    sizes = (rng.choice(sorted(SIZES)), rng.choice(sorted(SIZES)))
    scene = Scene(colors, shapes, sizes, rng.choice(sorted(OPPOSITE)))
    style = Style(
        template=rng.randrange(len(TEMPLATES)),
        phrase=rng.randrange(3),
        article=rng.choice(("a", "a", "the")),
        mention_sizes=rng.random() < 0.3,
        capitalize=rng.random() < 0.5,
        period=rng.random() < 0.5,
    )
    return scene, style


@dataclass
class SyntheticWorld:
    """Settings of the synthetic world; `build()` makes the `DatasetDict` (train, test).

    Everything is a function of `seed`: example i of a split is drawn from its own RNG seeded with
    (seed, split, i), so sizes can change without changing the first examples.

    Args:
        num_train, num_test: examples per split (defaults 2,000 and 500).
        image_size: side in pixels (default 32, the tiny models' input size).
        seed: the world's seed (default 0); also the negative generator's seed for the train split.
        negative_types: the types (and struct fields) of `hard_negatives`; default all five.
        train_negatives: False leaves the train split's negatives None (no spaCy needed).
        held_out_bindings, held_out_arrangements: what only the test split contains.
    """

    num_train: int = 2000
    num_test: int = 500
    image_size: int = 32
    seed: int = 0
    negative_types: Sequence[str] = DEFAULT_NEGATIVE_TYPES
    train_negatives: bool = True
    held_out_bindings: Sequence[tuple[str, str]] = HELD_OUT_BINDINGS
    held_out_arrangements: Sequence[tuple[str, str, str]] = HELD_OUT_ARRANGEMENTS
    generator: HardNegativeGenerator | None = field(default=None, repr=False)

    def example(self, split: str, index: int) -> dict:
        """Row `index` of `split`: image, caption, scene metadata and (for test) ground-truth negatives."""
        rng = random.Random(f"{self.seed}/{split}/{index}")
        while True:  # rejection sampling: test scenes need a held-out combination, train scenes none
            scene, style = _sample(rng)
            held = held_out_combinations(scene, self.held_out_bindings, self.held_out_arrangements)
            if bool(held) == (split == "test"):
                break
        truth = ground_truth_negatives(scene, style, rng)
        return {
            "image": draw_scene(scene, self.image_size, rng),
            "caption": render(scene, style),
            "colors": list(scene.colors),
            "shapes": list(scene.shapes),
            "sizes": list(scene.sizes),
            "relation": scene.relation,
            "held_out": held,
            "hard_negatives": {name: truth[name] if split == "test" else None for name in self.negative_types},
        }

    def features(self) -> datasets.Features:
        strings = datasets.List(datasets.Value("string"))
        extra = {"colors": strings, "shapes": strings, "sizes": strings, "relation": datasets.Value("string"),
                 "held_out": strings}
        return caption_features(self.negative_types, extra)

    def build_split(self, split: str) -> datasets.Dataset:
        count = self.num_test if split == "test" else self.num_train
        rows = [self.example(split, index) for index in range(count)]
        columns = {name: [row[name] for row in rows] for name in rows[0]} if rows else {}
        features = self.features()
        info = datasets.DatasetInfo(description=f"hf_finegrained synthetic world, split {split}: {self!r}",
                                    features=features)
        return datasets.Dataset.from_dict(columns, features=features, info=info)

    def build(self) -> datasets.DatasetDict:
        """{"train": spaCy negatives (or None), "test": ground-truth negatives}."""
        train = self.build_split("train")
        if self.train_negatives and len(train):
            generator = self.generator or HardNegativeGenerator(types=self.negative_types, seed=self.seed)
            train = add_hard_negatives(train, generator=generator, desc="synthetic train negatives")
        return datasets.DatasetDict({"train": train, "test": self.build_split("test")})


def build_synthetic_world(
    num_train: int = 2000,
    num_test: int = 500,
    image_size: int = 32,
    seed: int = 0,
    negative_types: Sequence[str] = DEFAULT_NEGATIVE_TYPES,
    train_negatives: bool = True,
) -> datasets.DatasetDict:
    """`SyntheticWorld(...).build()`: the embedded CPU dataset (see the module docstring)."""
    return SyntheticWorld(num_train, num_test, image_size, seed, negative_types, train_negatives).build()
