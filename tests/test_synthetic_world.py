"""The synthetic compositional world: images match captions, held-out splits, ground-truth negatives."""

from __future__ import annotations

import itertools
import random

import pytest

from hf_finegrained.builders import (
    HELD_OUT_ARRANGEMENTS,
    HELD_OUT_BINDINGS,
    Scene,
    SyntheticWorld,
    build_synthetic_world,
    caption_features,
    ground_truth_negatives,
    held_out_in_caption,
    render,
)
from hf_finegrained.builders.synthetic_drawing import COLORS
from hf_finegrained.builders.synthetic_world import TEMPLATES, Style
from hf_finegrained.negatives import HardNegativeGenerator, word_multiset
from hf_finegrained.training_args import DEFAULT_NEGATIVE_TYPES

AXIS_OF = {"left": ("x", -1), "right": ("x", 1), "above": ("y", -1), "below": ("y", 1)}


@pytest.fixture(scope="module")
def world():
    return build_synthetic_world(num_train=300, num_test=150, seed=0, train_negatives=False)


def centroid(image, color):
    points = [(x, y) for x in range(image.width) for y in range(image.height) if image.getpixel((x, y)) == color]
    assert points, f"no pixel of colour {color}"
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def test_features_sizes_and_images(world):
    assert sorted(world) == ["test", "train"]
    assert len(world["train"]) == 300 and len(world["test"]) == 150
    expected = caption_features(DEFAULT_NEGATIVE_TYPES)
    for split in world.values():
        assert {k: split.features[k] for k in expected} == dict(expected)
    assert world["train"][0]["image"].size == (32, 32)


def test_images_show_what_captions_say(world):
    for row in itertools.islice(world["test"], 40):
        image = row["image"]
        first, second = (centroid(image, COLORS[c]) for c in row["colors"])
        axis, sign = AXIS_OF[row["relation"]]
        delta = (first[0] - second[0]) if axis == "x" else (first[1] - second[1])
        assert delta * sign > 0, row["caption"]
        for color, shape in zip(row["colors"], row["shapes"]):
            assert f"{color} {shape}" in row["caption"]


def test_held_out_combinations_only_in_test(world):
    def combinations(row):
        scene = Scene(tuple(row["colors"]), tuple(row["shapes"]), tuple(row["sizes"]), row["relation"])
        bindings = {b for b in zip(row["colors"], row["shapes"]) if b in HELD_OUT_BINDINGS}
        arrangement = {scene.arrangement()} & set(HELD_OUT_ARRANGEMENTS)
        return bindings | arrangement

    assert not any(combinations(row) for row in world["train"])
    assert all(combinations(row) for row in world["test"])
    test_bindings = {b for row in world["test"] for b in zip(row["colors"], row["shapes"])}
    assert set(HELD_OUT_BINDINGS) <= test_bindings  # every held-out binding is exercised
    assert all(row["held_out"] for row in world["test"]) and not any(row["held_out"] for row in world["train"])


def test_ground_truth_negatives_need_composition(world):
    for row in world["test"]:
        caption, negatives = row["caption"], row["hard_negatives"]
        assert all(negatives[name] not in (None, caption) for name in DEFAULT_NEGATIVE_TYPES)
        for name in ("swap_object", "swap_attribute"):
            assert word_multiset(negatives[name]) == word_multiset(caption)  # a bag of words cannot tell


def test_relation_negative_has_the_words_of_a_true_caption():
    scene = Scene(("red", "blue"), ("circle", "square"), ("small", "large"), "left")
    for template, phrase, sizes in itertools.product(range(len(TEMPLATES)), range(3), (False, True)):
        style = Style(template, phrase, "a", sizes, False, True)
        negative = ground_truth_negatives(scene, style, random.Random(0))["replace_relation"]
        true_other_way = render(scene.reversed(), style)
        assert word_multiset(negative) == word_multiset(true_other_way) != word_multiset(render(scene, style))


def test_deterministic_for_a_seed():
    first = SyntheticWorld(num_train=20, num_test=10, seed=5, train_negatives=False).build()
    again = SyntheticWorld(num_train=30, num_test=10, seed=5, train_negatives=False).build()
    other = SyntheticWorld(num_train=20, num_test=10, seed=6, train_negatives=False).build()
    assert again["train"]["caption"][:20] == first["train"]["caption"]  # size does not move examples
    assert again["test"][3]["image"].tobytes() == first["test"][3]["image"].tobytes()
    assert other["train"]["caption"] != first["train"]["caption"]


def test_train_negatives_come_from_the_spacy_generator_without_held_out_combinations():
    kept = SyntheticWorld(num_train=60, num_test=5, seed=2, exclude_held_out_negatives=False)
    expected = HardNegativeGenerator(seed=2).generate(kept.build()["train"]["caption"])
    assert kept.build()["train"]["hard_negatives"] == expected and kept.masked_negatives == {}
    coverage = sum(row["swap_attribute"] is not None for row in expected) / len(expected)
    assert coverage > 0.8

    world = SyntheticWorld(num_train=60, num_test=5, seed=2)
    masked = world.build()["train"]["hard_negatives"]
    counts = dict.fromkeys(DEFAULT_NEGATIVE_TYPES, 0)
    for before, after in zip(expected, masked):
        for name in DEFAULT_NEGATIVE_TYPES:
            if before[name] is not None and held_out_in_caption(before[name]):
                assert after[name] is None
                counts[name] += 1
            else:
                assert after[name] == before[name]
    assert world.masked_negatives == counts
    assert counts["swap_object"] > 10, "the swaps of this world often state held-out bindings"


def test_reading_held_out_combinations_from_words_agrees_with_the_scenes(world):
    for row in world["test"]:
        assert sorted(held_out_in_caption(row["caption"])) == sorted(row["held_out"])
    assert not any(held_out_in_caption(caption) for caption in world["train"]["caption"])
    assert held_out_in_caption("A blue square sits right of a large white circle") == [
        "arrangement: circle left of square"]
    assert held_out_in_caption("a red triangle on top of a square") == ["binding: red triangle"]


def test_validation_split_is_drawn_like_test_but_differs():
    world = SyntheticWorld(num_train=10, num_validation=30, num_test=30, seed=1, train_negatives=False).build()
    assert list(world) == ["train", "validation", "test"]
    validation = world["validation"]
    assert all(row["held_out"] for row in validation)
    assert all(None not in row["hard_negatives"].values() for row in validation)
    assert validation["caption"] != world["test"]["caption"]
