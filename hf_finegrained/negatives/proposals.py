"""Negatives proposed by a model, and the gate they pass: the type's invariants, then the profile's filters.

A proposer (`NegativeProposer`) is any callable that takes (caption, type) requests and returns, for each, a
list of proposed negatives (strings, possibly empty). `CausalLMProposer` (`causal_lm.py`) prompts a causal
language model; a stub returning fixed strings is one too. `HardNegativeGenerator(proposer=...)` parses every
proposal with the same tagger as the captions and judges it with `judge_proposal`:

1. a proposal equal (character for character) to one of the rule candidates of the generator's profile is
   accepted: the rules made and checked that same edit;
2. otherwise the type's invariants decide, in this order of rejection reasons:
   - `malformed`: not a string, empty, or more than one line;
   - `same_text`: equal to the caption ignoring case and punctuation;
   - `not_minimal`: a swap that does not keep the caption's words (but for "a"/"an"), or a replacement that
     changes more than one run of words, or more than `MAX_REPLACED_WORDS` words, or only adds or drops words;
   - `wrong_kind`: a swap that is not two noun runs (swap_object) or two modifier spans (swap_attribute)
     exchanged, nor one modifier moved into another noun group (swap_attribute); a replacement whose changed
     words are not of the type's kind: nouns of noun runs for objects, modifiers or adjectives for attributes,
     relation phrases, prepositions or verbs for relations (read from the tagger on the caption for the old
     words and on the proposal for the new ones);
3. under the strict profile, a proposal that passed the invariants is still rejected: `protected` when it
   changes a negated phrase or a question (`phrases.protected_spans`), else `filtered` (the strict filters of
   `filters/` admit only the edits the rules list, so a proposal outside them is not one they can vouch for).
   Under the permissive profile it is accepted.
4. a generator given a `vocabulary` rejects a proposal accepted above that writes a word outside it:
   `outside_vocabulary` (`HardNegativeGenerator` checks it; `judge_proposal` does not know the vocabulary).

So with the strict profile a language model chooses among the rules' edits; with the permissive profile it may
also write edits the word lists do not hold (new words, new phrasings), checked only for the invariants.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from .lexicon import Lexicon
from .phrases import ParsedCaption, Token
from .text import normalize

REJECTION_REASONS: tuple[str, ...] = ("malformed", "same_text", "not_minimal", "wrong_kind", "protected", "filtered",
                                      "outside_vocabulary")
MAX_REPLACED_WORDS = 3  # a replacement changes one run of at most this many words on either side
ATTRIBUTE_TAGS = frozenset({"JJ", "JJR", "JJS", "VBN"})
RELATION_TAGS = frozenset({"IN", "TO", "RP", "RB", "VB", "VBD", "VBG", "VBN", "VBP", "VBZ"})
_ARTICLE = {"an": "a"}


class NegativeProposer(Protocol):
    """Proposes negatives: for each (caption, type) request, a list of candidate negative captions."""

    def __call__(self, requests: Sequence[tuple[str, str]]) -> Sequence[Sequence[str]]: ...


def _words(caption: ParsedCaption) -> list[tuple[int, str]]:
    """(token index, lower-case word with "an" read as "a") of the caption's word tokens (punctuation left out)."""
    return [(index, _ARTICLE.get(token.lower, token.lower)) for index, token in enumerate(caption.tokens)
            if any(character.isalnum() for character in token.lower)]


def _kind_positions(caption: ParsedCaption, lexicon: Lexicon, kind: str) -> set[int]:
    """The token indices whose words are of the type's kind in `caption`."""
    tokens: list[Token] = caption.tokens
    if kind.endswith("object"):
        return {i for group in caption.groups for i in range(group.noun_start, group.noun_end)}
    if kind.endswith("attribute"):
        found = {i for group in caption.groups for i in range(group.mod_start, group.noun_start)}
        return found | {i for i, token in enumerate(tokens)
                        if token.tag in ATTRIBUTE_TAGS or token.lower in lexicon.adjectives.lookup}
    found = {i for start, end in caption.relations for i in range(start, end)}
    return found | {i for i, token in enumerate(tokens) if token.tag in RELATION_TAGS}


def judge_proposal(caption: ParsedCaption, proposal: str | None, parsed: ParsedCaption | None, kind: str,
                   lexicon: Lexicon, profile: str, candidate_texts: frozenset[str] | set[str]) -> str | None:
    """None when `proposal` (parsed as `parsed`) is accepted as a `kind` negative of `caption`, else the reason it
    is rejected (one of `REJECTION_REASONS`; see the module docstring). `candidate_texts`: the negatives the
    profile's rules would make for this caption and type."""
    if not isinstance(proposal, str) or not proposal.strip() or "\n" in proposal.strip() or parsed is None:
        return "malformed"
    if proposal in candidate_texts:
        return None
    if normalize(proposal) == normalize(caption.text):
        return "same_text"
    old, new = _words(caption), _words(parsed)
    old_words, new_words = [word for _, word in old], [word for _, word in new]
    changes = [op for op in difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False).get_opcodes()
               if op[0] != "equal"]
    if not changes:  # only punctuation or casing differs beyond `normalize`
        return "same_text"
    if kind.startswith("swap"):
        if sorted(old_words) != sorted(new_words):
            return "not_minimal"
        if not _is_swap(caption, old, tuple(new_words), kind):
            return "wrong_kind"
        return None if profile == "permissive" else _strict_verdict(caption, old, changes)
    if (len(changes) != 1 or changes[0][0] != "replace"
          or max(changes[0][2] - changes[0][1], changes[0][4] - changes[0][3]) > MAX_REPLACED_WORDS):
        return "not_minimal"
    old_kind, new_kind = _kind_positions(caption, lexicon, kind), _kind_positions(parsed, lexicon, kind)
    old_changed = [old[i][0] for _, i1, i2, _, _ in changes for i in range(i1, i2)]
    new_changed = [new[j][0] for _, _, _, j1, j2 in changes for j in range(j1, j2)]
    if not all(i in old_kind for i in old_changed) or not all(j in new_kind for j in new_changed):
        return "wrong_kind"
    return None if profile == "permissive" else _strict_verdict(caption, old, changes)


def _strict_verdict(caption: ParsedCaption, old: list[tuple[int, str]], changes: list[tuple]) -> str:
    """Why the strict profile rejects a proposal that keeps the invariants but is none of its rules' edits."""
    return "protected" if caption.protected and _touches_protected(caption, old, changes) else "filtered"


def _is_swap(caption: ParsedCaption, old: list[tuple[int, str]], new_words: tuple[str, ...], kind: str) -> bool:
    """`new_words` is the caption's words with two noun runs (swap_object) or two modifier spans (swap_attribute)
    exchanged, or with one modifier moved into another noun group's modifiers (swap_attribute). Tried
    constructively: a word-level diff cannot tell an exchange from a shift ("a dog chasing a cat" -> "a cat
    chasing a dog" aligns "a dog" with "a dog")."""
    position = {token: index for index, (token, _) in enumerate(old)}
    words = [word for _, word in old]

    def span(start: int, end: int) -> tuple[int, int] | None:
        inside = [position[i] for i in range(start, end) if i in position]
        return (inside[0], inside[-1] + 1) if inside else None

    groups = caption.groups
    key = "noun" if kind == "swap_object" else "modifier"
    spans = [span(g.noun_start, g.noun_end) if key == "noun" else span(g.mod_start, g.noun_start) for g in groups]
    for first in range(len(groups)):
        for second in range(first + 1, len(groups)):
            a, b = spans[first], spans[second]
            if a is None or b is None or a[1] > b[0]:
                continue
            exchanged = words[:a[0]] + words[b[0]:b[1]] + words[a[1]:b[0]] + words[a[0]:a[1]] + words[b[1]:]
            if tuple(exchanged) == new_words:
                return True
    if kind != "swap_attribute":
        return False
    for source, modifiers in zip(groups, spans):
        if modifiers is None:
            continue
        for moved in range(*modifiers):
            rest = words[:moved] + words[moved + 1:]
            for target in groups:
                where = span(target.mod_start, target.noun_end)
                if target is source or where is None:
                    continue
                nouns = span(target.noun_start, target.noun_end)
                last = nouns[0] if nouns is not None else where[1]
                for at in range(where[0], last + 1):
                    at_rest = at - (at > moved)
                    if tuple(rest[:at_rest] + [words[moved]] + rest[at_rest:]) == new_words:
                        return True
    return False


def _touches_protected(caption: ParsedCaption, old: list[tuple[int, str]], changes: list[tuple]) -> bool:
    """A change replaces, drops or inserts words inside a protected span (an insertion where the next word is)."""
    spans = []
    for _, i1, i2, _, _ in changes:
        if i1 < i2:
            spans.append((caption.tokens[old[i1][0]].start, caption.tokens[old[i2 - 1][0]].end))
        else:
            at = caption.tokens[old[i1][0]].start if i1 < len(old) else len(caption.text)
            spans.append((at, at + 1))
    return any(start < span_end and end > span_start
               for start, end in spans for _, span_start, span_end in caption.protected)


class ProposalCounts:
    """Per type: proposals made, accepted, used (the kept negative came from a proposal), and rejected per reason
    (`REJECTION_REASONS`). Counted once per distinct caption a generator call sees."""

    def __init__(self) -> None:
        self.proposed: Counter = Counter()
        self.accepted: Counter = Counter()
        self.used: Counter = Counter()
        self.rejected: dict[str, Counter] = {}

    def reject(self, kind: str, reason: str) -> None:
        self.rejected.setdefault(kind, Counter())[reason] += 1

    def as_dict(self, types: Sequence[str]) -> dict[str, dict]:
        return {name: {"proposed": self.proposed[name], "accepted": self.accepted[name], "used": self.used[name],
                       "rejected": {reason: self.rejected.get(name, Counter())[reason]
                                    for reason in REJECTION_REASONS}}
                for name in types}
