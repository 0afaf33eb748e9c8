"""Bag-of-words ceilings: how well a scorer blind to word order could do on a choice benchmark.

An order-blind scorer (a bag-of-words model, or any model whose caption embedding ignores word order) gives
two captions with the same multiset of words the same score. When an item's negative has the same words as
its right caption (a swap: "a red cube and a blue ball" / "a blue cube and a red ball"), such a scorer ties,
and a tie is wrong under the benchmarks' strict rule; on every other item it can, at best, be right. Its best
accuracy, the **ceiling**, is therefore 1 - (share of items whose right caption shares its multiset of words
with a negative), under the same averaging (micro, macro, hierarchical) as the model's own score.

The ceiling is computed from the captions alone (no model): `order_blind_scores` gives each item the scores of
the best order-blind scorer (1 for the right caption and any caption with its words, 0 for the others), and the
benchmark's own metric turns them into accuracies, so ties count exactly as they count for the model (under
ARO's official rule for COCO-Order / Flickr-Order, where ties count right, the ceiling is 1). Words are compared
as `negatives.text.word_multiset` compares them (lower case, punctuation removed): the package's one rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from ..negatives.text import word_multiset

PREFIX = "bow_ceiling/"  # metrics key of a ceiling: PREFIX + the key of the accuracy it bounds


def same_words(a: str, b: str) -> bool:
    """Whether two captions have the same multiset of words (case and punctuation aside)."""
    return word_multiset(a) == word_multiset(b)


def order_blind_scores(captions: Sequence[str], label: int) -> list[float]:
    """Scores of the best order-blind scorer on one item: 1.0 for the right caption and for every caption with
    the same multiset of words (it cannot tell them apart), 0.0 for the others."""
    right = word_multiset(captions[label])
    return [1.0 if i == label or word_multiset(c) == right else 0.0 for i, c in enumerate(captions)]


def equal_words(captions: Sequence[str], label: int) -> bool:
    """Whether some wrong caption of the item has the right caption's multiset of words."""
    scores = order_blind_scores(captions, label)
    return any(score == 1.0 for i, score in enumerate(scores) if i != label)


def equal_share(items: Iterable[tuple[str | None, Sequence[str], int]]) -> tuple[dict[str, float], dict[str, int]]:
    """From (category or None, captions, label) triples: the share of items whose right caption has the same
    words as a wrong one, per category and over all items ("micro"); and their numbers, per category and over
    all items ("all")."""
    total, equal = Counter(), Counter()
    for category, captions, label in items:
        same = equal_words(captions, label)
        total["all"] += 1
        equal["all"] += same
        if category is not None:
            total[category] += 1
            equal[category] += same
    if not total:
        return {}, {}
    categories = sorted(c for c in total if c != "all")
    shares = {c: equal[c] / total[c] for c in categories}
    shares["micro"] = equal["all"] / total["all"]
    return shares, {**{c: equal[c] for c in categories}, "all": equal["all"]}


def split_ceilings(metrics: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """(accuracies, ceilings by the key of the accuracy they bound) of a results `metrics` mapping."""
    scores = {k: v for k, v in metrics.items() if not k.startswith(PREFIX)}
    ceilings = {k[len(PREFIX):]: v for k, v in metrics.items() if k.startswith(PREFIX)}
    return scores, ceilings
