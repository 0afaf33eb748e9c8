"""What the rules may edit: the checks that drop candidate edits a rule cannot make well.

Each check answers for one recurring failure of the negatives audit (docs/NEGATIVES.md; the numbers are the
audit's patterns):

1. swaps across classes ("A ramp riding skis on top of a man"): `swappable_class`, `same_swap_class`;
2. swapped conjuncts stay true ("a suit and tie"), list items moved out of their list: `conjoined`, `in_list`;
3. "X of Y" heads and non-object nouns ("birds of dozens", "a bench of water"): `heads_of_phrase`, and
   `phrases.NON_OBJECT_NOUNS` looked up by the singular;
4. compounds split or half-replaced ("teddy ponies", "a frozen dog"): `object_entry` (only a whole listed noun
   run is an object; `phrases` joins "hot dog" into one noun);
5. mass nouns and possessives ("eating flower", "on boy's girl"): `mass_fits`, `next_to_possessive`;
6. relations on particles, clothing, passives and ground ("lights under", "close to a blue dress", "below the
   floor"): `relation_object`, `relation_fits`;
7. verbs that do not fit their subject or object ("throwing horses"), posture of things: `verb_fits`;
8. attributes a noun cannot have ("a purple cat", "a vintage woman", "tall hair"): `attribute_fits`.

Noun classes are the categories of `negatives_nouns.txt`, with `role` read as `person` (`noun_class`).
"""

from __future__ import annotations

from .lexicon import Entry, Frame, Lexicon
from .phrases import NON_OBJECT_NOUNS, NOUN_TAGS, NounGroup, ParsedCaption, singular

PERSON_CATEGORIES = frozenset({"person", "role", "generic", "baby"})
# Classes whose nouns are never swapped: surfaces and places (a swap puts the scene inside the object: "a
# white kitchen in a very small stove"), and compounds.
UNSWAPPABLE_CLASSES = frozenset({"ground", "place", "water", "room", "enclosure", "compound",
                                 # classes of mixed sizes and roles: "a building on a door", "hitting a racquet
                                 # with a ball", "an umbrella underneath a backpack", "donuts in a plate"
                                 "structure", "building_part", "sports", "accessory", "container"})
# What one can be inside of: "in" becomes "outside" only for these ("in a kitchen", "in a bus"); flowers
# "outside a vase" or soda "outside bottles" read as mistakes.
CONTAINER_CLASSES = frozenset({"room", "enclosure", "vehicle", "structure"})
# Landmarks of idioms rather than places: "on the phone", "on TV".
IDIOM_LANDMARKS = frozenset({"phone", "cellphone", "cell phone", "television", "tv"})
UNSWAPPABLE_PEOPLE = frozenset({"baby", "generic"})
# Words that tie a caption to one person's gender: a man and a woman exchanged (or replaced) leave them wrong.
GENDERED_WORDS = frozenset({"he", "she", "his", "her", "him", "hers", "himself", "herself", "male", "female"})
# Things whose being "on" something is not flipped: "food below a table", "hot dogs below buns" are absurd.
RESTING_CLASSES = frozenset({"food", "tableware", "cutlery", "container"})
# Replaced as objects, these change the whole scene into an absurd one ("surfers on an airport", "a bike on a
# river"); a compound has no replacement.
UNREPLACED_CLASSES = frozenset({"place", "water", "compound"})
# Classes colour words may describe freely; animals take NATURAL_COLOURS only; other classes (people, food,
# plants, ground, places) get no colour edit at all ("a purple cat", "a blue banana").
COLOURABLE_CLASSES = frozenset({"vehicle", "furniture", "tableware", "cutlery", "container", "electronics",
                                "appliance", "sports", "board", "clothing", "accessory", "structure",
                                "building_part", "fixture", "textile", "shape"})
MATERIAL_CLASSES = frozenset({"furniture", "structure", "building_part", "container", "tableware", "cutlery",
                              "fixture", "shape"})
# (textiles and clothes take colours and patterns; a "wooden towel" is not a material edit)
NATURAL_COLOURS = frozenset({"black", "white", "brown", "gray", "grey", "tan", "beige", "golden", "gold"})
# Attribute categories only man-made things take (a "wooden dog", a "striped man" are not scenes).
MAN_MADE_CATEGORIES = frozenset({"material", "pattern", "shape"})
# Age words: who can be young or elderly, what can be vintage or new; "old" fits both.
PERSON_AGES = frozenset({"young", "old", "elderly"})
THING_AGES = frozenset({"old", "antique", "vintage", "ancient", "new", "modern"})
ANIMAL_CLASSES = frozenset({"animal", "wild_animal", "small_animal", "bird", "fish"})
LIVING_CLASSES = ANIMAL_CLASSES | {"person"}
# Words of the `length` category by what they measure: height ("a tall man") or length ("long hair").
HEIGHT_WORDS, LENGTH_WORDS = frozenset({"tall", "short"}), frozenset({"long", "short"})
TALL_CLASSES = ANIMAL_CLASSES | {"person", "structure", "building_part", "nature"}
# Relation categories that flip along an axis: nonsense on the ground ("under the road", "outside the grass").
GROUND_CLASSES = frozenset({"ground", "place", "water"})  # not rooms: "in a kitchen" may become "outside a kitchen"
FLIPPING_CATEGORIES = frozenset({"vertical", "containment"})
# Things a person wears or holds: a relation to them reads as "wearing" ("a woman in a blue dress").
WORN_CLASSES = frozenset({"clothing"})
# Objects a person or animal is on top of only as a rider ("a man on a skateboard" never becomes "under").
RIDDEN_CLASSES = frozenset({"person", "board"})
NOUN_PHRASE_START_TAGS = NOUN_TAGS | frozenset({"DT", "PRP$", "CD", "JJ", "JJR", "JJS", "VBN", "VBG", "NNP"})
CONJUNCTIONS = frozenset({"and", "or", "&", ",", "both"})


def noun_class(entry: Entry) -> str:
    return "person" if entry.category in PERSON_CATEGORIES else entry.category


def object_entry(caption: ParsedCaption, group: NounGroup, lexicon: Lexicon) -> Entry | None:
    """The listed noun a group names: its whole noun run must be one listed noun (pattern 4: "a dog bed" is
    not a dog, and its "bed" is not replaced alone), and not a non-object ("kinds of", "a view")."""
    tokens = caption.tokens
    head = tokens[group.head].lower
    if head in NON_OBJECT_NOUNS or singular(head) in NON_OBJECT_NOUNS:
        return None
    found = lexicon.nouns.lookup.get(" ".join(t.lower for t in tokens[group.noun_start:group.noun_end]))
    return found[0] if found is not None else None


def head_entry(caption: ParsedCaption, group: NounGroup, lexicon: Lexicon) -> Entry | None:
    """The listed noun of the group's run, or else of its head alone ("a ham sandwich" -> sandwich, "train
    tracks" -> track): for checks that only hold an edit back, never for choosing what to edit."""
    found = object_entry(caption, group, lexicon)
    if found is not None or group.noun_end - group.noun_start == 1:
        return found
    head = caption.tokens[group.head].lower
    if head in NON_OBJECT_NOUNS or singular(head) in NON_OBJECT_NOUNS:
        return None
    listed = lexicon.nouns.lookup.get(head)
    return listed[0] if listed is not None else None


def heads_of_phrase(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group is the head of an "X of Y" phrase ("a plate of food", "a herd of cattle"): an amount, a part or
    a container of what follows, never exchanged or replaced on its own (pattern 3)."""
    after = group.noun_end
    return after < len(caption.tokens) and caption.tokens[after].lower == "of"


def next_to_possessive(caption: ParsedCaption, group: NounGroup) -> bool:
    """A possessive ending follows the group or precedes it ("the boy's kite"): moving either noun leaves the
    ending behind ("on boy's girl", pattern 5)."""
    tokens = caption.tokens
    after = group.noun_end
    before = (group.det if group.det is not None else group.mod_start) - 1
    return ((after < len(tokens) and tokens[after].tag == "POS")
            or (before >= 0 and tokens[before].tag == "POS")
            or (group.det is not None and tokens[group.det].tag == "POS"))


def swappable_class(entry: Entry) -> bool:
    return noun_class(entry) not in UNSWAPPABLE_CLASSES


def same_swap_class(first: Entry, second: Entry) -> bool:
    """Two nouns may exchange places only inside one class, both counted or both mass (pattern 1): a person with
    a person, a vehicle with a vehicle, never a man with a ramp. Babies and generic people ("a person") are not
    swapped: "a baby holding a man" is absurd, "a man ... a person" stays true."""
    if {first.category, second.category} & UNSWAPPABLE_PEOPLE:
        return False
    return noun_class(first) == noun_class(second) and first.mass == second.mass


def in_list(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group is an item of a comma list ("a sink, toilet and tub"): moving one item out of it reads as a
    mistake ("a sink, mirror and tub in front of a large toilet")."""
    tokens = caption.tokens
    start = group.det if group.det is not None else group.mod_start
    return ((start > 0 and tokens[start - 1].lower == ",")
            or (group.noun_end < len(tokens) and tokens[group.noun_end].lower == ","))


def conjoined(caption: ParsedCaption, first: NounGroup, second: NounGroup) -> bool:
    """The two groups are items of one list: only conjunctions and other noun groups stand between them, so
    exchanging them keeps the caption true ("a suit and tie", "a mirror, a shower and a toilet", pattern 2)."""
    start = second.det if second.det is not None else second.mod_start
    inside = {i for group in caption.groups
              for i in range(group.det if group.det is not None else group.mod_start, group.noun_end)}
    between = range(first.noun_end, start)
    return (any(caption.tokens[i].lower in CONJUNCTIONS for i in between)
            and all(caption.tokens[i].lower in CONJUNCTIONS or i in inside for i in between))


def has_indefinite_article(caption: ParsedCaption, group: NounGroup) -> bool:
    return group.det is not None and caption.tokens[group.det].lower in ("a", "an")


def read_as_mass(caption: ParsedCaption, group: NounGroup, entry: Entry) -> bool:
    """The noun is used as a mass noun: a listed mass noun, or a bare singular after "of" ("a box of pizza"),
    whose replacement must be a mass noun too ("a box of muffin" is not English)."""
    if entry.mass:
        return True
    start = group.det if group.det is not None else group.mod_start
    return (group.det is None and caption.tokens[group.head].tag == "NN" and start > 0
            and caption.tokens[start - 1].lower == "of")


def mass_fits(after_article: bool, as_mass: bool, new: Entry) -> bool:
    """A replacement agrees in countability (pattern 5): a noun read as a mass noun (`as_mass`, see
    `read_as_mass`) stays one ("eating grass" never becomes "eating flower"), a noun after "a"/"an"
    (`after_article`, see `has_indefinite_article`) never becomes a mass noun ("a rice")."""
    if after_article:
        return not new.mass
    return new.mass or not as_mass


def attribute_movable_to(category: str, noun: Entry) -> bool:
    """The second `swap_attribute` form may give an attribute of `category` to listed `noun`: colour, material
    and pattern to man-made things, size to things whose size varies (never "huge skiers", "large elephants")."""
    kind = noun_class(noun)
    if category == "material":
        return kind in MATERIAL_CLASSES  # never "a wooden laptop", "a cement skateboard"
    return kind in COLOURABLE_CLASSES


def attribute_fits(word: str, category: str, noun: Entry | None, like: str | None = None) -> bool:
    """Attribute `word` (of adjective `category`) may describe `noun` (pattern 8). For a noun the lists do not
    know (None), `like` (the attribute it replaces) tells what kind of thing it is where the word can: "young"
    describes someone, "vintage" something; otherwise only words that suit anything pass."""
    kind = noun_class(noun) if noun is not None else None
    if category == "colour":
        if kind in ANIMAL_CLASSES:
            return word in NATURAL_COLOURS
        return kind is None or kind in COLOURABLE_CLASSES
    if category in MAN_MADE_CATEGORIES:
        return kind is None or kind in COLOURABLE_CLASSES
    if category == "age":
        if kind is None:
            if like in PERSON_AGES - THING_AGES:
                kind = "person"
            elif like in THING_AGES - PERSON_AGES:
                kind = "thing"
            else:
                return False
        return word in (PERSON_AGES if kind in LIVING_CLASSES else THING_AGES)
    if category == "length":
        if kind is None:
            if like in HEIGHT_WORDS - LENGTH_WORDS:
                return word in HEIGHT_WORDS
            if like in LENGTH_WORDS - HEIGHT_WORDS:
                return word in LENGTH_WORDS
            return False
        return word in (HEIGHT_WORDS if kind in TALL_CLASSES else LENGTH_WORDS)
    if category == "size" and kind == "person":
        return False  # "a little girl" is a child: "a large girl" is not her opposite
    if category in ("emotion", "wakefulness"):
        return kind is None or kind in LIVING_CLASSES
    return True


def group_after(caption: ParsedCaption, position: int) -> NounGroup | None:
    """The noun group that starts right at token `position` (its determiner or first modifier), if any."""
    for group in caption.groups:
        start = group.det if group.det is not None else group.mod_start
        if start == position:
            return group
        if start > position:
            return None
    return None


def group_before(caption: ParsedCaption, position: int) -> NounGroup | None:
    """The last noun group ending at or before token `position`."""
    found = None
    for group in caption.groups:
        if group.noun_end > position:
            break
        found = group
    return found


def subject_before(caption: ParsedCaption, position: int) -> NounGroup | None:
    """The verb's subject, approximated: the last noun group before token `position` that is not the object of
    a preposition ("A man in a red shirt riding ..." -> "man")."""
    found = None
    for group in caption.groups:
        if group.noun_end > position:
            break
        start = group.det if group.det is not None else group.mod_start
        if start == 0 or caption.tokens[start - 1].tag not in ("IN", "TO"):
            found = group
    if found is not None and heads_of_phrase(caption, found):  # "a group of people sitting": the people
        found = group_after(caption, found.noun_end + 1) or found
    return found


def relation_object(caption: ParsedCaption, end: int) -> NounGroup | None:
    """The noun phrase a preposition governs, or None for a particle or an adverb ("lights on", "turned on",
    pattern 6: the next token must open a noun phrase) and for a non-object ("on top.", "in the air")."""
    tokens = caption.tokens
    if end >= len(tokens) or tokens[end].tag not in NOUN_PHRASE_START_TAGS:
        return None
    group = group_after(caption, end)
    head = tokens[group.head].lower if group is not None else ""
    if group is None or head in NON_OBJECT_NOUNS or singular(head) in NON_OBJECT_NOUNS:
        return None
    return group


def relation_fits(category: str, landmark: Entry | None) -> bool:
    """A spatial relation to `landmark` (the listed noun it governs, or None) may be replaced (pattern 6): never
    to something worn ("in a blue dress"), never flipped against the ground or a place ("on the grass" ->
    "under the grass"), never "under" what one rides ("on a skateboard"), never in an idiom ("on the phone");
    containment needs a listed landmark one can be inside of ("in the air", "in their skis" are not places)."""
    kind = noun_class(landmark) if landmark is not None else None
    if kind in WORN_CLASSES or (landmark is not None and landmark.forms[0] in IDIOM_LANDMARKS):
        return False
    if category in FLIPPING_CATEGORIES and kind in GROUND_CLASSES:
        return False
    if category == "vertical" and kind in RIDDEN_CLASSES:
        return False
    if category == "containment":
        return kind in CONTAINER_CLASSES
    return True


def verb_fits(frame: Frame | None, subject: Entry | None, obj: Entry | None) -> bool:
    """A verb may be replaced within its category when its frame fits the caption (pattern 7): a listed subject
    of the frame's classes (an unlisted one passes: "a kid"), and for a transitive frame a listed object of its
    classes; an intransitive frame needs a listed subject ("A sandwich and some grapes sitting on a cloth": what
    a thing does there is true whatever the verb). A category without a frame is never edited."""
    if frame is None:
        return False
    if subject is None and not frame.objects:
        return False
    if subject is not None and noun_class(subject) not in frame.subjects:
        return False
    if frame.objects:
        return obj is not None and noun_class(obj) in frame.objects
    return True
