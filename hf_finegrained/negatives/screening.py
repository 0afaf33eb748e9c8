"""Cheap checks that keep bad captions away from the parser; such captions get None for every type."""

from __future__ import annotations

from typing import Any

SKIP_REASONS = ("not_string", "empty", "too_long", "non_english")
DEFAULT_MAX_WORDS = 64
DEFAULT_MAX_CHARS = 512
# Frequent English words of captions; a caption of 4+ words with none of them is taken as non-English.
_ENGLISH_MARKERS = frozenset(
    "a an the of on in at with and is are to by near next two three some his her their its this that there "
    "from for over under while has have it man woman people men women person".split()
)


def screen_caption(caption: Any, max_words: int = DEFAULT_MAX_WORDS, max_chars: int = DEFAULT_MAX_CHARS) -> str | None:
    """Why `caption` gets no negatives (one of `SKIP_REASONS`), or None when it can be parsed.

    The language check is a heuristic for captions, not a language identifier: mostly non-ASCII letters,
    or 4+ words none of which is a frequent English caption word.
    """
    if not isinstance(caption, str):
        return "not_string"
    if not caption.strip():
        return "empty"
    if len(caption) > max_chars:
        return "too_long"
    words = caption.lower().split()
    if len(words) > max_words:
        return "too_long"
    letters = [ch for ch in caption if ch.isalpha()]
    if not letters or sum(not ch.isascii() for ch in letters) > 0.3 * len(letters):
        return "non_english"
    if len(words) >= 4 and not any(word.strip(".,;:!?\"'()") in _ENGLISH_MARKERS for word in words):
        return "non_english"
    return None
