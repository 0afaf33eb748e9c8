"""Cheap checks that keep bad captions away from the parser; such captions get None for every type.

The language check weighs evidence: words an English caption uses (spaCy's English stop words plus every word
of the lexicon's lists, so terse captions such as "small dog chewing bone" count as English) against the stop
words of other languages written in the Latin alphabet (spaCy's lists, less the English words). A caption is
non-English when it is mostly non-ASCII letters, when it has more foreign stop words than English words, or
when it has a foreign stop word and under 30% English words. A
caption with neither ("brindle pitbull gnawing rawhide") is parsed: the rules make nothing of words the
lexicon does not know. It is a heuristic for captions, not a language identifier; docs/NEGATIVES.md gives its
false positives on English caption sets and its recall on the example sentences of other languages.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterable
from typing import Any

SKIP_REASONS = ("not_string", "empty", "too_long", "non_english")
DEFAULT_MAX_WORDS = 64
DEFAULT_MAX_CHARS = 512
# Frequent English words of captions (also the fallback when spaCy's language data is not installed).
_ENGLISH_MARKERS = frozenset(
    "a an the of on in at with and is are to by near next two three some his her their its this that there "
    "from for over under while has have it man woman people men women person".split()
)
# Languages written in the Latin alphabet whose stop words count against a caption (spaCy's `spacy.lang.<code>`).
FOREIGN_LANGUAGES = ("af", "ca", "cs", "da", "de", "es", "et", "eu", "fi", "fr", "ga", "hr", "hu", "id", "is", "it",
                     "la", "lb", "lt", "lv", "ms", "nb", "nl", "pl", "pt", "ro", "sk", "sl", "sq", "sv", "tr")
_STRIP = ".,;:!?\"'()[]"


def _stop_words(language: str) -> frozenset[str]:
    """spaCy's `spacy.lang.<language>.stop_words.STOP_WORDS`, read from that file alone: importing the module runs
    its language package first, which builds the tokenizer's exceptions (3 s for `FOREIGN_LANGUAGES`, most of it
    French's) that a list of words does not need. Empty when spaCy or the file is absent."""
    spec = importlib.util.find_spec("spacy")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = os.path.join(spec.submodule_search_locations[0], "lang", language, "stop_words.py")
    loaded = importlib.util.spec_from_file_location(f"_stop_words_{language}", path)
    if loaded is None or not os.path.isfile(path):
        return frozenset()
    module = importlib.util.module_from_spec(loaded)
    try:
        loaded.loader.exec_module(module)
        return frozenset(module.STOP_WORDS)
    except (ImportError, AttributeError):
        return frozenset()


@functools.lru_cache(maxsize=8)
def english_vocabulary(lexicon_words: frozenset[str] = frozenset()) -> frozenset[str]:
    """English stop words, the caption markers and `lexicon_words` (the words of a lexicon's lists)."""
    return _stop_words("en") | _ENGLISH_MARKERS | lexicon_words


@functools.lru_cache(maxsize=8)
def foreign_vocabulary(english: frozenset[str]) -> frozenset[str]:
    """Stop words of `FOREIGN_LANGUAGES` written in ASCII, less every word of `english`."""
    words = frozenset().union(*(_stop_words(language) for language in FOREIGN_LANGUAGES))
    return frozenset(word for word in words if word.isascii() and word not in english)


def lexicon_words(forms: Iterable[str]) -> frozenset[str]:
    """The single words of a lexicon's forms ("next to" gives "next" and "to")."""
    return frozenset(word for form in forms for word in form.split())


def screen_caption(caption: Any, max_words: int = DEFAULT_MAX_WORDS, max_chars: int = DEFAULT_MAX_CHARS,
                   english: frozenset[str] | None = None) -> str | None:
    """Why `caption` gets no negatives (one of `SKIP_REASONS`), or None when it can be parsed.

    `english`: the words counted as English (default: `english_vocabulary` of the shipped lexicon's words).
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
    if caption.isascii():  # most captions: no letter to count
        if not any(ch.isalpha() for ch in caption):
            return "non_english"
    else:
        letters = [ch for ch in caption if ch.isalpha()]
        if not letters or sum(not ch.isascii() for ch in letters) > 0.3 * len(letters):
            return "non_english"
    if english is None:
        english = _shipped_english()
    foreign = foreign_vocabulary(english)
    known = foreign_hits = 0
    for word in words:
        word = word.strip(_STRIP)
        if word in english:
            known += 1
        elif word in foreign:
            foreign_hits += 1
    # more foreign stop words than English words, or a foreign one among few English words ("Londen is een grote
    # stad in het Verenigd Koninkrijk": 2 English words of 9)
    if foreign_hits > known or (foreign_hits and known < 0.3 * len(words)):
        return "non_english"
    return None


@functools.lru_cache(maxsize=1)
def _shipped_english() -> frozenset[str]:
    from .lexicon import load_lexicon

    lexicon = load_lexicon()
    return english_vocabulary(lexicon.words)
