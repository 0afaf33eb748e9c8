"""The rules of the negative types (`types.NEGATIVE_TYPES`): candidates, then a choice.

For each type, `<type>_candidates(caption, lexicon)` lists every edit the rule can make well: every admissible
span and replacement, the checks of `filters/` having dropped what the audit found bad (docs/NEGATIVES.md).
The function named after the type draws one of them: a span uniformly, then one of its edits (`choose`), from
the caption's own random stream, so the result depends only on (seed, type, caption). A plausibility scorer
(`scoring.py`) may pick among a few drawn candidates instead (`HardNegativeGenerator(scorer=...)`).

Differences from the CE-CLIP reference scripts: edits are made on token offsets (the reference replaces raw
substrings, so "man" -> "woman" also turns "woman" into "wowoman"), replacements come from shipped word lists
by category and are filtered instead of drawn from a masked language model, and swaps exchange whole noun runs
or modifier spans and fix "a"/"an" by exchanging the two articles, so a swap keeps the caption's multiset of
words (moving one attribute may turn an "a" into "an").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence
from typing import Any, NamedTuple, Protocol

from . import filters
from .lexicon import VERB_SLOTS, VERB_TAG_SLOT, Entry, Lexicon, inflect_verb
from .phrases import CAPITAL_RELATION_TAG, NounGroup, ParsedCaption, singular
from .text import Edit, apply_edits, indefinite_article, match_case, normalize
from .types import DEFAULT_NEGATIVE_TYPES


class Chooser(Protocol):
    """What a rule draws with: `random.Random` or the cheaper `CaptionRandom`."""

    def choice(self, items: Sequence[Any]) -> Any: ...

    def shuffle(self, items: MutableSequence[Any]) -> None: ...


class Candidate(NamedTuple):
    """One edit a rule can make: `slot` names the span it changes (the built-in choice draws a slot first, so a
    span with many replacements is not favoured), `edits` are character edits of the caption."""

    slot: int
    edits: tuple[Edit, ...]


Rule = Callable[[ParsedCaption, Lexicon, Chooser], "str | None"]
CandidateRule = Callable[[ParsedCaption, Lexicon], list[Candidate]]
# a rule's candidates slot by slot: (slot, its candidates in order), each slot once (`draw_slots`)
SlotRule = Callable[[ParsedCaption, Lexicon], "Sequence[tuple[int, Iterable[Candidate]]]"]
ARTICLES = frozenset({"a", "an"})
ADJECTIVE_TAGS = frozenset({"JJ", "JJR"})
MODIFIER_LINKS = frozenset({",", "and", "-"})
PREPOSITION_TAGS = frozenset({"IN", "TO"})
# tags the small tagger gives a verb's one-word object in VL-CheckList's captions ("man riding skateboard": RB)
MISTAGGED_NOUN_TAGS = frozenset({"NNP", "NNPS", "RB", "JJR", "VBZ", "VBP"})
RELATION_WORD_TAGS = PREPOSITION_TAGS | {CAPITAL_RELATION_TAG}  # a one-word relation: "on", "ON" ("cup ON table")
# Tags spaCy gives a VL-CheckList phrase's opening noun read as an imperative or a name ("fork ON table")
INITIAL_NOUN_MISTAGS = frozenset({"VB", "VBP", "VBZ", "NNP"})
FINITE_VERB_TAGS = frozenset({"VBZ", "VBP", "VBD"})  # never right after a preposition
# A participle the tagger makes of a garment's modifier ("WEARING striped apron", "riding boots")
PARTICIPLE_MODIFIER_TAGS = frozenset({"VBD", "VBN", "VBG"})
LIST_WORD_TAGS = frozenset({"DT", "CD", "JJ", "JJR", "JJS", "PRP$"})  # words of a noun phrase outside its group
# Types that edit the statement before a question ("a man riding a wave. is he the only surfer? yes." -> "watching
# a wave"): where things are and what they do is seldom asked again (`filters.asked_again` checks); the other types
# keep the whole statement, which the question often restates ("A kitchen with a stove. is this a kitchen? yes.").
STATEMENT_EDITED = frozenset({"replace_relation"})


def _finish(caption: ParsedCaption, edits: Sequence[Edit]) -> str | None:
    result = apply_edits(caption.text, edits)
    return None if normalize(result) == caption.normalized else result


def candidate_text(caption: ParsedCaption, candidate: Candidate) -> str | None:
    """The negative a candidate makes (None if it would equal the caption)."""
    return _finish(caption, candidate.edits)


def draw(caption: ParsedCaption, candidates: list[Candidate], rng: Chooser, count: int = 1) -> list[str]:
    """The one choice of the rules: up to `count` distinct negatives, each drawn without replacement as a slot
    uniformly, then one of its candidates uniformly (so a span with many replacements is not favoured). The
    built-in choice keeps the first; a scorer (`HardNegativeGenerator(scorer=...)`) rates them all."""
    return draw_slots(caption, by_slot(candidates), rng, count)


def by_slot(candidates: Iterable[Candidate]) -> list[tuple[int, list[Candidate]]]:
    """`candidates` grouped by slot, as `draw_slots` reads them (each slot's candidates in their order)."""
    slots: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        found = slots.get(candidate.slot)
        if found is None:
            slots[candidate.slot] = [candidate]
        else:
            found.append(candidate)
    return list(slots.items())


def draw_slots(caption: ParsedCaption, slots: Iterable[tuple[int, Iterable[Candidate]]], rng: Chooser,
               count: int = 1) -> list[str]:
    """`draw` on candidates given slot by slot: (slot, its candidates in order), each slot once, every candidate
    of it carrying that slot. A slot's candidates are read up to the first (is the slot open?) until the slot is
    drawn, then in full, so a lazy iterable per slot (`replace_object_slots`) builds only the drawn slot's
    candidates. The random draws, and so the negatives, are those of `draw` on all the candidates."""
    waiting: dict[int, tuple[Candidate, Iterator[Candidate]]] = {}  # open slots not drawn yet: first, the rest
    for slot, found in slots:
        found = iter(found)
        first = next(found, None)
        if first is not None:
            waiting[slot] = (first, found)
    drawn: dict[int, list[Candidate]] = {}  # slots drawn before: their candidates not yet picked (never empty)
    texts: list[str] = []
    while (waiting or drawn) and len(texts) < count:
        slot = rng.choice(sorted([*waiting, *drawn]))
        options = drawn.get(slot)
        if options is None:
            first, rest = waiting.pop(slot)
            options = [first, *rest]
        pick = rng.choice(options)
        text = candidate_text(caption, pick)
        if text is not None and text not in texts:
            texts.append(text)
            if len(texts) == count:
                break
        options = [candidate for candidate in options if candidate is not pick]
        if options:
            drawn[slot] = options
        else:
            drawn.pop(slot, None)
    return texts


def choose(caption: ParsedCaption, candidates: list[Candidate], rng: Chooser) -> str | None:
    """The built-in choice (no model): the first of `draw`."""
    drawn = draw(caption, candidates, rng, 1)
    return drawn[0] if drawn else None


def _cased(caption: ParsedCaption, new: str, old: str) -> str:
    """`new` in the casing of `old`, or all capitals in an all-capitals caption ("A MAN ON A HORSE")."""
    return new.upper() if caption.is_upper else match_case(new, old)


def _objects(caption: ParsedCaption, lexicon: Lexicon) -> list[tuple[NounGroup, Entry]]:
    """The groups naming a listed object, with its entry, that are not the head of an "X of Y" phrase (made once per
    caption and lexicon, kept on the caption: never change the list)."""
    known = caption.objects
    if known is not None and known[0] is lexicon:
        return known[1]
    found = []
    for group in caption.groups:
        entry = filters.object_entry(caption, group, lexicon)
        if entry is not None and not filters.heads_of_phrase(caption, group):
            found.append((group, entry))
    caption.objects = (lexicon, found)
    return found


def _article_before(caption: ParsedCaption, position: int) -> int | None:
    """Index of an "a"/"an" token right before `position`, if there is one."""
    if position > 0 and caption.tokens[position - 1].lower in ARTICLES:
        return position - 1
    return None


def _article_edit(caption: ParsedCaption, article: int | None, next_word: str) -> Edit | None:
    """The edit that makes article `article` agree with `next_word`, or None when it already does."""
    if article is None:
        return None
    token = caption.tokens[article]
    wanted = indefinite_article(next_word)
    return None if token.lower == wanted else (token.start, token.end, _cased(caption, wanted, token.text))


def _word_boundary(text: str, at: int) -> bool:
    """No word character or hyphen on both sides of offset `at`."""
    glued = lambda ch: ch.isalnum() or ch == "-"  # noqa: E731
    return not (0 < at < len(text) and glued(text[at - 1]) and glued(text[at]))


def _swap_spans(caption: ParsedCaption, first: tuple[int, int], second: tuple[int, int]) -> list[Edit] | None:
    """Edits exchanging two token spans (casing follows the position), plus an article exchange if needed.

    Returns None when the articles cannot agree without adding or dropping a word.
    """
    text_a, text_b = caption.span_text(*first), caption.span_text(*second)
    (a_start, a_end), (b_start, b_end) = caption.char_span(*first), caption.char_span(*second)
    if not all(_word_boundary(caption.text, at) for at in (a_start, a_end, b_start, b_end)):
        return None  # part of a hyphenated word ("cross-country"): moving it would change the words
    edits: list[Edit] = [(a_start, a_end, _cased(caption, text_b, text_a)),
                         (b_start, b_end, _cased(caption, text_a, text_b))]
    articles = [_article_before(caption, first[0]), _article_before(caption, second[0])]
    needs = [_article_edit(caption, articles[0], text_b), _article_edit(caption, articles[1], text_a)]
    if needs[0] is None and needs[1] is None:
        return edits
    if needs[0] is not None and needs[1] is not None:  # one "a" and one "an": exchanging them keeps the words
        return edits + needs
    return None


def swap_object_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """Two listed objects of one class and number exchange places; their modifiers stay where they were ("a red
    ring left of a blue bar" -> "a red bar left of a blue ring"). Where no such exchange reads, two unmodified noun
    groups may exchange places (`_exchanged_groups`): a doer and the one done to ("A coach teaches a boxer." ->
    "A boxer teaches a coach."), two things one behind the other ("trees behind frisbee" -> "frisbee behind
    trees")."""
    tokens = caption.tokens
    objects = _objects(caption, lexicon)
    if not any(tokens[a.head].tag == tokens[b.head].tag and filters.same_swap_class(lexicon, entry_a, entry_b)
               for index, (a, entry_a) in enumerate(objects) for b, entry_b in objects[index + 1:]):
        # no two objects of one class and number; a doer and the one done to, or two things one behind the other
        return [Candidate(slot, edits) for slot, edits in enumerate(_exchanged_groups(caption, lexicon))]
    objects = [(group, entry) for group, entry in objects
               if filters.swappable_class(lexicon, entry) and not filters.next_to_possessive(caption, group)
               and not filters.in_list(caption, group) and not filters.describes_next_noun(caption, lexicon, group)
               and not _content(caption, lexicon, group) and not _belongs_with(caption, lexicon, group, entry)]
    candidates = []
    for index, (a, entry_a) in enumerate(objects):
        for b, entry_b in objects[index + 1:]:
            if (tokens[a.head].tag != tokens[b.head].tag or not filters.same_swap_class(lexicon, entry_a, entry_b)
                    or (entry_a.category, entry_a.cluster) == (entry_b.category, entry_b.cluster)
                    or filters.conjoined(caption, lexicon, a, b) or filters.one_way_link(caption, lexicon, a, b)
                    or filters.mutually_linked(caption, lexicon, a, b)):
                continue  # "a sink has a faucet", "faucet ON sink", "a woman talks to a man", "faucet attached to sink"
            if lexicon.noun_class(entry_a) == "person" and (
                    a.has_modifiers or b.has_modifiers or caption.words & lexicon.rules["gendered_words"]
                    or caption.words & lexicon.rules["gendered_clothing"]):
                continue  # "A male girl", "a woman ... his chest", "a woman in a skirt" -> "a man in a skirt"
            if lexicon.noun_class(entry_a) == "person" and (_one_way_verb_between(caption, lexicon, a, b)
                                                             or _another(caption, b)):
                continue  # "a man holding a girl" -> "a girl holding a man"; "a boy ... another tennis player"
            if _may_be_one(entry_a, entry_b) and _placed_between(caption, lexicon, a, b):
                continue  # "woman left of skier": she may be a skier too ("a policeman arrests a man" is no place)
            if {entry_a.forms[0], entry_b.forms[0]} & lexicon.rules["gendered_clothing"]:
                continue  # "a girl in a floral dress next to a boy in a blue shirt" -> "a boy in a blue dress"
            if entry_a.category == entry_b.category and entry_a.category in lexicon.rules["positional_roles"]:
                continue  # "the catcher behind the batter": each role has its place and its action
            if _medium(lexicon, entry_a) != _medium(lexicon, entry_b):
                continue  # "a parked van below a low flying airplane" -> "a low flying van"
            if _usual_after_swap(caption, lexicon, a, entry_b) or _usual_after_swap(caption, lexicon, b, entry_a):
                continue  # "a white toilet next to the shower" -> "a white shower": showers are white too
            if (not filters.exchange_reads(caption, lexicon, a, b) or filters.repeated_noun(caption, a)
                    or filters.repeated_noun(caption, b)):
                continue  # "a sink above the mirror", "a sink next to a toilet"; "a table and table"
            edits = _swap_spans(caption, (a.noun_start, a.noun_end), (b.noun_start, b.noun_end))
            if edits is not None:
                candidates.append(Candidate(len(candidates), tuple(edits)))
    if candidates:
        return candidates  # the exchanges of whole groups only where the nouns' exchange made none
    return [Candidate(slot, edits) for slot, edits in enumerate(_exchanged_groups(caption, lexicon))]


def _exchanged_groups(caption: ParsedCaption, lexicon: Lexicon) -> list[tuple[Edit, ...]]:
    """The exchanges of two noun groups that `swap_object` makes besides its exchanges of listed nouns
    of one class: a doer and the one done to (`_doer_and_done_to`), two things one behind or left of the other
    (`_placed_pair`). Modifiers never move with their noun: that breaks the type's promise (modifiers stay in
    place), and both readers of the seventh audit labelled such rows WRONG_KIND ("tree behind red bus" -> "red bus
    behind tree"); where a group has modifiers only the nouns are exchanged, and only where each modifier suits
    its new noun (`_modifiers_fit`: never "bus behind red tree")."""
    return [edits for edits in (_doer_and_done_to(caption, lexicon), _placed_pair(caption, lexicon))
            if edits is not None]


def _placed_pair(caption: ParsedCaption, lexicon: Lexicon) -> tuple[Edit, ...] | None:
    """A caption that is two listed things and a relation of depth or side between them (`exchanged_relations`),
    or one above the other where both may lie on each other (`_stackable`: "pillow ON bag" -> "bag ON pillow"),
    exchanges the two groups ("trees behind frisbee" -> "frisbee behind trees", "a cup left of a laptop" -> "a
    laptop left of a cup"): one place is told the other way round. Modifiers stay in place where each suits the
    noun that takes its place (`_modifiers_fit`: "fence behind yellow giraffe" -> "giraffe behind yellow
    fence"); not for a backdrop
    (`backdrop_classes`: "forest behind elephant"), two of one noun, a verb or participle beside the relation
    ("tree growing behind sign"), nor "in front of" a living thing ("man in front of computer": the computer is
    in front of him too)."""
    groups, tokens = caption.groups, caption.tokens
    if len(groups) != 2 or not caption.relations:
        return None
    first, second = groups
    start = second.det if second.det is not None else second.mod_start
    if ((first.det if first.det is not None else first.mod_start) != 0
            or any(token.tag not in (".", ",") for token in tokens[second.noun_end:])):
        return None
    relation = next(((begin, end) for begin, end in caption.relations if end == start), None)
    if relation is None or any(token.lower not in lexicon.rules["auxiliaries"]
                               for token in tokens[first.noun_end:relation[0]]):
        return None
    phrase = " ".join(token.lower for token in tokens[relation[0]:relation[1]])
    listed = lexicon.relations.lookup.get(phrase)
    if listed is None or listed[0].category not in lexicon.rules["exchanged_relations"] and not (
            listed[0].category == "vertical" and _stackable(lexicon, tokens[first.head].lower)
            and _stackable(lexicon, tokens[second.head].lower)):
        return None
    if any(tokens[index].lower in lexicon.nouns.lookup for group in groups
           for index in range(group.noun_start, group.head) if filters.object_entry(caption, group, lexicon) is None):
        return None  # "man ducks behind a door": a verb read as a noun after a listed noun
    entries = [filters.head_entry(caption, group, lexicon) for group in groups]
    if any(entry is None or lexicon.noun_class(entry) in lexicon.rules["backdrop_classes"] for entry in entries):
        return None
    if (entries[0].category, entries[0].cluster) == (entries[1].category, entries[1].cluster):
        return None  # "car left of car"
    if _may_be_one(entries[0], entries[1]):
        return None  # "man behind snowboarder": the man may be a snowboarder too
    if listed[0].category == "depth" and listed[0].cluster == 0 and lexicon.noun_class(
            entries[0]) in lexicon.rules["living_classes"]:
        return None  # "man in front of computer": in front of him either way
    if first.has_modifiers or second.has_modifiers:  # the nouns alone move ("fence behind yellow giraffe")
        if not (_modifiers_fit(caption, lexicon, first, entries[1])
                and _modifiers_fit(caption, lexicon, second, entries[0])):
            return None  # "tree behind red bus" -> "bus behind red tree"
        edits = _swap_spans(caption, (first.noun_start, first.noun_end), (second.noun_start, second.noun_end))
    else:
        edits = _swap_spans(caption, (first.mod_start, first.noun_end), (second.mod_start, second.noun_end))
    return tuple(edits) if edits is not None else None


def _stackable(lexicon: Lexicon, head: str) -> bool:
    """`head` (a head noun, lower case) names a thing that may lie on or under another such thing either way round
    (`stackable`: "box ON bag" -> "bag ON box"; never "cup ON table" -> "table ON cup")."""
    stackable = lexicon.rules["stackable"]
    return head in stackable or singular(head) in stackable


def _modifiers_fit(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup, new: Entry) -> bool:
    """Every modifier of `group` is a listed attribute of a kind that stays in place when its noun is exchanged
    (`exchanged_modifiers`: colour, material, size...) and suits `new`, the noun that takes its place
    (`filters.attribute_fits`): "fence behind yellow giraffe" -> "giraffe behind yellow fence", never "bus behind
    red tree" nor "bus behind closed tree". True for a group without modifiers."""
    if not group.has_modifiers:
        return True
    attributes = _attributes(caption, lexicon, group)
    kept = lexicon.rules["exchanged_modifiers"]
    return attributes is not None and all(
        entry.category in kept and filters.attribute_fits(lexicon, caption.tokens[index].lower, entry.category, new)
        for index, entry in attributes)


def _may_be_one(first: Entry, second: Entry) -> bool:
    """One noun names a person by gender or age (category `person`: "man", "girl") and the other by a role
    ("snowboarder", "doctor"): one person may be both, so their exchange may say the same ("man behind
    snowboarder" -> "snowboarder behind man")."""
    categories = (first.category, second.category)
    return "person" in categories and any(category.startswith("role") for category in categories)


def _placed_between(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """A listed spatial relation, and little else, stands between the two groups ("man behind leaning forward
    snowboarder"; not "a man sits on the sidewalk ... with a police officer")."""
    start = second.det if second.det is not None else second.mod_start
    return any(first.noun_end <= begin <= first.noun_end + 2 and start - 2 <= end <= start + 1
               and " ".join(token.lower for token in caption.tokens[begin:end]) in lexicon.relations.lookup
               for begin, end in caption.relations)


def _person_noun(lexicon: Lexicon, word: str) -> bool:
    """`word` (a head noun, lower case) names one person or people of one kind: a listed person noun of a
    swappable category ("man", "policeman", "doctor"), or one of `exchanged_people` ("teacher", "child")."""
    listed = lexicon.nouns.lookup.get(word) or lexicon.nouns.lookup.get(singular(word))
    if (listed is not None and lexicon.noun_class(listed[0]) == "person"
            and listed[0].category not in lexicon.rules["unswappable_people"]):
        return True
    return word in lexicon.rules["exchanged_people"] or singular(word) in lexicon.rules["exchanged_people"]


def _doer_and_done_to(caption: ParsedCaption, lexicon: Lexicon) -> tuple[Edit, ...] | None:
    """The caption opens with two people joined by a directed verb, the doer and the one it is done to: the
    two unmodified noun groups are exchanged ("A coach teaches a boxer." -> "A boxer teaches a coach."). Where one
    is an animal, only with a verb either may do to the other (`chasing_verbs`), two of one number where the verb
    agrees with its doer, and modifiers left in place where they suit their new noun (`_modifiers_fit`: "brown
    dog chasing white cat" -> "brown cat chasing white dog"). Not for people with modifiers ("A male child
    admires an old man."), a verb of a mutual
    action (`mutual_verbs`), two of one noun, two young people (`young_nouns`: a boy is a child), a generic
    person ("a person" may be the man), a pronoun or a garment of one gender outside the groups ("her son",
    "in a skirt"), nor a verb that reads one way only (`_one_way_verb`: "a girl holding a man")."""
    groups, tokens = caption.groups, caption.tokens
    if len(groups) < 2 or (groups[0].det if groups[0].det is not None else groups[0].mod_start) != 0:
        return None
    first, second = groups[0], groups[1]
    if (first.noun_end - first.noun_start > 1 and tokens[first.head].tag == "NNS" and first.det is not None
            and tokens[first.det].lower in ARTICLES and tokens[first.head - 1].tag == "NN"):
        first = first._replace(noun_end=first.noun_end - 1)  # "A reporter interviews a man": "a" never heads a plural
    # an animal only with a verb of `chasing_verbs`: a set lookup first, as most captions have none
    chasing = not caption.words.isdisjoint(_verb_forms(lexicon, "chasing_verbs"))
    if not chasing and (first.has_modifiers or second.has_modifiers):
        return None  # the type keeps modifiers in place (`_exchanged_groups`): "A male child admires an old man."
    heads = [tokens[first.head].lower, tokens[second.head].lower]
    people = _person_noun(lexicon, heads[0]) and _person_noun(lexicon, heads[1])
    if not people and not (chasing and _animal_or_person(caption, lexicon, first)
                           and _animal_or_person(caption, lexicon, second)):
        return None
    if people and (first.has_modifiers or second.has_modifiers):
        return None
    start = second.det if second.det is not None else second.mod_start
    between = tokens[first.noun_end:start]
    auxiliaries = lexicon.rules["auxiliaries"]
    verbs = [index for index, token in enumerate(between) if token.lower not in auxiliaries]
    if not verbs or verbs[0] != len(between) - 1 - (len(verbs) == 2) or len(verbs) > 2:
        return None  # only auxiliaries, one verb and one preposition: "complains to", "is chasing after"
    verb = between[verbs[0]]
    if verb.tag not in ("VBZ", "VBP", "VBD", "VBG", "NNS") or verb.lower in lexicon.mutual_verb_forms:
        return None
    if len(verbs) == 2 and between[-1].lower not in lexicon.rules["directed_prepositions"]:
        return None  # "sits beside", "communicates with": no direction
    if not people:  # an animal: a verb it can do to a person and a person to it, modifiers staying in place
        entries = [filters.head_entry(caption, group, lexicon) for group in (first, second)]
        if (verb.lower not in _verb_forms(lexicon, "chasing_verbs") or entries[0] is None or entries[1] is None
                or entries[0].forms[0] == entries[1].forms[0]
                or verb.tag != "VBG" and tokens[first.head].tag != tokens[second.head].tag
                or not (_modifiers_fit(caption, lexicon, first, entries[1])
                        and _modifiers_fit(caption, lexicon, second, entries[0]))):
            return None  # "woman feeding cow" -> "cow feeding woman"; "dog chasing dog"; "man watching brown cow"
        edits = _swap_spans(caption, (first.noun_start, first.noun_end), (second.noun_start, second.noun_end))
        return tuple(edits) if edits is not None else None
    if len(between) > len(verbs) and verb.tag != "VBG":
        return None  # an auxiliary before a finite verb: "is helps"
    singulars = [singular(head) for head in heads]
    young = lexicon.rules["young_nouns"]
    if singulars[0] == singulars[1] or (singulars[0] in young and singulars[1] in young):
        return None  # "a man helps a man", "a boy helps a child": either may be the other
    if _another(caption, second):
        return None  # "a boy passes to another player": the boy is a player too
    inside = set(range(first.mod_start, first.noun_end)) | set(range(second.mod_start, second.noun_end))
    if any(token.lower in lexicon.rules["gendered_words"] or token.lower in lexicon.rules["gendered_clothing"]
           for index, token in enumerate(tokens) if index not in inside):
        return None  # "a mother scolds her son", "a woman in a skirt helps a man"
    if _one_way_verb(lexicon, verb.lower, singulars[1]):
        return None  # "a man holding a little girl" -> "a little girl holding a man"
    if filters.next_to_possessive(caption, first) or filters.next_to_possessive(caption, second):
        return None
    edits = _swap_spans(caption, (first.mod_start, first.noun_end), (second.mod_start, second.noun_end))
    return tuple(edits) if edits is not None else None


def _animal_or_person(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The group's head is a listed animal (`animal_classes`) or a person (`_person_noun`)."""
    if _person_noun(lexicon, caption.tokens[group.head].lower):
        return True
    entry = filters.head_entry(caption, group, lexicon)
    return entry is not None and lexicon.noun_class(entry) in lexicon.rules["animal_classes"]


def _another(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group opens with "another" or "other" ("a boy hits a ball to another tennis player"): the noun holds
    for someone named before it too, who may be either of the two."""
    start = group.det if group.det is not None else group.mod_start
    return start < group.noun_start and caption.tokens[start].lower in ("another", "other") or (
        start > 0 and caption.tokens[start - 1].lower in ("another", "other"))


def _one_way_verb(lexicon: Lexicon, verb: str, patient: str) -> bool:
    """Verb `verb` (a form, lower case) joining a doer to `patient` (a singular noun) reads one way only: holding
    or carrying a young one (`carrying_verbs` and `young_nouns`: "a man holding a little girl"), or wearing,
    riding or driving anyone (`thing_verbs`: "man driving coach", a coach may be a bus)."""
    return verb in _verb_forms(lexicon, "thing_verbs") or (
        patient in lexicon.rules["young_nouns"] and verb in _verb_forms(lexicon, "carrying_verbs"))


def _one_way_verb_between(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """One verb (and auxiliaries) alone joins the two groups, and it reads one way only (`_one_way_verb`: "woman
    holding boy")."""
    tokens = caption.tokens
    start = second.det if second.det is not None else second.mod_start
    verbs = [token for token in tokens[first.noun_end:start] if token.lower not in lexicon.rules["auxiliaries"]]
    return len(verbs) == 1 and _one_way_verb(lexicon, verbs[0].lower, singular(tokens[second.head].lower))


def _verb_forms(lexicon: Lexicon, name: str) -> frozenset[str]:
    """Every form of the verbs of word set `name` (base forms or five forms joined by `/`; made once and kept
    with the lexicon: never change it)."""
    found = lexicon.derived.get("verb_forms." + name)
    if found is None:
        found = lexicon.derived["verb_forms." + name] = frozenset(
            form for item in lexicon.rules[name] for form in (item.split("/") if "/" in item else inflect_verb(item)))
    return found


def _content(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The group is what fills or tops another ("a vase filled with water and rocks", "a pizza topped with
    vegetables"; `content_words` before "with", "of" or "in", across a list): exchanged with another object, the
    roles of container and content or base and topping are exchanged too, which fit one way only."""
    tokens, inside = caption.tokens, set()
    for other in caption.groups:
        inside.update(range(other.det if other.det is not None else other.mod_start, other.noun_end))
    position = (group.det if group.det is not None else group.mod_start) - 1
    while position >= 1 and (position in inside or tokens[position].lower in lexicon.rules["conjunctions"]
                             or tokens[position].tag in LIST_WORD_TAGS):  # "with various vegetables"
        position -= 1
    return (position >= 1 and tokens[position].lower in ("with", "of", "in")
            and tokens[position - 1].lower in lexicon.rules["content_words"])


def _belongs_with(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup, entry: Entry) -> bool:
    """The caption names what the noun belongs with (`belongs_with.<noun>`: a camera with its tripod, a toilet
    with its seat): exchanged, the other noun would take its place on it ("a laptop on top of a tripod")."""
    partners = lexicon.rules.map("belongs_with").get(entry.forms[0])
    return bool(partners) and any(token.lower in partners or singular(token.lower) in partners
                                  for index, token in enumerate(caption.tokens)
                                  if not group.noun_start <= index < group.noun_end)


def _medium(lexicon: Lexicon, entry: Entry) -> str | None:
    """Where a vehicle moves (`medium.<name>`: air, water, rail), None for the road and for other nouns."""
    return next((name for name, nouns in lexicon.rules.map("medium").items() if entry.forms[0] in nouns), None)


def _usual_after_swap(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup, new: Entry) -> bool:
    """The modifiers of `group`, which stay in place when its noun is exchanged, are usual for the noun that
    takes its place (`usual.<noun>`): the exchanged caption may stay true ("a white shower")."""
    usual = lexicon.rules.map("usual").get(new.forms[0], frozenset())
    return any(token.lower in usual for token in caption.tokens[group.mod_start:group.noun_start])


def _attributes(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> list[tuple[int, Entry]] | None:
    """The modifier span's listed attributes (index, entry), or None when it has none or holds a word that is
    not a listed attribute ("zebra themed", "tiled", "ripe": a word the lists do not know may suit its noun
    only)."""
    adjectives, found = lexicon.adjectives.lookup, []
    for index in range(group.mod_start, group.noun_start):
        token = caption.tokens[index]
        if token.lower in adjectives:
            found.append((index, adjectives[token.lower][0]))
        elif token.lower not in MODIFIER_LINKS:
            return None  # "ripe", "blank", "open mouthed": an unlisted word may suit its noun only
    return found or None


def swap_attribute_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """Attributes move between two objects: two objects exchange their modifier spans ("a white cat on a black
    chair" -> "a black cat on a white chair"), or one listed colour, material, pattern or age moves to a listed
    object without an attribute of that kind that can have it ("a red car next to a bench" -> "a car next to a
    red bench").
    Every moved word must suit its new noun (`filters.attribute_fits`). The exchange keeps the caption's words;
    the move keeps them but for an article that must change ("an umbrella" -> "a red umbrella"). In a caption
    without articles (VL-CheckList's "red bag ON chair") a bare noun may give or take the attribute ("bag ON red
    chair"), as may the first noun of any caption that starts in lower case ("lamp on a black dresser" -> "black
    lamp on a dresser"); there a natural colour may also move onto an animal (`_coat_colour`: "dog near black
    car" -> "black dog near car") and a compound the lists do not know takes what its head would
    (`_compound_entry`: "wooden utility box ON pole"). An opening noun the tagger took for a verb is read as a
    noun (`_initial_noun_read`: "fork ON green tray" -> "green fork ON tray")."""
    if not any(group.has_modifiers for group in caption.groups):
        return []  # nothing to exchange or move: the checks per group below need not run
    caption = _initial_noun_read(caption, lexicon)  # "kitten beside gray suitcase": "kitten" tagged as a verb
    tokens = caption.tokens
    groups = []
    for group in caption.groups:
        entry = filters.object_entry(caption, group, lexicon)
        head = tokens[group.head].lower
        if (head not in lexicon.rules["non_object_nouns"] and singular(head) not in lexicon.rules["non_object_nouns"]
                and not filters.heads_of_phrase(caption, group)):
            groups.append((group, entry, _attributes(caption, lexicon, group) if group.has_modifiers else None))
    candidates: list[Candidate] = []
    # the listed noun of a group's head, for what suits it ("a black bear cub" is a bear: never "a blue bear cub")
    suited = {group.head: entry or filters.head_entry(caption, group, lexicon) for group, entry, _ in groups}

    def fits(attributes: list[tuple[int, Entry]], group: NounGroup) -> bool:
        noun = suited[group.head]
        head = tokens[group.head].lower
        unmarked = head in lexicon.rules["unmarked_nouns"] or singular(head) in lexicon.rules["unmarked_nouns"]
        if head in lexicon.rules["attribute_participles"]:
            return False  # "bears playing open mouthed": "mouthed" is no noun
        placed, usual = lexicon.rules.map("replaced_on"), lexicon.rules.map("usual")
        told = {entry.category for _, entry in _attributes(caption, lexicon, group) or ()}  # its own, exchanged
        exchanged = lexicon.rules.map("exchanged_on")
        return all(not (unmarked and entry.category in lexicon.rules["movable_attributes"])  # "a white window"
                   and (entry.category not in placed or noun is not None
                        and lexicon.noun_class(noun) in placed[entry.category])  # never "a closed table"
                   and (entry.category not in exchanged or noun is not None
                        and lexicon.noun_class(noun) in exchanged[entry.category])  # never "a ripe bin"
                   and (noun is None or tokens[i].lower not in usual.get(noun.forms[0], ())  # "a white plate"
                        or entry.category in told)
                   and filters.attribute_fits(lexicon, tokens[i].lower, entry.category, noun)
                   and (entry.category != "material" or noun is None
                        or filters.attribute_movable_to(lexicon, entry.category, noun, tokens[i].lower))
                   and _lands_well(caption, lexicon, tokens[i].lower, entry.category, group)
                   for i, entry in attributes)

    for index, (a, entry_a, attrs_a) in enumerate(groups):
        for b, entry_b, attrs_b in groups[index + 1:]:
            if attrs_a is None or attrs_b is None or not (fits(attrs_a, b) and fits(attrs_b, a)):
                continue
            if normalize(caption.span_text(a.mod_start, a.noun_start)) == normalize(
                    caption.span_text(b.mod_start, b.noun_start)):
                continue
            if not _attributes_differ(attrs_a, attrs_b):
                continue  # "a brown dog on a beige couch": shades of one colour
            if _same_stuff(caption, lexicon, a, b):
                continue  # "tan pants with big pocket" -> "big pants with tan pocket": a pocket is the pants' cloth
            if _close_words(caption, lexicon, attrs_a, attrs_b):
                continue  # "white goats in a snowy field" -> "snowy goats in a white field" tells the same
            if any(filters.in_fixed_phrase(caption, lexicon, i) for i, _ in attrs_a + attrs_b):
                continue  # "a boy with a black eye" never gets "a red eye"
            if any(_repeated_colour(caption, entry.category, i) for i, entry in attrs_a + attrs_b):
                continue  # "a white room with a glass table and white chairs": the room's colour is everywhere
            if (entry_a is not None and entry_b is not None and (entry_a.category, entry_a.cluster)
                    == (entry_b.category, entry_b.cluster) and _symmetric_link(caption, lexicon, a, b)):
                continue  # "a black dog next to a white dog" is the white dog next to the black one
            edits = _swap_spans(caption, (a.mod_start, a.noun_start), (b.mod_start, b.noun_start))
            if edits is not None:
                candidates.append(Candidate(len(candidates), tuple(edits)))
    adjectives = lexicon.adjectives.lookup
    order = _attribute_order(lexicon)
    telegraphic = _telegraphic(caption, lexicon)
    bare_start = telegraphic or caption.text[:1].islower()  # "man wearing a white hat": no capital to keep
    for source, _, _ in groups:
        span = range(source.mod_start, source.noun_start)
        if any(tokens[i].lower in MODIFIER_LINKS for i in span):
            continue  # "a red and white bus": one colour scheme, not two attributes
        for position in span:
            listed = adjectives.get(tokens[position].lower)
            if listed is None or listed[0].category not in lexicon.rules["movable_attributes"] or (
                    position == 0 and not bare_start):
                continue  # "Black cat with green eyes" -> "Cat with black eyes": the capital stays behind
            if listed[0].category == "age" and tokens[position].lower not in lexicon.rules["moved_ages"]:
                continue
            category, word = listed[0].category, tokens[position].lower
            if position > 0 and (tokens[position - 1].tag in ("RB", "RBR")
                                 or tokens[position - 1].lower in lexicon.rules["shade_words"]):
                continue  # "a very small kitchen", "a lime green room" would keep "very", "lime" behind
            if (span.start == span.stop - 1 and source.det is None and tokens[source.head].tag == "NN"
                    and not telegraphic):
                continue  # "a man in brown shirt" -> "a man in shirt"; "black jacket on bar" has no article anywhere
            if position + 1 < len(tokens) and _participle(caption, lexicon, position + 1):
                continue  # "old fashioned", "dark tinted": the word describes the participle, not the noun
            if filters.in_fixed_phrase(caption, lexicon, position):
                continue  # "a man with a black eye" -> "a man with an eye"
            if _suits_all_of(lexicon, caption, source, lexicon.rules["covering_classes"]):
                continue  # "a white bathroom with a shower": what is in a white room is often white
            if word in lexicon.rules["unmoved_attribute_words"] or category == "pattern" and _suits_all_of(
                    lexicon, caption, source, lexicon.rules["living_classes"]):
                continue  # "a plain pizza" is no plain table; "a striped cat" has fur, no striped toilet
            if _repeated_colour(caption, category, position) or _bodily(caption, lexicon, source) or (
                    f"{word} {singular(tokens[source.head].lower)}" in lexicon.rules["colour_kinds"]):
                continue  # "a black woman", "in his white hand": a skin's colour; "brown rice" is a kind of rice
            if not (_word_boundary(caption.text, tokens[position].start) and _word_boundary(
                    caption.text + " ", tokens[position].end) and "/" not in caption.text[
                    max(0, tokens[position].start - 1):tokens[position].end + 1]):
                continue  # "blue/white sign" -> "blue/sign"
            if _content(caption, lexicon, source) or not caption.words.isdisjoint(lexicon.rules["matching_words"]):
                continue  # "a bike covered with a white cover" is white; "shoe matches orange shirt"
            for target, target_entry, target_attrs in groups:
                if target_entry is None and telegraphic:
                    target_entry = _compound_entry(caption, lexicon, target)  # "water bottle": a bottle
                if (target is source or target_entry is None or (target.noun_start == 0 and not bare_start)
                        or len(target_attrs or ()) != target.noun_start - target.mod_start):
                    continue  # a listed object whose modifiers (if any) are all listed attributes
                if _shares_modifier(caption, lexicon, source, target) or not _lands_well(
                        caption, lexicon, word, category, target):
                    continue  # "a black shirt and skirt" may be both black
                if target.head < source.head and _is_part(caption, lexicon, source):
                    continue  # "a clock with a white face" -> "a white clock with a face"
                if _same_stuff(caption, lexicon, source, target):
                    continue  # "cabinet has a brown door" -> "brown cabinet has a door": its doors are most of it
                if any(entry.category == category for _, entry in target_attrs or ()):
                    continue
                if not ((filters.attribute_movable_to(lexicon, category, target_entry, word)
                         or telegraphic and _coat_colour(lexicon, category, word, suited[source.head], target_entry))
                        and filters.attribute_fits(lexicon, word, category, target_entry)):
                    continue
                if filters.implied_attribute(lexicon, category, word, target_entry,
                                             [entry.category for _, entry in target_attrs or ()]):
                    continue  # "a yellow taxi", "a brown wooden bench", "a wooden table"
                if _unfit_target(caption, lexicon, word, category, source, target, target_entry):
                    continue  # "a bus next to a yellow bus", "window ON white plane", "a paper table"
                at = next((i for i, entry in target_attrs or () if order.get(entry.category, 0) > order[category]),
                          target.noun_start)
                if (at == target.mod_start and at > 0 and tokens[at - 1].tag in ("NN", "NNS", "NNP", "NNPS", "VB")
                        or not _word_boundary(caption.text, tokens[at].start)):
                    continue  # "shower curtain" -> "shower white curtain" (also read as a verb), "tennis-white racket"
                candidates.append(Candidate(len(candidates), _move_attribute(caption, source, position, target, at)))
    return candidates


def _compound_entry(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> Entry | None:
    """The listed head of a two-word compound the lists do not know, where the head names a thing of
    `compound_head_classes` and the first word nothing living ("water bottle" -> bottle, "utility box" -> box:
    "utility box ON wooden pole" -> "wooden utility box ON pole"); None for other groups, for "hub cap" or "scroll
    ball" (another thing than a cap or a ball) and for "dog toy" ("brown dog toy" reads as a brown dog's toy)."""
    if group.noun_end - group.noun_start != 2:
        return None
    first = lexicon.nouns.lookup.get(caption.tokens[group.noun_start].lower)
    if first is not None and lexicon.noun_class(first[0]) in lexicon.rules["living_classes"]:
        return None
    head = filters.head_entry(caption, group, lexicon)
    return head if head is not None and lexicon.noun_class(head) in lexicon.rules["compound_head_classes"] else None


def _coat_colour(lexicon: Lexicon, category: str, word: str, source: Entry | None, target: Entry) -> bool:
    """A colour of a listed thing or animal (`source`) may move onto an animal whose coat colour varies
    (`coat_coloured_animals`) where it is one of that animal's colours (`palette.colour.*`): "cat on black
    television" -> "black cat on television"; never "a brown giraffe", nor from a marking ("cat has white spot").
    Asked in telegraphic captions only (VL-CheckList's style): full sentences move no attribute onto an animal."""
    if category != "colour" or target.forms[0] not in lexicon.rules["coat_coloured_animals"] or source is None:
        return False
    palette = lexicon.by_noun("palette", target, "colour.")
    kind = lexicon.noun_class(source)
    return ((palette is None or word in palette)
            and (kind in lexicon.rules["colourable_classes"] or kind in lexicon.rules["animal_classes"]))


def _repeated_colour(caption: ParsedCaption, category: str, index: int) -> bool:
    """The colour at token `index` occurs again in the caption: the scene is in that colour ("a vase of red flowers
    in a room with red walls and red decorations"), so it may well hold for another noun too."""
    word = caption.tokens[index].lower
    return category == "colour" and sum(token.lower == word for token in caption.tokens) > 1


def _bodily(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The group names a person or a body part, whose colour words tell skin, hair or fur ("a black man", "his
    white hand"): moved onto a thing, such a word changes meaning."""
    head = caption.tokens[group.head].lower
    if head in lexicon.rules["body_parts"] or singular(head) in lexicon.rules["body_parts"]:
        return True
    entry = filters.head_entry(caption, group, lexicon)
    return entry is not None and lexicon.noun_class(entry) == "person"


def _unfit_target(caption: ParsedCaption, lexicon: Lexicon, word: str, category: str, source: NounGroup,
                  target: NounGroup, target_entry: Entry) -> bool:
    """Attribute `word` moved from `source` onto `target` may keep the caption true or read badly: the same noun
    ("bus next to yellow bus" -> "yellow bus next to bus"), a noun whose colour or material one cannot tell
    (`unmarked_nouns`: "a gray window"), a part or marking on the source (`attached` nouns, the two groups a few
    words apart: "window ON white plane" -> "white window ON plane", a part of a white plane is often white), or a
    material not of the noun's palette (`palette.material.<key>`: "a paper table", "a wooden glass")."""
    tokens = caption.tokens
    heads = [tokens[group.head].lower for group in (source, target)]
    if singular(heads[0]) == singular(heads[1]):
        return True
    if target.det is not None and tokens[target.det].lower in ("its", "their"):
        return True  # "a black truck with a kennel on its bed": a part of the source
    unmarked = lexicon.rules["unmarked_nouns"]
    if heads[1] in unmarked or singular(heads[1]) in unmarked:
        return True
    attached = lexicon.rules["attached"]
    if heads[1] in attached or singular(heads[1]) in attached:
        first, second = (source, target) if source.head < target.head else (target, source)
        start = second.det if second.det is not None else second.mod_start
        if start - first.noun_end <= 3:
            return True
    if category == "material":
        palette = lexicon.by_noun("palette", target_entry, "material.")
        return palette is not None and word not in palette
    return False


def _telegraphic(caption: ParsedCaption, lexicon: Lexicon) -> bool:
    """The caption is written without articles and starts in lower case, as VL-CheckList's "black jacket hanging on
    handle bar": a bare noun is its style, so an attribute may leave one ("jacket hanging on black handle bar")."""
    return caption.text[:1].islower() and caption.words.isdisjoint(lexicon.rules["articles"])


def _participle(caption: ParsedCaption, lexicon: Lexicon, index: int) -> bool:
    """Token `index` is a participle an attribute before it describes (`attribute_participles`: "old fashioned",
    "red colored", "dark tinted"; never "a black stuffed animal")."""
    return caption.tokens[index].lower in lexicon.rules["attribute_participles"]


def _suits_all_of(lexicon: Lexicon, caption: ParsedCaption, group: NounGroup, classes: frozenset[str]) -> bool:
    entry = filters.head_entry(caption, group, lexicon)
    return entry is not None and lexicon.noun_class(entry) in classes


def _lands_well(caption: ParsedCaption, lexicon: Lexicon, word: str, category: str, target: NounGroup) -> bool:
    """Attribute `word` may land on `target` in an exchange or a move: no size on what has none (`sizeless_nouns`:
    "the large sky"), no fullness on the place someone sits or lies in (`occupying_verbs` before its preposition:
    "seated in an empty chair")."""
    head = caption.tokens[target.head].lower
    if category == "size" and (head in lexicon.rules["sizeless_nouns"] or singular(head) in lexicon.rules["sizeless_nouns"]):
        return False
    if category in lexicon.rules["occupancy_categories"]:
        start = target.det if target.det is not None else target.mod_start
        tokens = caption.tokens
        if (start >= 2 and tokens[start - 1].tag in PREPOSITION_TAGS
                and tokens[start - 2].lower in lexicon.rules["occupying_verbs"]):
            return False
    return True


def _shares_modifier(caption: ParsedCaption, lexicon: Lexicon, source: NounGroup, target: NounGroup) -> bool:
    """The target is a bare noun joined to the source by a conjunction ("a black shirt and skirt", "a blue shirt
    and jeans"): the source's modifiers may describe both, so moving one keeps the caption true."""
    first, second = (source, target) if source.head < target.head else (target, source)
    start = second.det if second.det is not None else second.mod_start
    between = [token.lower for token in caption.tokens[first.noun_end:start]]
    bare = target is second and target.det is None and not target.has_modifiers
    return bare and bool(between) and all(word in lexicon.rules["conjunctions"] for word in between)


def _is_part(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup) -> bool:
    """The group names a part that makes most of what one sees of a thing (`covering_parts`: "a clock with a white
    face" is a white clock; "a skateboard with red wheels" is not a red skateboard)."""
    head = caption.tokens[group.head].lower
    return head in lexicon.rules["covering_parts"] or singular(head) in lexicon.rules["covering_parts"]


def _same_stuff(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """One group names a part made of the other's stuff (`same_stuff_parts.<the other's class>`: a cabinet's door,
    a bowl's rim, a fence's rail, a garment's pocket): a colour or material moved or exchanged between them may
    stay true ("bowl has metal rim" -> "metal bowl has rim")."""
    parts = lexicon.rules.map("same_stuff_parts")
    for whole, part in ((first, second), (second, first)):
        entry = filters.head_entry(caption, whole, lexicon)
        head = caption.tokens[part.head].lower
        found = parts.get(lexicon.noun_class(entry)) if entry is not None else None
        if found and (head in found or singular(head) in found):
            return True
    return False


def _attributes_differ(first: list[tuple[int, Entry]], second: list[tuple[int, Entry]]) -> bool:
    """Exchanging the two attribute lists changes something: a category only one has, or one whose words are in
    different clusters ("brown" and "beige" are one cluster: near-synonyms)."""
    clusters = [{entry.category: entry.cluster for _, entry in attributes} for attributes in (first, second)]
    return clusters[0] != clusters[1]


def _close_words(caption: ParsedCaption, lexicon: Lexicon, first: list[tuple[int, Entry]],
                 second: list[tuple[int, Entry]]) -> bool:
    """A word of one list is close to a word of the other in another category (`close.<word>`, either way round:
    a snowy field is white), so the exchange tells nearly the same scene. Close words of one category (white and
    beige) are left to `_attributes_differ`'s clusters: the synthetic world's shapes exchange them."""
    close = lexicon.rules.map("close")
    words = [[(caption.tokens[i].lower, entry.category) for i, entry in attributes] for attributes in (first, second)]
    return any(a_kind != b_kind and (b in close.get(a, ()) or a in close.get(b, ()))
               for a, a_kind in words[0] for b, b_kind in words[1])


def _symmetric_link(caption: ParsedCaption, lexicon: Lexicon, first: NounGroup, second: NounGroup) -> bool:
    """The two groups are linked by nearness, "with" or a conjunction: exchanging what describes two of the same
    noun keeps the scene."""
    return (filters.direct_link(caption, lexicon, first, second) in ("proximity", "with")
            or filters.conjoined(caption, lexicon, first, second))


def _attribute_order(lexicon: Lexicon) -> dict[str, int]:
    """{attribute category: its place in English attribute order} (`attribute_order.<n>` of negatives_words.txt),
    made once and kept with the lexicon (`Lexicon.derived`): never change it."""
    found = lexicon.derived.get("attribute_order")
    if found is None:
        found = lexicon.derived["attribute_order"] = {
            category: int(place) for place, categories in lexicon.rules.map("attribute_order").items()
            for category in categories}
    return found


def _move_attribute(caption: ParsedCaption, source: NounGroup, position: int, target: NounGroup,
                    at: int) -> tuple[Edit, ...]:
    """Edits moving the attribute at token `position` of `source` before token `at` of `target`, each article
    made to agree ("a red shirt ... an umbrella" -> "a shirt ... a red umbrella"): the caption keeps its words
    but for "a"/"an"."""
    tokens = caption.tokens
    token, following = tokens[position], tokens[position + 1]
    word = token.text if caption.text.isupper() else token.lower
    edits: list[Edit] = [(token.start, following.start, ""), (tokens[at].start, tokens[at].start, word + " ")]
    source_article = _article_before(caption, position) if position == source.mod_start else None
    target_article = _article_before(caption, at) if at == target.mod_start or at == target.noun_start else None
    needs = [_article_edit(caption, source_article, following.text), _article_edit(caption, target_article, word)]
    return tuple(edits + [edit for edit in needs if edit is not None])


class _NounAlternative(NamedTuple):
    """A replacement of a listed noun with what `replace_object_candidates` reads of the two entries alone."""

    entry: Entry
    same_age: bool  # `filters.same_age` of the noun and this replacement
    phrases: tuple[frozenset[str], ...]  # the words of each of its forms of several words ("fire truck")
    articles: tuple[str, ...]  # the indefinite article each of its forms takes


def _object_alternatives(lexicon: Lexicon, entry: Entry) -> list[_NounAlternative]:
    """The alternatives of noun `entry` that are no broader or narrower term and travel the same way, in order:
    made once per entry and kept with the lexicon (`Lexicon.derived`)."""
    table = lexicon.derived.setdefault("object_alternatives", {})
    found = table.get(entry)
    if found is None:
        found = table[entry] = [
            _NounAlternative(alternative, filters.same_age(lexicon, entry, alternative),
                             tuple(frozenset(form.split()) for form in alternative.forms if " " in form),
                             tuple(indefinite_article(form) for form in alternative.forms))
            for alternative in lexicon.nouns.alternatives(entry)
            if not filters.broader_term(lexicon, entry, alternative) and filters.same_way(lexicon, entry, alternative)]
    return found


class _NounReplacement(NamedTuple):
    """An alternative of `_object_alternatives` that passed every check of the lexicon and the slot's reading
    alone (`_noun_replacements`), with what is left to read of it against the caption."""

    entry: Entry
    new: str  # its form in the old noun's number
    article: str  # the indefinite article that form takes
    phrases: tuple[frozenset[str], ...]  # as `_NounAlternative.phrases`
    scene_bound: bool  # it has a `scene_of` scene (`filters.scene_fits` then reads the caption)


def _noun_replacements(lexicon: Lexicon, entry: Entry, number: int, after_article: bool, as_mass: bool,
                       rideable: frozenset[str] | None, takes: frozenset[str] | None,
                       modified: bool) -> list[_NounReplacement]:
    """The alternatives of noun `entry` (`_object_alternatives`, in order) that pass `replace_object`'s checks of
    the lexicon and the slot alone: number, countability, plural-only nouns, what can be ridden, what the verb
    takes, the same age under modifiers. Made once per such tuple and kept with the lexicon (`Lexicon.derived`):
    bounded by the lists' words."""
    table = lexicon.derived.setdefault("noun_replacements", {})
    key = (entry, number, after_article, as_mass, rideable, takes, modified)
    found = table.get(key)
    if found is None:
        plural_only, scenes = lexicon.rules["plural_only"], lexicon.rules.map("scene_of")
        found = table[key] = [
            _NounReplacement(alternative, alternative.forms[number], articles[number], phrases,
                             alternative.forms[0] in scenes)
            for alternative, same_age, phrases, articles in _object_alternatives(lexicon, entry)
            if not (number and alternative.mass) and filters.mass_fits(after_article, as_mass, alternative)
            and (number or alternative.forms[0] not in plural_only)  # "a person wearing a pants"
            and (rideable is None or alternative.forms[0] in rideable)
            and (takes is None or filters.taken_by(lexicon, takes, alternative))  # "reading a book" -> "a bag"
            and (not modified or same_age)]  # "an old man" may become "an old woman", never "an old girl"
    return found


def replace_object_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """One listed object noun (a whole noun run) becomes another of its category, in the same number and
    countability ("dog" -> "cat", "cars" -> "trucks", "grass" -> "sand")."""
    return [candidate for _, found in replace_object_slots(caption, lexicon) for candidate in found]


def replace_object_slots(caption: ParsedCaption, lexicon: Lexicon) -> list[tuple[int, Iterator[Candidate]]]:
    """`replace_object_candidates` slot by slot (one per listed object noun that may be replaced), each slot's
    replacements built lazily, only as far as they are read (`draw_slots`: the drawn slot's only)."""
    slots: list[tuple[int, Iterator[Candidate]]] = []
    gendered = not caption.words.isdisjoint(lexicon.rules["gendered_words"])
    for slot, (group, entry) in enumerate(_objects(caption, lexicon)):
        kind = lexicon.noun_class(entry)
        if (kind in lexicon.rules["unreplaced_classes"] or entry.forms[0] in lexicon.rules["unreplaced_nouns"]
                or (kind == "person" and gendered) or kind in lexicon.rules["scene_classes"]):
            continue  # "on an airport", "a bike on a river"; "a woman ... his skateboard"; "a skier on the sand"
        if filters.portion_of(caption, lexicon, group) or filters.named_elsewhere(caption, group, entry):
            continue  # "a slice of pizza"; "a train inside a train station"
        if (filters.in_name(caption, lexicon, group.noun_start, group.noun_end)
                or filters.in_hyphenated_word(caption, group) or filters.modifies_next_noun(caption, lexicon, group)):
            continue  # "the Eiffel tower", "cross-country", "the orange fire hydrant"
        takes = filters.verb_objects(caption, lexicon, group)
        rideable = None
        start_of_group = group.det if group.det is not None else group.mod_start
        if kind in lexicon.rules["animal_classes"] and filters.ridden(
                caption, lexicon, group, _person_before(caption, lexicon, start_of_group)):
            rideable = lexicon.rules["rideable"]  # "a man on a horse" never becomes "a man on a pig"
        slots.append((slot, _object_replacements(caption, lexicon, slot, group, entry, kind, takes, rideable)))
    return slots


def _object_replacements(caption: ParsedCaption, lexicon: Lexicon, slot: int, group: NounGroup, entry: Entry,
                         kind: str, takes: frozenset[str] | None,
                         rideable: frozenset[str] | None) -> Iterator[Candidate]:
    """The candidates of one slot of `replace_object_slots`: listed noun `entry` of `group` (of class `kind`,
    object of verbs `takes`, ridden when `rideable` is given) replaced by each of its alternatives that fits."""
    words = caption.words
    start, end = group.noun_start, group.noun_end
    number = 1 if caption.tokens[end - 1].tag == "NNS" else 0
    old = caption.span_text(start, end)
    article = _article_before(caption, start)
    span_start, span_end = caption.char_span(start, end)
    fixes: dict[str, Edit | None] = {}  # the article's edit, by the article the new word takes
    # "teddy bears" -> "toys" and "motorbikes on the road" -> "boats" are dropped by `_object_alternatives`
    for alternative, new, wanted, phrases, scene_bound in _noun_replacements(
            lexicon, entry, number, filters.has_indefinite_article(caption, group),
            filters.read_as_mass(caption, group, entry), rideable, takes, group.has_modifiers):
        if ((scene_bound and not filters.scene_fits(caption, lexicon, alternative))
                or (kind == "room" and not filters.room_fits(caption, lexicon, entry, alternative))):
            continue  # "uniforms" -> "wetsuits"; "a bathroom with a shower" -> "an office"
        if not words.isdisjoint(alternative.forms) or (phrases and any(phrase <= words for phrase in phrases)):
            continue  # already in the caption, in either number: "two men and one man"
        edit = (span_start, span_end, _cased(caption, new, old))
        if wanted not in fixes:
            fixes[wanted] = _article_edit(caption, article, new)
        fixed = fixes[wanted]
        yield Candidate(slot, (edit,) if fixed is None else (edit, fixed))


def _modified_noun(caption: ParsedCaption, lexicon: Lexicon, index: int) -> tuple[NounGroup | None, Entry | None]:
    for group in caption.groups:
        if group.mod_start <= index < group.noun_start:
            return group, filters.object_entry(caption, group, lexicon)
    return None, None


def _attribute_alternatives(lexicon: Lexicon, entry: Entry, old: str, noun: Entry | None,
                            kind_of: Entry | None) -> list[str]:
    """The words that may replace attribute `old` (listed as `entry`) describing `noun`, in order: those that fit
    `noun` and suit `kind_of` ("a glass cup" -> never "a cloth cup"; with no noun to suit, a parse without one or
    a predicate, "the plane is huge", the plain words of `palette.<category>.*`: never "tiny", "cement").
    Checks of lexicon items alone, made once per such tuple and kept with the lexicon (`Lexicon.derived`): bounded
    by the lists' words."""
    table = lexicon.derived.setdefault("attribute_alternatives", {})
    key = (entry, old, noun, kind_of)
    found = table.get(key)
    if found is None:
        category = entry.category
        found = table[key] = [
            new for new in (alternative.forms[0] for alternative in lexicon.adjectives.alternatives(entry))
            if filters.attribute_fits(lexicon, new, category, noun, like=old)
            and filters.replacement_suits(lexicon, category, new, old, kind_of)]
    return found


def replace_attribute_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """One listed attribute becomes another of its category that suits its noun ("red" -> "blue", "wooden" ->
    "metal"; never "a purple cat")."""
    adjectives, tokens, words = lexicon.adjectives.lookup, caption.tokens, caption.words
    candidates: list[Candidate] = []
    in_nouns = {i for group in caption.groups for i in range(group.noun_start, group.noun_end)}
    for index, token in enumerate(tokens):
        if token.lower not in adjectives or index in in_nouns:  # "hot" of "hot dog" is the noun's
            continue
        group, noun = _modified_noun(caption, lexicon, index)
        if group is None and token.tag not in ADJECTIVE_TAGS:
            continue
        if group is None:
            noun = filters.described_animal(caption, lexicon, index)  # "A cat, black in color"
        entry = adjectives[token.lower][0]
        if not filters.attribute_fits(lexicon, token.lower, entry.category, noun, like=token.lower):
            continue
        if not filters.attribute_replaceable(caption, lexicon, index, entry.category, group, noun):
            continue  # "dark brown", "a dark dog"; "big ears"; "a young boy"; "a circular disk"; "old-fashioned"
        if filters.in_name(caption, lexicon, index, index + 1):
            continue  # "Reel Big Fish"
        if any(0 <= other < len(tokens) and tokens[other].lower == token.lower for other in (index - 1, index + 1)):
            continue  # "a black black nose": a doubled word, replaced once, reads as a stack ("an orange black nose")
        others = set() if group is None else {t.lower for t in tokens[group.mod_start:group.noun_start]}
        kind_of = noun if group is None else filters.described_noun(caption, lexicon, group, noun)
        if kind_of is None and group is None:  # a parse without the group: the listed noun right after, if any
            kind_of = filters.noun_after(caption, lexicon, index)
        article = _article_before(caption, index)
        for new in _attribute_alternatives(lexicon, entry, token.lower, noun, kind_of):
            if new in words or new in others or filters.compared_in(words, new):
                continue  # "old and younger" -> "young and younger"
            edits: list[Edit] = [(token.start, token.end, _cased(caption, new, token.text))]
            fixed = _article_edit(caption, article, new)
            if fixed is not None:
                edits.append(fixed)
            candidates.append(Candidate(index, tuple(edits)))
    return candidates


def replace_relation_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """A spatial preposition becomes its opposite ("on" -> "under") or, on, under or in a thing, "next to" it;
    or an action verb becomes another of the first category whose frame fits, in the same form ("riding" ->
    "pushing" a bike, "leading" a horse); "at" after a verb of looking becomes "away from" (`_gaze_candidates`)
    and a person's "has" before a garment "holds" (`_worn_having_candidates`); `filters` decides where each edit
    reads as a scene. In a question-and-answer caption only the statement is edited (`STATEMENT_EDITED`)."""
    if caption.tokens and caption.tokens[0].tag in INITIAL_NOUN_MISTAGS:
        caption = _initial_noun_read(caption, lexicon)  # "fork ON table": "fork" tagged as an imperative
    tokens, words = caption.tokens, caption.words
    candidates: list[Candidate] = []
    triggers = lexicon.derived.get("relation_triggers") or _relation_triggers(lexicon)
    triggered = not words.isdisjoint(triggers)  # a question, a verb of looking or of having: most captions none
    asked = filters.asked_words(caption) if triggered and "?" in words else frozenset()
    for start, end in caption.relations:
        phrase = " ".join(t.lower for t in tokens[start:end])
        old = caption.span_text(start, end)
        if asked and filters.asked_again(caption, lexicon, start, end, asked):
            continue  # "holding her phone. is she taking a photo with her phone? yes."
        if filters.holds_either_way(caption, lexicon, start, end):
            continue  # "giraffe left of giraffe" -> "right of"; "snow ON trees" -> "NEXT TO": still true
        if end - start == 1 and phrase in lexicon.verbs.lookup and phrase not in lexicon.relations.lookup:
            if start > 0 and tokens[start].tag in FINITE_VERB_TAGS and tokens[start - 1].tag in RELATION_WORD_TAGS:
                continue  # "person IN stands": a noun (the stands), no finite verb follows a preposition
            subject = filters.subject_before(caption, start)
            obj = _hyphened_object(caption, end) or filters.group_after(caption, end) or filters.group_after(
                caption, _past_count_words(caption, lexicon, end)) or (None if filters.body_part_landmark(
                    caption, lexicon, subject) else _mistagged_object(caption, lexicon, end)
                                                                    or _participle_object(caption, lexicon, end))
            # "holding a single apple"; "man riding skateboard", never "hand riding skateboard"
            if obj is not None and obj.det is not None and tokens[obj.det].lower == "no":
                continue  # "wearing no shoes"
            subject_entry = subject and filters.head_entry(caption, subject, lexicon)
            object_entry = obj and filters.head_entry(caption, obj, lexicon)
            entry = next((sense for sense, _ in lexicon.verbs.senses[phrase] if filters.verb_fits(lexicon, 
                lexicon.verbs.frames.get(sense.category), subject_entry, object_entry)), None)
            if entry is None and obj is not None and not filters.body_part_landmark(caption, lexicon, subject):
                # "wearing sunglasses": a noun the lists lack (`frame_nouns`); never "a wrist wearing a watch"
                entry = filters.frame_noun_sense(caption, lexicon, lexicon.verbs.senses[phrase], subject_entry, obj)
            if entry is None:
                continue
            if end < len(tokens) and tokens[end].tag == "RP" and not filters.path_particle(
                    caption, lexicon, end, lexicon.verbs.frames[entry.category]):
                continue  # a phrasal verb ("lay down", "stand up"): another verb rarely takes its particle
            at_table = False  # "sitting at a table" becomes "standing at" it only (`at_postures`)
            if entry.category in lexicon.rules["posture_categories"]:
                if filters.posture_clashes(caption, lexicon, end, entry.forms[0]):
                    continue
                at_table = filters.at_posture_follows(caption, end)
            if entry.category == "vehicle_motion" and not filters.motion_fits(caption, lexicon, end, subject_entry):
                continue
            if entry.category in lexicon.rules["held_categories"] and filters.held_to_body(caption, lexicon, end):
                continue  # "holds a bottle close to their mouth" never "drops" it
            if entry.category in lexicon.rules["outfit_categories"] and filters.outfit_after(caption, lexicon, end):
                continue  # "wearing a jacket and pants" is an outfit, not "carrying" it
            slot = VERB_SLOTS.index(VERB_TAG_SLOT.get(tokens[start].tag, "gerund"))
            never, told = lexicon.rules.map("never_object"), lexicon.rules.map("told_by")  # few verbs: looked up first
            alternatives = [alt.forms[slot] for alt in lexicon.verbs.alternatives(entry)
                            if alt.forms[0] not in lexicon.rules["never_inserted_verbs"]
                            and words.isdisjoint(alt.forms)  # "watching a man play" never "watching a man watch"
                            and (not at_table or alt.forms[0] in lexicon.rules["at_postures"])
                            and not filters.entailed(lexicon, entry, alt)  # "eating" never "biting"
                            and (alt.forms[0] not in never  # "carrying a necklace"
                                 or not filters.unsuited_object(caption, lexicon, alt, obj))
                            and (entry.forms[0] not in told and alt.forms[0] not in told  # "a skier snowboarding"
                                 or not filters.told_otherwise(caption, lexicon, entry, alt))]
        else:
            alternatives = _preposition_alternatives(caption, lexicon, start, end, phrase)
        marked = len(old) > 1 and old.isupper()  # VL-CheckList's "cup ON table": "NEXT TO", never an acronym's case
        for new in dict.fromkeys(alternatives):
            if new != phrase and new not in words:
                text = new.upper() if marked else _cased(caption, new, old)
                candidates.append(Candidate(start, ((*caption.char_span(start, end), text),)))
    if triggered and not words.isdisjoint(lexicon.rules["gaze_verbs"]):
        candidates += _gaze_candidates(caption, lexicon, asked)
    if triggered and not words.isdisjoint(lexicon.rules.map("worn_having_verbs")):
        candidates += _worn_having_candidates(caption, lexicon, asked)
    worn_in = lexicon.rules.map("worn_in_relations")
    if not words.isdisjoint(worn_in):
        candidates += _worn_in_candidates(caption, lexicon, worn_in,
                                          filters.asked_words(caption) if "?" in words else frozenset())
    return candidates


def _initial_noun_read(caption: ParsedCaption, lexicon: Lexicon) -> ParsedCaption:
    """The caption with its first word read as its subject noun where the tagger took the noun opening a
    VL-CheckList phrase for a verb or a name (`INITIAL_NOUN_MISTAGS`: "fork ON table", "prong ON wooden fork", an
    imperative's verb) and a relation follows it ("fork on top of napkin"): a copy whose first token is a noun and
    its own group, so that the filters read the subject. Where that word is no listed noun but a part (`attached`,
    `own_parts`, `body_parts`) "on" its landmark (`contact_relations`), the copy drops the relation instead ("prong
    ON wooden fork", "logo ON box": never beside nor under it). Else the caption itself ("kettle ON stove"). Only
    `replace_relation` and `swap_attribute` read the copy."""
    tokens = caption.tokens
    word = tokens[0].text
    relation = next((span for span in caption.relations if span[0] == 1), None)
    if (len(tokens) < 3 or relation is None or not word.isalpha() or not word.islower()
            or tokens[1].tag not in RELATION_WORD_TAGS or tokens[1].lower in lexicon.verbs.lookup
            or any(group.mod_start == 0 for group in caption.groups)):
        return caption
    if not (word in lexicon.nouns.lookup or singular(word) in lexicon.nouns.lookup):
        if tokens[1].lower not in lexicon.rules["contact_relations"] or not any(
                form in lexicon.rules[name] for form in (word, singular(word))
                for name in ("attached", "own_parts", "body_parts")):
            return caption  # "kettle ON stove": an unlisted thing is edited as before
        return ParsedCaption(caption.text, tokens, caption.groups, [span for span in caption.relations
                                                                     if span != relation], caption.words,
                             caption.protected)  # "prong ON wooden fork": a part, never beside it
    first = tokens[0]._replace(tag="NN")
    return ParsedCaption(caption.text, [first, *tokens[1:]], [NounGroup(None, 0, 0, 1), *caption.groups],
                         [span for span in caption.relations if span != (0, 1)], caption.words, caption.protected)


def _mistagged_object(caption: ParsedCaption, lexicon: Lexicon, position: int) -> NounGroup | None:
    """A one-word object the tagger took for no noun (`MISTAGGED_NOUN_TAGS`) after a verb at token `position`,
    ending the caption or before a preposition: a listed noun or one of `frame_nouns` (VL-CheckList's "man riding
    skateboard", tagged as an adverb; "woman WEARING headband", a proper noun after the capitalised verb)."""
    tokens = caption.tokens
    if position >= len(tokens) or tokens[position].tag not in MISTAGGED_NOUN_TAGS:
        return None
    word = tokens[position].text
    if not word.isalpha() or not word.islower():
        return None
    if tokens[position].tag == "NNP" and (after := filters.group_after(caption, position + 1)) is not None:
        return after._replace(mod_start=position)  # an unlisted modifier: "WEARING khaki shorts"
    if position + 1 < len(tokens) and tokens[position + 1].tag not in ("IN", CAPITAL_RELATION_TAG, "."):
        return None
    frame_nouns = lexicon.derived.get("frame_noun_words")
    if frame_nouns is None:
        frame_nouns = lexicon.derived["frame_noun_words"] = frozenset().union(
            *lexicon.rules.map("frame_nouns").values())
    if not any(form in lexicon.nouns.lookup or form in frame_nouns for form in (word, singular(word))):
        return None
    return NounGroup(None, position, position, position + 1)


def _participle_object(caption: ParsedCaption, lexicon: Lexicon, position: int) -> NounGroup | None:
    """A VL-CheckList worn object from token `position` whose one modifier the tagger took for a verb ("WEARING
    striped apron", "WEARING riding boots", "WEARING reading glasses"): the noun group right after that word, ending
    the caption, with the word as its modifier; None where the word is no participle, more follows or the thing is
    not worn (`filters.worn_thing`: "man pushing pushed bike", "waves following standing surfer")."""
    tokens = caption.tokens
    if position + 2 != len(tokens) or tokens[position].tag not in PARTICIPLE_MODIFIER_TAGS:
        return None
    word = tokens[position].text
    after = filters.group_after(caption, position + 1)
    if after is None or not word.isalpha() or not word.islower() or after.noun_end != len(tokens):
        return None
    found = after._replace(mod_start=position)
    return found if filters.worn_thing(caption, lexicon, found) else None


def _participle_landmark(caption: ParsedCaption, position: int) -> NounGroup | None:
    """A VL-CheckList landmark from token `position` whose one modifier is a participle ("trees behind jumping man",
    "railing behind standing man"): the noun group right after it, ending the caption, with the participle as its
    modifier; None where more follows or the participle is no plain lower-case word. Read after a depth relation
    only: "ear ON standing cat", "saddle on top of galloping horse" would lose the filters' reading of a part or
    a worn thing."""
    tokens = caption.tokens
    word = tokens[position].text
    after = filters.group_after(caption, position + 1)
    if after is None or after.noun_end != len(tokens) or not word.isalpha() or not word.islower():
        return None
    return after._replace(mod_start=position)


def _hyphened_object(caption: ParsedCaption, position: int) -> NounGroup | None:
    """An object from token `position` whose head is a hyphened word the parse split ("WEARING orange t-shirt": its
    group would be "orange" alone or none), ending the caption or before a preposition; None without a hyphen."""
    if "-" not in caption.words:
        return None
    tokens = caption.tokens
    for hyphen in range(position + 1, min(position + 5, len(tokens) - 1)):
        if tokens[hyphen].tag == "HYPH":
            break
        if not tokens[hyphen].text.isalpha():
            return None
    else:
        return None
    head, after = hyphen + 1, hyphen + 2
    if (tokens[head].tag not in ("NN", "NNS") or not tokens[head].text.isalpha()
            or any(not token.text.isalpha() or not token.text.islower()
                   or token.tag not in ("JJ", "NN", "NNS", "NNP") for token in tokens[position:hyphen])
            or after < len(tokens) and tokens[after].tag not in ("IN", CAPITAL_RELATION_TAG, ".")):
        return None
    return NounGroup(None, position, hyphen - 1, after)


def _relation_triggers(lexicon: Lexicon) -> frozenset[str]:
    """The words without which `replace_relation_candidates` skips its rarer checks: "?" (a question), the verbs of
    looking (`gaze_verbs`) and of having (`worn_having_verbs`); kept in `lexicon.derived`."""
    found = lexicon.derived["relation_triggers"] = frozenset(
        {"?"} | lexicon.rules["gaze_verbs"] | set(lexicon.rules.map("worn_having_verbs")))
    return found


def _worn_having_candidates(caption: ParsedCaption, lexicon: Lexicon, asked: frozenset[str]) -> list[Candidate]:
    """A listed person who "has" a garment or a worn thing holds it instead (`worn_having_verbs.<form>`: "man has
    blue shirt" -> "man holds blue shirt", VL-CheckList's way of saying "wears"); never after another subject
    ("3 bottles have blue caps") nor before what is not worn ("man has a dog")."""
    tokens, found = caption.tokens, []
    having = lexicon.rules.map("worn_having_verbs")
    for index in range(1, len(tokens) - 1):
        replacement = having.get(tokens[index].lower)
        if replacement is None or not tokens[index].tag.startswith("VB"):
            continue
        subject = filters.group_before(caption, index)
        subject_entry = subject and subject.noun_end == index and filters.head_entry(caption, subject, lexicon)
        if not subject_entry or lexicon.noun_class(subject_entry) != "person":
            continue
        obj = filters.group_after(caption, index) or filters.group_after(
            caption, _past_count_words(caption, lexicon, index + 1))
        if obj is None or not filters.worn_thing(caption, lexicon, obj):
            continue
        if asked and filters.asked_again(caption, lexicon, index, index + 1, asked):
            continue
        old = tokens[index].text
        for new in sorted(replacement):
            text = new.upper() if len(old) > 1 and old.isupper() else _cased(caption, new, old)
            found.append(Candidate(index, ((tokens[index].start, tokens[index].end, text),)))
    return found


def _worn_in_candidates(caption: ParsedCaption, lexicon: Lexicon, worn_in: dict[str, frozenset[str]],
                        asked: frozenset[str]) -> list[Candidate]:
    """A listed person "in" a garment or a worn thing holds it instead (`worn_in_relations`: "man IN black hat" ->
    "man HOLDING black hat", "a woman in a white sweater" -> "a woman holding a white sweater"); only where the worn
    thing ends the caption ("a man in a suit and tie" is an outfit, "a man in a suit holding" would repeat a verb)."""
    tokens, found = caption.tokens, []
    ending = len(tokens) - (tokens[-1].lower == ".")
    for index in range(1, len(tokens) - 1):
        replacement = worn_in.get(tokens[index].lower)
        if replacement is None or tokens[index].tag not in RELATION_WORD_TAGS:
            continue
        subject = filters.group_before(caption, index)
        subject_entry = subject and subject.noun_end == index and filters.head_entry(caption, subject, lexicon)
        if not subject_entry or lexicon.noun_class(subject_entry) != "person":
            continue
        obj = filters.group_after(caption, index + 1) or filters.group_after(
            caption, _past_count_words(caption, lexicon, index + 1)) or _hyphened_object(caption, index + 1)
        if obj is None or obj.noun_end != ending or not filters.worn_thing(caption, lexicon, obj):
            continue
        if asked and filters.asked_again(caption, lexicon, index, index + 1, asked):
            continue
        old = tokens[index].text
        for new in sorted(replacement):
            if new in caption.words:
                continue
            text = new.upper() if len(old) > 1 and old.isupper() else _cased(caption, new, old)
            found.append(Candidate(index, ((tokens[index].start, tokens[index].end, text),)))
    return found


def _gaze_candidates(caption: ParsedCaption, lexicon: Lexicon, asked: frozenset[str]) -> list[Candidate]:
    """"at" after a verb of looking (`gaze_verbs`) becomes "away from" (`gaze_away`) where it governs a thing one
    can look at ("a dog looking at the camera" -> "a dog looking away from the camera", "she looks at her phone" ->
    "she looks away from her phone"); never after "we" or "you" ("we are looking at a tower": the photographer), nor
    where the caption tells how one looks (`gaze_manners`: "in amazement", "intently")."""
    tokens, found = caption.tokens, []
    if not caption.words.isdisjoint(lexicon.rules["gaze_manners"]):
        return found  # "looking at the elephant in amazement", "staring intently at": the look is the point
    gaze, away = lexicon.rules["gaze_verbs"], lexicon.rules.ordered("gaze_away")
    for index in range(1, len(tokens) - 1):
        verb = tokens[index - 1]
        if (tokens[index].lower != "at" or verb.lower not in gaze or not verb.tag.startswith("VB")
                or any(token.lower in lexicon.rules["viewer_pronouns"] for token in tokens[:index])):
            continue
        if filters.relation_object(caption, lexicon, index + 1) is None:
            continue  # "looking at something", "looking at a picture"
        if asked and filters.asked_again(caption, lexicon, index, index + 1, asked):
            continue
        old = tokens[index].text
        for new in away:
            text = new.upper() if len(old) > 1 and old.isupper() else _cased(caption, new, old)
            found.append(Candidate(index, ((tokens[index].start, tokens[index].end, text),)))
    return found


def _past_count_words(caption: ParsedCaption, lexicon: Lexicon, position: int) -> int:
    """The first token from `position` on that is no article or count word (`count_words`: "a single", "exactly
    one"), where the noun group of a counted object starts: the parse leaves them out of it."""
    skipped = lexicon.rules["count_words"] | lexicon.rules["articles"]
    tokens = caption.tokens
    while position < len(tokens) and tokens[position].lower in skipped and tokens[position].tag not in ("IN", "RP"):
        position += 1  # never a preposition: "walking around a park" has no object
    return position


def _preposition_alternatives(caption: ParsedCaption, lexicon: Lexicon, start: int, end: int,
                              phrase: str) -> list[str]:
    """What the relation phrase at tokens [start, end) may become: its opposite ("on" -> "under", "in" ->
    "outside") where the flip reads as a scene, and "next to"/"beside" for "on", "under" or "in" a thing one can
    stand beside ("a pizza on a plate" -> "next to a plate", "a man on a bench" -> "beside a bench")."""
    tokens = caption.tokens
    if end - start == 1 and tokens[start].tag not in RELATION_WORD_TAGS:
        return []  # a particle or an adverb ("turned on", "lights on"); "cup ON table" is a relation
    if start > 0 and tokens[start - 1].tag == "DT":
        return []  # a noun ("the inside of a bus")
    if filters.in_slashed_word(caption, start, end) or phrase in lexicon.rules["never_inserted_relations"]:
        return []  # "an over/under pass", "holding onto a kite"
    entry = lexicon.relations.lookup[phrase][0]
    category = entry.category
    if category == "vertical" and filters.directed_verb_before(caption, lexicon, start):
        return []  # "rises above a fence", "perched on a table"
    if category == "proximity" and not filters.verb_before(caption, lexicon, start):
        return []  # "a bride and groom far from their wedding cake": nothing is told by its distance
    if category == "containment" and start > 0 and tokens[start - 1].lower == "out":
        return []  # "out in a field"
    if phrase in lexicon.rules["contact_relations"] and filters.attached_thing(caption, lexicon, start):
        return []  # "the wipers on a car", "a tap on a sink": part of it, never under or beside it
    if filters.in_phrasal_verb(caption, lexicon, start, end):
        return []  # "close in on a surfer": the verb's particle, not a place
    if category in lexicon.rules["flipping_categories"] and filters.verb_complement(caption, lexicon, start):
        return []  # "tugs on a leash", "working on his laptop": the verb's complement, not a place
    if category in lexicon.rules["flipping_categories"] and filters.cooking_before(caption, lexicon, start):
        return []  # "stir-frying vegetables in a skillet": the pan is the tool
    if filters.restated_by_pronoun(caption, lexicon, end):
        return []  # "above a small elephant, who walks beneath it"
    flips, sides, way_off = True, False, None
    landmark = filters.relation_object(caption, lexicon, end)
    if (landmark is None and category == "depth" and end < len(tokens)
            and tokens[end].tag in PARTICIPLE_MODIFIER_TAGS):
        landmark = _participle_landmark(caption, end)  # "trees behind jumping man"; never "ear ON standing cat"
    if landmark is None and end < len(tokens) and tokens[end].lower in lexicon.rules["count_words"] | ARTICLES:
        for position in range(end + 1, _past_count_words(caption, lexicon, end) + 1):
            landmark = filters.relation_object(caption, lexicon, position)  # "on a single bench", "exactly one"
            if landmark is not None:
                break
    if landmark is None:
        if not filters.pronoun_landmark(caption, lexicon, end, category):
            return []
        if category == "vertical":  # "a desk with a laptop on it" -> "under it", never "toppings under it"
            flips = sides = _furniture_first(caption, lexicon)
    else:
        landmark_entry = filters.head_entry(caption, landmark, lexicon)
        if (category in lexicon.rules["flipping_categories"] and filters.body_part_landmark(caption, lexicon, landmark)
                or filters.ridden_landmark(caption, lexicon, phrase, landmark_entry)):
            return []  # "a look on her face"; "a person on a horse ... rides"
        if phrase in lexicon.rules["contact_relations"] and filters.worn_by_landmark(caption, lexicon, start,
                                                                                     landmark_entry):
            return []  # "sunglasses on a skier" are worn, never "next to a skier"
        flips = filters.relation_fits(lexicon, category, landmark_entry)
        if category == "depth" and _backdrop_in(caption, lexicon, start, landmark):
            flips = False  # "mountains behind sheep" never "in front of"; "boy in front of the sky" never "behind"
        if category == "containment" and filters.found_inside(caption, lexicon, landmark_entry):
            flips = False  # "in the zoo ... his enclosure"
        sides = filters.side_fits(lexicon, category, landmark_entry) and not filters.mounted_on(
            caption, lexicon, start, landmark_entry)  # "a picture on the wall" never "next to the wall"
        way_off = filters.ground_opposite(caption, lexicon, start, category, phrase, landmark_entry)
        if category == "vertical":  # "on X" <-> "under X" only for an X known to have both sides
            flips = flips and filters.can_be_under(caption, lexicon, landmark,
                                                   entry.cluster == 0 and _person_before(caption, lexicon, start))
    if (category == "vertical" and phrase not in lexicon.rules["contact_relations"]
            or start > 0 and tokens[start - 1].lower in lexicon.rules["riding_words"]):
        sides = False  # under a tree or above a table may be next to it; "riding next to a skateboard" rides nothing
    if flips and category == "vertical":
        resting = [filters.group_before(caption, start), filters.subject_before(caption, start)]
        kinds = {lexicon.noun_class(found) for found in
                 (group and filters.head_entry(caption, group, lexicon) for group in resting) if found}
        if kinds & (lexicon.rules["resting_classes"] | lexicon.rules["ground_classes"] | {"person"}):
            flips = False  # "a sandwich below a plate", "two women under a park bench", "the sky below some trees"
        elif filters.fixed_in_place(caption, lexicon, resting[0] if entry.cluster == 0 else landmark):
            flips = False  # "a traffic light above a car" never underneath it; "a bench under a tree" never above
        elif start > 0 and _posture_verb(lexicon, tokens[start - 1].lower):
            subject = filters.subject_before(caption, start - 1)
            subject_entry = subject and filters.object_entry(caption, subject, lexicon)
            if subject_entry is None or lexicon.noun_class(subject_entry) == "person":
                flips = False  # "a man sitting under a bench" reads as a mistake; "a cat sitting under" does not
    alternatives = [alt.forms[0] for alt in lexicon.relations.alternatives(entry)
                    if alt.forms[0] not in lexicon.rules["never_inserted_relations"]] if flips else []
    if category == "proximity" and filters.object_of_verb_before(caption, start):
        alternatives = [new for new in alternatives if not new.startswith("away")]  # "holding X away from"
    if sides:
        alternatives += lexicon.rules.ordered("side_relations")
    if way_off is not None:
        alternatives.append(way_off)  # "parked off the street", "out of the water"
    return alternatives


def _backdrop_in(caption: ParsedCaption, lexicon: Lexicon, start: int, landmark: NounGroup) -> bool:
    """The noun group before the relation at token `start`, or its `landmark`, names a scene's backdrop (`backdrops`:
    the sun, the sky, mountains, clouds): always behind what is seen, so a depth flip reads as no scene ("sun in
    front of skiing person", "man behind mountains")."""
    backdrops = lexicon.rules["backdrops"]
    tokens = caption.tokens
    for group in (filters.group_before(caption, start), landmark):
        if group is not None and (tokens[group.head].lower in backdrops
                                  or singular(tokens[group.head].lower) in backdrops):
            return True
    return False


def _furniture_first(caption: ParsedCaption, lexicon: Lexicon) -> bool:
    """The caption's first noun names furniture ("A desk with two monitors on it"): what "it" stands for."""
    first = caption.groups[0] if caption.groups else None
    entry = first and filters.head_entry(caption, first, lexicon)
    return entry is not None and lexicon.noun_class(entry) == "furniture"


def _person_before(caption: ParsedCaption, lexicon: Lexicon, position: int) -> bool:
    """A noun group ending before token `position` names a person."""
    for group in caption.groups:
        if group.noun_end > position:
            return False
        entry = filters.head_entry(caption, group, lexicon)
        if entry is not None and lexicon.noun_class(entry) == "person":
            return True
    return False


def _posture_verb(lexicon: Lexicon, word: str) -> bool:
    found = lexicon.verbs.lookup.get(word)
    return found is not None and found[0].category in lexicon.rules["posture_categories"] | {"motion"}


def _rules() -> tuple[dict[str, CandidateRule], dict[str, SlotRule], dict[str, Rule]]:
    """Each type's candidate function `<type>_candidates` of this module, wrapped so that no candidate touches a
    protected span (`ParsedCaption.protected`: a negated phrase, a question); the same candidates slot by slot
    (`<type>_slots` where the module has one, lazy; else the candidates grouped, `slotted`); and the rule drawn
    from them (`draw_slots`), in the types' default order."""
    found = {name: globals().get(name + "_candidates") for name in DEFAULT_NEGATIVE_TYPES}
    missing = [name + "_candidates" for name, function in found.items() if not callable(function)]
    if missing:
        raise ImportError(f"negative types without a candidate function in {__name__}: {missing}")
    candidates = {name: _unprotected(function, name in STATEMENT_EDITED) for name, function in found.items()}
    slots = {name: _unprotected_slots(globals()[name + "_slots"]) if callable(globals().get(name + "_slots"))
             else slotted(function) for name, function in candidates.items()}
    return candidates, slots, {name: _drawn(function, name) for name, function in slots.items()}


def slotted(candidates: CandidateRule) -> SlotRule:
    """A candidate function's candidates slot by slot (`by_slot`), as `draw_slots` reads them."""
    def slots(caption: ParsedCaption, lexicon: Lexicon) -> list[tuple[int, list[Candidate]]]:
        return by_slot(candidates(caption, lexicon))

    slots.__name__, slots.__doc__ = candidates.__name__, candidates.__doc__
    return slots


def _unprotected(function: CandidateRule, statement_open: bool = False) -> CandidateRule:
    """The candidates that touch no protected span; with `statement_open`, the statement before a question is
    open (`_question_only`)."""
    def candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
        found = function(caption, lexicon)
        if not caption.protected or not found:
            return found
        protected = _question_only(caption) if statement_open else caption.protected
        return [candidate for candidate in found if not _touches(candidate.edits, protected)]

    candidates.__name__, candidates.__doc__ = function.__name__, function.__doc__
    return candidates


def _unprotected_slots(function: SlotRule) -> SlotRule:
    """`_unprotected` slot by slot, each slot's candidates still read lazily."""
    def slots(caption: ParsedCaption, lexicon: Lexicon) -> list[tuple[int, Iterable[Candidate]]]:
        found = function(caption, lexicon)
        protected = caption.protected
        if not protected or not found:
            return found
        return [(slot, (candidate for candidate in candidates if not _touches(candidate.edits, protected)))
                for slot, candidates in found]

    slots.__name__, slots.__doc__ = function.__name__, function.__doc__
    return slots


def _question_only(caption: ParsedCaption) -> list[tuple[str, int, int]]:
    """`caption.protected` with a question's span cut to the question and its answer: "a man riding a wave. is he
    the only surfer? yes." keeps "riding a wave" open (`filters.question_start`)."""
    start = filters.question_start(caption)
    return [(reason, max(first, start) if reason == "question" else first, end)
            for reason, first, end in caption.protected]


def _touches(edits: Sequence[Edit], spans: Sequence[tuple[str, int, int]]) -> bool:
    """An edit changes or inserts text inside one of `spans` (an insertion at a span's first char is inside)."""
    return any(start < span_end and max(end, start + 1) > span_start
               for start, end, _ in edits for _, span_start, span_end in spans)


def _drawn(slots: SlotRule, name: str) -> Rule:
    def rule(caption: ParsedCaption, lexicon: Lexicon, rng: Chooser) -> str | None:
        found = slots(caption, lexicon)
        if not found:
            return None  # no slot (most captions, for most types): nothing to draw, no draw made
        drawn = draw_slots(caption, found, rng, 1)
        return drawn[0] if drawn else None

    rule.__name__ = name
    rule.__doc__ = f"One `{name}` negative drawn (`draw`) among `{name}_candidates`, or None."
    return rule


CANDIDATES: dict[str, CandidateRule]
SLOTS: dict[str, SlotRule]  # each type's candidates slot by slot, for `draw_slots` (`_rules`)
RULES: dict[str, Rule]
CANDIDATES, SLOTS, RULES = _rules()
swap_object, swap_attribute, replace_object, replace_attribute, replace_relation = (
    RULES[name] for name in ("swap_object", "swap_attribute", "replace_object", "replace_attribute", "replace_relation"))
