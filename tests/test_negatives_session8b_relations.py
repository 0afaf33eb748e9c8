"""Issue 29, session 8 (second round): replace_relation's coverage on VL-CheckList-style captions. A person "in" a
garment that ends the caption holds it instead ("man IN black hat" -> "man HOLDING black hat"). Captions written
for these tests (none is an audited caption); each pattern case failed on the rules of 51a80b9, and the controls
check what must stay as it was.
"""

from __future__ import annotations

import functools

from hf_finegrained.negatives import HardNegativeGenerator
from hf_finegrained.negatives.phrases import parse_caption
from hf_finegrained.negatives.rules import CANDIDATES, candidate_text


@functools.lru_cache(maxsize=1)
def _generator() -> HardNegativeGenerator:
    return HardNegativeGenerator(seed=0)


def candidates(caption: str, kind: str = "replace_relation") -> set[str]:
    """Every negative of type `kind` the strict rules may draw for `caption`."""
    generator = _generator()
    parsed = parse_caption(generator.nlp(caption), generator.lexicon, caption)
    found = {candidate_text(parsed, candidate) for candidate in CANDIDATES[kind](parsed, generator.lexicon)}
    return {text for text in found if text is not None}


def test_a_person_in_a_garment_holds_it_instead():
    assert "woman HOLDING green parka" in candidates("woman IN green parka")
    assert "a boy holding a red sweater" in candidates("a boy in a red sweater")
    assert "A girl holding a yellow raincoat." in candidates("A girl in a yellow raincoat.")


def test_a_person_in_a_garment_is_left_where_it_is_no_garment_or_no_person_or_an_outfit():
    assert not any("holding" in found.lower() for found in candidates("man IN green field"))  # not worn
    assert not any("holding" in found.lower() for found in candidates("dog IN red sweater"))  # not a person
    assert not any("holding" in found for found in candidates("a man in a suit and a tie"))  # an outfit
    # a verb after the garment: "a man holding a wetsuit surfs" reads as no scene
    assert not any("holding a wetsuit" in found for found in candidates("a man in a wetsuit surfs a wave"))


def test_a_one_word_object_the_tagger_took_for_no_noun_is_still_the_verbs_object():
    # the small tagger reads "skateboard" after "riding" as an adverb, "headband" after "WEARING" as a proper noun
    assert "boy holding skateboard" in candidates("boy riding skateboard")
    assert "girl HOLDING headband" in candidates("girl WEARING headband")


def test_a_mistagged_object_is_not_read_after_a_body_part_nor_before_more_words():
    assert not candidates("hand holding skateboard")  # a hand rides nothing
    assert not candidates("boy riding skateboard ramp")  # "skateboard" modifies "ramp": no one-word object


def test_riding_a_wave_becomes_watching_it():
    assert "a girl watching a big wave" in candidates("a girl riding a big wave")
    assert "boy watching waves" in candidates("boy riding waves")


def test_riding_what_is_no_wave_is_read_as_before():
    found = candidates("a girl riding a horse")
    assert found and not any("watching" in text for text in found)


def test_a_hyphened_object_the_parse_split_is_still_the_object():
    assert "boy HOLDING yellow t-shirt" in candidates("boy WEARING yellow t-shirt")  # its group was "yellow" alone
    assert "kid HOLDING green t-shirt" in candidates("kid IN green t-shirt")


def test_a_hyphened_word_that_is_no_object_is_left():
    assert not any("t-shirt" in text and "HOLDING" in text
                   for text in candidates("man WEARING yellow t-shirt logo"))  # not the caption's last word


def test_more_worn_things_take_the_wearing_frame():
    assert "girl HOLDING green snowsuit" in candidates("girl WEARING green snowsuit")
    assert "a boy holding a red belt" in candidates("a boy wearing a red belt")
    assert "a boy carrying a red belt" not in candidates("a boy wearing a red belt")  # one does not carry a belt


def test_an_object_after_an_unlisted_modifier_tagged_as_a_name_is_still_the_object():
    assert "girl HOLDING jean skirt" in candidates("girl WEARING jean skirt")  # "jean": a proper noun to the tagger
