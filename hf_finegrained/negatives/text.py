"""String helpers: edits on character offsets, casing, the a/an article, and the never-equal comparison."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

_NON_WORD_SUB = re.compile(r"[^\w\s]+").sub
# Words read with a vowel sound despite their spelling, and vice versa (enough for captions).
_AN_EXCEPTIONS = ("hour", "honest", "honor", "honour", "heir")
_A_EXCEPTIONS = ("uni", "use", "usu", "uten", "euro", "one", "once", "ufo")

Edit = tuple[int, int, str]  # (start, end, replacement) in character offsets of the caption


def normalize(text: str) -> str:
    """Lower case, punctuation removed, whitespace collapsed: the form in which a negative must differ."""
    # str.split() and the regex class \s agree on what is whitespace (every code point checked)
    return " ".join(_NON_WORD_SUB(" ", text.lower()).split())


def word_multiset(text: str) -> list[str]:
    """Sorted normalized words (a swap must keep this unchanged)."""
    return sorted(normalize(text).split())


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Replaces non-overlapping character spans; everything outside them (spacing, punctuation) is kept."""
    pieces, cursor = [], 0
    for start, end, replacement in sorted(edits):
        if start < cursor:
            raise ValueError(f"overlapping edits at offset {start} in {text!r}")
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _is_acronym(word: str) -> bool:
    return 1 < len(word) <= 3 and word.isupper()


@functools.lru_cache(maxsize=1 << 16)  # rules case every candidate replacement; the pairs repeat across captions
def match_case(new: str, old: str) -> str:
    """`new` written in the casing pattern of the word it replaces (ALL CAPS, Capitalized or lower).

    Short all-caps words ("TV") are taken as acronyms: they keep their casing when moved, and a word taking
    their place is written in lower case.
    """
    if _is_acronym(new) and not old.isupper():
        return new
    if _is_acronym(old):
        return new.lower()
    if len(old) > 1 and old.isupper():
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:].lower()
    return new.lower()


@functools.lru_cache(maxsize=1 << 14)  # asked for every candidate replacement; the words repeat
def indefinite_article(word: str) -> str:
    """'a' or 'an' for the word that follows the article."""
    lower = word.lower()
    if lower.startswith(_AN_EXCEPTIONS):
        return "an"
    if lower.startswith(_A_EXCEPTIONS):
        return "a"
    return "an" if lower[:1] in "aeiou" else "a"


def written_words(caption: str, negative: str) -> set[str]:
    """The normalized words of `negative` that `caption` does not have: what an edit wrote."""
    return set(normalize(negative).split()) - set(normalize(caption).split())


def corpus_vocabulary(captions: Iterable[str], min_count: int = 1) -> frozenset[str]:
    """The normalized words written at least `min_count` times in `captions` (non-strings are passed over): the
    set to give `HardNegativeGenerator(vocabulary=...)` so that negatives only use words the corpus uses.

    >>> sorted(corpus_vocabulary(["A red ring.", "a blue bar", None]))
    ['a', 'bar', 'blue', 'red', 'ring']
    """
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    counts: dict[str, int] = {}
    for caption in captions:
        if isinstance(caption, str):
            for word in normalize(caption).split():
                counts[word] = counts.get(word, 0) + 1
    return frozenset(word for word, count in counts.items() if count >= min_count)
