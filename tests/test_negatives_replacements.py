"""Replacements that suit their noun, verb and caption (issue 29, "What fails, for the next session": the DISFLUENT
and NOT_FALSE patterns of `replace_attribute` and `replace_object` in the strict profile; docs/NEGATIVES.md,
"Fixes of 2026-12-07 (second session)").

Every caption is written for these tests (no audit caption). Each test fails on the rules of commit 669b10c: it
reads what the generator makes over many seeds, so a rule that can still make the bad edit is caught whichever
candidate a seed draws; where the fix chooses a better word instead of skipping, the test also asks that an edit is
still made.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from hf_finegrained.negatives import HardNegativeGenerator, load_lexicon
from hf_finegrained.negatives.lexicon import LIST_FILES, RULE_FILES

SEEDS = range(16)


def made(caption: str, kind: str, lexicon=None) -> set[str]:
    """What `kind` makes of `caption` over `SEEDS` (None left out)."""
    found = {HardNegativeGenerator(seed=seed, types=[kind], lexicon=lexicon).generate_one(caption)[kind]
             for seed in SEEDS}
    return {text for text in found if text is not None}


def words_at(texts: set[str], caption: str, position: int) -> set[str]:
    """The word each text has at word `position` of `caption` (the texts keep the caption's word count)."""
    return {text.split()[position].strip(",.").lower() for text in texts if len(text.split()) == len(caption.split())}


# ---- replace_attribute ----


@pytest.mark.parametrize("caption", ["A young boy flying a kite in a park.", "A young child sitting on a bench.",
                                     "Two young girls holding a red umbrella."])
def test_no_age_word_describes_the_young(caption):
    for text in made(caption, "replace_attribute"):
        assert not any(word in text.lower().split() for word in ("old", "elderly")), text


def test_grown_people_keep_their_age_edit():
    assert made("A young woman holding an umbrella.", "replace_attribute")


def test_a_replacement_never_stands_beside_its_own_comparative():
    for text in made("A group of old and younger people standing around.", "replace_attribute"):
        assert "young and younger" not in text, text


def test_sizes_are_plain_words():
    caption = "A large mirror above a white sink."
    texts = {text for text in made(caption, "replace_attribute") if "white sink" in text}
    sizes = words_at(texts, caption, 1)
    assert sizes and sizes <= {"small"}, sizes  # never "miniature", "tiny", "little" mirror


def test_no_size_is_replaced_where_the_noun_tells_it():
    for text in made("Several small trinkets on a wooden shelf.", "replace_attribute"):
        assert "small trinkets" in text, text


@pytest.mark.parametrize("caption, position, allowed", [
    ("A glass cup on a table.", 1, {"ceramic", "porcelain", "plastic", "metal", "paper"}),
    ("A man sitting on a cement block.", 5, {"wooden", "metal", "plastic"}),
    ("A metallic refrigerator in a kitchen.", 1, set()),
])
def test_materials_suit_their_noun(caption, position, allowed):
    texts = made(caption, "replace_attribute")
    changed = words_at(texts, caption, position) - {caption.split()[position].lower()}
    assert changed <= allowed, changed  # never a cloth cup, a leather block, a porcelain refrigerator
    if allowed:
        assert changed  # a fitting material is chosen instead


@pytest.mark.parametrize("caption, position, allowed", [
    ("A cat, black in color, sleeps in a sink.", 2, {"white", "brown", "gray"}),
    ("A white refrigerator next to a stove.", 1, {"black", "silver", "gray"}),
    ("A brown horse standing in a field.", 1, {"black", "white", "gray"}),
    ("A man riding a green motorcycle on a road.", 4, {"red", "orange", "yellow", "blue", "purple", "pink", "brown",
                                                       "black", "white", "gray", "silver"}),
])
def test_colours_suit_their_noun_and_shades_are_no_contrast(caption, position, allowed):
    texts = made(caption, "replace_attribute")
    changed = words_at(texts, caption, position) - {caption.split()[position].lower().strip(",")}
    assert changed and changed <= allowed, changed


def test_a_shade_of_a_patch_is_no_contrast():
    for text in made("A brown and white cow grazing in a field.", "replace_attribute"):
        assert not any(word in text for word in ("beige", "tan", "golden")), text


@pytest.mark.parametrize("caption, kept", [
    ("A black and white photo of a dog on a red bench.", "black and white photo"),
    ("The bridge is crossed by an old-fashioned train.", "old-fashioned"),
])
def test_fixed_phrases_keep_their_attribute(caption, kept):
    for text in made(caption, "replace_attribute"):
        assert kept in text, text


def test_the_rest_of_a_caption_with_a_fixed_phrase_is_edited():
    assert made("A black and white photo of a dog on a red bench.", "replace_attribute")  # the bench's colour


def test_a_shape_the_noun_tells_is_kept():
    for text in made("A circular disk below a fork on a table.", "replace_attribute"):
        assert "circular disk" in text, text


def test_an_attribute_inside_a_name_is_kept():
    for text in made("A tie with the phrase Reel Big Fish on it.", "replace_attribute"):
        assert "Reel Big Fish" in text, text


# ---- replace_object ----


@pytest.mark.parametrize("caption, kept", [
    ("A woman sitting in front of the Eiffel tower.", "Eiffel tower"),
    ("A person is skiing cross-country on a winter day.", "cross-country"),
    ("A dog sniffing the orange fire hydrant.", "orange fire hydrant"),
])
def test_names_compounds_and_colours_are_not_objects(caption, kept):
    for text in made(caption, "replace_object"):
        assert kept in text, text


@pytest.mark.parametrize("caption, allowed", [
    ("Five motorbikes riding on the road.", {"bicycles", "bikes", "buses", "cars", "city", "pickup", "scooters",
                                             "taxis", "tractors", "trucks", "vans"}),
    # a tram or trolley is a train to a reader (issue 29's fifth round: broader.train), and nothing else runs on rails
    ("Two trains on the tracks near a platform.", set()),
])
def test_a_vehicle_is_replaced_by_one_that_travels_its_way(caption, allowed):
    vehicles = words_at(made(caption, "replace_object"), caption, 1) - {caption.split()[1]}
    # never "boats riding on the road", "tractors on the tracks"
    assert vehicles <= allowed and (vehicles or not allowed), vehicles


def test_the_object_of_a_verb_is_replaced_only_by_what_the_verb_takes():
    caption = "A woman lying in bed while reading a book."
    read = {text.split()[-1].strip(".") for text in made(caption, "replace_object") if "lying in bed" in text}
    assert read <= {"book", "sign"}, read  # never "reading a bag"


def test_the_subject_of_a_passive_is_replaced_only_by_what_the_verb_takes():
    for text in made("Television is being watched by a dog.", "replace_object"):
        assert text.startswith("Television"), text  # never "Microwave is being watched"


def test_a_room_is_replaced_only_by_one_that_holds_what_the_caption_names():
    for text in made("A bathroom with a glass shower and a white sink.", "replace_object"):
        assert text.startswith("A bathroom"), text  # never "an office with a glass shower"
    assert any(text.startswith("A bathroom") for text in made("A kitchen with a white sink.", "replace_object"))


def test_scene_bound_clothes_are_not_drawn():
    texts = made("A baseball team wearing orange uniforms.", "replace_object")
    assert texts  # "orange shirts"
    for text in texts:
        assert "wetsuits" not in text, text


@pytest.mark.parametrize("caption, broader", [
    ("Several small teddy bears sit on a shelf.", ("toys",)),
    ("The baseball player crosses home plate.", ("batter", "pitcher", "catcher", "umpire")),
    ("A baseball team wearing orange uniforms.", ("jerseys",)),
])
def test_a_broader_or_narrower_term_is_not_drawn(caption, broader):
    for text in made(caption, "replace_object"):
        assert not any(word in text for word in broader), text


# ---- the knowledge is data ----


def _copy_data(folder: Path) -> Path:
    shipped = resources.files("hf_finegrained").joinpath("data")
    for name in (*LIST_FILES.values(), *RULE_FILES):
        (folder / name).write_text(shipped.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_palettes_ways_and_verb_objects_are_read_from_the_data(tmp_path):
    folder = _copy_data(tmp_path)
    path = folder / "negatives_classes.txt"
    text = path.read_text(encoding="utf-8")
    for old, new in (("palette.colour.appliance: white | black | silver | gray",
                      "palette.colour.appliance: white | black | silver | gray | red"),
                     ("pickup truck | bus | city bus |", "pickup truck |"),
                     ("way.water: boat", "way.water: boat\nway.city: bus | city bus"),
                     ("takes.read: book |", "takes.read: book | bag |")):
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    load_lexicon.cache_clear()
    try:
        edited = load_lexicon(str(folder))
        assert "A red refrigerator next to a stove." in made("A white refrigerator next to a stove.",
                                                             "replace_attribute", edited)
        assert not any("bus" in text for text in made("Five motorbikes riding on the road.", "replace_object",
                                                      edited))
        assert any("reading a bag" in text for text in made("A woman lying in bed while reading a book.",
                                                              "replace_object", edited))
    finally:
        load_lexicon.cache_clear()
        shutil.rmtree(folder)
