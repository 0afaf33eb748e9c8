"""A parsed caption reduced to plain tuples: tokens, noun groups and relation candidates.

Only the tagger is needed: noun groups are read from Penn Treebank tags (determiner, modifiers, a run of
nouns) rather than from the dependency parser, which is the slowest component of the spaCy pipeline. This
is an approximation of spaCy's `noun_chunks` that is good enough for short, literal captions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .lexicon import VERB_SLOTS, VERB_TAG_SLOT, Entry, Lexicon
from .text import normalize

NOUN_TAGS = frozenset({"NN", "NNS"})
MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "VBN", "HYPH"})
DETERMINER_TAGS = frozenset({"DT", "PRP$", "CD"})
LINK_TAGS = frozenset({"CC", ","})  # "a red and white bus", "a big, brown dog"
LINKS_OR_HYPHEN = LINK_TAGS | {"HYPH"}
PREPOSITION_TAGS = frozenset({"IN", "RP", "RB", "TO"})
# A listed relation word spaCy tags as a name (VL-CheckList's "cup ON table"): a relation for the strict rules, and
# a tag of its own so that what read the tag before (the permissive profile, the other rules) reads it as before.
CAPITAL_RELATION_TAG = "IN_NNP"
NOUN_PHRASE_TAGS = NOUN_TAGS | MODIFIER_TAGS
RETAGGED = frozenset({"NNP", "NNPS"}) | NOUN_TAGS  # the tags `_tag` may change
GERUND_SLOT = VERB_SLOTS.index("gerund")
# Quantifiers tagged JJ stop the modifier span: they are not attributes of the object.
QUANTIFIERS = frozenset({"many", "several", "few", "other", "various", "different", "same", "such", "own",
                         "numerous", "multiple", "much", "more", "most", "next", "last", "first", "only",
                         "single", "double", "lots", "couple", "whole", "entire", "half"})


# Negations: a determiner or preposition negates the noun phrase it governs, the others the rest of the clause.
PHRASE_NEGATIONS = frozenset({"no", "zero", "0", "without"})
CLAUSE_NEGATIONS = frozenset({"nobody", "not", "never", "none", "nothing", "n't", "neither", "nor", "noone"})
NEGATION_WORDS = PHRASE_NEGATIONS | CLAUSE_NEGATIONS
HELD_BACK_REASONS = ("negated", "question")
CLAUSE_ENDS = frozenset({",", ";", ".", "?", "!", "but", "while", "and", "where", "as"})
# A count of zero that opens its clause ("0 pieces have been taken", "There are exactly 0 people sitting on the
# sofa") makes the clause's subject nothing: whatever the rest says of it holds of any other noun too.
SUBJECT_NEGATIONS = frozenset({"no", "zero", "0"})
ZERO_COUNT_ADVERBS = frozenset({"exactly", "just", "only", "precisely", "absolutely", "literally"})
EXISTENTIAL_VERBS = frozenset({"are", "is", "were", "was", "be", "'s", "'re", "seem", "appear"})
SENTENCE_BREAKS = frozenset({",", ";", ".", "!", ":"})


class Token(NamedTuple):
    """One token: its text, lower-case text, tag and character span in the caption."""

    text: str
    lower: str
    tag: str
    start: int
    end: int


class NounGroup(NamedTuple):
    """A noun phrase as token indices: optional determiner, modifier span [mod_start, noun_start), nouns."""

    det: int | None
    mod_start: int
    noun_start: int
    noun_end: int  # exclusive; the head noun is noun_end - 1

    @property
    def head(self) -> int:
        return self.noun_end - 1

    @property
    def has_modifiers(self) -> bool:
        return self.mod_start < self.noun_start


class _computed_once:
    """`functools.cached_property` without its lock (Python 3.11 takes one on every first read: a cost per caption
    here): the value is computed on the first read and stored on the instance, which later reads find first."""

    def __init__(self, function: Any) -> None:
        self.function, self.name, self.__doc__ = function, function.__name__, function.__doc__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


@dataclass
class ParsedCaption:
    """Everything the rules read about one caption; built once per caption from a spaCy `Doc`."""

    text: str
    tokens: list[Token]
    groups: list[NounGroup] = field(default_factory=list)
    relations: list[tuple[int, int]] = field(default_factory=list)  # token spans [start, end)
    words: frozenset[str] = frozenset()
    # (reason, first char, end char) of what no edit may touch: a negated phrase, the question of a question and
    # its answer (`protected_spans`)
    protected: list[tuple[str, int, int]] = field(default_factory=list)
    # {noun group: (lexicon, its listed noun)}: `filters.object_entry`, asked by several rules, per caption
    entries: dict[NounGroup, tuple[Lexicon, Entry | None]] = field(default_factory=dict, repr=False, compare=False)
    # (lexicon, its listed objects): `rules._objects`, asked by swap_object and replace_object, per caption
    objects: tuple[Lexicon, list[tuple[NounGroup, Entry]]] | None = field(default=None, repr=False, compare=False)

    @_computed_once
    def normalized(self) -> str:
        """`text.normalize(self.text)`: the form a negative must differ from."""
        return normalize(self.text)

    @_computed_once
    def is_upper(self) -> bool:
        """The caption is written in capitals ("A MAN ON A HORSE")."""
        return self.text.isupper()

    def span_text(self, start: int, end: int) -> str:
        return self.text[self.tokens[start].start:self.tokens[end - 1].end]

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        return self.tokens[start].start, self.tokens[end - 1].end


_new_token: Any = tuple.__new__  # `Token(...)` without the Python-level `__new__` of a NamedTuple


@functools.lru_cache(maxsize=1 << 16)  # the filters ask for the same few thousand words caption after caption
def singular(word: str) -> str:
    """A plural noun's singular, by the regular rules (enough to look a plural up in a set of singulars)."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def parse_caption(doc, lexicon: Lexicon, text: str | None = None) -> ParsedCaption:
    """Reads tokens, relation phrases and noun groups out of a spaCy `Doc` (tagger output only).

    `text` is `doc.text` when the caller has it (spaCy rebuilds `doc.text` from the tokens on every access).
    """
    nouns, adjectives, relations = lexicon.nouns.lookup, lexicon.adjectives.lookup, lexicon.relations.lookup
    tokens: list[Token] = []
    # Per token, spaCy builds each string attribute anew from its string store: `text` is read once, and its
    # lower case, whitespace test and end are computed here (spaCy's English `lower_` and `is_space` are
    # `str.lower()` and `str.isspace()` of the text).
    for t in doc:
        word = t.text
        if word.isspace():
            continue
        start, lower, tag = t.idx, word.lower(), t.tag_
        if tag in RETAGGED:
            tag = _tag(tag, lower, nouns, adjectives, relations)
        tokens.append(_new_token(Token, (word, lower, tag, start, start + len(word))))
    for index, token in enumerate(tokens):
        # A listed noun tagged as an adjective with no noun after it ends its noun phrase ("a large pink square").
        if (token.tag == "JJ" and token.lower in nouns and index > 0
                and (index + 1 == len(tokens) or tokens[index + 1].tag not in NOUN_PHRASE_TAGS)):
            tokens[index] = token._replace(tag="NN")
    relations, in_relation = _relation_spans(tokens, lexicon)
    groups = _noun_groups(tokens, in_relation, lexicon)
    text = doc.text if text is None else text
    words = frozenset(t.lower for t in tokens)
    return ParsedCaption(text, tokens, groups, relations, words, protected_spans(text, tokens, groups, relations, words))


def protected_spans(text: str, tokens: list[Token], groups: list[NounGroup], relations: list[tuple[int, int]],
                    words: frozenset[str]) -> list[tuple[str, int, int]]:
    """What no edit may touch, as (reason, first char, end char):

    - "negated": what a negation says is absent. After "no", "zero", "0" or "without", the noun group it
      governs and the prepositional phrases that follow it ("no cars on the street", "without a hat"); after a
      clause negation ("nobody", "not", "never", "none", "nothing", "n't"), the rest of the clause. Replacing
      or moving what is not there leaves the caption true ("no cars" -> "no buses"). A zero count that is its
      clause's subject ("There are exactly 0 people sitting on the sofa", `_zero_subject`), the rest of the clause:
      "0 people sitting on the stool" is as true.
    - "question": everything up to the last "?" of a question-and-answer caption ("... is this a park? yes."):
      only the answer states something.
    """
    spans: list[tuple[str, int, int]] = []
    if "?" in text:
        spans.append(("question", 0, text.rindex("?") + 1))
    if not words & NEGATION_WORDS:
        return spans
    starts = {(group.det if group.det is not None else group.mod_start): group for group in groups}
    relation_ends = {start: end for start, end in relations}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.lower in CLAUSE_NEGATIONS:
            end = index + 1
            while end < len(tokens) and tokens[end].lower not in CLAUSE_ENDS:
                end += 1
        elif token.lower in PHRASE_NEGATIONS:
            group = starts.get(index) or starts.get(index + 1)  # "no cars" (det "no"), "without a hat"
            end = index + 1 if group is None else group.noun_end
            if group is not None and token.lower in SUBJECT_NEGATIONS and _zero_subject(tokens, index):
                while end < len(tokens) and tokens[end].lower not in CLAUSE_ENDS:
                    end += 1
            # the prepositional phrases of the negated thing: "no cars on the street near a tree"
            while end in relation_ends and tokens[end].tag in PREPOSITION_TAGS:
                following = starts.get(relation_ends[end])
                if following is None:
                    break
                end = following.noun_end
        else:
            index += 1
            continue
        spans.append(("negated", token.start, tokens[end - 1].end))
        index = end
    return spans


def _zero_subject(tokens: list[Token], index: int) -> bool:
    """The zero count at token `index` ("no", "zero", "0", after "exactly"...) opens its clause's subject: it
    starts the caption or a sentence, or follows "there" and a form of "be" ("There are no people riding the
    bikes")."""
    before = index - 1
    while before >= 0 and tokens[before].lower in ZERO_COUNT_ADVERBS:
        before -= 1
    if before < 0 or tokens[before].lower in SENTENCE_BREAKS:
        return True
    return tokens[before].lower in EXISTENTIAL_VERBS and before > 0 and tokens[before - 1].lower == "there"


def _tag(tag: str, lower: str, nouns: dict, adjectives: dict, relations: dict) -> str:
    """The tag the rules use: spaCy's small model tags some listed words as proper nouns ("A Dog",
    "a steep snowy hill"); those become ordinary nouns or adjectives, and a listed relation word so tagged
    (VL-CheckList's capitalised "cup ON table") `CAPITAL_RELATION_TAG`. A noun must be a plain word (spaCy tags a
    lone "-" as NN)."""
    if tag in ("NNP", "NNPS"):
        if lower in nouns:
            return "NN" if tag == "NNP" else "NNS"
        if lower in adjectives:
            return "JJ"
        if lower in relations:
            return CAPITAL_RELATION_TAG
    if tag in NOUN_TAGS and not lower.isalpha():
        return "XX"
    return tag


def _relation_spans(tokens: list[Token], lexicon: Lexicon) -> tuple[list[tuple[int, int]], list[bool]]:
    """Spatial phrases from the relation list (longest match first) and verbs from the verb list."""
    spans: list[tuple[int, int]] = []
    count = len(tokens)
    taken = [False] * count
    lookup, widths, verbs = lexicon.relations.lookup, lexicon.relation_widths, lexicon.verbs.lookup
    index = 0
    while index < count:
        matched = 0
        for width in widths.get(tokens[index].lower, ()):  # longest first
            if width > count - index:
                continue
            phrase = " ".join(t.lower for t in tokens[index:index + width])
            if phrase in lookup and (width > 1 or tokens[index].tag in PREPOSITION_TAGS
                                     or tokens[index].tag == CAPITAL_RELATION_TAG):
                matched = width
                break
        if matched:
            spans.append((index, index + matched))
            for offset in range(matched):
                taken[index + offset] = True
            index += matched
            continue
        if tokens[index].lower in verbs and _is_listed_verb(tokens, index, lexicon):
            spans.append((index, index + 1))
            taken[index] = True
        index += 1
    return spans, taken


def _is_listed_verb(tokens: list[Token], index: int, lexicon: Lexicon) -> bool:
    """A listed verb form tagged as a verb, or a listed gerund mistagged as a noun right after a noun
    ("a shirt and tie standing in a room")."""
    token = tokens[index]
    known = lexicon.verbs.lookup.get(token.lower)
    if known is None:
        return False
    if token.tag in VERB_TAG_SLOT:
        return True
    return (token.tag == "NN" and known[1] == GERUND_SLOT and index > 0 and tokens[index - 1].tag in NOUN_TAGS)


def _noun_groups(tokens: list[Token], taken: list[bool], lexicon: Lexicon) -> list[NounGroup]:
    groups = []
    adjectives, nouns = lexicon.adjectives.lookup, lexicon.nouns.lookup
    index, count = 0, len(tokens)
    while index < count:
        if tokens[index].tag not in NOUN_TAGS or taken[index]:
            index += 1
            continue
        end = index
        while end + 1 < count and tokens[end + 1].tag in NOUN_TAGS and not taken[end + 1]:
            end += 1
        noun_start = index
        # A colour or material tagged as a noun ("orange cat", "wood table") is a modifier, not the object.
        while noun_start < end and tokens[noun_start].lower in adjectives:
            noun_start += 1
        # A listed compound whose first word is tagged as a modifier ("hot dog", "teddy bear") is one noun.
        if noun_start > 0 and not taken[noun_start - 1] and (
                f"{tokens[noun_start - 1].lower} {tokens[end].lower}" in nouns):
            noun_start -= 1
        mod_start = index
        while mod_start > 0 and not taken[mod_start - 1]:
            previous = tokens[mod_start - 1]
            if previous.lower in QUANTIFIERS:
                break
            if previous.tag in MODIFIER_TAGS:
                mod_start -= 1
            elif (previous.tag in LINK_TAGS and mod_start >= 2 and tokens[mod_start - 2].tag in MODIFIER_TAGS
                  and mod_start < noun_start):
                mod_start -= 1
            else:
                break
        while mod_start < noun_start and tokens[mod_start].tag in LINKS_OR_HYPHEN:
            mod_start += 1
        det = mod_start - 1 if mod_start > 0 and tokens[mod_start - 1].tag in DETERMINER_TAGS else None
        groups.append(NounGroup(det, mod_start, noun_start, end + 1))
        index = end + 1
    return groups
