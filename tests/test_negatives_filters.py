"""One test per failure pattern of the negatives audit (docs/NEGATIVES.md), on captions written for these tests.

Each test would fail on the rules before the filters (commit c696e4a): it reads what the generator returns for
many seeds, so a rule that can still make the bad edit is caught whichever candidate a seed draws.
"""

from __future__ import annotations

import pytest

from hf_finegrained.negatives import HardNegativeGenerator, load_lexicon, word_multiset

SEEDS = range(12)


def outputs(caption: str, kind: str) -> set[str | None]:
    """What `kind` makes of `caption` over `SEEDS`."""
    return {HardNegativeGenerator(seed=seed, types=[kind]).generate_one(caption)[kind] for seed in SEEDS}


def made(caption: str, kind: str) -> set[str]:
    return {text for text in outputs(caption, kind) if text is not None}


# 1. swaps across classes


def test_swap_object_never_exchanges_a_person_with_a_thing():
    for caption in ("A man riding skis down a ramp.", "A woman holding an umbrella on a street.",
                    "A girl sitting on a bench with a laptop."):
        assert outputs(caption, "swap_object") == {None}, caption
    # (not "talking to": a mutual action exchanged stays true, issue 29's third round of fixes)
    assert made("A woman waving to a man near a car.", "swap_object") == {"A man waving to a woman near a car."}
    # things of one class still swap: what is on the plate changes
    assert made("A spoon lying on a napkin next to a knife.", "swap_object") == {
        "A knife lying on a napkin next to a spoon."}


# 2. conjuncts


def test_swapped_conjuncts_are_not_made():
    for caption in ("A knife and a fork on a wooden table.", "A man and a woman waiting for a bus.",
                    "A cup, a bottle and a vase on a shelf."):
        assert outputs(caption, "swap_object") == {None}, caption


# 3. "X of Y" heads, plural non-objects


def test_heads_of_of_phrases_and_plural_non_objects_are_never_edited():
    for text in made("A bottle of water next to a cup on a desk.", "replace_object"):
        assert text.startswith("A bottle of "), text
    for text in made("A glass of juice beside a bowl of soup.", "swap_object") | made(
            "A glass of juice beside a bowl of soup.", "replace_object"):
        assert "glass of" in text and "bowl of" in text, text
    for caption in ("Two kinds of dogs in rows of cages.", "Pictures of cats on a wall."):
        for text in made(caption, "replace_object") | made(caption, "swap_object"):
            assert "kinds" in text.lower() or "pictures" in text.lower(), text
            assert not any(word in text.split() for word in ("types", "photos")), text


# 4. compounds and idioms


def test_compounds_are_replaced_whole_or_not_at_all():
    hot_dog = "A hot dog on a paper plate."
    assert all("cold" not in text and "frozen" not in text for text in made(hot_dog, "replace_attribute"))
    for text in made(hot_dog, "replace_object"):
        assert "hot" not in text.split() or "hot dog" in text, text  # "a hot cat" is half a compound
    for text in made("A teddy bear sitting on a bed.", "replace_object"):
        assert "teddy" not in text.split() or "teddy bear" in text, text
    for text in made("A dog bed in the corner of a bedroom.", "replace_object"):
        assert "dog bed" in text, text  # neither "dog" nor "bed" of the compound is replaced alone


# 5. mass nouns, possessives, capitals


def test_mass_nouns_possessives_and_all_capital_captions():
    nouns = load_lexicon().nouns.lookup
    for text in made("A cow eating grass in a field.", "replace_object"):
        if "eating grass" not in text:
            new = text.split("eating ")[1].split()[0]
            assert nouns[new][0].mass, text  # "eating flower" is not English
    for text in made("A kid holding a box of pizza near a window.", "replace_object"):
        if "box of pizza" not in text:
            new = text.split("box of ")[1].split()[0]
            assert nouns[new][0].mass, text  # "a box of muffin": a bare singular after "of" is read as mass
    for text in made("A pizza on a table near a window.", "replace_object"):
        if not text.startswith("A pizza"):
            new = text.split(" ", 1)[1][:text.split(" ", 1)[1].index(" on a")].lower()
            assert not nouns[new][0].mass, text  # never "A rice on a table"
    for caption in ("A boy's kite next to a girl.", "The woman's dog chasing a cat."):
        assert outputs(caption, "swap_object") == {None}, caption  # never "A girl's kite next to a boy"
    for text in made("A MAN RIDING A HORSE NEAR A TRUCK", "replace_object") | made(
            "A MAN RIDING A HORSE NEAR A TRUCK", "replace_relation"):
        assert text == text.upper(), text


# 6. relations: particles, clothing, passives, ground


def test_relations_on_particles_clothing_passives_and_the_ground_are_not_edited():
    assert outputs("The lights turned on in a small office.", "replace_relation") <= {
        None, "The lights turned on outside a small office.", "The lights turned on outside of a small office."}
    for text in made("A woman in a blue dress standing near a table.", "replace_relation"):
        assert "in a blue dress" in text, text
    assert outputs("A photo taken by a man.", "replace_relation") == {None}
    for caption in ("A dog lying on the grass.", "A car parked on the street.", "A boat on the water.",
                    "A train traveling on train tracks.", "A ham sandwich on a white plate.",
                    "Two women sitting on a park bench."):
        for text in made(caption, "replace_relation"):
            assert not any(word in text for word in ("under", "beneath", "below", "underneath")), text
    inside = made("A cat sitting inside a box.", "replace_relation")
    assert "A cat sitting next to a box." in inside  # contradicts "inside"
    for text in inside:
        assert "near" not in text, text  # vague: what is inside a box is near it


# 7. verbs that do not fit their subject or object


def test_verbs_keep_their_subject_and_object_fitting():
    senses = load_lexicon().verbs.senses
    riding = made("A man riding a horse on a beach.", "replace_relation")
    assert riding
    for text in riding:
        new = text.split()[2]
        assert "mounting" in {entry.category for entry, _ in senses[new]}, text  # never "throwing a horse"
    assert outputs("A bike leaning against a brick wall.", "replace_relation") <= {None}
    assert outputs("A red bicycle standing next to a building.", "replace_relation") <= {
        None, "A red bicycle standing far from a building.", "A red bicycle standing away from a building."}


# 8. attributes a noun cannot have


def test_attributes_suit_their_noun():
    for text in made("A brown cat on a wooden chair.", "replace_attribute"):
        if "cat" in text and "brown cat" not in text:
            assert text.split()[1] in ("black", "white", "gray", "grey", "tan", "beige", "golden", "gold"), text
    for text in made("A young woman with an old bicycle.", "replace_attribute"):
        assert not any(word in text for word in ("vintage woman", "antique woman", "modern woman", "new woman",
                                                 "young bicycle", "elderly bicycle")), text
    for text in made("A woman with long hair near a tall building.", "replace_attribute"):
        assert "tall hair" not in text and "long building" not in text, text
    old_man = made("An old man standing in a kitchen near a dog.", "replace_object")
    assert {"An old woman standing in a kitchen near a dog.", "An old lady standing in a kitchen near a dog."} & old_man
    for text in old_man:
        assert "old girl" not in text and "old boy" not in text, text  # a modified person keeps their age
    for text in made("A brown cow grazing in a yard near a fence.", "replace_object"):
        assert not any(word in text.split() for word in ("lion", "tiger", "bear")), text  # a grazing tiger


# 9. the second swap_attribute form


def test_an_attribute_moves_to_an_object_without_one():
    assert made("A red car parked next to a bench.", "swap_attribute") == {"A car parked next to a red bench."}
    moved = made("An orange truck next to a car.", "swap_attribute")
    assert moved == {"A truck next to an orange car."}
    assert word_multiset(next(iter(moved))) == word_multiset("An orange truck next to a car.")
    # never onto a person, an animal or food, never a size onto a person
    for caption in ("A red car next to a man.", "A white plate next to a dog.", "A small table next to a woman."):
        assert outputs(caption, "swap_attribute") == {None}, caption


@pytest.mark.parametrize("kind", ["swap_object", "swap_attribute", "replace_object", "replace_attribute",
                                  "replace_relation"])
def test_every_type_still_makes_its_negative(kind):
    caption = "A white cat sitting on a black chair near a red couch."
    assert made(caption, kind), kind


# 10. relations and verbs, second round (dev-list readings of the rules of 17b67dd; each fails on them)


def test_relations_on_things_become_beside_them_and_never_absurd_flips():
    plate = made("A pizza on a white plate.", "replace_relation")
    assert plate and plate <= {"A pizza next to a white plate.", "A pizza beside a white plate."}
    bench = made("Two women sitting on a park bench.", "replace_relation")
    assert "Two women sitting beside a park bench." in bench
    for caption in ("A clock on a tall building.", "A bird perched on a table.", "A tower rises above a fence.",
                    "A man reading a book on a park bench."):
        for text in made(caption, "replace_relation"):
            assert not any(word in text for word in ("under", "beneath", "below", "onto")), text
    for text in made("A man on skis on a snowy slope.", "replace_relation"):
        assert "beside skis" not in text and "next to skis" not in text, text
    slashed = made("A car parked near an over/under pass.", "replace_relation")
    assert slashed and all("over/under pass" in text for text in slashed)  # "under" there is part of a word
    assert outputs("Two women in a room.", "replace_relation") == {None}  # "outside of a room" names no place
    assert outputs("A girl holding onto a kite.", "replace_relation") == {None}  # "holding beside a kite"
    for text in made("A boy riding on a skateboard.", "replace_relation"):
        assert "next to" not in text and "beside" not in text, text  # "riding next to" rides nothing
    for text in made("A cat sitting under a tree.", "replace_relation"):
        assert "next to" not in text and "beside" not in text, text  # under a tree is beside it too


def test_relations_without_a_listed_landmark():
    desk = made("A desk with a laptop on it.", "replace_relation")
    assert desk <= {f"A desk with a laptop {new} it." for new in ("under", "underneath", "beneath", "below",
                                                                   "next to", "beside")}
    assert "A desk with a laptop beside it." in desk and len(desk) >= 3
    assert outputs("A pizza with toppings on it.", "replace_relation") == {None}
    assert made("Two cars parked next to each other.", "replace_relation") == {
        "Two cars parked far from each other.", "Two cars parked away from each other."}
    assert made("Cows grazing in a field.", "replace_relation") == {
        "Cows grazing outside a field.", "Cows grazing outside of a field.", "Cows lying in a field."}
    assert outputs("A car in the street.", "replace_relation") == {None}


def test_nearness_needs_a_verb_and_no_direction():
    assert outputs("A bride and groom near their wedding cake.", "replace_relation") == {None}
    held = made("A boy holding a stick next to a toy.", "replace_relation")
    assert "A boy holding a stick far from a toy." in held
    assert not any("away from" in text for text in held)


def test_verbs_are_read_in_the_first_frame_that_fits():
    assert made("A man wearing a hat.", "replace_relation") == {"A man holding a hat.", "A man carrying a hat."}
    assert not any("wearing" in text for text in made("A man holding a cup.", "replace_relation"))
    assert outputs("Two women wearing no shoes.", "replace_relation") == {None}
    assert made("A horse standing.", "replace_relation") == {"A horse lying."}  # never sitting, never "laying"
    for text in made("Two women standing near a stove preparing food.", "replace_relation"):
        assert "standing" in text.split(), text  # never "lying ... preparing food"
    for text in made("People sit at a table with cake.", "replace_relation"):
        assert "lie" not in text.split(), text  # never "lie at a table"; "stand at a table" (session 9)
    frisbee = made("A man throwing a frisbee.", "replace_relation")
    assert frisbee == {"A man catching a frisbee."}  # a frisbee is never kicked or hit
    for text in made("A woman swinging a tennis racket.", "replace_relation"):
        assert text == "A woman dropping a tennis racket.", text
    assert made("A man riding a skateboard.", "replace_relation") == {
        "A man carrying a skateboard.", "A man holding a skateboard."}  # "pushing" one is part of riding it


def test_an_age_moves_only_when_it_can_hold_for_the_new_noun():
    assert made("An old man reads a book on a bench.", "swap_attribute") <= {
        "A man reads an old book on a bench.", "A man reads a book on an old bench."}
    # no age is moved any more (issue 29, session 8: 7 of the 18 labelled age moves were NOT_FALSE or DISFLUENT,
    # "an old man ... an old horse"); `movable_attributes` may list it again
    assert made("An old man reads a book on a bench.", "swap_attribute") == set()
    assert outputs("A young girl holding a red kite.", "swap_attribute") == {None}  # never "a young kite"
    assert outputs("An old car next to a boy.", "swap_attribute") == {None}  # never "an old boy"


def test_vehicles_move_or_stand_and_grounds_are_left():
    assert made("A white car parked on a street.", "replace_relation") == {
        "A white car driving on a street.", "A white car traveling on a street.", "A white car moving on a street.",
        "A white car parked off a street."}
    for caption, kept in (("A truck driving down the street.", "driving"),  # never "parked down the street"
                          ("Scenic boats travel the river.", "travel"),  # never "park the river"
                          ("A red bike is parked outside a store.", "parked"),  # a bike does not travel alone
                          ("A red car next to parked blue motorcycles.", "parked")):  # "parked" describes them
        for text in made(caption, "replace_relation"):
            assert kept in text.split(), text
    assert outputs("Traffic lights on a city street.", "replace_relation") == {None}  # "off" needs a verb
    assert made("Two bears playing in the water.", "replace_relation") == {"Two bears playing out of the water."}


def test_animals_grazing_and_kites_flying():
    assert made("Three cows grazing in a field.", "replace_relation") >= {"Three cows lying in a field."}
    assert "Three cows standing in a field." not in made("Three cows grazing in a field.", "replace_relation")
    assert made("A boy flying a kite.", "replace_relation") == {"A boy carrying a kite."}


# 11. objects and swaps, second round (dev-list readings of the rules of 17b67dd; each fails on them)


def test_objects_tied_to_the_scene_or_a_portion_are_not_replaced():
    for caption, kept in (("A man riding a skateboard at a skate park.", "skateboard"),
                          ("A plane taking off into the sky.", "sky"), ("A ship sits out in the water.", "water"),
                          ("A woman eating a slice of pizza.", "pizza")):
        for text in made(caption, "replace_object"):
            assert kept in text.split(" ") or kept + "." in text, text
    for text in made("A boy eating pizza at a table.", "replace_object"):
        assert "eating donut" not in text and "eating cake" not in text, text  # pizza without "a" is a mass
    for text in made("A person wearing a suit and a hat.", "replace_object"):
        assert "a pants" not in text and "a shorts" not in text and "a jeans" not in text, text
    assert made("Two men and one woman at a table.", "replace_object") and not any(
        "one man" in text for text in made("Two men and one woman at a table.", "replace_object"))
    for text in made("A cat on a table next to some trees.", "replace_object"):
        assert " desk " not in text and "bushes" not in text, text  # near-synonyms stay true


def test_object_swaps_need_an_ordered_link():
    assert outputs("A big mirror above the sink.", "swap_object") == {None}
    assert outputs("A toilet next to a sink.", "swap_object") == {None}
    assert made("A green chair next to a long bench.", "swap_object") == {"A green bench next to a long chair."}
    assert made("A car in front of a train.", "swap_object") == {"A train in front of a car."}
    assert outputs("A giraffe standing under a leaf filled tree.", "swap_object") == {None}
    assert outputs("A wooden bench and table with an umbrella on the table.", "swap_object") == {None}


def test_attribute_moves_that_stay_true_or_break_a_word():
    assert outputs("Yellow signs near a taxi.", "swap_attribute") == {None}  # a taxi is yellow anyway
    assert outputs("A brown dog on a wooden bench.", "swap_attribute") == {None}  # so is a wooden bench
    assert outputs("A man in brown shirt holding an umbrella.", "swap_attribute") == {None}  # "in shirt"
    assert outputs("A lime green room with curtains.", "swap_attribute") == {None}  # "a lime room"
    for text in made("A metal blender on a stone counter.", "swap_attribute"):
        assert "stone blender" not in text, text
