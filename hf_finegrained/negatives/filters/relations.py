"""Filters of relation edits (`replace_relation`): which prepositions and verbs may change, and into what.
The classes and words they read are data (negatives_classes.txt, negatives_words.txt)."""

from __future__ import annotations

from ..lexicon import Entry, Frame, Lexicon
from ..phrases import NOUN_TAGS, NounGroup, ParsedCaption, singular
from .common import group_after, group_before, head_entry, subject_before

NOUN_PHRASE_START_TAGS = NOUN_TAGS | frozenset({"DT", "PRP$", "CD", "JJ", "JJR", "JJS", "VBN", "VBG", "NNP"})


def attached_thing(caption: ParsedCaption, lexicon: Lexicon, start: int) -> bool:
    """What the relation at token `start` places is a part, a marking or a fixture of its landmark ("the number 5
    on a bus", "wipers on a car", "a tap on a sink": `attached` nouns and `attached_classes`; "hair ON sheep",
    "leaves ON branch": `own_parts`): it is "on" its landmark by being part of it, and neither under nor beside it."""
    group = group_before(caption, start)
    tokens = caption.tokens
    if group is None or not (group.noun_end == start or group.noun_end == start - 1 and tokens[start - 1].tag == "CD"):
        return False
    attached = lexicon.rules["attached"]
    head = tokens[group.head].lower
    run = " ".join(token.lower for token in tokens[group.noun_start:group.noun_end])
    if run in attached or head in attached or singular(head) in attached:
        return True
    own = lexicon.rules["own_parts"]
    if head in own or singular(head) in own:
        return True
    entry = head_entry(caption, group, lexicon)
    return entry is not None and lexicon.noun_class(entry) in lexicon.rules["attached_classes"]


def relation_object(caption: ParsedCaption, lexicon: Lexicon, end: int) -> NounGroup | None:
    """The noun phrase a preposition governs, or None for a particle or an adverb ("lights on", "turned on",
    pattern 6: the next token must open a noun phrase), for a non-object ("on top.", "in the air") and for an owner
    ("in the car's seat")."""
    tokens = caption.tokens
    if end >= len(tokens) or tokens[end].tag not in NOUN_PHRASE_START_TAGS:
        return None
    group = group_after(caption, end)
    head = tokens[group.head].lower if group is not None else ""
    if group is None or head in lexicon.rules["non_object_nouns"] or singular(head) in lexicon.rules["non_object_nouns"]:
        return None
    if group.noun_end < len(tokens) and tokens[group.noun_end].tag == "POS":
        return None  # "in the car's passenger seat": the landmark is what the group owns
    return group


def pronoun_landmark(caption: ParsedCaption, lexicon: Lexicon, end: int, category: str) -> bool:
    """The preposition ending before token `end` governs a pronoun that may stand for its landmark: "it", "them",
    "him", "her" ("a table with a laptop on it" -> "under it"), or "each other" for nearness ("two zebras next
    to each other" -> "far from each other"). Containment is never flipped on a pronoun (it needs a listed
    landmark one can be inside of)."""
    tokens = caption.tokens
    if end >= len(tokens) or category == "containment":
        return False
    word = tokens[end].lower
    if word == "each":
        return category == "proximity" and end + 1 < len(tokens) and tokens[end + 1].lower == "other"
    return tokens[end].tag == "PRP" and word in lexicon.rules["object_pronouns"]


def in_slashed_word(caption: ParsedCaption, start: int, end: int) -> bool:
    """The token span touches a slash ("an over/under pass"): part of a word, not a relation."""
    left, right = caption.char_span(start, end)
    return caption.text[left - 1:left] == "/" or caption.text[right:right + 1] == "/"


def directed_verb_before(caption: ParsedCaption, lexicon: Lexicon, position: int) -> bool:
    """A verb of `directed_verbs` stands right before token `position` (or one adverb or object before it:
    "resting its head on")."""
    tokens = caption.tokens
    return any(tokens[i].lower in lexicon.rules["directed_verbs"] for i in range(max(0, position - 3), position))


def motion_fits(caption: ParsedCaption, lexicon: Lexicon, end: int, subject: Entry | None) -> bool:
    """A vehicle's "parked" / "driving" (ending before token `end`) may change: its subject moves on its own,
    and a listed relation of place or the caption's end follows (never "parked down the street", "parked through a
    city", "parked at a stop", "travel the Thames", nor "parked" before a noun it describes: "parked blue
    motorcycles")."""
    tokens = caption.tokens
    if subject is not None and subject.forms[0] in lexicon.rules["unpowered_vehicles"]:
        return False
    if end == len(tokens) or not tokens[end].text[0].isalnum():
        return True
    return (tokens[end].tag in ("IN", "TO") and tokens[end].lower not in lexicon.rules["path_words"]
            and tokens[end].lower in lexicon.relation_first_words)


def posture_clashes(caption: ParsedCaption, lexicon: Lexicon, end: int, verb: str | None = None) -> bool:
    """A posture verb (base form `verb`) ending before token `end` is followed by another action ("standing in a
    kitchen preparing food"), or by "at" where it is no verb of `at_postures` ("lying at a table"; None: any verb):
    another posture would contradict the rest of the caption. "sitting at a table" may become "standing at a
    table" (`at_posture_follows`: only those verbs replace it)."""
    tokens = caption.tokens
    if at_posture_follows(caption, end) and verb not in lexicon.rules["at_postures"]:
        return True
    return any(token.tag.startswith("VB") and token.lower not in lexicon.rules["auxiliaries"] for token in tokens[end:])


def at_posture_follows(caption: ParsedCaption, end: int) -> bool:
    """"at" follows the verb ending before token `end` ("sitting at a table")."""
    return end < len(caption.tokens) and caption.tokens[end].lower == "at"


def verb_before(caption: ParsedCaption, lexicon: Lexicon, position: int) -> bool:
    """A verb other than an auxiliary comes before token `position`: nearness is told of where someone stands or
    sits ("standing in a bathroom away from the sink"), not of a described thing ("a bride far from a cake")."""
    return any(token.tag.startswith("VB") and token.lower not in lexicon.rules["auxiliaries"]
               for token in caption.tokens[:position])


def object_of_verb_before(caption: ParsedCaption, position: int) -> bool:
    """The noun group right before token `position` is a verb's object ("holding a stick next to"): "away from"
    would read as a direction the object is held or moved in, which may be true."""
    group = group_before(caption, position)
    if group is None or group.noun_end != position:
        return False
    start = group.det if group.det is not None else group.mod_start
    return start > 0 and caption.tokens[start - 1].tag.startswith("VB")


def can_be_under(caption: ParsedCaption, lexicon: Lexicon, landmark: NounGroup | None, person_before: bool) -> bool:
    """"on X" may become "under X", and "under X" "on X", only when X is known to be something things can be under
    (`under_landmarks`, or `freely_placed_classes`): an unlisted landmark keeps its relation ("zebras on the
    plain", "a drink on a coaster", "a dog underneath a horse"); and not furniture when a person comes before "on"
    it (`person_before`: the person's seat, "reading a book below a park bench")."""
    entry = head_entry(caption, landmark, lexicon) if landmark is not None else None
    kind = lexicon.noun_class(entry) if entry is not None else None
    if kind == "furniture" and person_before:
        return False
    return kind in lexicon.rules["freely_placed_classes"] or _listed(caption, lexicon, landmark, "under_landmarks")


def verb_complement(caption: ParsedCaption, lexicon: Lexicon, start: int) -> bool:
    """The relation at token `start` comes right after a verb (or a verb and its particle: "lying down on") that is
    no verb of position or placement (`placement_verbs`): it is the verb's particle or complement ("tugs on a
    leash", "working on his laptop", "drizzled over a plate", "looking in an oven"), not where something is. An
    auxiliary ("is on") or a noun before it ("a cup on a table") is no such verb."""
    tokens = caption.tokens
    index = start - 1
    if index > 0 and tokens[index].tag == "RP":
        index -= 1
    if index > 0 and tokens[index].tag == "RB" and tokens[index - 1].tag.startswith("VB"):
        index -= 1  # "types quickly on a laptop": the verb's complement still
    if index < 0 or not tokens[index].tag.startswith("VB") or tokens[index].lower in lexicon.rules["auxiliaries"]:
        return False
    return tokens[index].lower not in lexicon.rules["placement_verbs"]


def side_fits(lexicon: Lexicon, category: str, landmark: Entry | None) -> bool:
    """"on", "under" or "in" a listed thing may become "next to"/"beside" it (`side_relations`): being on or in
    a plate, a bench or a car is not being beside it. Never for the ground or places ("next to the grass"),
    worn things or idioms, and "in" only for things one is in without being surrounded by a place (`side_classes`:
    "in a bowl" -> "next to a bowl", never "in a kitchen" -> "next to a kitchen")."""
    if landmark is None or category not in ("vertical", "containment"):
        return False  # (the caller keeps vertical relations of contact only: "on", not "above")
    kind = lexicon.noun_class(landmark)
    if (kind in lexicon.rules["ground_classes"] | lexicon.rules["worn_classes"] | {"room", "enclosure", "compound"}
            or landmark.forms[0] in lexicon.rules["idiom_landmarks"] | lexicon.rules["not_beside"]):
        return False
    return category == "vertical" or kind in lexicon.rules["side_classes"]


def ground_opposite(caption: ParsedCaption, lexicon: Lexicon, start: int, category: str, phrase: str,
                    landmark: Entry | None) -> str | None:
    """The way off a ground or water landmark (`ground_exit.<category> <way off>` of negatives_classes.txt) for "on" and "in" (relation at token
    `start`), or None. "off" needs a verb of standing or parking before it: "a car parked off the street", never
    "traffic lights off a city street"; no way off after a verb of being in water (`afloat_verbs`: "swimming in
    water")."""
    if landmark is None or phrase not in ("on", "in"):
        return None
    if category == "vertical" and (start == 0 or caption.tokens[start - 1].lower not in lexicon.rules["standing_verbs"]):
        return None
    if start > 0 and caption.tokens[start - 1].lower in lexicon.rules["afloat_verbs"]:
        return None  # "ducks swimming in the water" never "swimming out of the water"
    for key, landmarks in lexicon.rules.map("ground_exit").items():
        kind, _, opposite = key.partition(" ")
        if kind == category and landmark.forms[0] in landmarks:
            return opposite.replace("_", " ")
    return None


def relation_fits(lexicon: Lexicon, category: str, landmark: Entry | None) -> bool:
    """A spatial relation to `landmark` (the listed noun it governs, or None) may be replaced (pattern 6): never
    to something worn ("in a blue dress"), never flipped against the ground or a place ("on the grass" ->
    "under the grass"), never "under" what one rides ("on a skateboard"), never in an idiom ("on the phone");
    containment needs a listed landmark one can be inside of ("in the air", "in their skis" are not places)."""
    kind = lexicon.noun_class(landmark) if landmark is not None else None
    if kind in lexicon.rules["worn_classes"] or (landmark is not None and landmark.forms[0] in lexicon.rules["idiom_landmarks"]):
        return False
    if category == "containment" and landmark is not None and landmark.forms[0] in lexicon.rules["bounded_places"]:
        return True  # "in a park" -> "outside a park"
    if category in lexicon.rules["flipping_categories"] and kind in lexicon.rules["ground_classes"]:
        return False
    if category == "vertical" and kind in lexicon.rules["ridden_classes"]:
        return False
    if category == "containment":
        return kind in lexicon.rules["container_classes"] and landmark.forms[0] not in lexicon.rules["generic_rooms"]
    return True


def verb_fits(lexicon: Lexicon, frame: Frame | None, subject: Entry | None, obj: Entry | None) -> bool:
    """A verb may be replaced within its category when its frame fits the caption (pattern 7): a listed subject
    of the frame's classes (an unlisted one passes: "a kid"), and for a transitive frame a listed object of its
    classes; an intransitive frame needs a listed subject ("A sandwich and some grapes sitting on a cloth": what
    a thing does there is true whatever the verb). A category without a frame is never edited."""
    if frame is None:
        return False
    if subject is None and not frame.objects:
        return False
    if subject is not None and lexicon.noun_class(subject) not in frame.subjects:
        return False
    if frame.objects:
        return obj is not None and lexicon.noun_class(obj) in frame.objects
    return True


def entailed(lexicon: Lexicon, verb: Entry, replacement: Entry) -> bool:
    """`verb` entails `replacement` (`entailed_verbs.<verb>`: eating is biting and chewing): the replacement would
    leave the caption true."""
    return replacement.forms[0] in lexicon.rules.map("entailed_verbs").get(verb.forms[0], ())


def _listed(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup | None, name: str) -> bool:
    """The group's noun run, its head (or their singular), or its listed noun's class is a member of set `name`."""
    if group is None:
        return False
    members, tokens = lexicon.rules[name], caption.tokens
    head = tokens[group.head].lower
    run = " ".join(token.lower for token in tokens[group.noun_start:group.noun_end])
    if run in members or singular(run) in members or head in members or singular(head) in members:
        return True
    entry = head_entry(caption, group, lexicon)
    return entry is not None and (entry.forms[0] in members or lexicon.noun_class(entry) in members)


def fixed_in_place(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup | None) -> bool:
    """The group names a thing fixed in place or too large to be put under another (`fixed_in_place` of
    negatives_classes.txt: "a traffic light above a car" never becomes "underneath a car", "a bench under a
    tree" never "above a tree")."""
    return _listed(caption, lexicon, group, "fixed_in_place")


def body_part_landmark(caption: ParsedCaption, lexicon: Lexicon, landmark: NounGroup | None) -> bool:
    """The relation's landmark is a body part (`body_parts`: "a look on her face", "a tattoo on his arm"): what is
    on it is worn or part of a gesture, never under or beside it."""
    return _listed(caption, lexicon, landmark, "body_parts")


def cooking_before(caption: ParsedCaption, lexicon: Lexicon, position: int) -> bool:
    """A cooking verb (`cooking_verbs`) comes before token `position` ("stir-frying vegetables in a skillet"): the
    pan or oven is the tool, and food "beside a skillet" or "outside the oven" is no longer cooked."""
    verbs, tokens = lexicon.rules["cooking_verbs"], caption.tokens
    describing = {i for group in caption.groups for i in range(group.mod_start, group.noun_start)}
    return any(token.lower in verbs and index not in describing  # not "a grilled sandwich served on a tray"
               for index, token in enumerate(tokens[:position]))


def restated_by_pronoun(caption: ParsedCaption, lexicon: Lexicon, end: int) -> bool:
    """The landmark of the relation ending before token `end` is the subject of a later relation to a pronoun
    (`referring_pronouns`: "above a small elephant, who walks beneath it"; "next to a child skateboarding on its
    edge"): the caption tells the relation twice, and an edit of the first contradicts the second. A pronoun
    after another noun ("a desk with a cup on it") is that noun's relation."""
    tokens, pronouns = caption.tokens, lexicon.rules["referring_pronouns"]
    for start, after in caption.relations:
        if (start < end or after >= len(tokens) or tokens[after].lower not in pronouns
                or " ".join(token.lower for token in tokens[start:after]) not in lexicon.relations.lookup):
            continue
        between = [group for group in caption.groups
                   if (group.det if group.det is not None else group.mod_start) >= end and group.noun_end <= start]
        if len(between) == 1:
            return True
    return False


def ridden_landmark(caption: ParsedCaption, lexicon: Lexicon, phrase: str, landmark: Entry | None) -> bool:
    """"on" an animal, a vehicle or a board that the caption says is ridden ("a person on a horse ... rides", "a
    man on a surfboard surfing": `riding_words`, `board_riding_words`): beside or under it contradicts the
    riding."""
    if landmark is None or phrase not in lexicon.rules["contact_relations"]:
        return False
    rideable = (landmark.forms[0] in lexicon.rules["rideable"]
                or lexicon.noun_class(landmark) in lexicon.rules["ridden_classes"] | {"vehicle"})
    return rideable and bool(caption.words & (lexicon.rules["riding_words"] | lexicon.rules["board_riding_words"]))


def found_inside(caption: ParsedCaption, lexicon: Lexicon, landmark: Entry | None) -> bool:
    """The caption names something found only inside the landmark (`found_inside.<landmark>`: "in the zoo ... his
    enclosure", "in a kitchen ... at the stove"): "outside" it contradicts the caption."""
    if landmark is None:
        return False
    inside = lexicon.rules.map("found_inside").get(landmark.forms[0])
    if not inside:
        return False
    return any(token.lower in inside or singular(token.lower) in inside for token in caption.tokens)


def held_to_body(caption: ParsedCaption, lexicon: Lexicon, end: int) -> bool:
    """A body part follows the verb ending before token `end` ("holds a bottle close to their mouth", "holding a
    remote in one hand"): the thing is held there, and "drops" contradicts it."""
    parts = lexicon.rules["body_parts"]
    return any(token.lower in parts or singular(token.lower) in parts for token in caption.tokens[end:])


def outfit_after(caption: ParsedCaption, lexicon: Lexicon, end: int) -> bool:
    """The verb ending before token `end` takes two garments joined by "and" ("wearing a red jacket and brown
    pants"): an outfit is worn, and "carrying a jacket and pants" reads as no scene."""
    garments = 0
    for group in caption.groups:
        if group.noun_end <= end:
            continue
        entry = head_entry(caption, group, lexicon)
        if entry is None or lexicon.noun_class(entry) not in lexicon.rules["worn_classes"]:
            break
        start = group.det if group.det is not None else group.mod_start
        joined = caption.tokens[start - 1].lower in lexicon.rules["conjunctions"] if garments else start == end
        if not joined:  # the first garment is the verb's object, the next ones follow a conjunction
            break
        garments += 1
    return garments > 1


def worn_by_landmark(caption: ParsedCaption, lexicon: Lexicon, start: int, landmark: Entry | None) -> bool:
    """What the relation at token `start` places is worn (`worn_classes`, `worn_things`) and its landmark is a
    person ("sunglasses on a skiing person", "a black top on a skier"): it is on them by being worn, and neither
    beside nor under them."""
    group = group_before(caption, start)
    if group is None or group.noun_end != start or landmark is None or lexicon.noun_class(landmark) != "person":
        return False
    head = caption.tokens[group.head].lower
    if head in lexicon.rules["worn_things"] or singular(head) in lexicon.rules["worn_things"]:
        return True
    entry = head_entry(caption, group, lexicon)
    return entry is not None and lexicon.noun_class(entry) in lexicon.rules["worn_classes"]


def in_phrasal_verb(caption: ParsedCaption, lexicon: Lexicon, start: int, end: int) -> bool:
    """The relation at tokens [start, end) ends a phrasal verb: it follows a particle or adverb that is itself a
    listed relation ("close in on a surfer", "move in on"; not "laying down in a bowl"): the two words are one
    verb's particles, not a place."""
    tokens = caption.tokens
    return start > 0 and tokens[start - 1].tag in ("RP", "RB") and tokens[start - 1].lower in lexicon.relations.lookup


def question_start(caption: ParsedCaption) -> int:
    """The first character of the question of a question-and-answer caption ("a man riding a wave. is he the only
    surfer? yes." -> the "is"): after the last sentence end before its first "?", or 0 when the caption opens with
    the question (or has none). What comes before it is the statement, a caption like any other."""
    text = caption.text
    mark = text.find("?")
    if mark < 0:
        return 0
    end = max(text.rfind(". ", 0, mark), text.rfind("! ", 0, mark))
    return end + 2 if end >= 0 else 0


def asked_again(caption: ParsedCaption, lexicon: Lexicon, start: int, end: int, asked: frozenset[str]) -> bool:
    """The relation at tokens [start, end) of a question-and-answer caption's statement comes back in the question
    or its answer (`asked`: their words): its verb in any form, or the head of the noun group after it ("holding
    her phone over her head. is the woman taking a photo with her phone? yes." -> "dropping her phone" contradicts
    the answer; "riding a wave. is he riding? yes.")."""
    if not asked:
        return False
    tokens = caption.tokens
    senses = lexicon.verbs.senses.get(tokens[start].lower, ()) if end - start == 1 else ()
    if any(form in asked for sense, _ in senses for form in sense.forms):
        return True
    group = group_after(caption, end)
    if group is None:
        return False
    head = tokens[group.head].lower
    return head in asked or singular(head) in asked


def asked_words(caption: ParsedCaption) -> frozenset[str]:
    """The words (and their singulars) of a question-and-answer caption's question and answer (`question_start`),
    or none."""
    start = question_start(caption)
    if not start:
        return frozenset()
    words = {token.lower for token in caption.tokens if token.start >= start}
    return frozenset(words | {singular(word) for word in words})


def frame_noun_sense(caption: ParsedCaption, lexicon: Lexicon, senses: list[tuple[Entry, int]],
                     subject: Entry | None, obj: NounGroup | None) -> Entry | None:
    """The first of a verb's `senses` whose category takes the object group's head as one of its `frame_nouns`
    (nouns the lists lack or hold in another sense: "wearing sunglasses", "holding a toothbrush") and whose frame
    takes the subject (an unlisted one passes), or None."""
    if obj is None:
        return None
    head = caption.tokens[obj.head].lower
    nouns = lexicon.rules.map("frame_nouns")
    for sense, _ in senses:
        members = nouns.get(sense.category)
        if members is None or not (head in members or singular(head) in members):
            continue
        frame = lexicon.verbs.frames.get(sense.category)
        if frame is not None and (subject is None or lexicon.noun_class(subject) in frame.subjects):
            return sense
    return None


def unsuited_object(caption: ParsedCaption, lexicon: Lexicon, verb: Entry, obj: NounGroup | None) -> bool:
    """The object group's head or noun run is one `verb` is never put before (`never_object.<verb>`: "carrying a
    necklace", "kicking a tennis ball")."""
    if obj is None:
        return False
    members = lexicon.rules.map("never_object").get(verb.forms[0])
    if not members:
        return False
    head = caption.tokens[obj.head].lower
    run = " ".join(token.lower for token in caption.tokens[obj.noun_start:obj.noun_end])
    return head in members or singular(head) in members or run in members or singular(run) in members


def told_otherwise(caption: ParsedCaption, lexicon: Lexicon, verb: Entry, replacement: Entry) -> bool:
    """The caption has a word that tells the action of `verb` or of its `replacement` by itself (`told_by.<verb>`:
    "a skier skiing", "skis", "skiing on the lake"): the replacement would contradict the caption."""
    told = lexicon.rules.map("told_by")
    return any(found is not None and not caption.words.isdisjoint(found)
               for found in (told.get(verb.forms[0]), told.get(replacement.forms[0])))


def path_particle(caption: ParsedCaption, lexicon: Lexicon, position: int, frame: Frame) -> bool:
    """The particle at token `position`, after an intransitive verb (`frame` without objects), is a preposition
    of a path that governs a noun phrase ("skiing down a snowy hill", "walking up the stairs": the parse tags it
    as a particle); "lay down on", "standing up scratching" and a transitive verb's "holding up a cake" are
    phrasal verbs."""
    tokens = caption.tokens
    if frame.objects or tokens[position].lower not in lexicon.rules["path_words"] or position + 1 == len(tokens):
        return False
    following = tokens[position + 1]
    return following.tag in NOUN_PHRASE_START_TAGS or following.lower in lexicon.rules["count_words"]


def mounted_on(caption: ParsedCaption, lexicon: Lexicon, start: int, landmark: Entry | None) -> bool:
    """The relation at token `start` places a thing, not a living one (`living_classes`), on a landmark things
    are hung or fixed on (`mounting_landmarks`: "a picture on the wall", "tiles are on wall"): beside it reads as
    no scene. "a man sitting on a wall" may still sit beside it."""
    if landmark is None or landmark.forms[0] not in lexicon.rules["mounting_landmarks"]:
        return False
    group = subject_before(caption, start)
    entry = head_entry(caption, group, lexicon) if group is not None else None
    return entry is None or lexicon.noun_class(entry) not in lexicon.rules["living_classes"]


def worn_thing(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The group names a garment (`worn_classes`) or a worn thing the lists lack (`frame_nouns.dress`: "glasses",
    "a hoodie")."""
    head = caption.tokens[group.head].lower
    worn = lexicon.rules.map("frame_nouns").get("dress", frozenset())
    if head in worn or singular(head) in worn:
        return True
    entry = head_entry(caption, group, lexicon)
    return entry is not None and lexicon.noun_class(entry) in lexicon.rules["worn_classes"]


def holds_either_way(caption: ParsedCaption, lexicon: Lexicon, start: int, end: int) -> bool:
    """Listed relation tokens [start, end) would stay true edited: it joins two of one noun ("giraffe left of
    giraffe": each is right of the other too; "a plate on a plate"; not nearness), or a substance on what it covers
    (`covering_substances`: "snow ON trees" is snow next to and under them too)."""
    tokens = caption.tokens
    if caption.words.isdisjoint(lexicon.rules["covering_substances"]):
        # the usual case, read cheaply: no substance, and no noun after the relation named before it
        for token in tokens[end:end + 3]:
            if token.tag in NOUN_TAGS:
                break
        else:
            return False
        if token.lower not in caption.text[:tokens[start].start].lower():
            return False
    listed = lexicon.relations.lookup.get(" ".join(token.lower for token in tokens[start:end]))
    if listed is None:
        return False
    subject = subject_before(caption, start)
    if subject is None or subject.noun_end < start - 2:
        return False
    head = singular(tokens[subject.head].lower)
    if head in lexicon.rules["covering_substances"]:
        return True
    landmark = group_after(caption, end)
    if landmark is None and end < len(tokens) and tokens[end].lower in ("another", "other"):
        landmark = group_after(caption, end + 1)
    # a side, depth or height holds both ways between two of one noun; nearness does not ("car near car")
    return (landmark is not None and singular(tokens[landmark.head].lower) == head
            and listed[0].category in ("horizontal", "depth", "vertical"))
