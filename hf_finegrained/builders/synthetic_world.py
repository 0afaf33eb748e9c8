"""The synthetic compositional world: a CPU-sized benchmark and training set, built in seconds, no files.

Each image shows two shapes (colour x shape x size) with one left of / right of / above / below the other.
Captions name both objects and the relation through varied templates. The test split holds scenes with
combinations never seen in training: colour-shape bindings (`HELD_OUT_BINDINGS`) or spatial arrangements
(`HELD_OUT_ARRANGEMENTS`); its `hard_negatives` are ground truth, one per category, made by editing the
scene and re-rendering the caption with the same template. Training negatives come from the spaCy
`HardNegativeGenerator`, as for real data. An optional validation split is drawn like the test split
(same held-out combinations, other examples) for choosing settings without touching the test split.

Held-out combinations stay out of training entirely, negatives included: a spaCy swap of "a red circle
left of a blue triangle" is "a red triangle left of a blue circle", which holds the held-out binding
"red triangle". Left in, about two thirds of the swap negatives (default world) would teach the model
that held-out bindings only ever appear in false captions, which is exactly wrong on the test split
(where the true caption holds them). Such negatives are set to None (masked by the loss) and counted in
`SyntheticWorld.masked_negatives`; `exclude_held_out_negatives=False` keeps them (docs/RESULTS.md).

Why a bag-of-words model fails it: the swap negatives have exactly the words of the positive, and the
replace_relation negative ("A right of B" for "A left of B") has exactly the words of a *true* caption of
the same picture ("B right of A"). Only composition (which attribute binds to which object, which object
is the subject of the relation) separates them. The replace categories for objects and attributes use
words absent from the picture and are the easy ones.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import datasets

from ..negatives import HardNegativeGenerator
from ..training_args import DEFAULT_NEGATIVE_TYPES
from .add_negatives import add_hard_negatives
from .features import caption_features
from .synthetic_drawing import COLORS, OPPOSITE, SHAPES, SIZES, Scene, draw_scene

logger = logging.getLogger(__name__)

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
SPLITS = ("train", "validation", "test", "validation_seen", "test_seen")
HELD_OUT_SPLITS = ("validation", "test")  # every scene holds a held-out combination; other splits none
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
    return _held_out(list(zip(scene.colors, scene.shapes)), scene.arrangement(), bindings, arrangements)


def _held_out(pairs: Sequence[tuple[str, str]], arrangement: tuple[str, str, str] | None,
              bindings: Sequence[tuple[str, str]], arrangements: Sequence[tuple[str, str, str]]) -> list[str]:
    found = [f"binding: {c} {s}" for c, s in pairs if (c, s) in bindings]
    if arrangement in arrangements:
        first, axis, second = arrangement
        found.append(f"arrangement: {first} {'left of' if axis == 'horizontal' else 'above'} {second}")
    return found


_COLOR_SHAPE = re.compile(rf"\b({'|'.join(COLORS)}) ({'|'.join(SHAPES)})\b")
_SHAPE = re.compile(rf"\b({'|'.join(SHAPES)})\b")
# The world's relation words; True when the first-named object is the left / upper one.
_RELATION_WORDS = {"left": True, "right": False, "above": True, "over": True, "below": False, "under": False,
                   "beneath": False}
_RELATION = re.compile(rf"\b({'|'.join(_RELATION_WORDS)})\b")


def held_out_in_caption(text: str, bindings: Sequence[tuple[str, str]] = HELD_OUT_BINDINGS,
                        arrangements: Sequence[tuple[str, str, str]] = HELD_OUT_ARRANGEMENTS) -> list[str]:
    """The held-out combinations a caption *states*, read from its words (any caption, edited ones too).

    Bindings are "<colour> <shape>" word pairs; the arrangement needs two shape words and one of the
    world's relation words between them (a relation word from outside the world states none).
    """
    lowered = text.lower()
    shapes = _SHAPE.findall(lowered)
    relation = _RELATION.findall(lowered)
    arrangement = None
    if len(shapes) == 2 and len(relation) == 1:
        first_leads = _RELATION_WORDS[relation[0]]
        axis = "horizontal" if relation[0] in ("left", "right") else "vertical"
        first, second = shapes if first_leads else shapes[::-1]
        arrangement = (first, axis, second)
    return _held_out(_COLOR_SHAPE.findall(lowered), arrangement, bindings, arrangements)


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
        held_out_bindings, held_out_arrangements: what only the test (and validation) split contains.
        num_validation: examples of a "validation" split drawn like the test split (default 0: none).
        num_seen: examples of each of "validation_seen" and "test_seen" (default 0: none): new images of
            the training distribution (no held-out combination) with ground-truth negatives, to tell
            in-distribution compositional accuracy from generalisation to held-out combinations.
        exclude_held_out_negatives: set training negatives that state a held-out combination to None
            (default True; see the module docstring). `masked_negatives` counts them per type.
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
    num_validation: int = 0
    exclude_held_out_negatives: bool = True
    num_seen: int = 0
    masked_negatives: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def example(self, split: str, index: int) -> dict:
        """Row `index` of `split` (train, validation, test, validation_seen or test_seen): image, caption,
        scene metadata and (except for train) ground-truth negatives."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; the world has {SPLITS}")
        rng = random.Random(f"{self.seed}/{split}/{index}")
        while True:  # rejection sampling: test scenes need a held-out combination, train scenes none
            scene, style = _sample(rng)
            held = held_out_combinations(scene, self.held_out_bindings, self.held_out_arrangements)
            if bool(held) == (split in HELD_OUT_SPLITS):
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
            "hard_negatives": {name: truth[name] if split != "train" else None for name in self.negative_types},
        }

    def features(self) -> datasets.Features:
        strings = datasets.List(datasets.Value("string"))
        extra = {"colors": strings, "shapes": strings, "sizes": strings, "relation": datasets.Value("string"),
                 "held_out": strings}
        return caption_features(self.negative_types, extra)

    def build_split(self, split: str) -> datasets.Dataset:
        count = {"train": self.num_train, "validation": self.num_validation, "test": self.num_test,
                 "validation_seen": self.num_seen, "test_seen": self.num_seen}[split]
        rows = [self.example(split, index) for index in range(count)]
        columns = {name: [row[name] for row in rows] for name in rows[0]} if rows else {}
        features = self.features()
        info = datasets.DatasetInfo(description=f"hf_finegrained synthetic world, split {split}: {self!r}",
                                    features=features)
        return datasets.Dataset.from_dict(columns, features=features, info=info)

    def build(self) -> datasets.DatasetDict:
        """{"train": spaCy negatives (or None), ["validation"], "test", ["validation_seen", "test_seen"]}."""
        train = self.build_split("train")
        self.masked_negatives = {}
        if self.train_negatives and len(train):
            generator = self.generator or HardNegativeGenerator(types=self.negative_types, seed=self.seed)
            train = add_hard_negatives(train, generator=generator, desc="synthetic train negatives")
            if self.exclude_held_out_negatives:
                train = self._mask_held_out_negatives(train)
        splits = {"train": train}
        if self.num_validation:
            splits["validation"] = self.build_split("validation")
        splits["test"] = self.build_split("test")
        if self.num_seen:
            splits.update({name: self.build_split(name) for name in ("validation_seen", "test_seen")})
        return datasets.DatasetDict(splits)

    def _mask_held_out_negatives(self, train: datasets.Dataset) -> datasets.Dataset:
        counts = dict.fromkeys(self.negative_types, 0)

        def mask(negatives: dict[str, str | None]) -> dict[str, str | None]:
            kept = {}
            for name, text in negatives.items():
                if text is not None and held_out_in_caption(text, self.held_out_bindings, self.held_out_arrangements):
                    counts[name] += 1
                    text = None
                kept[name] = text
            return kept

        column = [mask(negatives) for negatives in train["hard_negatives"]]
        train = train.remove_columns("hard_negatives").add_column("hard_negatives", column,
                                                                   feature=train.features["hard_negatives"])
        self.masked_negatives = counts
        logger.info("synthetic world: training negatives stating a held-out combination, set to None: %s", counts)
        return train


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
