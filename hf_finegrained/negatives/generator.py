"""`HardNegativeGenerator`: hard negatives for a list of captions, parsed in batches by spaCy: the rules of a profile
(strict, the default, or permissive), optionally with a plausibility scorer or a model that proposes negatives."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .lexicon import Lexicon, load_lexicon
from .permissive import PERMISSIVE_CANDIDATES
from .phrases import HELD_BACK_REASONS, ParsedCaption, parse_caption
from .proposals import NegativeProposer, ProposalCounts, judge_proposal
from .rules import (CANDIDATES, RULES, SLOTS, Candidate, CandidateRule, SlotRule, candidate_text, draw, draw_slots,
                    slotted)
from .scoring import NegativeScorer
from .seeding import CaptionRandom
from .screening import DEFAULT_MAX_CHARS, DEFAULT_MAX_WORDS, SKIP_REASONS, english_vocabulary, screen_caption
from .spacy_model import load_spacy_model
from .text import normalize, written_words
from .types import DEFAULT_NEGATIVE_TYPES

PROGRESS_THRESHOLD = 20_000  # captions; longer runs show a progress bar unless told otherwise
# The candidate functions of each profile (docs/NEGATIVES.md, "Profiles"): strict = the audited filters of
# `rules.py` (and `filters/`), permissive = the types' invariants only (`permissive.py`).
PROFILES: dict[str, dict[str, CandidateRule]] = {"strict": CANDIDATES, "permissive": PERMISSIVE_CANDIDATES}
# the same slot by slot, for the built-in draw (`rules.draw_slots`: only the drawn slot's candidates are built in full)
PROFILE_SLOTS: dict[str, dict[str, SlotRule]] = {
    "strict": SLOTS, "permissive": {name: slotted(function) for name, function in PERMISSIVE_CANDIDATES.items()}}


@dataclass
class GenerationStats:
    """Counts over the captions seen: skipped per reason, negatives made per type, captions with a part no
    edit may touch per reason (`held_back`: "negated", "question"; see `phrases.protected_spans`; strict profile
    only), and with a proposer, its proposals per type (`proposals`: proposed, accepted, used, rejected per
    reason; per distinct caption)."""

    captions: int = 0
    skipped: Counter = field(default_factory=Counter)
    produced: Counter = field(default_factory=Counter)
    held_back: Counter = field(default_factory=Counter)
    proposals: ProposalCounts | None = None

    def coverage(self, types: Sequence[str]) -> dict[str, float]:
        """Share of all captions that got a negative, per type."""
        return {name: self.produced[name] / self.captions if self.captions else 0.0 for name in types}

    def as_dict(self, types: Sequence[str]) -> dict[str, Any]:
        found = {
            "captions": self.captions,
            "skipped": {reason: self.skipped[reason] for reason in SKIP_REASONS},
            "held_back": {reason: self.held_back[reason] for reason in HELD_BACK_REASONS},
            "negatives": {name: self.produced[name] for name in types},
            "coverage": self.coverage(types),
        }
        if self.proposals is not None:
            found["proposals"] = self.proposals.as_dict(types)
        return found


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
        profile: "strict" (default): candidates pass the audited filters of `filters/` and never touch a negated
            phrase or a question. "permissive": every candidate that keeps only the type's invariants (minimal
            edit of the right kind, different text; `permissive.py`), close to the CE-CLIP reference rules'
            coverage and, like them, often absurd or still true: for reproducing the paper.
        proposer: None (default), or a `proposals.NegativeProposer` (e.g. `CausalLMProposer(...)`) asked for
            negatives of every (distinct caption, type); each proposal passes `proposals.judge_proposal` (the
            type's invariants and the profile's filters) and the first accepted one is kept. Counts per type
            and reason in `stats.proposals`. Not combined with `scorer`.
        fallback_to_rules: with a proposer, where no proposal is accepted, keep the rules' own draw (default)
            instead of None.
        vocabulary: None (default): a negative may write any word of the lexicon. A set of words (lower case, as
            `text.corpus_vocabulary(captions)` gives): a negative may only write words of this set (the rules'
            candidates that write another word are not drawn; a proposal that does is rejected as
            "outside_vocabulary"). A negative naming a word the corpus never shows teaches the text side that
            an unseen word means "false" (a text-only shortcut: on the synthetic world the replace_object CMR
            threshold reached its bound by step 150 of 400 with the lexicon's nouns, and stays near 0.015 with the
            world's own; docs/RESULTS.md). Where every candidate writes known words the draw is the one without a
            vocabulary.

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
        profile: str = "strict",
        proposer: NegativeProposer | None = None,
        fallback_to_rules: bool = True,
        vocabulary: Iterable[str] | None = None,
    ) -> None:
        self.types = list(DEFAULT_NEGATIVE_TYPES if types is None else types)
        unknown = [name for name in self.types if name not in RULES]
        if unknown or not self.types or len(set(self.types)) != len(self.types):
            raise ValueError(f"types must be distinct names among {sorted(RULES)}; got {self.types}")
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {sorted(PROFILES)}; got {profile!r}")
        if proposer is not None and scorer is not None:
            raise ValueError("give a scorer (it ranks the rules' candidates) or a proposer (it writes negatives), "
                             "not both")
        if proposer is not None and not callable(proposer):
            raise TypeError(f"proposer must be callable on a list of (caption, type) pairs; got {type(proposer)}")
        self.profile = profile
        self.candidates = PROFILES[profile]
        self.proposer = proposer
        self.fallback_to_rules = fallback_to_rules
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
        self.vocabulary = _vocabulary(vocabulary)
        self.stats = GenerationStats(proposals=ProposalCounts() if proposer is not None else None)
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

    def _candidates(self, parsed: ParsedCaption, name: str) -> list[Candidate]:
        """The profile's candidates of type `name`, less those writing a word outside `vocabulary`."""
        found = self.candidates[name](parsed, self.lexicon)
        if self.vocabulary is None or not found:
            return found
        return list(filter(self._writes_known(parsed), found))

    def _slots(self, parsed: ParsedCaption, name: str) -> Sequence[tuple[int, Iterable[Candidate]]]:
        """`_candidates` slot by slot, as `rules.draw_slots` reads them (each slot's candidates read lazily)."""
        found = PROFILE_SLOTS[self.profile][name](parsed, self.lexicon)
        if self.vocabulary is None or not found:
            return found
        known = self._writes_known(parsed)
        return [(slot, filter(known, candidates)) for slot, candidates in found]

    def _writes_known(self, parsed: ParsedCaption) -> Callable[[Candidate], bool]:
        """Whether a candidate of this caption writes only words of `vocabulary`."""
        # edits replace whole tokens, so the words a candidate writes are its replacements' words the caption lacks
        vocabulary, own = self.vocabulary, set(parsed.normalized.split())
        return lambda candidate: all(word in vocabulary or word in own
                                     for _, _, new in candidate.edits for word in normalize(new).split())

    def _known(self, caption: str, negative: str) -> bool:
        """`negative` (a proposal) writes only words of `vocabulary`."""
        return written_words(caption, negative) <= self.vocabulary

    def _negatives(self, parsed: ParsedCaption, text: str) -> dict[str, str | None]:
        if self.scorer is None and self.profile == "strict" and self.vocabulary is None:
            return {
                name: RULES[name](parsed, self.lexicon, CaptionRandom.for_caption(self.seed, name, text))
                for name in self.types
            }
        if self.scorer is None:
            return {name: next(iter(draw_slots(parsed, self._slots(parsed, name),
                                               CaptionRandom.for_caption(self.seed, name, text), 1)), None)
                    for name in self.types}
        drawn = {name: draw(parsed, self._candidates(parsed, name),
                             CaptionRandom.for_caption(self.seed, name, text), self.scorer_candidates)
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
        parsed_captions: dict[str, ParsedCaption] = {}
        for text, doc in zip(texts, docs):
            parsed = parse_caption(doc, self.lexicon, text)
            unique[text] = self._negatives(parsed, text)
            if parsed.protected and self.profile == "strict":
                held_back[text] = {reason for reason, _, _ in parsed.protected}
            if self.proposer is not None:
                parsed_captions[text] = parsed
        if self.proposer is not None and parsed_captions:
            self._propose(parsed_captions, unique)
        results = []
        for caption in captions:
            row = unique.get(caption) if isinstance(caption, str) else None
            row = dict(row) if row is not None else dict(empty)
            self.stats.produced.update(name for name, value in row.items() if value is not None)
            if isinstance(caption, str) and caption in held_back:
                self.stats.held_back.update(held_back[caption])
            results.append(row)
        return results

    def _propose(self, parsed: dict[str, ParsedCaption], made: dict[str, dict[str, str | None] | None]) -> None:
        """Replaces the rules' negatives in `made` by the first accepted proposal of each (caption, type)."""
        requests = [(text, name) for text in parsed for name in self.types]
        answers = list(self.proposer(requests))
        if len(answers) != len(requests):
            raise ValueError(f"the proposer returned {len(answers)} answers for {len(requests)} requests; it must "
                             "return one list of proposals per (caption, type) request, in order")
        answers = [[answer] if isinstance(answer, str) else list(answer or ()) for answer in answers]
        distinct = list(dict.fromkeys(p.strip() for proposals in answers for p in proposals
                                      if isinstance(p, str) and p.strip() and "\n" not in p.strip()))
        parsed_proposals = {text: parse_caption(doc, self.lexicon, text)
                            for text, doc in zip(distinct, self.nlp.pipe(distinct, batch_size=self.batch_size))}
        counts = self.stats.proposals
        for (text, name), proposals in zip(requests, answers):
            caption = parsed[text]
            admitted = {found for found in (candidate_text(caption, candidate)
                                            for candidate in self._candidates(caption, name))
                        if found is not None}
            kept = None
            for proposal in proposals:
                counts.proposed[name] += 1
                cleaned = proposal.strip() if isinstance(proposal, str) else proposal
                reason = judge_proposal(caption, cleaned,
                                        parsed_proposals.get(cleaned) if isinstance(cleaned, str) else None,
                                        name, self.lexicon, self.profile, admitted)
                if reason is None and self.vocabulary is not None and not self._known(text, cleaned):
                    reason = "outside_vocabulary"
                if reason is not None:
                    counts.reject(name, reason)
                    continue
                counts.accepted[name] += 1
                if kept is None:
                    kept = cleaned
            row = made[text]
            if kept is not None:
                counts.used[name] += 1
                row[name] = kept
            elif not self.fallback_to_rules:
                row[name] = None

    def with_vocabulary(self, vocabulary: Iterable[str] | None) -> HardNegativeGenerator:
        """A copy whose negatives write only words of `vocabulary` (see the class's Args), sharing this
        generator's `stats` and spaCy pipeline."""
        restricted = copy.copy(self)
        restricted.vocabulary = _vocabulary(vocabulary)
        return restricted

    def generate_one(self, caption: Any) -> dict[str, str | None]:
        """`generate([caption])[0]`."""
        return self.generate([caption], progress=False)[0]


def _vocabulary(words: Iterable[str] | None) -> frozenset[str] | None:
    if isinstance(words, str):
        raise TypeError("vocabulary must be a collection of words, not one string; e.g. `corpus_vocabulary(captions)`")
    return None if words is None else frozenset(word.lower() for word in words)
