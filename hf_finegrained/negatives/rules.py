"""The rules of the negative types (`types.NEGATIVE_TYPES`), each a function named after its type, of one
`ParsedCaption`, returning a negative caption or None.

Differences from the CE-CLIP reference scripts: edits are made on token offsets (the reference replaces raw
substrings, so "man" -> "woman" also turns "woman" into "wowoman"), replacements come from shipped word lists
by category instead of a masked language model, and swaps exchange whole noun runs or modifier spans and fix
"a"/"an" by exchanging the two articles, so a swap always keeps the caption's multiset of words.
"""

from __future__ import annotations

from collections.abc import Callable, MutableSequence, Sequence
from typing import Any, Protocol

from .lexicon import VERB_SLOTS, VERB_TAG_SLOT, Entry, Lexicon
from .phrases import NON_OBJECT_NOUNS, NounGroup, ParsedCaption
from .text import Edit, apply_edits, indefinite_article, match_case, normalize
from .types import DEFAULT_NEGATIVE_TYPES


class Chooser(Protocol):
    """What a rule draws with: `random.Random` or the cheaper `CaptionRandom`."""

    def choice(self, items: Sequence[Any]) -> Any: ...

    def shuffle(self, items: MutableSequence[Any]) -> None: ...


Rule = Callable[[ParsedCaption, Lexicon, Chooser], "str | None"]
ARTICLES = frozenset({"a", "an"})
ADJECTIVE_TAGS = frozenset({"JJ", "JJR"})


def _finish(caption: ParsedCaption, edits: list[Edit]) -> str | None:
    result = apply_edits(caption.text, edits)
    return None if normalize(result) == normalize(caption.text) else result


def _objects(caption: ParsedCaption) -> list[NounGroup]:
    return [g for g in caption.groups if caption.tokens[g.head].lower not in NON_OBJECT_NOUNS]


def _shuffled_pairs(items: list, rng: Chooser, key: Callable[[Any], Any] | None = None) -> list[tuple]:
    """All pairs (of items with equal `key`, when given), in a random order."""
    pairs = [(a, b) for i, a in enumerate(items) for b in items[i + 1:] if key is None or key(a) == key(b)]
    if len(pairs) > 1:
        rng.shuffle(pairs)
    return pairs


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
    return None if token.lower == wanted else (token.start, token.end, match_case(wanted, token.text))


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
    edits: list[Edit] = [(a_start, a_end, match_case(text_b, text_a)), (b_start, b_end, match_case(text_a, text_b))]
    articles = [_article_before(caption, first[0]), _article_before(caption, second[0])]
    needs = [_article_edit(caption, articles[0], text_b), _article_edit(caption, articles[1], text_a)]
    if needs[0] is None and needs[1] is None:
        return edits
    if needs[0] is not None and needs[1] is not None:  # one "a" and one "an": exchanging them keeps the words
        return edits + needs
    return None


def _swap_first(caption: ParsedCaption, pairs: list[tuple[NounGroup, NounGroup]],
                span: Callable[[NounGroup], tuple[int, int]]) -> str | None:
    """The caption with the `span`s of the first pair (in the order given) that differ and can be exchanged."""
    for a, b in pairs:
        first, second = span(a), span(b)
        if normalize(caption.span_text(*first)) == normalize(caption.span_text(*second)):
            continue
        edits = _swap_spans(caption, first, second)
        if edits is not None:
            return _finish(caption, edits)
    return None


def swap_object(caption: ParsedCaption, lexicon: Lexicon, rng: Chooser) -> str | None:
    """Two objects (noun runs of the same number) exchange places; their modifiers stay where they were."""
    tokens = caption.tokens
    pairs = _shuffled_pairs(_objects(caption), rng, key=lambda group: tokens[group.head].tag)
    return _swap_first(caption, pairs, lambda group: (group.noun_start, group.noun_end))


def swap_attribute(caption: ParsedCaption, lexicon: Lexicon, rng: Chooser) -> str | None:
    """Two objects exchange their modifiers ("a white cat on a black chair" -> "a black cat on a white chair").

    Pairs whose modifiers are both listed attributes (colour, material, ...) are tried first.
    """
    known = lexicon.adjectives.lookup
    groups = [g for g in _objects(caption) if g.has_modifiers]
    listed = {id(g) for g in groups if any(caption.tokens[i].lower in known for i in range(g.mod_start, g.noun_start))}
    pairs = _shuffled_pairs(groups, rng)
    pairs.sort(key=lambda pair: not (id(pair[0]) in listed and id(pair[1]) in listed))  # stable: keeps shuffle
    return _swap_first(caption, pairs, lambda group: (group.mod_start, group.noun_start))


def _pick_unused(alternatives: list[str], caption: ParsedCaption, rng: Chooser) -> str | None:
    """A random alternative whose words do not all appear in the caption already."""
    words = caption.words
    fresh = [alt for alt in alternatives
             if alt not in words and (" " not in alt or not all(word in words for word in alt.split()))]
    return rng.choice(fresh) if fresh else None


def replace_object(caption: ParsedCaption, lexicon: Lexicon, rng: Chooser) -> str | None:
    """One object noun becomes another of its category and number ("dog" -> "cat", "cars" -> "trucks")."""
    nouns, tokens = lexicon.nouns, caption.tokens
    candidates: list[tuple[int, int, Entry]] = []
    for group in _objects(caption):
        for width in (2, 1):  # "hot dog", "tennis player" before "dog", "player"
            start = group.noun_end - width
            if start < group.noun_start:
                continue
            phrase = " ".join(t.lower for t in tokens[start:group.noun_end])
            if phrase in nouns.lookup:
                candidates.append((start, group.noun_end, nouns.lookup[phrase][0]))
                break
    if len(candidates) > 1:
        rng.shuffle(candidates)
    for start, end, entry in candidates:
        number = 1 if tokens[end - 1].tag == "NNS" else 0
        new = _pick_unused([alt.forms[number] for alt in nouns.alternatives(entry)], caption, rng)
        if new is None:
            continue
        old = caption.span_text(start, end)
        edits: list[Edit] = [(*caption.char_span(start, end), match_case(new, old))]
        article = _article_edit(caption, _article_before(caption, start), new)
        if article is not None:
            edits.append(article)
        return _finish(caption, edits)
    return None


def replace_attribute(caption: ParsedCaption, lexicon: Lexicon, rng: Chooser) -> str | None:
    """One listed attribute becomes another of its category ("red" -> "blue", "wooden" -> "metal")."""
    adjectives, tokens = lexicon.adjectives.lookup, caption.tokens
    modifier_positions = {i for g in caption.groups for i in range(g.mod_start, g.noun_start)}
    candidates = [i for i, t in enumerate(tokens)
                  if t.lower in adjectives and (i in modifier_positions or t.tag in ADJECTIVE_TAGS)]
    if len(candidates) > 1:
        rng.shuffle(candidates)
    for index in candidates:
        entry = adjectives[tokens[index].lower][0]
        new = _pick_unused([alt.forms[0] for alt in lexicon.adjectives.alternatives(entry)], caption, rng)
        if new is None:
            continue
        token = tokens[index]
        edits: list[Edit] = [(token.start, token.end, match_case(new, token.text))]
        article = _article_edit(caption, _article_before(caption, index), new)
        if article is not None:
            edits.append(article)
        return _finish(caption, edits)
    return None


def replace_relation(caption: ParsedCaption, lexicon: Lexicon, rng: Chooser) -> str | None:
    """A spatial preposition ("on" -> "under") or an action verb in the same form ("riding" -> "pushing")."""
    spans = list(caption.relations)
    if len(spans) > 1:
        rng.shuffle(spans)
    for start, end in spans:
        phrase = " ".join(t.lower for t in caption.tokens[start:end])
        tag = caption.tokens[start].tag
        if end - start == 1 and phrase in lexicon.verbs.lookup and phrase not in lexicon.relations.lookup:
            slot = VERB_SLOTS.index(VERB_TAG_SLOT.get(tag, "gerund"))
            entry = lexicon.verbs.lookup[phrase][0]
            alternatives = [alt.forms[slot] for alt in lexicon.verbs.alternatives(entry)]
        else:
            entry = lexicon.relations.lookup[phrase][0]
            alternatives = [alt.forms[0] for alt in lexicon.relations.alternatives(entry)]
        new = _pick_unused([alt for alt in alternatives if alt != phrase], caption, rng)
        if new is None:
            continue
        return _finish(caption, [(*caption.char_span(start, end), match_case(new, caption.span_text(start, end)))])
    return None


def _rules() -> dict[str, Rule]:
    """Each type's rule, the function of this module named after it, in the types' default order."""
    rules = {name: globals().get(name) for name in DEFAULT_NEGATIVE_TYPES}
    missing = [name for name, rule in rules.items() if not callable(rule)]
    if missing:
        raise ImportError(f"negative types without a rule in {__name__}: {missing}")
    return rules


RULES: dict[str, Rule] = _rules()
