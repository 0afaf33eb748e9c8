"""The synthetic compositional world: images match captions, held-out splits, ground-truth negatives, the
training streams (reproducible, sharded, negatives as on materialised data) and the caption mixes."""

from __future__ import annotations

import hashlib
import itertools
import random
import re

import datasets
from datasets.distributed import split_dataset_by_node
import pytest
import torch
from PIL import Image

from hf_finegrained.builders import caption_features
from hf_finegrained.synthetic import (
    HELD_OUT_ARRANGEMENTS,
    HELD_OUT_BINDINGS,
    NegativeNoise,
    Scene,
    SyntheticWorld,
    build_synthetic_world,
    ground_truth_negatives,
    held_out_in_caption,
    render,
)
from hf_finegrained.synthetic.drawing import COLORS, SHAPES
from hf_finegrained.synthetic.world import (
    EVALUATION_SPLITS,
    SPLITS,
    TEMPLATES,
    ZEROSHOT_CLASSES,
    CaptionMix,
    Style,
)
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


def check_image_shows_relation(row):
    first, second = (centroid(row["image"], COLORS[c]) for c in row["colors"])
    axis, sign = AXIS_OF[row["relation"]]
    delta = (first[0] - second[0]) if axis == "x" else (first[1] - second[1])
    assert delta * sign > 0, row["caption"]


def background_shade(image) -> int:
    return image.getpixel((0, 0))[0]


def image_hash(image) -> str:
    return hashlib.sha1(image.tobytes()).hexdigest()


def test_features_sizes_and_images(world):
    assert sorted(world) == ["test", "train"]
    assert len(world["train"]) == 300 and len(world["test"]) == 150
    expected = caption_features(DEFAULT_NEGATIVE_TYPES)
    for split in world.values():
        assert {k: split.features[k] for k in expected} == dict(expected)
    assert world["train"][0]["image"].size == (48, 48)


def test_images_show_what_captions_say(world):
    for row in itertools.islice(world["test"], 40):
        check_image_shows_relation(row)
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
    scene = Scene(("red", "blue"), ("ring", "square"), ("small", "large"), "left")
    for template, phrase, sizes in itertools.product(range(len(TEMPLATES)), range(3), (False, True)):
        style = Style(template, phrase, "a", sizes, False, True)
        negative = ground_truth_negatives(scene, style, random.Random(0))["replace_relation"]
        true_other_way = render(scene.reversed(), style)
        assert word_multiset(negative) == word_multiset(true_other_way) != word_multiset(render(scene, style))


def test_articles_agree_with_the_next_word():
    style = Style(0, 1, "a", False, False, False)
    assert render(Scene(("orange", "olive"), ("ring", "bar"), ("small", "large"), "left"), style) == (
        "an orange ring left of an olive bar")


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
    assert counts["swap_object"] > 3, "the swaps of this world often state held-out bindings"


def test_reading_held_out_combinations_from_words_agrees_with_the_scenes(world):
    for row in world["test"]:
        assert sorted(held_out_in_caption(row["caption"])) == sorted(row["held_out"])
    assert not any(held_out_in_caption(caption) for caption in world["train"]["caption"])
    assert held_out_in_caption("A blue ring sits right of a large white square") == [
        "arrangement: square left of ring"]
    assert held_out_in_caption("a red ring on top of a bar") == ["binding: red ring"]


def test_every_split_and_its_layout():
    world = SyntheticWorld(num_train=10, num_validation=30, num_test=30, num_seen=20, num_zeroshot=64,
                           num_retrieval=12, seed=1, train_negatives=False)
    splits = world.build()
    assert list(splits) == list(SPLITS)
    assert all(row["held_out"] for row in splits["validation"])
    for name in ("validation", "validation_seen", "test_seen"):
        assert all(None not in row["hard_negatives"].values() for row in splits[name]), name
    assert not any(row["held_out"] for name in ("validation_seen", "test_seen", "retrieval") for row in splits[name])
    assert splits["validation"]["caption"] != splits["test"]["caption"]
    assert splits["validation_seen"]["caption"] != splits["test_seen"]["caption"]
    zeroshot = splits["zeroshot"]
    assert zeroshot.features["label"].names == list(ZEROSHOT_CLASSES) and len(ZEROSHOT_CLASSES) == len(COLORS) * len(SHAPES)
    color, shape = ZEROSHOT_CLASSES[zeroshot[0]["label"]].split()
    image = zeroshot[0]["image"]
    assert sum(image.getpixel((x, y)) == COLORS[color] for x in range(48) for y in range(48)) > 20
    assert shape in SHAPES


def test_later_rows_of_a_probe_split_are_new_images_of_the_same_kind():
    """`build_split(start=...)`: the validation copies of the one-split probes (the trade-off study)."""
    world = SyntheticWorld(num_train=0, num_test=0, num_seen=0, num_zeroshot=48, num_retrieval=10, seed=2)
    zeroshot = world.build_split("zeroshot")
    later = world.build_split("zeroshot", start=48)
    assert len(later) == 48 and later.features == zeroshot.features
    assert not {image_hash(r["image"]) for r in zeroshot} & {image_hash(r["image"]) for r in later}
    assert image_hash(later[5]["image"]) == image_hash(world.zeroshot_example(53)["image"])
    retrieval = world.build_split("retrieval", start=10, count=4)
    assert retrieval["caption"] == [world.example("retrieval", index)["caption"] for index in range(10, 14)]
    first = {image_hash(r["image"]) for r in world.build_split("retrieval")}
    assert not {image_hash(r["image"]) for r in retrieval} & first


def rows_of(stream, count=None):
    return list(itertools.islice(stream, count)) if count else list(stream)


def test_stream_is_reproducible_and_its_rows_are_new_scenes():
    world = SyntheticWorld(num_train=0, num_test=0, seed=3)
    first = rows_of(world.train_stream(40, negatives=None))
    again = rows_of(world.train_stream(40, negatives=None))
    longer = rows_of(world.train_stream(400, negatives=None), 40)
    assert [r["caption"] for r in first] == [r["caption"] for r in again] == [r["caption"] for r in longer]
    assert [image_hash(r["image"]) for r in first] == [image_hash(r["image"]) for r in longer]
    assert len({image_hash(r["image"]) for r in first}) == 40
    other = rows_of(world.train_stream(40, name="finetune-1", negatives=None))
    assert [r["caption"] for r in other] != [r["caption"] for r in first]  # another stream, other scenes
    for row in first[:20]:
        check_image_shows_relation(row)
    with pytest.raises(ValueError, match="other than the splits"):
        world.train_stream(10, name="test")


def test_stream_rows_carry_the_drawn_images_as_they_are():
    """No PNG round trip between drawing an image and reading it from the stream (it cost 0.24 ms a row: about 30 s of
    the default run's base pre-training); the pixels are the row's own."""
    world = SyntheticWorld(num_train=0, num_test=0, seed=3)
    for index, row in enumerate(rows_of(world.train_stream(6, negatives=None))):
        assert type(row["image"]) is Image.Image, type(row["image"])
        assert row["image"].tobytes() == world.example("finetune", index)["image"].tobytes()


def test_stream_is_read_once_across_dataloader_workers_and_processes():
    world = SyntheticWorld(num_train=0, num_test=0, seed=4)
    stream = world.train_stream(48, negatives=None, num_shards=4)
    assert stream.num_shards == 4
    alone = [r["caption"] for r in stream]

    def collate(rows):
        return [row["caption"] for row in rows]

    loader = torch.utils.data.DataLoader(stream, batch_size=6, num_workers=2, collate_fn=collate)
    with_workers = [caption for batch in loader for caption in batch]
    again = [caption for batch in loader for caption in batch]
    assert sorted(with_workers) == sorted(alone) and len(with_workers) == 48  # no shard dropped or read twice
    assert with_workers == again  # the interleaving itself is reproducible
    ranks = [[r["caption"] for r in split_dataset_by_node(stream, rank, 2)] for rank in (0, 1)]
    assert sorted(ranks[0] + ranks[1]) == sorted(alone) and not set(ranks[0]) & set(ranks[1])


def test_stream_negatives_equal_those_of_the_materialised_path():
    world = SyntheticWorld(num_train=0, num_test=0, seed=5)
    streamed = rows_of(world.train_stream(120, batch_size=32))
    assert sum(world.masked_negatives.values()) > 0  # counted while the stream was read
    plain = rows_of(world.train_stream(120, negatives=None))
    materialised = SyntheticWorld(num_train=0, num_test=0, seed=5)._with_negatives(
        datasets.Dataset.from_list(plain, features=world.features()))
    assert [r["hard_negatives"] for r in streamed] == materialised["hard_negatives"]
    assert [r["caption"] for r in streamed] == [r["caption"] for r in plain]
    assert any(r["hard_negatives"]["replace_relation"] for r in streamed)


def test_ground_truth_stream_negatives_are_the_edited_scenes():
    world = SyntheticWorld(num_train=0, num_test=0, seed=6, exclude_held_out_negatives=False)
    for row in rows_of(world.train_stream(30, negatives="ground_truth")):
        negatives = row["hard_negatives"]
        assert None not in negatives.values()
        assert word_multiset(negatives["swap_object"]) == word_multiset(row["caption"]) != word_multiset(
            negatives["replace_attribute"])


def test_evaluation_images_never_equal_training_images():
    world = SyntheticWorld(num_train=50, num_test=40, num_validation=40, num_seen=40, num_zeroshot=40,
                           num_retrieval=40, seed=7, train_negatives=False)
    splits = world.build()
    mix = CaptionMix(layout_twins=0.5, single=0.3)
    training = [r["image"] for r in rows_of(world.train_stream(200, name="pretrain", negatives=None, mix=mix))]
    training += [r["image"] for r in rows_of(world.train_stream(200, negatives=None))] + list(splits["train"]["image"])
    evaluation = [image for name in EVALUATION_SPLITS for image in splits[name]["image"]]
    assert all(background_shade(image) % 2 == 0 for image in training)  # by construction, whatever the length
    assert all(background_shade(image) % 2 == 1 for image in evaluation)
    assert not {image_hash(i) for i in training} & {image_hash(i) for i in evaluation}


def test_pretraining_mix_layout_twins_single_objects_and_no_held_out_combination():
    world = SyntheticWorld(num_train=0, num_test=0, seed=8)
    mix = CaptionMix(layout_twins=0.5, single=0.3, colorless=0.5)
    rows = rows_of(world.train_stream(600, name="pretrain", negatives=None, mix=mix, num_shards=7))
    twins = singles = relations = colorless = 0
    for first, second in zip(rows[::2], rows[1::2]):
        if len(first["colors"]) == 1:
            singles += 1
            assert len(second["colors"]) == 1 and first["relation"] in AXIS_OF
        elif re.search(r"(on the (left|right)|at the (top|bottom))(?! of)", first["caption"].lower()):
            twins += 1
            assert (first["colors"], first["shapes"]) == (second["colors"], second["shapes"])
            assert {first["relation"], second["relation"]} in ({"left", "right"}, {"above", "below"})
            assert word_multiset(first["caption"]) == word_multiset(second["caption"])  # only places differ
            check_image_shows_relation(first)
            check_image_shows_relation(second)
            colorless += not any(color in first["caption"].lower() for color in first["colors"])
        else:
            relations += 1
    assert twins / 300 == pytest.approx(0.5, abs=0.1) and singles / 300 == pytest.approx(0.3, abs=0.1)
    assert relations and colorless / twins == pytest.approx(0.5, abs=0.15)
    assert not any(held_out_in_caption(row["caption"]) or row["held_out"] for row in rows)
    with pytest.raises(ValueError, match="shares"):
        CaptionMix(layout_twins=0.8, single=0.4)


def _pairs(text: str) -> list[tuple[str, str]]:
    return re.findall(rf"\b({'|'.join(COLORS)}) ({'|'.join(SHAPES)})\b", text.lower())


def _first_leads(text: str) -> bool:
    """True when the caption's first-named object is the left / upper one (its relation word says so)."""
    words = {"left": True, "right": False, "above": True, "over": True, "below": False, "under": False,
             "beneath": False}
    found = [words[w] for w in re.findall(rf"\b({'|'.join(words)})\b", text.lower())]
    assert len(found) == 1, text
    return found[0]


def test_negative_noise_spoils_its_share_in_its_kind_and_counts_it():
    world = SyntheticWorld(num_train=0, num_test=0, seed=3)
    clean = rows_of(world.train_stream(160, batch_size=32, negatives="ground_truth"))  # no spaCy: fast
    for kind, share in (("not_false", 0.5), ("disfluent", 0.5), ("dropped", 0.25), ("dropped", 1.0)):
        noise = NegativeNoise(kind, share)
        again = rows_of(world.train_stream(160, batch_size=32, negatives="ground_truth", noise=noise))
        world.noisy_negatives = {}  # counted while a stream is read
        noisy = rows_of(world.train_stream(160, batch_size=32, negatives="ground_truth", noise=noise))
        assert noisy == again  # seeded per row and type
        changed, present = 0, 0
        for before, after in zip(clean, noisy):
            assert before["caption"] == after["caption"] and before["image"] == after["image"]
            for name, text in before["hard_negatives"].items():
                spoiled = after["hard_negatives"][name]
                present += text is not None
                if spoiled == text:
                    continue
                changed += 1
                if kind == "dropped":
                    assert spoiled is None
                elif kind == "disfluent":  # every "<colour> <shape>" turned round, nothing else
                    assert _pairs(spoiled) == [] and word_multiset(spoiled) == word_multiset(text)
                    assert [(b, a) for a, b in _pairs(text)] == re.findall(
                        rf"\b({'|'.join(SHAPES)}) ({'|'.join(COLORS)})\b", spoiled.lower())
                else:  # true of the picture: the same two objects, told from the other one
                    objects = list(zip(before["colors"], before["shapes"]))
                    assert _pairs(spoiled) == objects[::-1], (before["caption"], spoiled)
                    assert _first_leads(spoiled) != (before["relation"] in ("left", "above"))
        assert changed == sum(world.noisy_negatives.values())
        assert abs(changed / present - share) < 0.08, (kind, changed, present)


def test_negative_noise_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="kind"):
        NegativeNoise("typo", 0.5)
    with pytest.raises(ValueError, match="share"):
        NegativeNoise("dropped", 1.5)
    with pytest.raises(ValueError, match="without negatives"):
        SyntheticWorld(num_train=0, num_test=0).train_stream(8, negatives=None, noise=NegativeNoise("dropped", 0.5))


def test_confusable_distractors_show_one_swapped_binding_and_replace_with_words_from_outside():
    world = SyntheticWorld(num_train=0, num_test=0, num_seen=40, distractors=1, confusable_distractors=True)
    for index in range(40):
        row = world.example("validation_seen", index)
        scene = Scene(tuple(row["colors"]), tuple(row["shapes"]), tuple(row["sizes"]), row["relation"])
        extras = world._with_distractors(scene, f"validation_seen/{index}").extras
        swapped = {(row["colors"][0], row["shapes"][1]), (row["colors"][1], row["shapes"][0])} - set(HELD_OUT_BINDINGS)
        if not swapped:  # both swapped pairs held out: a distractor of new colour and shape instead
            assert len(extras) == 1 and extras[0][0] not in row["colors"] and extras[0][1] not in row["shapes"]
            continue
        assert len(extras) == 1 and extras[0][:2] in swapped
        negatives = row["hard_negatives"]
        words = set(row["colors"]) | set(row["shapes"])
        new_words = set(negatives["replace_attribute"].lower().replace(".", "").split()) - set(
            row["caption"].lower().replace(".", "").split()) - {"a", "an"}
        assert len(new_words) == 1 and not new_words & words and new_words.pop() != extras[0][0]
