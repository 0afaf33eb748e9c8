"""Issue 29, session 8: replace_relation's coverage. The statement before a question is edited (only the question
and its answer stay protected, and a relation asked about again is left); worn or held things the noun lists lack
(`frame_nouns`) take their verb's frame ("wearing sunglasses" -> "holding sunglasses"), never "carrying a
necklace"; what one person does to another (scold, comfort, teach, arrest, greet); skiing and snowboarding, playing
and watching a game, unless a word tells which (`told_by`); "looking at" -> "looking away from"; a path after a
verb of motion ("skiing down a hill"); a landmark after a count word ("on a single bench"); nothing on a wall put
beside it; a person who "has" a garment "holds" it; a complement after a verb and its adverb left alone. Captions
written for these tests (none is an audited caption); each pattern case failed on the rules of d9de728, and the
controls check what must stay as it was.
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


# the statement before a question


def test_the_statement_before_a_question_is_edited_and_the_question_is_not():
    caption = "a woman sitting on a wooden bench near the lake. is it summer? yes."
    found = candidates(caption)
    assert found, caption
    assert all(text.endswith(". is it summer? yes.") for text in found), found
    assert "a woman sitting beside a wooden bench near the lake. is it summer? yes." in found


def test_a_relation_asked_about_again_is_left():
    # the answer tells of the phone again: "dropping her phone" would contradict it; the park is free
    found = candidates("a girl holding her phone in the park. is she calling someone on the phone? yes.")
    assert found and all("holding her phone" in text for text in found), found
    # the verb comes back in the question: "leading a horse ... is he riding fast?" contradicts it
    found = candidates("a boy riding a horse near a fence. is he riding fast? no.")
    assert found == {"a boy riding a horse far from a fence. is he riding fast? no."}, found
    assert candidates("a boy riding a horse. is he on the beach? no.")  # asked about something else: edited


def test_a_caption_that_opens_with_its_question_stays_protected_and_other_types_keep_the_statement():
    assert candidates("is the cat sitting on the sofa? yes.") == set()
    statement = "a cat sitting on a sofa with a pillow. is this indoors? yes."
    assert all(text.endswith("with a pillow. is this indoors? yes.") or "sitting on a sofa" in text
               for text in candidates(statement, "replace_object")), candidates(statement, "replace_object")
    assert candidates(statement, "replace_object") == set()  # only relations open the statement


# worn and held things the noun lists lack


def test_worn_things_the_lists_lack_are_held_instead():
    found = candidates("A young woman wearing round sunglasses.")
    assert found == {"A young woman holding round sunglasses."}, found  # never "carrying" them
    assert candidates("A tall man wearing a grey hoodie.") >= {"A tall man holding a grey hoodie."}
    assert candidates("An old man holding a toothbrush.") == {"An old man dropping a toothbrush."}


def test_unknown_objects_and_body_part_subjects_still_give_nothing():
    assert candidates("A young woman wearing a bright smile.") == set()  # not a worn thing
    assert candidates("A hand holding a toothbrush.") == set()  # a hand that drops reads as no scene
    assert candidates("A dog wearing sunglasses.") == set()  # the frame's subject is a person


# what one person does to another


def test_what_one_person_does_to_another_becomes_another_such_act():
    found = candidates("An aunt scolds a little boy.")
    assert "An aunt comforts a little boy." in found and "An aunt photographs a little boy." in found, found
    assert not any(word in text for text in found for word in ("nags", "disciplines", "feeds", "hugs")), found
    found = candidates("A guard arrests a young man.")
    assert found == {"A guard greets a young man.", "A guard interviews a young man."}, found


def test_acts_on_people_need_a_person_and_leave_what_goes_with_them():
    assert candidates("A woman scolds a painting.") == set()  # the frame's object is a person
    assert candidates("A detective interrogates a man.") == set()  # an interrogated man may be handcuffed too
    assert candidates("A mother hugs a little girl.") >= {"A mother kisses a little girl."}  # hugging stays caring


# skiing and snowboarding, playing and watching a game


def test_skiing_becomes_snowboarding_where_nothing_tells_the_sport():
    assert candidates("Two girls are skiing down a steep hill.") == {"Two girls are snowboarding down a steep hill."}
    assert candidates("A skier is skiing down a hill.") == set()  # the doer tells the sport
    assert candidates("A woman skiing on the lake.") == set()  # water skiing
    assert candidates("A boy skiing on a red board.") == set()  # a board may be a snowboard


def test_playing_a_game_becomes_watching_it_and_back():
    assert "Three boys watching soccer in a park." in candidates("Three boys playing soccer in a park.")
    assert candidates("An old man playing a video game.") == {"An old man watching a video game."}
    assert candidates("Fans watching a soccer game.") == set()  # spectators do not play
    found = candidates("A girl playing tennis while hitting the ball.")
    assert found and not any("watching" in text for text in found), found  # she plays
    found = candidates("People in the stands watching a boy play tennis.")
    assert not any("watch tennis" in text for text in found), found  # never the verb the caption has
    assert candidates("A man playing a ball.") == set()  # a ball is not watched


# looking at something and looking away from it


def test_looking_at_a_thing_becomes_looking_away_from_it():
    assert candidates("A brown dog looking at the camera.") == {"A brown dog looking away from the camera."}
    assert candidates("she looks at her laptop") == {"she looks away from her laptop"}
    assert candidates("dog LOOKING AT frisbee") >= {"dog LOOKING AWAY FROM frisbee"}


def test_looks_without_a_thing_told_by_the_viewer_or_by_their_manner_stay():
    assert candidates("A brown dog looking at something.") == set()
    assert candidates("we are looking at an old tower.") == set()
    assert candidates("A boy staring in awe at a huge cake.") == set()
    assert candidates("A man with a close look at the cake.") == set()  # a noun, not a verb of looking


def test_people_the_noun_lists_lack_are_objects_of_acts_on_people():
    found = candidates("A grandmother scolds her granddaughter.")
    assert "A grandmother comforts her granddaughter." in found, found
    assert candidates("A guard handcuffs a burglar.") >= {"A guard greets a burglar."}
    assert candidates("A guard handcuffs a lamp.") == set()


def test_a_path_after_a_verb_of_motion_is_no_particle():
    assert candidates("Two girls walking down a narrow street.") == {"Two girls running down a narrow street."}
    assert candidates("The woman is skiing down exactly one steep hill.") == {
        "The woman is snowboarding down exactly one steep hill."}
    found = candidates("A cat lying down on a blue couch.")
    assert all("lying down" in text for text in found), found  # a phrasal verb, then "on"
    assert "A man dropping up a big cake." not in candidates("A man holding up a big cake.")


def test_a_counted_landmark_is_still_the_landmark():
    found = candidates("A grey cat sleeping on a single red sofa.")
    assert "A grey cat sleeping under a single red sofa." in found, found
    assert "A grey cat sleeping beside a single red sofa." in found, found
    assert candidates("A small dog sitting behind exactly one wooden chair.") >= {
        "A small dog sitting in front of exactly one wooden chair."}
    found = candidates("A small dog sitting on exactly one grassy lawn.")
    assert all(" on exactly one grassy lawn" in text for text in found), found  # the ground still keeps it


def test_a_thing_on_a_wall_is_never_put_beside_it_and_a_person_may_be():
    assert candidates("A framed picture on the wall.") == set()
    assert candidates("stickers ON kitchen window") == set()
    found = candidates("A young boy sitting on a low wall.")
    assert "A young boy sitting beside a low wall." in found, found


def test_a_person_who_has_a_garment_holds_it_instead():
    assert candidates("girl has striped scarf") == {"girl holds striped scarf"}
    assert candidates("Two boys have sunglasses.") == {"Two boys hold sunglasses."}
    assert candidates("table has white cloth") == set()  # not a person
    assert candidates("girl has long hair") == set()  # not worn


def test_more_worn_and_held_things_and_never_what_a_container_holds():
    assert candidates("bride WEARING long veil") >= {"bride HOLDING long veil"}
    assert candidates("woman holding black clutch") == {"woman dropping black clutch"}
    assert candidates("vase holding pink flowers") == set()  # a container holds them: it drops nothing


def test_a_complement_after_a_verb_and_its_adverb_and_no_kicked_tennis_balls():
    assert candidates("A girl works quietly on her laptop.") == set()  # the verb's complement, not a place
    assert "A cat sits quietly beside a wooden chair." in candidates("A cat sits quietly on a wooden chair.")
    found = candidates("A young man hitting a tennis ball.")
    assert found and not any("kicking" in text for text in found), found


def test_driving_and_boarding_a_vehicle_and_no_vehicle_too_heavy_to_push():
    found = candidates("A young woman drives a small car.")
    assert found == {"A young woman washes a small car.", "A young woman pushes a small car."}, found
    assert candidates("An old man drives a big truck.") == {"An old man washes a big truck."}
    assert candidates("A tall man boards a small airplane.") == {"A tall man disembarks a small airplane."}
    assert candidates("White steam exiting a train.") == set()
    found = candidates("Two women riding a red train.")
    assert not any(word in text for text in found for word in ("pushing", "pulling", "dragging")), found
