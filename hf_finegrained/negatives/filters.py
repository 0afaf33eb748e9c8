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

A second round (development-list readings of the first round's output) added: exchanges that read as the same
scene or as no scene (`exchange_reads`, `repeated_noun`, `describes_next_noun`), moves of a colour the noun has
anyway (`implied_colour`), portions and plural-only nouns (`portion_of`, `PLURAL_ONLY`), persons by age
(`same_age`), and for relations: contact becomes "next to" (`side_fits`), grounds are left (`ground_opposite`),
pronoun landmarks (`pronoun_landmark`), what is never under what (`can_be_under`, `directed_verb_before`),
nearness told of where someone stands (`verb_before`, `object_of_verb_before`), postures that clash with
another action (`posture_clashes`) and vehicles that move or stand (`motion_fits`).

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
# A colour word after these is half of one colour ("lime green", "dark blue"): it is not moved alone.
SHADE_WORDS = frozenset({"dark", "light", "bright", "pale", "deep", "lime", "navy", "hot", "baby", "sky"})
# Materials only buildings and their parts are made of, in a move or exchange of attributes.
HEAVY_MATERIALS = frozenset({"brick", "stone", "concrete", "cement", "marble"})
# Participles that make a compound adjective with the noun before them ("a leaf filled tree").
COMPOUND_PARTICIPLES = frozenset({"filled", "covered", "topped", "shaped", "lined", "colored", "coloured", "themed",
                                  "styled", "sized", "loaded", "packed", "stuffed", "decorated", "made"})
# Things that may be anywhere relative to each other: drawn shapes (one above the other either way round).
FREELY_PLACED_CLASSES = frozenset({"shape"})
# Colours a noun usually has: moving one onto it may leave the negative true.
USUAL_COLOURS = {"taxi": ("yellow",), "plate": ("white",), "toilet": ("white",), "sink": ("white",),
                 "refrigerator": ("white", "silver"), "fridge": ("white", "silver"), "banana": ("yellow",),
                 "school bus": ("yellow",), "fire truck": ("red",), "cloud": ("white", "gray", "grey")}
# Person nouns by age: a modified person is replaced only within an age ("a young man" -> "a young woman").
PERSON_AGE_GROUPS = {"man": "adult", "guy": "adult", "gentleman": "adult", "woman": "adult", "lady": "adult",
                     "boy": "child", "girl": "child"}
# Words that tie a caption to one person's gender: a man and a woman exchanged (or replaced) leave them wrong.
GENDERED_WORDS = frozenset({"he", "she", "his", "her", "him", "hers", "himself", "herself", "male", "female"})
# Things whose being "on" something is not flipped: "food below a table", "hot dogs below buns" are absurd.
RESTING_CLASSES = frozenset({"food", "tableware", "cutlery", "container"})
# Replaced as objects, these change the whole scene into an absurd one ("surfers on an airport", "a bike on a
# river"); a compound has no replacement.
# Boards are tied to the scene's activity (a surfboard at a skate park), and so are the sky and water among
# the grounds ("taking off into the slope", "a cruise ship in the mud").
UNREPLACED_CLASSES = frozenset({"place", "water", "compound", "board"})
UNREPLACED_NOUNS = frozenset({"sky", "water"})
# Nouns used in the plural only: they never replace a singular noun ("a pants").
PLURAL_ONLY = frozenset({"pants", "trousers", "shorts", "jeans", "scissors"})
# Portions made of what follows "of": "a slice of pizza" never becomes "a slice of spaghetti".
PORTION_WORDS = frozenset({"slice", "slices", "piece", "pieces", "bite", "bites", "chunk", "chunks", "half",
                           "halves", "loaf", "scoop", "scoops", "wedge", "wedges", "strip", "strips", "serving"})
# Classes colour words may describe freely; animals take NATURAL_COLOURS only; other classes (people, food,
# plants, ground, places) get no colour edit at all ("a purple cat", "a blue banana").
COLOURABLE_CLASSES = frozenset({"vehicle", "furniture", "tableware", "cutlery", "container", "electronics",
                                "appliance", "sports", "ball", "disc", "kite", "board", "clothing", "accessory",
                                "structure", "building_part", "fixture", "textile", "shape"})
MATERIAL_CLASSES = frozenset({"furniture", "structure", "building_part", "container", "tableware", "cutlery",
                              "fixture", "shape"})
# (textiles and clothes take colours and patterns; a "wooden towel" is not a material edit)
NATURAL_COLOURS = frozenset({"black", "white", "brown", "gray", "grey", "tan", "beige", "golden", "gold"})
# Attribute categories only man-made things take (a "wooden dog", a "striped man" are not scenes).
MAN_MADE_CATEGORIES = frozenset({"material", "pattern", "shape"})
# Age words: who can be young or elderly, what can be vintage or new; "old" fits both.
PERSON_AGES = frozenset({"young", "old", "elderly"})
THING_AGES = frozenset({"old", "antique", "vintage", "ancient", "new", "modern"})
# Age words the second swap_attribute form moves: who is "young" is a guess from a photo, and the young
# ("boy", "girl") cannot be old.
MOVED_AGES = THING_AGES | {"elderly"}
CHILDREN = frozenset({"boy", "girl"})
ANIMAL_CLASSES = frozenset({"animal", "wild_animal", "small_animal", "bird", "fish"})
LIVING_CLASSES = ANIMAL_CLASSES | {"person"}
# Words of the `length` category by what they measure: height ("a tall man") or length ("long hair").
HEIGHT_WORDS, LENGTH_WORDS = frozenset({"tall", "short"}), frozenset({"long", "short"})
TALL_CLASSES = ANIMAL_CLASSES | {"person", "structure", "building_part", "nature"}
# Relation categories that flip along an axis: nonsense on the ground ("under the road", "outside the grass").
GROUND_CLASSES = frozenset({"ground", "place", "water"})  # not rooms: "in a kitchen" may become "outside a kitchen"
FLIPPING_CATEGORIES = frozenset({"vertical", "containment"})
# Places with a boundary one is inside or outside of: "in a park" may become "outside a park" ("in the street"
# may not become "outside the street").
BOUNDED_PLACES = frozenset({"field", "park", "city", "forest", "woods", "airport", "station", "parking lot", "farm",
                            "zoo", "yard"})
# Replacements that place a thing beside what it was on, under or in ("a pizza on a plate" -> "next to a plate").
SIDE_RELATIONS = ("next to", "beside")
# Where the ground forbids a flip, a way off it may be told instead: "a car parked on the street" -> "off the
# street", "boats in the water" -> "out of the water" (by the landmark's first form).
GROUND_OPPOSITES = {
    ("vertical", "off"): frozenset({"street", "sidewalk", "highway", "runway", "court", "tennis court"}),
    ("containment", "out of"): frozenset({"water"}),
}
# Prepositions of a path: only something moving goes "down the street", "through a city", "past a forest".
PATH_WORDS = frozenset({"down", "up", "through", "past", "toward", "towards", "across", "into", "over", "around",
                        "along", "by"})
STANDING_VERBS = frozenset({"parked", "sitting", "sits", "sit", "standing", "stands", "stand", "stopped", "lying",
                            "laying"})
# Vehicles that do not move on their own: "a bike is parked" never becomes "a bike is traveling".
UNPOWERED_VEHICLES = frozenset({"bicycle", "bike"})
# Vertical relations of contact: "on a table" is not "next to" it, but "above a table" may be.
CONTACT_RELATIONS = frozenset({"on", "on top of", "atop", "upon"})
# What one is "in" that one may instead be beside: containers and vehicles, not rooms or places.
SIDE_CLASSES = frozenset({"tableware", "container", "fixture", "appliance", "vehicle", "furniture"})
# Landmarks one is on or in without being beside: skis are worn ("a man beside skis"), people are "in glasses",
# a face is "in the mirror".
NOT_BESIDE = frozenset({"ski", "glass", "mirror"})
# Rooms that name no place: "two women in a room" -> "outside of a room" is no scene.
GENERIC_ROOMS = frozenset({"room"})
OBJECT_PRONOUNS = frozenset({"it", "them", "him", "her"})
# What is never under what rests on it: "a clock underneath a building", "meat under a plate", "a cake below a
# pizza". Furniture is, but not under a person's seat ("a man reading a book below a bench").
NEVER_UNDER_CLASSES = frozenset({"tableware", "food", "structure", "building_part"})
# Verbs that give "on"/"above" its direction: "rises above a fence" never becomes "rises below".
DIRECTED_VERBS = frozenset({"rise", "rises", "rising", "rose", "perch", "perches", "perched", "perching", "climb",
                            "climbs", "climbed", "climbing", "rest", "rests", "rested", "resting", "hang", "hangs",
                            "hung", "hanging", "mounted", "stacked", "piled"})
# "onto" needs a verb of motion: never put into a negative ("standing onto"), nor edited ("holding onto").
NEVER_INSERTED_RELATIONS = frozenset({"onto"})
# Verbs read in captions but never put into a negative: "laying" for "lying" is common in captions, not English.
NEVER_INSERTED_VERBS = frozenset({"lay"})
# Posture verbs: their edit must not clash with another action ("standing ... cutting slices" -> "lying").
POSTURE_CATEGORIES = frozenset({"posture", "large_posture", "kneeling"})
# After these a thing is ridden: "riding on a skateboard" never becomes "riding next to a skateboard".
RIDING_WORDS = frozenset({"ride", "rides", "rode", "riding", "ridden"})
AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "'s", "has", "have", "had"})
# Things a person wears or holds: a relation to them reads as "wearing" ("a woman in a blue dress").
WORN_CLASSES = frozenset({"clothing"})
# Objects a person or animal is on top of only as a rider ("a man on a skateboard" never becomes "under").
RIDDEN_CLASSES = frozenset({"person", "board"})
NOUN_PHRASE_START_TAGS = NOUN_TAGS | frozenset({"DT", "PRP$", "CD", "JJ", "JJR", "JJS", "VBN", "VBG", "NNP"})
CONJUNCTIONS = frozenset({"and", "or", "&", ",", "both"})


def noun_class(entry: Entry) -> str:
    """The class the filters read: the noun's category, without the kind of a `class.kind` category, and
    `person` for every category of people."""
    category = entry.category.partition(".")[0]
    return "person" if category in PERSON_CATEGORIES else category


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


def same_age(first: Entry, second: Entry) -> bool:
    """Two person nouns name people of one age (`PERSON_AGE_GROUPS`), so the modifiers of one suit the other ("a
    young man" -> "a young woman", never "an old girl"); nouns of other classes always do."""
    ages = [PERSON_AGE_GROUPS.get(entry.forms[0]) for entry in (first, second)]
    return ages[0] == ages[1] or first.category != "person"


def portion_of(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group follows "slice of", "piece of"... (`PORTION_WORDS`): the portion fits only what it was cut
    from."""
    start = group.det if group.det is not None else group.mod_start
    tokens = caption.tokens
    return start >= 2 and tokens[start - 1].lower == "of" and tokens[start - 2].lower in PORTION_WORDS


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
    if noun_class(first) != noun_class(second) or first.mass != second.mass:
        return False
    # within one kind of a `class.kind` category: a seat never with a surface ("a laptop on a table next to a
    # chair"), a hat never with a shoe
    return first.category == second.category or noun_class(first) == "person"


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
    (`FREELY_PLACED_CLASSES`) may be exchanged across any relation."""
    link = direct_link(caption, lexicon, first, second)
    if link == "with" and all(noun_class(entry) in lexicon.rules["dish_classes"] for entry in (
            object_entry(caption, group, lexicon) for group in (first, second)) if entry is not None):
        return False  # a dish and what it comes with: "a large sandwich with a small carrot"
    if link in ("vertical", "containment"):
        entries = [object_entry(caption, group, lexicon) for group in (first, second)]
        return all(entry is not None and noun_class(entry) in FREELY_PLACED_CLASSES for entry in entries)
    return not (link in ("proximity", "with") and not (first.has_modifiers or second.has_modifiers))


def direct_link(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> str | None:
    """The relation category (or "with") that links `first` to `second` directly: it ends where `second`
    begins, and at most a verb ("sitting", "is") stands between `first` and it."""
    tokens = caption.tokens
    start = second.det if second.det is not None else second.mod_start
    if start > first.noun_end and tokens[start - 1].lower == "with":
        return "with" if start - 1 - first.noun_end <= 1 else None
    for begin, end in caption.relations:
        if end == start and begin >= first.noun_end and begin - first.noun_end <= 2:
            phrase = " ".join(token.lower for token in tokens[begin:end])
            listed = lexicon.relations.lookup.get(phrase)
            return listed[0].category if listed is not None else None
    return None


def repeated_noun(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group's head noun occurs more than once in the caption: a swap would move one copy only."""
    head = caption.tokens[group.head].lower
    return sum(token.lower == head for token in caption.tokens) > 1


def describes_next_noun(caption: ParsedCaption, group: NounGroup) -> bool:
    """The noun opens a compound modifier of the next one ("a leaf filled tree", "a snow covered field")."""
    tokens = caption.tokens
    after = group.noun_end
    return (after + 1 < len(tokens) and tokens[after].lower in COMPOUND_PARTICIPLES
            and tokens[after + 1].tag in NOUN_TAGS | {"JJ"})


def implied_attribute(lexicon: Lexicon, category: str, word: str, noun: Entry, noun_attributes: list[str]) -> bool:
    """An attribute moved onto a noun that may have it anyway: a colour onto one with a material among its
    attribute categories (`noun_attributes`: "a brown wooden bench"), or a usual colour or material of the noun
    (`usual.<noun>` of negatives_classes.txt: "a yellow taxi", "a wooden table", "a metal fork")."""
    if category == "colour" and "material" in noun_attributes:
        return True
    usual = lexicon.rules.map("usual")
    return any(word in usual.get(form, ()) for form in noun.forms[:1])


def attribute_movable_to(category: str, noun: Entry, word: str | None = None) -> bool:
    """The second `swap_attribute` form may give an attribute of `category` to listed `noun`: colour, material
    and pattern to man-made things, age to them and to grown people and animals (`attribute_fits` then keeps
    "young" for the living and "vintage" for things; never "an old baby")."""
    kind = noun_class(noun)
    if category == "material":
        if word in HEAVY_MATERIALS:
            return kind in ("structure", "building_part")  # never "brick cabinets", "a stone blender"
        return kind in MATERIAL_CLASSES  # never "a wooden laptop", "a cement skateboard"
    if category == "age":  # "young" never moves (see `MOVED_AGES`): a young boy is young anyway
        return (kind in COLOURABLE_CLASSES | LIVING_CLASSES) and noun.category not in UNSWAPPABLE_PEOPLE and (
            noun.forms[0] not in CHILDREN)
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


def attached_thing(caption: ParsedCaption, lexicon: Lexicon, start: int) -> bool:
    """What the relation at token `start` places is a part, a marking or a fixture of its landmark ("the number 5
    on a bus", "wipers on a car", "a tap on a sink": `attached` nouns and `attached_classes`): it is "on" its
    landmark by being part of it, and neither under nor beside it."""
    group = group_before(caption, start)
    tokens = caption.tokens
    if group is None or not (group.noun_end == start or group.noun_end == start - 1 and tokens[start - 1].tag == "CD"):
        return False
    attached = lexicon.rules["attached"]
    head = tokens[group.head].lower
    run = " ".join(token.lower for token in tokens[group.noun_start:group.noun_end])
    if run in attached or head in attached or singular(head) in attached:
        return True
    entry = head_entry(caption, group, lexicon)
    return entry is not None and noun_class(entry) in lexicon.rules["attached_classes"]


def ridden(caption: ParsedCaption, group: NounGroup, person_before: bool) -> bool:
    """The group is what someone rides: after a riding verb, or after "on" / "atop" with a person before it
    ("a man on a horse walking on a beach")."""
    start = group.det if group.det is not None else group.mod_start
    if start == 0:
        return False
    before = caption.tokens[start - 1].lower
    return before in RIDING_WORDS or (person_before and before in CONTACT_RELATIONS)


def named_elsewhere(caption: ParsedCaption, group: NounGroup, entry: Entry) -> bool:
    """The noun occurs elsewhere in the caption inside a compound ("a train inside a train station", "a dog on a
    dog bed"): replacing the object alone breaks the tie between them. Another object of the same noun ("a
    black dog next to a white dog") is no tie."""
    forms = set(entry.forms)
    heads = {other.head for other in caption.groups}
    return any(token.lower in forms and index not in heads for index, token in enumerate(caption.tokens)
               if not group.noun_start <= index < group.noun_end)


def attribute_replaceable(caption: ParsedCaption, lexicon: Lexicon, index: int, category: str,
                          group: NounGroup | None, noun: Entry | None) -> bool:
    """The attribute at token `index` names a contrast its replacement can deny: brightness only of a listed
    thing, not of a colour ("dark brown") nor of the living ("a dark dog" is a dark-coloured dog); no size of a
    body part ("big ears" -> "small ears": sizes of parts are relative)."""
    tokens = caption.tokens
    if category == "brightness":
        following = tokens[index + 1].lower if index + 1 < len(tokens) else ""
        listed = lexicon.adjectives.lookup.get(following)
        if listed is not None and listed[0].category == "colour":
            return False
        return noun is not None and noun_class(noun) not in LIVING_CLASSES
    if category == "size" and group is not None and noun is None:
        head = tokens[group.head].lower
        return head not in lexicon.rules["body_parts"] and singular(head) not in lexicon.rules["body_parts"]
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


def pronoun_landmark(caption: ParsedCaption, end: int, category: str) -> bool:
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
    return tokens[end].tag == "PRP" and word in OBJECT_PRONOUNS


def in_slashed_word(caption: ParsedCaption, start: int, end: int) -> bool:
    """The token span touches a slash ("an over/under pass"): part of a word, not a relation."""
    left, right = caption.char_span(start, end)
    return caption.text[left - 1:left] == "/" or caption.text[right:right + 1] == "/"


def directed_verb_before(caption: ParsedCaption, position: int) -> bool:
    """A verb of `DIRECTED_VERBS` stands right before token `position` (or one adverb or object before it:
    "resting its head on")."""
    tokens = caption.tokens
    return any(tokens[i].lower in DIRECTED_VERBS for i in range(max(0, position - 3), position))


def motion_fits(caption: ParsedCaption, end: int, subject: Entry | None) -> bool:
    """A vehicle's "parked" / "driving" (ending before token `end`) may change: its subject moves on its own,
    and a preposition of place or the caption's end follows (never "parked down the street", "parked through a
    city", "travel the Thames", nor "parked" before a noun it describes: "parked blue motorcycles")."""
    tokens = caption.tokens
    if subject is not None and subject.forms[0] in UNPOWERED_VEHICLES:
        return False
    if end == len(tokens) or not tokens[end].text[0].isalnum():
        return True
    return tokens[end].tag in ("IN", "TO") and tokens[end].lower not in PATH_WORDS


def posture_clashes(caption: ParsedCaption, end: int) -> bool:
    """A posture verb ending before token `end` is followed by "at" ("sit at a table") or by another action
    ("standing in a kitchen preparing food"): another posture would contradict the rest of the caption."""
    tokens = caption.tokens
    return (end < len(tokens) and tokens[end].lower == "at") or any(
        token.tag.startswith("VB") and token.lower not in AUXILIARIES for token in tokens[end:])


def verb_before(caption: ParsedCaption, position: int) -> bool:
    """A verb other than an auxiliary comes before token `position`: nearness is told of where someone stands or
    sits ("standing in a bathroom away from the sink"), not of a described thing ("a bride far from a cake")."""
    return any(token.tag.startswith("VB") and token.lower not in AUXILIARIES
               for token in caption.tokens[:position])


def object_of_verb_before(caption: ParsedCaption, position: int) -> bool:
    """The noun group right before token `position` is a verb's object ("holding a stick next to"): "away from"
    would read as a direction the object is held or moved in, which may be true."""
    group = group_before(caption, position)
    if group is None or group.noun_end != position:
        return False
    start = group.det if group.det is not None else group.mod_start
    return start > 0 and caption.tokens[start - 1].tag.startswith("VB")


def can_be_under(landmark: Entry | None, person_before: bool) -> bool:
    """"on X" may become "under X": never for what things rest on or are fixed to (`NEVER_UNDER_CLASSES`), and
    not furniture when a person comes before it (the person's seat: "reading a book below a park bench")."""
    kind = noun_class(landmark) if landmark is not None else None
    return kind not in NEVER_UNDER_CLASSES and not (kind == "furniture" and person_before)


def side_fits(category: str, landmark: Entry | None) -> bool:
    """"on", "under" or "in" a listed thing may become "next to"/"beside" it (`SIDE_RELATIONS`): being on or in
    a plate, a bench or a car is not being beside it. Never for the ground or places ("next to the grass"),
    worn things or idioms, and "in" only for things one is in without being surrounded by a place (`SIDE_CLASSES`:
    "in a bowl" -> "next to a bowl", never "in a kitchen" -> "next to a kitchen")."""
    if landmark is None or category not in ("vertical", "containment"):
        return False  # (the caller keeps vertical relations of contact only: "on", not "above")
    kind = noun_class(landmark)
    if (kind in GROUND_CLASSES | WORN_CLASSES | {"room", "enclosure", "compound"}
            or landmark.forms[0] in IDIOM_LANDMARKS | NOT_BESIDE):
        return False
    return category == "vertical" or kind in SIDE_CLASSES


def ground_opposite(caption: ParsedCaption, start: int, category: str, phrase: str,
                    landmark: Entry | None) -> str | None:
    """The way off a ground or water landmark (`GROUND_OPPOSITES`) for "on" and "in" (relation at token
    `start`), or None. "off" needs a verb of standing or parking before it: "a car parked off the street", never
    "traffic lights off a city street"."""
    if landmark is None or phrase not in ("on", "in"):
        return None
    if category == "vertical" and (start == 0 or caption.tokens[start - 1].lower not in STANDING_VERBS):
        return None
    for (kind, opposite), landmarks in GROUND_OPPOSITES.items():
        if kind == category and landmark.forms[0] in landmarks:
            return opposite
    return None


def relation_fits(category: str, landmark: Entry | None) -> bool:
    """A spatial relation to `landmark` (the listed noun it governs, or None) may be replaced (pattern 6): never
    to something worn ("in a blue dress"), never flipped against the ground or a place ("on the grass" ->
    "under the grass"), never "under" what one rides ("on a skateboard"), never in an idiom ("on the phone");
    containment needs a listed landmark one can be inside of ("in the air", "in their skis" are not places)."""
    kind = noun_class(landmark) if landmark is not None else None
    if kind in WORN_CLASSES or (landmark is not None and landmark.forms[0] in IDIOM_LANDMARKS):
        return False
    if category == "containment" and landmark is not None and landmark.forms[0] in BOUNDED_PLACES:
        return True  # "in a park" -> "outside a park"
    if category in FLIPPING_CATEGORIES and kind in GROUND_CLASSES:
        return False
    if category == "vertical" and kind in RIDDEN_CLASSES:
        return False
    if category == "containment":
        return kind in CONTAINER_CLASSES and landmark.forms[0] not in GENERIC_ROOMS
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
