"""Failure patterns of the strict rules found by the second blind audit of 2026-12-07 (docs/NEGATIVES.md, "Third
round of fixes (third session of 2026-12-07)"), one test each, on captions written for these tests (none is an
audited caption).

Each test reads every candidate the strict rules can draw for a caption (`rules.CANDIDATES`), so a bad edit is
caught whichever one a seed would draw; each failed on the rules of commit f848b2f. Where a rule could also remove
good edits, a control checks that they are still made.
"""

from __future__ import annotations

import functools

import pytest

from hf_finegrained.negatives import HardNegativeGenerator
from hf_finegrained.negatives.phrases import parse_caption
from hf_finegrained.negatives.rules import CANDIDATES, candidate_text


@functools.lru_cache(maxsize=1)
def _generator() -> HardNegativeGenerator:
    return HardNegativeGenerator(seed=0)


def candidates(caption: str, kind: str) -> set[str]:
    """Every negative of type `kind` the strict rules may draw for `caption`."""
    generator = _generator()
    parsed = parse_caption(generator.nlp(caption), generator.lexicon, caption)
    found = {candidate_text(parsed, candidate) for candidate in CANDIDATES[kind](parsed, generator.lexicon)}
    return {text for text in found if text is not None}


def with_word(texts: set[str], *words: str) -> set[str]:
    return {text for text in texts if any(f" {word} " in f" {text.lower()} " for word in words)}


# ---- swap_object ----


@pytest.mark.parametrize("caption", [
    "tub has faucet",  # a whole and its part
    "bushes lost their leaves",
    "a truck tows a small car",  # a tool and what it moves
    "bus ON red train",  # "on" in capitals, which the parse misses
    "A man kisses a woman on the cheek.",  # a mutual action
    "A boy and a single girl stand near a fence.",  # a list the parse split
    "The kitchen has a fridge and exactly one small stove.",
])
def test_exchanges_that_fit_one_way_or_stay_true_are_not_made(caption):
    assert not candidates(caption, "swap_object")


def test_people_and_animals_are_still_exchanged_across_a_verb():
    assert candidates("A man scolds a woman.", "swap_object") == {"A woman scolds a man."}
    assert candidates("A dog chases a cat.", "swap_object") == {"A cat chases a dog."}


# ---- replace_object ----


def test_plural_only_nouns_keep_their_plural():
    made = candidates("a boy wearing black shorts", "replace_object") | candidates("man IN jeans", "replace_object")
    assert not with_word(made, "jeanses", "trouserses", "pantses", "shortses")
    assert with_word(made, "jeans", "pants", "trousers")


def test_woman_and_girl_do_not_replace_each_other():
    assert not with_word(candidates("A woman reads a newspaper.", "replace_object"), "girl")
    assert not with_word(candidates("Two girls sit on a bench.", "replace_object"), "women", "ladies")
    assert with_word(candidates("A woman reads a newspaper.", "replace_object"), "man", "boy")


def test_the_building_of_its_stories_is_not_replaced():
    made = candidates("There are 4 stories of the house visible.", "replace_object")
    assert all("of the house" in text for text in made)


# ---- replace_attribute ----


@pytest.mark.parametrize("caption, word", [
    ("A boxer with a black eye stands in the ring.", "eye"),
    ("Horses graze in an open field near a barn.", "field"),
    ("A tray full of cookies sits on the counter.", "of cookies"),
])
def test_fixed_phrases_keep_their_attribute(caption, word):
    kept = caption.split(f" {word}")[0].split()[-1]
    assert all(f"{kept} {word}" in text for text in candidates(caption, "replace_attribute"))


def test_a_doubled_attribute_is_not_replaced_once():
    assert not candidates("a dog with a brown brown nose", "replace_attribute")


def test_a_snowy_street_is_not_made_foggy():
    made = candidates("a snowy street with parked cars", "replace_attribute")
    assert not with_word(made, "foggy")
    assert with_word(made, "sunny")


# ---- swap_attribute ----


@pytest.mark.parametrize("caption, bad", [
    ("an old fashion blue car parked next to a bench", "a fashion"),
    ("a boy with a black eye holds a red ball", "red eye"),
    ("a large ship in blue water", "large water"),
    ("white cows near a snowy barn", "snowy cows"),
])
def test_attributes_are_not_moved_out_of_a_phrase_or_onto_a_close_word(caption, bad):
    assert not [text for text in candidates(caption, "swap_attribute") if bad in text.lower()]


def test_attributes_are_still_exchanged():
    assert "a white cat on a black chair" in candidates("a black cat on a white chair", "swap_attribute")


# ---- replace_relation ----


def test_markings_are_not_put_under_what_they_are_printed_on():
    made = candidates("numbers printed on a card", "replace_relation")
    assert not with_word(made, "under", "underneath", "beneath", "below")


@pytest.mark.parametrize("caption", ["goggles on a skiing woman", "black hat ON skiing skier"])
def test_what_a_person_wears_is_not_put_beside_them(caption):
    assert not with_word(candidates(caption, "replace_relation"), "next to", "beside", "under", "beneath", "below")


def test_the_particle_of_a_phrasal_verb_is_not_edited():
    assert all("in on" in text for text in candidates("The dogs close in on a rabbit.", "replace_relation"))


def test_prepositions_are_still_edited():
    assert with_word(candidates("a cat sleeps on a car", "replace_relation"), "under", "beside", "next to")
    # after a particle that is no relation word
    assert with_word(candidates("a puppy curled up in a basket", "replace_relation"), "beside", "next to", "outside")
