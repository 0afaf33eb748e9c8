"""Filters of object edits (`swap_object`, `replace_object`): which nouns may be exchanged or replaced, and by
what. The classes and words they read are data (negatives_classes.txt, negatives_words.txt)."""

from __future__ import annotations

from ..lexicon import Entry, Lexicon
from ..phrases import NOUN_TAGS, NounGroup, ParsedCaption, singular
from .common import direct_link, object_entry


def same_age(lexicon: Lexicon, first: Entry, second: Entry) -> bool:
    """Two person nouns name people of one age (`person_age.<age>` of negatives_classes.txt), so the modifiers of one suit the other ("a
    young man" -> "a young woman", never "an old girl"); nouns of other classes always do."""
    groups = lexicon.rules.map("person_age")
    ages = [next((age for age, nouns in groups.items() if entry.forms[0] in nouns), None) for entry in (first, second)]
    return ages[0] == ages[1] or first.category != "person"


def portion_of(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The group follows "slice of", "piece of"... (`portion_words`): the portion fits only what it was cut
    from."""
    start = group.det if group.det is not None else group.mod_start
    tokens = caption.tokens
    return start >= 2 and tokens[start - 1].lower == "of" and tokens[start - 2].lower in lexicon.rules["portion_words"]


def next_to_possessive(caption: ParsedCaption, group: NounGroup) -> bool:
    """A possessive ending follows the group or precedes it ("the boy's kite"): moving either noun leaves the
    ending behind ("on boy's girl", pattern 5)."""
    tokens = caption.tokens
    after = group.noun_end
    before = (group.det if group.det is not None else group.mod_start) - 1
    return ((after < len(tokens) and tokens[after].tag == "POS")
            or (before >= 0 and tokens[before].tag == "POS")
            or (group.det is not None and tokens[group.det].tag == "POS"))


def swappable_class(lexicon: Lexicon, entry: Entry) -> bool:
    return lexicon.noun_class(entry) not in lexicon.rules["unswappable_classes"]


def same_swap_class(lexicon: Lexicon, first: Entry, second: Entry) -> bool:
    """Two nouns may exchange places only inside one class, both counted or both mass (pattern 1): a person with
    a person, a vehicle with a vehicle, never a man with a ramp. Babies and generic people ("a person") are not
    swapped: "a baby holding a man" is absurd, "a man ... a person" stays true."""
    if {first.category, second.category} & lexicon.rules["unswappable_people"]:
        return False
    if lexicon.noun_class(first) != lexicon.noun_class(second) or first.mass != second.mass:
        return False
    # within one kind of a `class.kind` category: a seat never with a surface ("a laptop on a table next to a
    # chair"), a hat never with a shoe
    return first.category == second.category or lexicon.noun_class(first) == "person"


def in_list(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group is an item of a comma list ("a sink, toilet and tub"): moving one item out of it reads as a
    mistake ("a sink, mirror and tub in front of a large toilet")."""
    tokens = caption.tokens
    start = group.det if group.det is not None else group.mod_start
    return ((start > 0 and tokens[start - 1].lower == ",")
            or (group.noun_end < len(tokens) and tokens[group.noun_end].lower == ","))


def conjoined(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """The two groups are items of one list: only conjunctions and other noun groups stand between them, so
    exchanging them keeps the caption true ("a suit and tie", "a mirror, a shower and a toilet", pattern 2)."""
    start = second.det if second.det is not None else second.mod_start
    inside = {i for group in caption.groups
              for i in range(group.det if group.det is not None else group.mod_start, group.noun_end)}
    between = range(first.noun_end, start)
    # words of a noun phrase the parse left outside its group count as in it ("a man and a single woman", "a
    # toilet and exactly one sink")
    loose = lexicon.rules["count_words"] | lexicon.rules["articles"]
    amounts = lexicon.rules["amount_nouns"]  # "fruits and a number of vegetables": an amount is no object
    tokens = caption.tokens
    return (any(tokens[i].lower in lexicon.rules["conjunctions"] for i in between)
            and all(tokens[i].lower in lexicon.rules["conjunctions"] or i in inside or tokens[i].lower in loose
                    or (tokens[i].lower == "of" and tokens[i - 1].lower in amounts) for i in between))


def mutually_linked(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """Only a relation that holds both ways (`mutual_relations`, after auxiliaries: "faucet attached to sink", "a
    lamp is connected to the wall") joins the two groups, and neither has a modifier that would stay behind: the
    exchange says the same ("sink attached to faucet")."""
    tokens = caption.tokens
    start = second.det if second.det is not None else second.mod_start
    words = [token.lower for token in tokens[first.noun_end:start] if token.lower not in lexicon.rules["auxiliaries"]]
    return (0 < len(words) <= 4 and " ".join(words) in lexicon.rules["mutual_relations"]
            and not (first.has_modifiers or second.has_modifiers))


def has_indefinite_article(caption: ParsedCaption, group: NounGroup) -> bool:
    return group.det is not None and caption.tokens[group.det].lower in ("a", "an")


def read_as_mass(caption: ParsedCaption, group: NounGroup, entry: Entry) -> bool:
    """The noun is used as a mass noun: a listed mass noun, a bare singular after "of" ("a box of pizza"), or
    food as a bare singular after a verb or preposition ("eating pizza"), whose replacement must be a mass noun
    too ("a box of muffin", "eating donut" are not English)."""
    if entry.mass:
        return True
    start = group.det if group.det is not None else group.mod_start
    if group.det is not None or caption.tokens[group.head].tag != "NN" or start == 0:
        return False
    before = caption.tokens[start - 1]
    # food without an article after a verb or a preposition is eaten as a mass: "eating pizza", "with cake"
    return before.lower == "of" or (entry.category == "food" and before.tag[:2] in ("VB", "IN"))


def mass_fits(after_article: bool, as_mass: bool, new: Entry) -> bool:
    """A replacement agrees in countability (pattern 5): a noun read as a mass noun (`as_mass`, see
    `read_as_mass`) stays one ("eating grass" never becomes "eating flower"), a noun after "a"/"an"
    (`after_article`, see `has_indefinite_article`) never becomes a mass noun ("a rice")."""
    if after_article:
        return not new.mass
    return new.mass or not as_mass


def exchange_reads(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """Exchanging two objects makes another scene: not when a relation of support or containment links them
    directly ("a mirror above the sink" -> "a sink above the mirror" is rarely a scene), nor, when neither has a
    modifier, nearness or "with" ("a toilet next to a sink" is a sink next to a toilet); "a green chair next to
    a long bench" -> "a green bench next to a long chair" is another scene. Drawn shapes
    (`freely_placed_classes`) may be exchanged across any relation."""
    link = direct_link(caption, lexicon, first, second)
    if link == "with" and all(lexicon.noun_class(entry) in lexicon.rules["dish_classes"] for entry in (
            object_entry(caption, group, lexicon) for group in (first, second)) if entry is not None):
        return False  # a dish and what it comes with: "a large sandwich with a small carrot"
    if link in ("vertical", "containment"):
        entries = [object_entry(caption, group, lexicon) for group in (first, second)]
        return all(entry is not None and lexicon.noun_class(entry) in lexicon.rules["freely_placed_classes"] for entry in entries)
    return not (link in ("proximity", "with") and not (first.has_modifiers or second.has_modifiers))


def repeated_noun(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group's head noun occurs more than once in the caption: a swap would move one copy only."""
    head = caption.tokens[group.head].lower
    return sum(token.lower == head for token in caption.tokens) > 1


def describes_next_noun(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The noun opens a compound modifier of the next one ("a leaf filled tree", "a snow covered field")."""
    tokens = caption.tokens
    after = group.noun_end
    return (after + 1 < len(tokens) and tokens[after].lower in lexicon.rules["compound_participles"]
            and tokens[after + 1].tag in NOUN_TAGS | {"JJ"})


def ridden(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup, person_before: bool) -> bool:
    """The group is what someone rides: after a riding verb, or after "on" / "atop" with a person before it
    ("a man on a horse walking on a beach")."""
    start = group.det if group.det is not None else group.mod_start
    if start == 0:
        return False
    before = caption.tokens[start - 1].lower
    return before in lexicon.rules["riding_words"] or (person_before and before in lexicon.rules["contact_relations"])


def named_elsewhere(caption: ParsedCaption, group: NounGroup, entry: Entry) -> bool:
    """The noun occurs elsewhere in the caption inside a compound ("a train inside a train station", "a dog on a
    dog bed"): replacing the object alone breaks the tie between them. Another object of the same noun ("a
    black dog next to a white dog") is no tie."""
    forms, start, end = entry.forms, group.noun_start, group.noun_end
    found = [index for index, token in enumerate(caption.tokens) if token.lower in forms and not start <= index < end]
    if not found:  # the usual case: the noun is named once
        return False
    heads = {other.head for other in caption.groups}
    return any(index not in heads for index in found)


def same_way(lexicon: Lexicon, first: Entry, second: Entry) -> bool:
    """Two vehicles travel the same way (`way.<way>` of negatives_classes.txt: road, rail, water, air), so one may
    replace the other ("motorbikes riding on the road" never become "boats"); nouns without a way always do."""
    ways = [lexicon.key_of("way", entry.forms[0]) for entry in (first, second)]
    return ways[0] is None or ways[1] is None or ways[0] == ways[1]


def broader_term(lexicon: Lexicon, first: Entry, second: Entry) -> bool:
    """One noun is a broader term of the other (`broader.<noun>`: "teddy bears" -> "toys" stays true)."""
    broader = lexicon.rules.map("broader")
    return (second.forms[0] in broader.get(first.forms[0], ())) or (first.forms[0] in broader.get(second.forms[0], ()))


def scene_fits(caption: ParsedCaption, lexicon: Lexicon, new: Entry) -> bool:
    """A noun that belongs to one kind of scene (`scene_of.<noun>`: a wetsuit to water) is put only into a caption
    naming that scene ("a team wearing orange uniforms" never wears "wetsuits")."""
    scene = lexicon.rules.map("scene_of").get(new.forms[0])
    return scene is None or bool(caption.words & scene)


def verb_objects(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> frozenset[str] | None:
    """What the group's verb takes as its object (`takes.<verb>`), when the group is the object of a listed verb:
    right after it ("reading a book") or as the subject of its passive ("Television is being watched"); else
    None."""
    tokens, takes = caption.tokens, lexicon.verb_objects
    start = group.det if group.det is not None else group.mod_start
    if start > 0 and tokens[start - 1].tag.startswith("VB") and tokens[start - 1].lower in takes:
        return takes[tokens[start - 1].lower]
    after = group.noun_end
    while after < len(tokens) and tokens[after].lower in lexicon.rules["auxiliaries"]:
        after += 1
    if after > group.noun_end and after < len(tokens) and tokens[after].tag == "VBN" and tokens[after].lower in takes:
        return takes[tokens[after].lower]
    return None


def taken_by(lexicon: Lexicon, objects: frozenset[str], new: Entry) -> bool:
    """Noun `new` is among a verb's objects (`verb_objects`): by its singular, its category or its class."""
    return bool({new.forms[0], new.category, lexicon.noun_class(new)} & objects)


def room_fits(caption: ParsedCaption, lexicon: Lexicon, old: Entry, new: Entry) -> bool:
    """A room is replaced only by one that holds what the caption names of it (`found_inside.<room>`): "a bathroom
    with a shower and a sink" never becomes "an office with a shower and a sink"; "a kitchen with a sink" may
    become "a bathroom with a sink"."""
    inside = lexicon.rules.map("found_inside")
    held = inside.get(old.forms[0])
    if not held:
        return True
    named = {word for word in caption.words if word in held or singular(word) in held}
    named = {word if word in held else singular(word) for word in named}
    return named <= inside.get(new.forms[0], frozenset())


def modifies_next_noun(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The group's one noun is also a listed colour and an object noun follows it: it is that colour ("the orange
    fire hydrant" is no fruit; "a square right of" is a square)."""
    tokens = caption.tokens
    listed = lexicon.adjectives.lookup.get(tokens[group.head].lower)
    if group.noun_end - group.noun_start != 1 or listed is None or listed[0].category != "colour":
        return False
    after = tokens[group.noun_end] if group.noun_end < len(tokens) else None
    return (after is not None and after.tag.startswith("NN") and after.lower not in lexicon.rules["non_object_nouns"]
            and singular(after.lower) not in lexicon.rules["non_object_nouns"])


def in_hyphenated_word(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group's nouns are glued by a hyphen to a word around them ("cross-country", "T-shirt"): part of a
    word, not an object."""
    left, right = caption.char_span(group.noun_start, group.noun_end)
    text = caption.text
    return (text[left - 1:left] == "-" and text[left - 2:left - 1].isalnum()) or (
        text[right:right + 1] == "-" and text[right + 1:right + 2].isalnum())


def one_way_link(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """What stands between the two groups gives them roles that fit one way only, so exchanging them makes an
    absurd or a still-true caption: a verb alone between two things that are not alive ("a sink has a faucet", "a
    truck pulls a boat", "trees lost their leaves": a whole and its part, a tool and what it moves); a relation
    of support or containment that the parse missed ("faucet ON sink" in capitals); a verb of a mutual action
    between two people or animals (`mutual_verbs`: "a woman talks to a man" is a man talking to her); a relation
    that fits one way only (`one_way_relations`: "vase made of glass", "leaf fallen from tree")."""
    tokens = caption.tokens
    start = second.det if second.det is not None else second.mod_start
    between = tokens[first.noun_end:start]
    if not between or len(between) > 3:
        return False
    words = [token.lower for token in between]
    if any(word in lexicon.mutual_verb_forms for word in words):
        return True
    relation = " ".join(word for word in words if word not in lexicon.rules["auxiliaries"])
    if relation in lexicon.rules["one_way_relations"]:
        return True  # "vase made of glass", "leaf fallen from tree"
    entries = [object_entry(caption, group, lexicon) for group in (first, second)]
    alive = any(entry is not None and lexicon.noun_class(entry) in lexicon.rules["living_classes"]
                for entry in entries)
    if not alive and all(token.tag.startswith("VB") or token.tag == "MD" or token.lower in lexicon.rules["auxiliaries"]
                         for token in between):
        return True
    listed = lexicon.relations.lookup.get(" ".join(words))
    return (listed is not None and listed[0].category in ("vertical", "containment")
            and not all(entry is not None and lexicon.noun_class(entry) in lexicon.rules["freely_placed_classes"]
                        for entry in entries))
