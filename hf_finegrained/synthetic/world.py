"""The synthetic compositional world: a CPU-sized training stream and benchmark, drawn on demand, no files.

Each image shows two shapes (12 colours x 4 shapes x 2 sizes) with one left of / right of / above / below
the other. Relation captions name both objects and the relation through varied templates ("a red ring left
of a blue bar"). Training reads streams of new scenes (`SyntheticWorld.train_stream`); evaluation reads
fixed splits (`SyntheticWorld.build`): new images of seen combinations (`*_seen`, the headline), images
holding held-out combinations (`validation` / `test`: colour-shape bindings of `HELD_OUT_BINDINGS` or spatial
arrangements of `HELD_OUT_ARRANGEMENTS`, never in any training image or caption), single objects for
zero-shot classification, and pairs for retrieval. Evaluation negatives are ground truth, one per
category, made by editing the scene and re-rendering the caption in the same words; training negatives
come from the spaCy `HardNegativeGenerator`, as for real data.

A stream's captions follow a `CaptionMix`: relation captions (the fine-tuning kind, like COCO), or, for
pre-training, layout captions of twin pairs ("a red ring on the left and a blue bar on the right", then
the same objects with their places exchanged) and single objects with their place ("a pink pillar at the
top"). The pre-training kinds make an image encoder keep which object is where while its text side never
sees a relation caption: the profile of a CLIP pre-trained on web data (docs/RESULTS.md).

Held-out combinations stay out of training entirely, negatives included: a spaCy swap of "a red square
left of a blue ring" is "a red ring left of a blue square", which states the held-out binding "red ring".
Such negatives are set to None (masked by the loss) and counted in `SyntheticWorld.masked_negatives`;
`exclude_held_out_negatives=False` keeps them (docs/RESULTS.md tells what that did to the first study).

Why a bag-of-words model fails it: the swap negatives have exactly the words of the positive, and the
replace_relation negative ("A right of B" for "A left of B") has exactly the words of a *true* caption of
the same picture ("B right of A"). Only composition (which attribute binds to which object, which object
is the subject of the relation) separates them. The replace categories for objects and attributes use
words absent from the picture and are the easy ones, except in pictures with a distractor (`distractors`:
the default world has one in a quarter of them), where the replacement word is the distractor's.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets

from ..rows import NEGATIVES_COLUMN
from ..negatives import HardNegativeGenerator
from ..negatives.text import corpus_vocabulary
from ..negatives.types import DEFAULT_NEGATIVE_TYPES, SHORT_NAMES
from ..builders.add_negatives import add_hard_negatives
from ..builders.features import caption_features
from .drawing import COLORS, OPPOSITE, SHAPES, SIZES, Scene, draw_object, draw_scene

logger = logging.getLogger(__name__)

HELD_OUT_BINDINGS: tuple[tuple[str, str], ...] = (
    ("red", "ring"), ("green", "square"), ("blue", "pillar"), ("yellow", "bar"), ("purple", "ring"), ("white", "bar"),
)
# (left or upper shape, axis, right or lower shape)
HELD_OUT_ARRANGEMENTS: tuple[tuple[str, str, str], ...] = (
    ("square", "horizontal", "ring"), ("bar", "horizontal", "pillar"),
    ("ring", "vertical", "bar"), ("pillar", "vertical", "square"),
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
# Layout captions: where each object is in the picture ("a red ring on the left and a blue bar on the right");
# only pre-training mixes have them (`CaptionMix`).
LAYOUT_TEMPLATES: tuple[str, ...] = (
    "{a} {pa} and {b} {pb}",
    "{a} is {pa} and {b} is {pb}",
    "{pa} {a} and {pb} {b}",
    "{a} {pa}, {b} {pb}",
)
SINGLE_TEMPLATES: tuple[str, ...] = ("{a} {p}", "a picture of {a} {p}", "{p} there is {a}", "{a} alone, {p}")
POSITION_PHRASES = {"left": "on the left", "right": "on the right", "above": "at the top", "below": "at the bottom"}
SPLITS = ("train", "validation_seen", "test_seen", "validation", "test", "zeroshot", "retrieval")
EVALUATION_SPLITS = SPLITS[1:]  # drawn with odd background shades, training images with even ones
HELD_OUT_SPLITS = ("validation", "test")  # every scene holds a held-out combination; other splits none
ZEROSHOT_CLASSES: tuple[str, ...] = tuple(f"{color} {shape}" for color in COLORS for shape in SHAPES)
NEGATIVES = ("spacy", "ground_truth", None)  # what a training stream's `hard_negatives` hold
NOISE_KINDS = ("not_false", "disfluent", "dropped")  # `NegativeNoise.kind`
NEGATIVES_VOCABULARIES = ("lexicon", "world")  # `SyntheticWorld.negatives_vocabulary`
# {type name: the SugarCrepe-style category name reports use}, in the report order (negatives/types.py).
CATEGORY_NAMES: dict[str, str] = SHORT_NAMES


@dataclass(frozen=True)
class CaptionMix:
    """What a training stream's captions are, as shares of its row pairs (2k, 2k + 1); the pairs left over
    get relation captions. Default: relation captions only (the fine-tuning kind).

    Args:
        layout_twins: pairs of layout twins: the same two objects with their places exchanged, each with a
            layout caption (`render_layout`); only where each object is tells the twins apart.
        single: pairs of single objects, each in the left, right, top or bottom third of the picture and
            captioned with its place ("a pink pillar at the top").
        colorless: share of those layout and single captions that leave out the colour words.
    """

    layout_twins: float = 0.0
    single: float = 0.0
    colorless: float = 0.0

    def __post_init__(self) -> None:
        shares = (self.layout_twins, self.single, self.colorless)
        if any(not 0.0 <= share <= 1.0 for share in shares) or self.layout_twins + self.single > 1.0:
            raise ValueError(f"CaptionMix shares must lie in [0, 1], layout_twins + single <= 1; got {self}")


@dataclass(frozen=True)
class NegativeNoise:
    """Bad training negatives in a controlled share: what a flawed generator would give (docs/NEGATIVES.md, "What
    bad negatives cost"). Each present training negative is, with probability `share` (its own seeded draw per
    row and type):

    - "not_false": replaced by a caption that is TRUE of the image, the scene told from its other object in a new
      template ("a blue bar right of a red ring" for "a red ring left of a blue bar"): a wrong label, in the words
      of the positive, as a relation flip of a symmetric relation or a paraphrase is;
    - "disfluent": kept false but made ungrammatical, each colour put after its shape ("a ring red left of a bar
      blue"): a negative a text-only reader rejects without the image (SugarCrepe's text shortcut);
    - "dropped": set to None (masked by the loss): coverage ``1 - share`` for every type.
    """

    kind: str
    share: float

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise ValueError(f"NegativeNoise.kind must be one of {NOISE_KINDS}; got {self.kind!r}")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"NegativeNoise.share must lie in [0, 1]; got {self.share}")


@dataclass(frozen=True)
class Style:
    """How a scene is put into words; kept fixed when a ground-truth negative is rendered."""

    template: int
    phrase: int
    article: str  # "a" or "the"
    mention_sizes: bool
    capitalize: bool
    period: bool


def _noun_phrases(scene: Scene, style: Style, colors: bool = True) -> list[str]:
    """"a red ring", "an orange large square"... for each object (sizes when the style mentions them;
    "a ring" without `colors`)."""
    phrases = []
    for color, shape, size in zip(scene.colors, scene.shapes, scene.sizes):
        words = (f"{size} " if style.mention_sizes else "") + (f"{color} " if colors else "") + shape
        article = "an" if style.article == "a" and words[0] in "aeiou" else style.article
        phrases.append(f"{article} {words}")
    return phrases


def caption_vocabulary() -> frozenset[str]:
    """Every word a relation caption of the world can use (templates, relation phrases, articles, sizes, colours,
    shapes), normalized as `negatives.text.normalize` writes them."""
    texts = [re.sub(r"\{\w+\}", " ", template) for template in TEMPLATES]
    texts += [phrase for phrases in RELATION_PHRASES.values() for phrase in phrases]
    texts += ["a an the", *COLORS, *SHAPES, *SIZES]
    return corpus_vocabulary(texts)


def render(scene: Scene, style: Style) -> str:
    """The caption of `scene` in `style`."""
    objects = _noun_phrases(scene, style)
    text = TEMPLATES[style.template].format(a=objects[0], rel=RELATION_PHRASES[scene.relation][style.phrase],
                                            b=objects[1])
    if style.capitalize:
        text = text[0].upper() + text[1:]
    return text + ("." if style.period else "")


def render_layout(scene: Scene, style: Style, colors: bool = True) -> str:
    """A layout caption of `scene`: each object with its place in the picture, objects in scene order."""
    objects = _noun_phrases(scene, style, colors)
    places = (POSITION_PHRASES[scene.relation], POSITION_PHRASES[OPPOSITE[scene.relation]])
    text = LAYOUT_TEMPLATES[style.template % len(LAYOUT_TEMPLATES)].format(
        a=objects[0], pa=places[0], b=objects[1], pb=places[1])
    if style.capitalize:
        text = text[0].upper() + text[1:]
    return text + ("." if style.period else "")


def held_out_combinations(scene: Scene, bindings: Sequence[tuple[str, str]],
                          arrangements: Sequence[tuple[str, str, str]]) -> list[str]:
    """The held-out combinations a scene contains, e.g. ["binding: red ring", "arrangement: ..."]."""
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
    """One false caption per category, differing from the true one only where the category says. In a scene
    with distractors (`Scene.extras`) the replace categories take the colour and shape of the first distractor
    whose colour and shape differ from both named objects': the replacement word is in the picture, on another
    object."""
    colors, shapes = scene.colors, scene.shapes
    which = rng.randrange(2)
    new_color = rng.choice([c for c in COLORS if c not in colors])
    new_shape = rng.choice([s for s in SHAPES if s not in shapes])
    novel = [extra for extra in scene.extras if extra[0] not in colors and extra[1] not in shapes]
    if novel:  # replace with what the picture shows elsewhere: a bag of visual words cannot reject it
        new_color, new_shape = novel[0][0], novel[0][1]
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
    """Settings of the synthetic world; `build()` makes its fixed splits, `train_stream()` its training stream.

    Everything is a function of `seed`: row i of a split or stream is drawn from its own RNG seeded with
    (seed, split or stream name, i), so sizes can change without changing the first rows, and every split
    and stream draws from its own seeds. Training images (the `train` split and every stream) have an even
    background shade and evaluation images an odd one, so no evaluation image can equal a training image.

    Splits of `build()` (each only when its size is > 0):
        train: `num_train` fixed training rows with spaCy negatives (the small fixed world of the first study;
            the default run trains on `train_stream()` instead).
        validation_seen, test_seen: `num_seen` new images of combinations seen in training, with one
            ground-truth negative per category (the SugarCrepe-like headline: new images of the training
            distribution).
        validation, test: `num_validation` / `num_test` images that each hold a held-out colour-shape binding
            or spatial arrangement, with ground-truth negatives (out-of-distribution generalisation).
        zeroshot: `num_zeroshot` images of one shape alone, labelled with one of the 24 "<colour> <shape>"
            classes (`ZEROSHOT_CLASSES`), for zero-shot classification.
        retrieval: `num_retrieval` images of seen combinations with their captions, for image-text retrieval.

    Args:
        num_train, num_test: rows of the fixed train and held-out test splits (defaults 2,000 and 500).
        image_size: side in pixels (default 48).
        seed: the world's seed (default 0); also the negative generator's seed.
        negative_types: the types (and struct fields) of `hard_negatives`; default all five.
        train_negatives: False leaves the train split's negatives None (no spaCy needed).
        held_out_bindings, held_out_arrangements: what only the held-out splits contain.
        num_validation: rows of the held-out "validation" split (default 0: none).
        num_seen: rows of each of "validation_seen" and "test_seen" (default 0: none).
        num_zeroshot, num_retrieval: rows of the two general-ability probes (default 0: none).
        distractors: objects the caption does not name, added to every two-object scene (relation, layout and
            retrieval images; not to single objects or zero-shot ones), each small, of a colour and a shape
            that neither named object has, never a held-out binding, drawn apart from both. The replace
            negatives then name the distractor's colour or shape (`ground_truth_negatives`). A fraction adds one
            more distractor to that share of the scenes (0.5: every other scene has one, drawn per row). Default
            0: the first worlds.
        confusable_distractors: the first distractor of a two-object scene carries a swapped binding of the named
            objects (the colour of one with the shape of the other, e.g. a small red bar beside "a red ring left
            of a blue bar"), so each swap negative holds one pair the picture shows; the other distractors and
            the replace negatives are as above (a scene with one distractor then replaces with its colour or
            shape, which is a named object's: the replace negatives take words from outside the picture).
        negatives_vocabulary: the words the training negatives may write: "lexicon" (any word of the generator's
            lists, e.g. "a purple triangle" in a world without triangles: every study before the third session of
            2026-12-07)
            or "world" (only words of the world's relation captions, `caption_vocabulary()`: the replacement is a
            colour, shape or relation the world shows, as COCO words are for a COCO fine-tune). A `generator`
            given explicitly is used as it is.
        exclude_held_out_negatives: set training negatives that state a held-out combination to None
            (default True; see the module docstring). `masked_negatives` counts them per type, over the
            train split and every stream row whose negatives were made in this process.
    """

    num_train: int = 2000
    num_test: int = 500
    image_size: int = 48
    seed: int = 0
    negative_types: Sequence[str] = DEFAULT_NEGATIVE_TYPES
    train_negatives: bool = True
    held_out_bindings: Sequence[tuple[str, str]] = HELD_OUT_BINDINGS
    held_out_arrangements: Sequence[tuple[str, str, str]] = HELD_OUT_ARRANGEMENTS
    generator: HardNegativeGenerator | None = field(default=None, repr=False)
    num_validation: int = 0
    exclude_held_out_negatives: bool = True
    num_seen: int = 0
    num_zeroshot: int = 0
    num_retrieval: int = 0
    distractors: float = 0
    confusable_distractors: bool = False
    negatives_vocabulary: str = "lexicon"
    masked_negatives: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    noisy_negatives: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.negatives_vocabulary not in NEGATIVES_VOCABULARIES:
            raise ValueError(f"negatives_vocabulary must be one of {NEGATIVES_VOCABULARIES}; "
                             f"got {self.negatives_vocabulary!r}")

    def example(self, split: str, index: int, mix: CaptionMix | None = None, ground_truth: bool = False) -> dict:
        """Row `index` of `split` (one of `SPLITS` but zeroshot) or of a training stream (any other name):
        image, caption, scene metadata (single objects: one colour, shape and size, `relation` their
        place) and `hard_negatives`: ground truth for evaluation splits, None for training rows unless
        `ground_truth`. `mix` (training streams only) picks the caption kind of the row's pair.
        """
        if split == "zeroshot":
            raise ValueError("zeroshot rows have another layout; use zeroshot_example()")
        training = split not in EVALUATION_SPLITS
        if training and mix is not None and mix.layout_twins + mix.single > 0:
            pair = index // 2
            rng = random.Random(f"{self.seed}/{split}/pair{pair}/kind")
            kind, colors = rng.random(), rng.random() >= mix.colorless
            if kind < mix.layout_twins:
                return self._layout_twin(split, pair, second=index % 2 == 1, colors=colors)
            if kind < mix.layout_twins + mix.single:
                return self._single(split, index, colors=colors)
        rng = random.Random(f"{self.seed}/{split}/{index}")
        scene, style, held = self._draw_scene_and_style(rng, held_out=split in HELD_OUT_SPLITS)
        scene = self._with_distractors(scene, f"{split}/{index}")
        truth = ground_truth_negatives(scene, style, rng)
        image = draw_scene(scene, self.image_size, rng, parity=0 if training else 1)
        negatives = {name: truth[name] if ground_truth or not training else None for name in self.negative_types}
        return self._row(scene, render(scene, style), image, held, negatives)

    def _draw_scene_and_style(self, rng: random.Random, held_out: bool, twin: bool = False) -> tuple[Scene, Style, list[str]]:
        """Rejection sampling: held-out splits need a held-out combination, all others none (nor their twin)."""
        while True:
            scene, style = _sample(rng)
            held = held_out_combinations(scene, self.held_out_bindings, self.held_out_arrangements)
            if twin:
                held += held_out_combinations(scene.moved(), self.held_out_bindings, self.held_out_arrangements)
            if bool(held) == held_out:
                return scene, style, held

    def _with_distractors(self, scene: Scene, key: str) -> Scene:
        """`scene` with `distractors` extra objects, drawn from their own seed (the rest of the row is the same
        as in a world without them)."""
        if not self.distractors:
            return scene
        rng = random.Random(f"{self.seed}/{key}/distractors")
        count = int(self.distractors)
        if self.distractors > count and rng.random() < self.distractors - count:
            count += 1
        if not count:
            return scene
        extras: list[tuple[str, str, str]] = []
        if self.confusable_distractors and len(scene.colors) == 2:
            swapped = [(scene.colors[0], scene.shapes[1]), (scene.colors[1], scene.shapes[0])]
            allowed = [pair for pair in swapped if pair not in self.held_out_bindings]
            if allowed:
                color, shape = rng.choice(allowed)
                extras.append((color, shape, "small"))
        while len(extras) < count:
            used_colors = set(scene.colors) | {extra[0] for extra in extras}
            used_shapes = set(scene.shapes) | {extra[1] for extra in extras}
            color = rng.choice([c for c in sorted(COLORS) if c not in used_colors])
            shapes = [s for s in SHAPES if s not in used_shapes] or list(SHAPES)
            shape = rng.choice(shapes)
            if (color, shape) not in self.held_out_bindings:
                extras.append((color, shape, "small"))
        return Scene(scene.colors, scene.shapes, scene.sizes, scene.relation, tuple(extras))

    def _layout_twin(self, split: str, pair: int, second: bool, colors: bool) -> dict:
        scene, style, held = self._draw_scene_and_style(random.Random(f"{self.seed}/{split}/pair{pair}"), False, twin=True)
        scene = self._with_distractors(scene, f"{split}/pair{pair}")
        if second:
            scene = scene.moved()
        image = draw_scene(scene, self.image_size, random.Random(f"{self.seed}/{split}/pair{pair}/{int(second)}"))
        return self._row(scene, render_layout(scene, style, colors), image, held, dict.fromkeys(self.negative_types))

    def _single(self, split: str, index: int, colors: bool) -> dict:
        rng = random.Random(f"{self.seed}/{split}/{index}/single")
        while True:
            color, shape = rng.choice(sorted(COLORS)), rng.choice(SHAPES)
            if (color, shape) not in self.held_out_bindings:
                break
        size, place = rng.choice(sorted(SIZES)), rng.choice(sorted(OPPOSITE))
        style = _sample(rng)[1]
        scene = Scene((color,), (shape,), (size,), place)
        text = SINGLE_TEMPLATES[style.template % len(SINGLE_TEMPLATES)].format(
            a=_noun_phrases(scene, style, colors)[0], p=POSITION_PHRASES[place])
        text = (text[0].upper() + text[1:] if style.capitalize else text) + ("." if style.period else "")
        image = draw_object(color, shape, size, self.image_size, rng, place=place)
        return self._row(scene, text, image, [], dict.fromkeys(self.negative_types))

    @staticmethod
    def _row(scene: Scene, caption: str, image: Any, held: list[str], negatives: dict[str, str | None]) -> dict:
        return {"image": image, "caption": caption, "colors": list(scene.colors), "shapes": list(scene.shapes),
                "sizes": list(scene.sizes), "relation": scene.relation, "held_out": held, "hard_negatives": negatives}

    def zeroshot_example(self, index: int) -> dict:
        """Row `index` of the zeroshot split: one shape alone and its class ("<colour> <shape>")."""
        rng = random.Random(f"{self.seed}/zeroshot/{index}")
        label = rng.randrange(len(ZEROSHOT_CLASSES))
        color, shape = ZEROSHOT_CLASSES[label].split()
        size = rng.choice(sorted(SIZES))
        return {"image": draw_object(color, shape, size, self.image_size, rng, parity=1), "label": label}

    def features(self) -> datasets.Features:
        strings = datasets.List(datasets.Value("string"))
        extra = {"colors": strings, "shapes": strings, "sizes": strings, "relation": datasets.Value("string"),
                 "held_out": strings}
        return caption_features(self.negative_types, extra)

    def build_split(self, split: str, start: int = 0, count: int | None = None) -> datasets.Dataset:
        """One split of `SPLITS`, materialised (the train split without negatives): rows `start` to
        `start + count` (default: the split's size from 0). Rows past the split's size are new images of the
        same distribution (each row is drawn from its own seed), e.g. a validation copy of a probe that has
        only one split: `build_split("zeroshot", start=world.num_zeroshot)`."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; the world has {SPLITS}")
        count = self.split_sizes()[split] if count is None else count
        info = datasets.DatasetInfo(description=f"hf_finegrained synthetic world, split {split}: {self!r}")
        if split == "zeroshot":
            features = datasets.Features({"image": datasets.Image(),
                                          "label": datasets.ClassLabel(names=list(ZEROSHOT_CLASSES))})
            rows = [self.zeroshot_example(index) for index in range(start, start + count)]
        else:
            features = self.features()
            rows = [self.example(split, index) for index in range(start, start + count)]
        columns = {name: [row[name] for row in rows] for name in features}
        info.features = features
        return datasets.Dataset.from_dict(columns, features=features, info=info)

    def split_sizes(self) -> dict[str, int]:
        """Rows of each split of `SPLITS`, in that order (0: `build()` leaves it out)."""
        sizes = {"train": self.num_train, "validation_seen": self.num_seen, "test_seen": self.num_seen,
                 "validation": self.num_validation, "test": self.num_test, "zeroshot": self.num_zeroshot,
                 "retrieval": self.num_retrieval}
        return {split: sizes[split] for split in SPLITS}

    def build(self) -> datasets.DatasetDict:
        """Every split of `SPLITS` whose size is > 0, in that order (see the class docstring)."""
        self.masked_negatives = {}
        splits = {}
        for split, count in self.split_sizes().items():
            if count:
                splits[split] = self.build_split(split)
        if "train" in splits and self.train_negatives:
            splits["train"] = self._with_negatives(splits["train"])
        return datasets.DatasetDict(splits)

    def train_stream(
        self,
        num_examples: int,
        name: str = "finetune",
        negatives: str | None = "spacy",
        mix: CaptionMix = CaptionMix(),
        num_shards: int | None = None,
        batch_size: int = 256,
        noise: NegativeNoise | None = None,
    ) -> datasets.IterableDataset:
        """`num_examples` distinct training rows, drawn on demand, as a `datasets.IterableDataset`.

        Rows are those of `example(name, i, mix)` for i in 0..num_examples-1: the same for the same seed, name
        and mix, in any process; streams of other names (e.g. "pretrain" and "finetune-0") share no seed with
        each other or with any split. `negatives`: "spacy" makes hard negatives on the fly with
        `add_hard_negatives` (the path real data takes), in batches of `batch_size` captions;
        "ground_truth" gives relation rows the edited-scene negatives the evaluation splits have (a control:
        the method with perfect negatives); None leaves them None. Either way, negatives that state a
        held-out combination are set to None and counted in `masked_negatives` (in the process that reads).
        `noise` then spoils a share of the negatives (`NegativeNoise`), counted in `noisy_negatives` per type.

        The rows are cut into `num_shards` contiguous shards (default: up to 32; boundaries keep twin pairs
        together), which `datasets` spreads over dataloader workers and, with
        `datasets.distributed.split_dataset_by_node` (what accelerate does), over processes: every row is
        read exactly once per pass. Read in one process the stream is rows 0, 1, 2, ... in order; with
        several workers the order of batches interleaves, the rows do not change.
        """
        if name in SPLITS:
            raise ValueError(f"a stream needs a name other than the splits {SPLITS}; got {name!r}")
        if negatives not in NEGATIVES:
            raise ValueError(f"negatives must be one of {NEGATIVES}; got {negatives!r}")
        if num_examples < 1:
            raise ValueError(f"num_examples must be >= 1; got {num_examples}")
        num_shards = max(1, min(num_shards or 32, (num_examples + 1) // 2))
        source = _StreamSource(self, name, num_examples, num_shards, mix, negatives == "ground_truth")
        # No `features`: the rows keep the drawn PIL images. An `Image()` column would PNG-encode each one and decode
        # it again when read (the same pixels; 0.24 ms a row, about 30 s of the base's 128,000 pre-training rows).
        stream = datasets.IterableDataset.from_generator(
            _stream_rows, gen_kwargs={"shards": list(range(num_shards)), "source": source})
        if negatives is None:
            if noise is not None:
                raise ValueError("noise spoils hard negatives; a stream without negatives has none to spoil")
            return stream
        stream = self._with_negatives(stream, batch_size=batch_size, spacy=negatives == "spacy")
        if noise is None:
            return stream
        self.noisy_negatives = self.noisy_negatives or dict.fromkeys(self.negative_types, 0)
        spoil = _Spoiler(noise, f"{self.seed}/{name}", self.noisy_negatives)
        return stream.map(spoil, batched=True, batch_size=batch_size, with_indices=True, features=stream.features)

    def _with_negatives(self, data: Any, batch_size: int = 1000, spacy: bool = True) -> Any:
        """`data` (a Dataset or an IterableDataset) with spaCy negatives (`spacy`), held-out ones masked."""
        if spacy:
            generator = self.generator or HardNegativeGenerator(
                types=self.negative_types, seed=self.seed,
                vocabulary=caption_vocabulary() if self.negatives_vocabulary == "world" else None)
            data = add_hard_negatives(data, generator=generator, batch_size=batch_size,
                                      desc="synthetic train negatives")
        if not self.exclude_held_out_negatives:
            return data
        self.masked_negatives = self.masked_negatives or dict.fromkeys(self.negative_types, 0)
        mask = _HeldOutMask(self.held_out_bindings, self.held_out_arrangements, self.masked_negatives)
        if isinstance(data, datasets.IterableDataset):
            return data.map(mask, batched=True, batch_size=batch_size, features=data.features)
        masked = mask({NEGATIVES_COLUMN: data[NEGATIVES_COLUMN]})[NEGATIVES_COLUMN]
        logger.info("synthetic world: training negatives stating a held-out combination, set to None: %s",
                    self.masked_negatives)
        return data.remove_columns(NEGATIVES_COLUMN).add_column(NEGATIVES_COLUMN, masked,
                                                                feature=data.features[NEGATIVES_COLUMN])


@dataclass(frozen=True)
class _StreamSource:
    """What a stream's generator needs (picklable, so dataloader workers can rebuild rows)."""

    world: SyntheticWorld
    name: str
    num_examples: int
    num_shards: int
    mix: CaptionMix
    ground_truth: bool

    def rows(self, shard: int) -> range:
        """Shard `shard`'s rows: a contiguous range starting at an even row (twin pairs stay together)."""
        pairs = (self.num_examples + 1) // 2

        def start(k: int) -> int:
            return min(self.num_examples, 2 * (k * pairs // self.num_shards))

        return range(start(shard), start(shard + 1))


def _stream_rows(shards: list[int], source: _StreamSource) -> Iterator[dict]:
    for shard in shards:
        for index in source.rows(shard):
            yield source.world.example(source.name, index, source.mix, source.ground_truth)


class _HeldOutMask:
    """Batched map: sets negatives that state a held-out combination to None and counts them per type."""

    def __init__(self, bindings: Sequence[tuple[str, str]], arrangements: Sequence[tuple[str, str, str]],
                 counts: dict[str, int]) -> None:
        self.bindings, self.arrangements, self.counts = bindings, arrangements, counts

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        kept_rows = []
        for negatives in batch[NEGATIVES_COLUMN]:
            kept = {}
            for name, text in negatives.items():
                if text is not None and held_out_in_caption(text, self.bindings, self.arrangements):
                    self.counts[name] = self.counts.get(name, 0) + 1
                    text = None
                kept[name] = text
            kept_rows.append(kept)
        return {**batch, NEGATIVES_COLUMN: kept_rows}


_COLOR_BEFORE_SHAPE = re.compile(rf"\b({'|'.join(COLORS)}) ({'|'.join(SHAPES)})\b", re.IGNORECASE)


class _Spoiler:
    """Batched map with indices: applies a `NegativeNoise` to a stream's negatives, counting per type what it
    changed. The draw of row i and type t depends only on (world seed, stream name, i, t, kind)."""

    def __init__(self, noise: NegativeNoise, key: str, counts: dict[str, int]) -> None:
        self.noise, self.key, self.counts = noise, key, counts

    def __call__(self, batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        spoiled_rows = []
        for position, (index, negatives) in enumerate(zip(indices, batch[NEGATIVES_COLUMN])):
            spoiled = dict(negatives)
            for name, text in negatives.items():
                rng = random.Random(f"{self.key}/{index}/{name}/{self.noise.kind}")
                if text is None or rng.random() >= self.noise.share:
                    continue
                new = self._spoil(text, {column: batch[column][position]
                                         for column in ("colors", "shapes", "sizes", "relation")}, rng)
                if new != text:  # a negative without a "<colour> <shape>" cannot be made disfluent this way
                    spoiled[name] = new
                    self.counts[name] = self.counts.get(name, 0) + 1
            spoiled_rows.append(spoiled)
        return {**batch, NEGATIVES_COLUMN: spoiled_rows}

    def _spoil(self, text: str, row: dict[str, Any], rng: random.Random) -> str | None:
        if self.noise.kind == "dropped":
            return None
        if self.noise.kind == "disfluent":
            return _COLOR_BEFORE_SHAPE.sub(r"\2 \1", text)
        scene = Scene(tuple(row["colors"]), tuple(row["shapes"]), tuple(row["sizes"]), row["relation"])
        return render(scene.reversed(), _sample(rng)[1])  # true of the picture: a wrong label


def build_synthetic_world(
    num_train: int = 2000,
    num_test: int = 500,
    image_size: int = 48,
    seed: int = 0,
    negative_types: Sequence[str] = DEFAULT_NEGATIVE_TYPES,
    train_negatives: bool = True,
) -> datasets.DatasetDict:
    """`SyntheticWorld(...).build()`: the fixed train split and the held-out test split."""
    return SyntheticWorld(num_train=num_train, num_test=num_test, image_size=image_size, seed=seed,
                          negative_types=negative_types, train_negatives=train_negatives).build()
