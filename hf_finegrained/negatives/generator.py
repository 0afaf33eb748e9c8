"""`HardNegativeGenerator`: rule-based hard negatives for a list of captions, parsed in batches by spaCy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .lexicon import Lexicon, load_lexicon
from .phrases import HELD_BACK_REASONS, ParsedCaption, parse_caption
from .rules import CANDIDATES, RULES, draw
from .scoring import NegativeScorer
from .seeding import CaptionRandom, caption_seed
from .screening import DEFAULT_MAX_CHARS, DEFAULT_MAX_WORDS, SKIP_REASONS, english_vocabulary, screen_caption
from .spacy_model import load_spacy_model
from .types import DEFAULT_NEGATIVE_TYPES

PROGRESS_THRESHOLD = 20_000  # captions; longer runs show a progress bar unless told otherwise


@dataclass
class GenerationStats:
    """Counts over the captions seen: skipped per reason, negatives made per type, and captions with a part no
    edit may touch per reason (`held_back`: "negated", "question"; see `phrases.protected_spans`)."""

    captions: int = 0
    skipped: Counter = field(default_factory=Counter)
    produced: Counter = field(default_factory=Counter)
    held_back: Counter = field(default_factory=Counter)

    def coverage(self, types: Sequence[str]) -> dict[str, float]:
        """Share of all captions that got a negative, per type."""
        return {name: self.produced[name] / self.captions if self.captions else 0.0 for name in types}

    def as_dict(self, types: Sequence[str]) -> dict[str, Any]:
        return {
            "captions": self.captions,
            "skipped": {reason: self.skipped[reason] for reason in SKIP_REASONS},
            "held_back": {reason: self.held_back[reason] for reason in HELD_BACK_REASONS},
            "negatives": {name: self.produced[name] for name in types},
            "coverage": self.coverage(types),
        }


class HardNegativeGenerator:
    """Makes one negative caption per type for each caption (None where a type does not apply).

    Args:
        types: negative type names, any of `RULES` (default: the five of `DEFAULT_NEGATIVE_TYPES`).
        seed: results are a function of (seed, type, caption text) only, whatever the batch size or the
            number of processes.
        nlp: a loaded spaCy pipeline with a tagger; default `load_spacy_model()` (tok2vec + tagger only).
        model: name of the spaCy model to load when `nlp` is not given.
        lexicon: word lists; default the shipped ones (`load_lexicon()`).
        batch_size: captions per `nlp.pipe` batch.
        max_words, max_chars: longer captions are skipped (None negatives, counted as "too_long").
        scorer: None (default) draws each negative among its rule's candidates with the built-in choice (no
            model). A `scoring.NegativeScorer` (e.g. `MaskedLMScorer("distilroberta-base")`) rates up to
            `scorer_candidates` candidates drawn per (caption, type) and the highest-rated is kept.
        scorer_candidates: how many candidates the scorer rates per (caption, type).

    Attribute `stats` accumulates a `GenerationStats` over all calls.

    Example:
        >>> generator = HardNegativeGenerator(seed=0)
        >>> generator.generate(["A man riding a brown horse on the beach."])[0]["replace_relation"]
    """

    def __init__(
        self,
        types: Sequence[str] | None = None,
        seed: int = 0,
        nlp: Any = None,
        model: str | None = None,
        lexicon: Lexicon | None = None,
        batch_size: int = 256,
        max_words: int = DEFAULT_MAX_WORDS,
        max_chars: int = DEFAULT_MAX_CHARS,
        scorer: NegativeScorer | None = None,
        scorer_candidates: int = 8,
    ) -> None:
        self.types = list(DEFAULT_NEGATIVE_TYPES if types is None else types)
        unknown = [name for name in self.types if name not in RULES]
        if unknown or not self.types or len(set(self.types)) != len(self.types):
            raise ValueError(f"types must be distinct names among {sorted(RULES)}; got {self.types}")
        self.seed = int(seed)
        self.model = model
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.batch_size = batch_size
        self.max_words = max_words
        self.max_chars = max_chars
        self._nlp = nlp
        if scorer_candidates < 1:
            raise ValueError(f"scorer_candidates must be >= 1, got {scorer_candidates}")
        self.scorer = scorer
        self.scorer_candidates = scorer_candidates
        self.stats = GenerationStats()
        self._english = english_vocabulary(self.lexicon.words)

    @property
    def nlp(self) -> Any:
        if self._nlp is None:
            self._nlp = load_spacy_model(self.model)
        return self._nlp

    def __getstate__(self) -> dict[str, Any]:
        # The spaCy pipeline is re-loaded (once, cached) in each worker process instead of being pickled.
        state = dict(self.__dict__)
        state["_nlp"] = None
        return state

    def screen(self, caption: Any) -> str | None:
        """The reason this caption gets no negatives (see `screen_caption`), or None."""
        return screen_caption(caption, self.max_words, self.max_chars, self._english)

    def negatives_for_doc(self, doc: Any, text: str | None = None) -> dict[str, str | None]:
        """Applies every rule to one parsed `Doc` (`text`: the caption, when known, saves rebuilding it)."""
        text = doc.text if text is None else text
        return self._negatives(parse_caption(doc, self.lexicon, text), text)

    def _negatives(self, parsed: ParsedCaption, text: str) -> dict[str, str | None]:
        if self.scorer is None:
            return {
                name: RULES[name](parsed, self.lexicon, CaptionRandom(caption_seed(self.seed, name, text)))
                for name in self.types
            }
        drawn = {name: draw(parsed, CANDIDATES[name](parsed, self.lexicon),
                             CaptionRandom(caption_seed(self.seed, name, text)), self.scorer_candidates)
                 for name in self.types}
        everything = [made for texts in drawn.values() for made in texts]
        scores = dict(zip(everything, self.scorer(everything))) if everything else {}
        # max() keeps the first of equal scores: the earliest drawn
        return {name: max(texts, key=scores.__getitem__) if texts else None for name, texts in drawn.items()}

    def generate(self, captions: Iterable[Any], progress: bool | None = None) -> list[dict[str, str | None]]:
        """One dict {type: negative or None} per caption, in order.

        Identical captions are parsed once. Bad captions (non-strings, empty, too long, non-English) are
        not parsed and get None for every type; `stats.skipped` counts them per reason.
        `progress`: a tqdm bar; default on for more than `PROGRESS_THRESHOLD` captions.
        """
        captions = list(captions)
        empty = dict.fromkeys(self.types)
        unique: dict[str, dict[str, str | None] | None] = {}
        for caption in captions:
            reason = self.screen(caption)
            self.stats.captions += 1
            if reason is not None:
                self.stats.skipped[reason] += 1
            else:
                unique.setdefault(caption, None)
        texts = list(unique)
        docs = self.nlp.pipe(texts, batch_size=self.batch_size)
        if progress or (progress is None and len(texts) > PROGRESS_THRESHOLD):
            from tqdm.auto import tqdm

            docs = tqdm(docs, total=len(texts), desc="hard negatives", unit="caption")
        held_back: dict[str, set[str]] = {}
        for text, doc in zip(texts, docs):
            parsed = parse_caption(doc, self.lexicon, text)
            unique[text] = self._negatives(parsed, text)
            if parsed.protected:
                held_back[text] = {reason for reason, _, _ in parsed.protected}
        results = []
        for caption in captions:
            row = unique.get(caption) if isinstance(caption, str) else None
            row = dict(row) if row is not None else dict(empty)
            self.stats.produced.update(name for name, value in row.items() if value is not None)
            if isinstance(caption, str) and caption in held_back:
                self.stats.held_back.update(held_back[caption])
            results.append(row)
        return results

    def generate_one(self, caption: Any) -> dict[str, str | None]:
        """`generate([caption])[0]`."""
        return self.generate([caption], progress=False)[0]
