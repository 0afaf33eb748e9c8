"""The slot-first draw (`rules.draw_slots`): drawing from each rule's candidates given slot by slot, built lazily,
makes exactly the negatives of `rules.draw` on the full candidate lists, and reads only the drawn slot in full."""

from __future__ import annotations

import pytest

from hf_finegrained.negatives import CANDIDATES, HardNegativeGenerator, load_lexicon, parse_caption
from hf_finegrained.negatives.rules import (SLOTS, candidate_text, draw, draw_slots, replace_object_candidates,
                                           replace_object_slots)
from hf_finegrained.negatives.seeding import CaptionRandom, caption_seed

CAPTIONS = [
    "A man riding a horse next to a dog and a cat on the beach.",
    "Two women sitting on a bench beside a bicycle near a car.",
    "A red bus parked next to a white truck and a blue car.",
    "A kitchen with a stove, a sink and a refrigerator.",
    "No cars on the street next to a dog and a bench.",  # a negated phrase: protected
    "Is there a cat on the table near a cup? yes.",  # a question: protected
    "A TEDDY BEAR ON A CHAIR NEXT TO A DOG.",
    "Pizza on a plate beside a glass of wine and a fork.",
]
SEEDS = range(25)


def reference_draw(caption, candidates, rng, count):
    """The draw as first written, on the full list: a slot uniformly among those left, then one of its candidates
    uniformly, without replacement, until `count` distinct negatives."""
    texts, candidates = [], list(candidates)
    while candidates and len(texts) < count:
        slot = rng.choice(sorted({candidate.slot for candidate in candidates}))
        pick = rng.choice([candidate for candidate in candidates if candidate.slot == slot])
        text = candidate_text(caption, pick)
        if text is not None and text not in texts:
            texts.append(text)
        candidates = [candidate for candidate in candidates if candidate is not pick]
    return texts


@pytest.fixture(scope="module")
def parsed():
    generator = HardNegativeGenerator(seed=0)
    lexicon = load_lexicon()
    return lexicon, [parse_caption(generator.nlp(caption), lexicon, caption) for caption in CAPTIONS]


def test_slot_first_draw_equals_the_draw_on_all_candidates(parsed):
    lexicon, captions = parsed
    compared = 0
    for caption in captions:
        for name in CANDIDATES:
            for seed in SEEDS:
                for count in (1, 3):
                    expected = reference_draw(caption, CANDIDATES[name](caption, lexicon),
                                              CaptionRandom(caption_seed(seed, name, caption.text)), count)
                    found = draw_slots(caption, SLOTS[name](caption, lexicon),
                                       CaptionRandom(caption_seed(seed, name, caption.text)), count)
                    assert found == expected, (caption.text, name, seed, count)
                    assert draw(caption, CANDIDATES[name](caption, lexicon),
                                CaptionRandom(caption_seed(seed, name, caption.text)), count) == expected
                    compared += bool(expected)
    assert compared > 200  # the captions do give negatives of most types


def test_replace_object_slots_hold_its_candidates_in_order(parsed):
    lexicon, captions = parsed
    for caption in captions:
        slots = replace_object_slots(caption, lexicon)
        assert [slot for slot, _ in slots] == sorted({slot for slot, _ in slots})
        flat = [candidate for slot, found in slots for candidate in found]
        assert flat == replace_object_candidates(caption, lexicon)
        assert all(candidate.slot == slot for slot, found in replace_object_slots(caption, lexicon)
                   for candidate in found)


def test_only_the_drawn_slot_is_built_in_full(parsed):
    lexicon, captions = parsed
    caption = captions[0]  # man, horse, dog, cat, beach: several slots with several replacements each
    total = len(replace_object_candidates(caption, lexicon))
    read = []

    def counted(found):
        for candidate in found:
            read.append(candidate)
            yield candidate

    slots = [(slot, counted(found)) for slot, found in replace_object_slots(caption, lexicon)]
    assert len(slots) >= 3
    made = draw_slots(caption, slots, CaptionRandom(caption_seed(0, "replace_object", caption.text)), 1)
    assert made
    assert len(read) < total  # the other slots were read to their first candidate only


def test_vocabulary_and_permissive_paths_draw_per_slot_as_from_the_lists():
    words = {"a", "man", "riding", "horse", "next", "to", "dog", "and", "cat", "on", "the", "beach", "woman", "an"}
    for profile in ("strict", "permissive"):
        generator = HardNegativeGenerator(seed=1, profile=profile, vocabulary=words)
        for text in CAPTIONS:
            caption = parse_caption(generator.nlp(text), generator.lexicon, text)
            for name in generator.types:
                expected = reference_draw(caption, generator._candidates(caption, name),
                                          CaptionRandom(caption_seed(1, name, text)), 1)
                assert generator.generate_one(text)[name] == (expected[0] if expected else None), (profile, text, name)


def test_caption_random_seeded_at_its_first_draw_draws_as_seeded_at_once():
    for seed in (0, 3):
        for name in ("swap_object", "replace_relation"):
            for text in CAPTIONS:
                eager, lazy = CaptionRandom(caption_seed(seed, name, text)), CaptionRandom.for_caption(seed, name, text)
                assert [eager.next64() for _ in range(4)] == [lazy.next64() for _ in range(4)]
                items = list(range(9))
                eager.shuffle(items)
                shuffled = list(range(9))
                lazy.shuffle(shuffled)
                assert shuffled == items and eager.choice(items) == lazy.choice(items)
    lazy = CaptionRandom.for_caption(0, "swap_object", CAPTIONS[0])
    assert lazy.state is None  # nothing hashed until a draw
    lazy.randrange(5)
    assert lazy.state is not None
