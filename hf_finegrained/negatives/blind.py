"""A text-only (blind) check of hard negatives: how often a model that never sees the image prefers the caption.

SugarCrepe (Hsieh et al., 2023) showed that negatives a text model can reject without the image (ungrammatical
or implausible ones) teach a shortcut instead of grounding, and de-biased its own negatives with blind text
models. Here the blind model is an n-gram language model with interpolated Kneser-Ney smoothing (nltk's
`KneserNeyInterpolated`) fit on captions held apart from those scored: for each (caption, negative) pair it
compares the two texts' log-probabilities. A score of 50% means the text alone does not tell the caption from the
negative; 100% means it always does. Differences from SugarCrepe: it scored with Vera and a grammar model and
filtered its candidates by them; this is a small n-gram model fit on a few thousand captions, a cheap check
that anyone can run, not a de-biasing step.

Requires nltk (`pip install hf-finegrained[audit]`).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

UNKNOWN = "<UNK>"
_WORDS = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-case word tokens of a caption (punctuation dropped)."""
    return _WORDS.findall(text.lower())


class BlindTextModel:
    """An n-gram language model of captions with interpolated Kneser-Ney smoothing (nltk).

    Args:
        captions: the captions it is fit on, held apart from those it scores.
        order: the n of the n-grams (default 3).
        min_count: words seen fewer times in `captions` are read as `UNKNOWN`, so that unseen words of scored
            texts get the probability of rare words rather than zero.
    """

    def __init__(self, captions: Iterable[str], order: int = 3, min_count: int = 2) -> None:
        try:
            from nltk.lm import KneserNeyInterpolated
            from nltk.lm.preprocessing import padded_everygram_pipeline
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("the text-only check needs nltk: pip install 'hf-finegrained[audit]'") from error
        tokenized = [words(caption) for caption in captions]
        counts = Counter(word for sentence in tokenized for word in sentence)
        self.known = frozenset(word for word, count in counts.items() if count >= min_count)
        if not self.known:
            raise ValueError("the blind model needs captions with words seen at least min_count times to fit on")
        self.order = order
        # one sentence of the unknown word, so that it has a probability even when every word is frequent
        mapped = [self._mapped(sentence) for sentence in tokenized] + [[UNKNOWN]]
        train, vocabulary = padded_everygram_pipeline(order, mapped)
        self.model = KneserNeyInterpolated(order)
        self.model.fit(train, vocabulary)
        # the same n-grams recur in a caption and its negatives: each is scored once
        self._logscore = functools.lru_cache(maxsize=1 << 18)(self._ngram_logscore)

    def _mapped(self, sentence: Sequence[str]) -> list[str]:
        return [word if word in self.known else UNKNOWN for word in sentence]

    def _ngram_logscore(self, word: str, context: tuple[str, ...]) -> float:
        return self.model.logscore(word, context)

    def log_probability(self, text: str) -> float:
        """log2 probability of `text` (padded at both ends), a sum over its n-grams."""
        from nltk.lm.preprocessing import pad_both_ends
        from nltk.util import ngrams

        padded = list(pad_both_ends(self._mapped(words(text)), self.order))
        return sum(self._logscore(gram[-1], tuple(gram[:-1])) for gram in ngrams(padded, self.order))


def text_only_score(pairs: Iterable[tuple[str, str]], model: BlindTextModel) -> dict[str, Any]:
    """How often the blind `model` prefers the caption to its negative, over (caption, negative) pairs.

    Returns {"pairs": n, "prefers_caption": share in [0, 1] (a tie counts one half)}; 0.5 means the negatives
    carry no text-only shortcut.
    """
    total = preferred = 0.0
    for caption, negative in pairs:
        first, second = model.log_probability(caption), model.log_probability(negative)
        preferred += 1.0 if first > second else 0.5 if first == second else 0.0
        total += 1
    return {"pairs": int(total), "prefers_caption": preferred / total if total else float("nan")}
