"""ARO's four word-order perturbations (COCO-Order, Flickr-Order), re-implemented with a seeded generator.

Nouns and adjectives are found with spaCy's fine-grained tags (NN*, JJ*), as in ARO; the trigram shuffles
use spaCy's tokens too (ARO tokenises those with NLTK), so strings can differ slightly from ARO's.
"""

from __future__ import annotations

import random
import re
from typing import Any

NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
ADJ_TAGS = frozenset({"JJ", "JJR", "JJS"})


def load_spacy() -> Any:
    """The English spaCy tagger of the hard-negative generator (`load_spacy_model`: same models, same order,
    loaded once per process); ImportError when spaCy or every model is absent, so the Order tasks are skipped."""
    from ..negatives.spacy_model import load_spacy_model

    try:
        return load_spacy_model()
    except (ImportError, OSError) as error:
        first_line = str(error).splitlines()[0]  # the rest lists spaCy's message for each model tried
        raise ImportError("COCO-Order/Flickr-Order need spaCy and an English model (pip install "
                          f"'hf_finegrained[eval]'): {first_line}") from error


def clean_caption(caption: str, max_words: int = 30) -> str:
    """ARO's caption normalisation: lower case, some punctuation to spaces, at most `max_words` words."""
    caption = re.sub(r"([.!\"()*#:;~])", " ", caption.lower())
    caption = re.sub(r"\s{2,}", " ", caption).strip()
    return " ".join(caption.split(" ")[:max_words])


def _shuffle_positions(tokens: list[str], positions: list[int], rng: random.Random) -> None:
    values = [tokens[i] for i in positions]
    rng.shuffle(values)
    for i, value in zip(positions, values):
        tokens[i] = value


def _trigrams(tokens: list[str]) -> list[list[str]]:
    return [tokens[i:i + 3] for i in range(0, len(tokens), 3)]


def perturb(doc: Any, rng: random.Random) -> list[str]:
    """The four perturbations of a spaCy `doc`, in ARO's order: shuffle nouns and adjectives (each among
    themselves), shuffle everything but nouns and adjectives, shuffle within trigrams, shuffle trigrams."""
    words = [t.text for t in doc]
    tags = [t.tag_ for t in doc]
    out = []

    tokens = list(words)
    _shuffle_positions(tokens, [i for i, t in enumerate(tags) if t in NOUN_TAGS], rng)
    _shuffle_positions(tokens, [i for i, t in enumerate(tags) if t in ADJ_TAGS], rng)
    out.append(" ".join(tokens))

    tokens = list(words)
    _shuffle_positions(tokens, [i for i, t in enumerate(tags) if t not in NOUN_TAGS | ADJ_TAGS], rng)
    out.append(" ".join(tokens))

    groups = _trigrams(list(words))
    for group in groups:
        rng.shuffle(group)
    out.append(" ".join(w for group in groups for w in group))

    groups = _trigrams(list(words))
    rng.shuffle(groups)
    out.append(" ".join(w for group in groups for w in group))
    return out
