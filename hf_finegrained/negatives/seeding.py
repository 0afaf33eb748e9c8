"""Per-(caption, type) random draws that do not depend on batching, order or processes."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import MutableSequence, Sequence
from typing import TypeVar

T = TypeVar("T")
_MASK = (1 << 64) - 1


def caption_seed(seed: int, negative_type: str, caption: str) -> int:
    """The seed of one (caption, type): a hash of the three, never a shared stream."""
    digest = _prefix(seed, negative_type).copy()  # the hash of f"{seed}\x1f{negative_type}\x1f{caption}"
    digest.update(caption.encode())
    return int.from_bytes(digest.digest(), "big")


@functools.lru_cache(maxsize=256, typed=True)  # typed: seed 1 and True write differently
def _prefix(seed: int, negative_type: str) -> "hashlib._Hash":
    """The hash state after f"{seed}\x1f{negative_type}\x1f" (copied, never updated: one per caption saved)."""
    return hashlib.blake2b(f"{seed}\x1f{negative_type}\x1f".encode(), digest_size=8)


class CaptionRandom:
    """A tiny SplitMix64 generator with `choice`, `shuffle` and `randrange`.

    `random.Random` spends a few microseconds seeding its Mersenne Twister state, which would be paid five
    times per caption; this one costs nothing to create. Its draws are for picking edits, not statistics
    (the modulo bias of `randrange` is n / 2**64, negligible).
    """

    __slots__ = ("state", "_key")

    def __init__(self, seed: int) -> None:
        self.state: int | None = seed & _MASK
        self._key: tuple[int, str, str] | None = None

    @classmethod
    def for_caption(cls, seed: int, negative_type: str, caption: str) -> CaptionRandom:
        """`CaptionRandom(caption_seed(seed, negative_type, caption))`, the hash taken at the first draw only: most
        (caption, type) pairs have no candidate and draw nothing (two in three on SugarCrepe's captions)."""
        rng = cls.__new__(cls)
        rng.state, rng._key = None, (seed, negative_type, caption)
        return rng

    def next64(self) -> int:
        state = self.state
        if state is None:
            state = caption_seed(*self._key) & _MASK
        self.state = z = (state + 0x9E3779B97F4A7C15) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def randrange(self, n: int) -> int:
        if n <= 0:
            raise ValueError("randrange() needs n > 0")
        return self.next64() % n

    def choice(self, items: Sequence[T]) -> T:
        if not items:
            raise IndexError("cannot choose from an empty sequence")
        return items[self.randrange(len(items))]

    def shuffle(self, items: MutableSequence) -> None:
        for index in range(len(items) - 1, 0, -1):
            other = self.randrange(index + 1)
            items[index], items[other] = items[other], items[index]
