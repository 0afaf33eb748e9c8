"""The permissive profile: every candidate that keeps only each type's invariants, none of the audit's filters.

`HardNegativeGenerator(profile="permissive")` draws from these candidate functions (with the same `rules.draw`)
instead of the strict ones of `rules.py`. A candidate here is

- a **minimal edit** of the promised kind: one noun run, one attribute or one relation phrase replaced
  (with its "a"/"an" made to agree), or two noun runs or two modifier spans exchanged, or one listed attribute
  moved to another noun group (the caption's words kept but for "a"/"an");
- of the **right kind**: objects are noun runs (listed nouns for a replacement, whose alternatives come from the
  noun's category), attributes are listed adjectives (replacements from their category), relations are the
  relation phrases and listed verbs `phrases.parse_caption` finds (replacements: the listed opposites, "next to" /
  "beside" for contact, and the other verbs of every category the verb is listed in, in the same form);
- **different text** from the caption (`rules.draw` drops a candidate equal to it ignoring case and punctuation).

Nothing else is checked: no noun class, no frame, no countability beyond a plural form existing, no landmark
rule, and no protected span (a negated phrase or a question is edited like the rest). That is close to the
coverage of the CE-CLIP reference scripts (and of this package's rules before the audits, c696e4a) and, like
them, makes many negatives that are absurd or still true (docs/NEGATIVES.md: the audit's "before" rows). It is
for users reproducing the paper; the strict profile (`rules.py`) is the default.

Differences from the CE-CLIP reference: replacements still come from the shipped word lists (the reference drew
them from a masked LM's fill-mask candidates, unchecked), and edits are on token offsets, so "man" -> "woman"
never turns "woman" into "wowoman".
"""

from __future__ import annotations

from .lexicon import VERB_SLOTS, VERB_TAG_SLOT, Lexicon
from .phrases import CAPITAL_RELATION_TAG, NounGroup, ParsedCaption, singular
from .rules import (ADJECTIVE_TAGS, CandidateRule, Candidate, _article_before, _article_edit, _attribute_order,
                    _cased, _move_attribute, _swap_spans)
from .text import Edit, normalize
from .types import DEFAULT_NEGATIVE_TYPES


def _object_groups(caption: ParsedCaption, lexicon: Lexicon) -> list[NounGroup]:
    """Noun groups naming a thing: every group but those whose head is a non-object noun ("a photo", "kinds")."""
    non_objects = lexicon.rules["non_object_nouns"]
    return [group for group in caption.groups
            if caption.tokens[group.head].lower not in non_objects
            and singular(caption.tokens[group.head].lower) not in non_objects]


def swap_object_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """Any two noun runs of the same number and different text exchange places (articles exchanged to agree)."""
    tokens, candidates = caption.tokens, []
    groups = _object_groups(caption, lexicon)
    for index, a in enumerate(groups):
        for b in groups[index + 1:]:
            if tokens[a.head].tag != tokens[b.head].tag or normalize(
                    caption.span_text(a.noun_start, a.noun_end)) == normalize(caption.span_text(b.noun_start, b.noun_end)):
                continue
            edits = _swap_spans(caption, (a.noun_start, a.noun_end), (b.noun_start, b.noun_end))
            if edits is not None:
                candidates.append(Candidate(len(candidates), tuple(edits)))
    return candidates


def swap_attribute_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """Any two different modifier spans exchange places, or one listed attribute (of a movable category: colour,
    material, pattern, age) moves to another noun group without an attribute of its category."""
    tokens, candidates = caption.tokens, []
    groups = _object_groups(caption, lexicon)
    modified = [group for group in groups if group.has_modifiers]
    for index, a in enumerate(modified):
        for b in modified[index + 1:]:
            if normalize(caption.span_text(a.mod_start, a.noun_start)) == normalize(
                    caption.span_text(b.mod_start, b.noun_start)):
                continue
            edits = _swap_spans(caption, (a.mod_start, a.noun_start), (b.mod_start, b.noun_start))
            if edits is not None:
                candidates.append(Candidate(len(candidates), tuple(edits)))
    adjectives, order = lexicon.adjectives.lookup, _attribute_order(lexicon)
    for source in modified:
        for position in range(source.mod_start, source.noun_start):
            listed = adjectives.get(tokens[position].lower)
            if listed is None or listed[0].category not in lexicon.rules["movable_attributes"] or position == 0:
                continue
            category = listed[0].category
            for target in groups:
                if target is source or target.noun_start == 0:
                    continue
                target_categories = [adjectives[tokens[i].lower][0].category
                                     for i in range(target.mod_start, target.noun_start) if tokens[i].lower in adjectives]
                if category in target_categories:
                    continue
                at = next((i for i in range(target.mod_start, target.noun_start) if tokens[i].lower in adjectives
                           and order.get(adjectives[tokens[i].lower][0].category, 0) > order.get(category, 0)),
                          target.noun_start)
                candidates.append(Candidate(len(candidates), _move_attribute(caption, source, position, target, at)))
    return candidates


def replace_object_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """Any listed noun run becomes another noun of its category (outside its synonym cluster), in the same number
    (a mass noun, which has no plural, never replaces a plural)."""
    candidates: list[Candidate] = []
    tokens = caption.tokens
    for slot, group in enumerate(_object_groups(caption, lexicon)):
        run = " ".join(token.lower for token in tokens[group.noun_start:group.noun_end])
        listed = lexicon.nouns.lookup.get(run)
        if listed is None:
            continue
        number = 1 if tokens[group.head].tag == "NNS" else 0
        old = caption.span_text(group.noun_start, group.noun_end)
        span = caption.char_span(group.noun_start, group.noun_end)
        article = _article_before(caption, group.noun_start)
        for alternative in lexicon.nouns.alternatives(listed[0]):
            if number and alternative.mass:
                continue
            new = alternative.forms[number]
            candidates.append(Candidate(slot, _with_article(caption, (*span, _cased(caption, new, old)), article, new)))
    return candidates


def replace_attribute_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """Any listed attribute (in a noun group's modifiers, or tagged as an adjective) becomes another of its
    category outside its synonym cluster."""
    adjectives, tokens, candidates = lexicon.adjectives.lookup, caption.tokens, []
    in_nouns = {i for group in caption.groups for i in range(group.noun_start, group.noun_end)}
    in_modifiers = {i for group in caption.groups for i in range(group.mod_start, group.noun_start)}
    for index, token in enumerate(tokens):
        if token.lower not in adjectives or index in in_nouns or not (
                index in in_modifiers or token.tag in ADJECTIVE_TAGS):
            continue
        article = _article_before(caption, index)
        for alternative in lexicon.adjectives.alternatives(adjectives[token.lower][0]):
            new = alternative.forms[0]
            candidates.append(Candidate(index, _with_article(
                caption, (token.start, token.end, _cased(caption, new, token.text)), article, new)))
    return candidates


def replace_relation_candidates(caption: ParsedCaption, lexicon: Lexicon) -> list[Candidate]:
    """Any relation phrase becomes one of its listed opposites (and, for contact, "next to" / "beside"); any
    listed verb becomes another verb of any category it is listed in, in the same form."""
    tokens, candidates = caption.tokens, []
    contact, sides = lexicon.rules["contact_relations"], lexicon.rules.ordered("side_relations")
    for start, end in caption.relations:
        if tokens[start].tag == CAPITAL_RELATION_TAG:
            continue  # read as a relation by the strict rules only (the permissive profile keeps its output)
        phrase = " ".join(token.lower for token in tokens[start:end])
        if end - start == 1 and phrase in lexicon.verbs.lookup and phrase not in lexicon.relations.lookup:
            slot = VERB_SLOTS.index(VERB_TAG_SLOT.get(tokens[start].tag, "gerund"))
            alternatives = [alternative.forms[slot] for sense, _ in lexicon.verbs.senses[phrase]
                            for alternative in lexicon.verbs.alternatives(sense)]
        else:
            entry = lexicon.relations.lookup[phrase][0]
            alternatives = [alternative.forms[0] for alternative in lexicon.relations.alternatives(entry)]
            if phrase in contact:
                alternatives += sides
        old = caption.span_text(start, end)
        for new in dict.fromkeys(alternatives):
            if new != phrase:
                candidates.append(Candidate(start, ((*caption.char_span(start, end), _cased(caption, new, old)),)))
    return candidates


def _with_article(caption: ParsedCaption, edit: Edit, article: int | None, new: str) -> tuple[Edit, ...]:
    fixed = _article_edit(caption, article, new)
    return (edit,) if fixed is None else (edit, fixed)


def _candidates() -> dict[str, CandidateRule]:
    found = {name: globals().get(name + "_candidates") for name in DEFAULT_NEGATIVE_TYPES}
    missing = [name + "_candidates" for name, function in found.items() if not callable(function)]
    if missing:
        raise ImportError(f"negative types without a permissive candidate function in {__name__}: {missing}")
    return found


PERMISSIVE_CANDIDATES: dict[str, CandidateRule] = _candidates()
