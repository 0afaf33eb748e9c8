"""What every filter reads: the listed noun a noun group names, and the groups around a token."""

from __future__ import annotations

from ..lexicon import Entry, Lexicon
from ..phrases import NounGroup, ParsedCaption, singular


def object_entry(caption: ParsedCaption, group: NounGroup, lexicon: Lexicon) -> Entry | None:
    """The listed noun a group names: its whole noun run must be one listed noun (pattern 4: "a dog bed" is
    not a dog, and its "bed" is not replaced alone), and not a non-object ("kinds of", "a view")."""
    known = caption.entries.get(group)  # several rules ask for the same groups
    if known is not None and known[0] is lexicon:
        return known[1]
    found = _object_entry(caption, group, lexicon)
    caption.entries[group] = (lexicon, found)
    return found


def _object_entry(caption: ParsedCaption, group: NounGroup, lexicon: Lexicon) -> Entry | None:
    tokens = caption.tokens
    head = tokens[group.head].lower
    if head in lexicon.rules["non_object_nouns"] or singular(head) in lexicon.rules["non_object_nouns"]:
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
    if head in lexicon.rules["non_object_nouns"] or singular(head) in lexicon.rules["non_object_nouns"]:
        return None
    listed = lexicon.nouns.lookup.get(head)
    return listed[0] if listed is not None else None


def heads_of_phrase(caption: ParsedCaption, group: NounGroup) -> bool:
    """The group is the head of an "X of Y" phrase ("a plate of food", "a herd of cattle"): an amount, a part or
    a container of what follows, never exchanged or replaced on its own (pattern 3)."""
    after = group.noun_end
    return after < len(caption.tokens) and caption.tokens[after].lower == "of"


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


NAME_TAGS = frozenset({"NNP", "NNPS", "NN", "NNS", "JJ", "VB", "VBP", "VBZ", "FW", "XX"})
SENTENCE_ENDS = frozenset({".", "!", "?", ":", ";", '"'})


def in_name(caption: ParsedCaption, lexicon: Lexicon, start: int, end: int) -> bool:
    """Tokens [start, end) are part of a name: they or the token next to them include a capitalised word that is
    not at a sentence's start and that the lists do not know ("the Eiffel tower" -> "the Eiffel barn", "Reel Big
    Fish" -> "Reel Miniature Fish"). A capitalised listed word alone ("A Dog chasing a cat") is no name."""
    tokens = caption.tokens
    if caption.text.isupper():
        return False
    for index in range(max(start - 1, 0), min(end + 1, len(tokens))):
        token = tokens[index]
        if (index > 0 and token.text[:1].isupper() and tokens[index - 1].text not in SENTENCE_ENDS
                and token.tag in NAME_TAGS and token.lower not in lexicon.words and not token.text.isupper()):
            return True
    return False
