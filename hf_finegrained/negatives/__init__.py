"""Rule-based hard negatives (swap/replace of objects, attributes and relations) from a spaCy tagger: each rule
lists candidate edits, `filters` drop the ones rules cannot make well (the strict profile; the permissive one
keeps the types' invariants only), and a choice (built in, or a plausibility scorer) picks one; a language model
may propose negatives instead (`CausalLMProposer`), gated by the same invariants and filters."""

from .causal_lm import CausalLMProposer
from .generator import PROFILES, GenerationStats, HardNegativeGenerator
from .lexicon import Lexicon, load_lexicon
from .permissive import PERMISSIVE_CANDIDATES
from .phrases import ParsedCaption, parse_caption
from .proposals import REJECTION_REASONS, NegativeProposer, ProposalCounts, judge_proposal
from .rules import (CANDIDATES, RULES, Candidate, replace_attribute, replace_object, replace_relation, swap_attribute,
                    swap_object)
from .scoring import MaskedLMScorer, NegativeScorer
from .screening import SKIP_REASONS, screen_caption
from .seeding import CaptionRandom, caption_seed
from .spacy_model import load_spacy_model
from .text import normalize, word_multiset
from .types import DEFAULT_NEGATIVE_TYPES, NEGATIVE_TYPES, SHORT_NAMES, NegativeType

__all__ = [
    "CANDIDATES",
    "Candidate",
    "CaptionRandom",
    "CausalLMProposer",
    "DEFAULT_NEGATIVE_TYPES",
    "GenerationStats",
    "HardNegativeGenerator",
    "Lexicon",
    "MaskedLMScorer",
    "NEGATIVE_TYPES",
    "NegativeProposer",
    "NegativeScorer",
    "NegativeType",
    "PERMISSIVE_CANDIDATES",
    "PROFILES",
    "ParsedCaption",
    "ProposalCounts",
    "REJECTION_REASONS",
    "RULES",
    "SHORT_NAMES",
    "SKIP_REASONS",
    "caption_seed",
    "judge_proposal",
    "load_lexicon",
    "load_spacy_model",
    "normalize",
    "parse_caption",
    "replace_attribute",
    "replace_object",
    "replace_relation",
    "screen_caption",
    "swap_attribute",
    "swap_object",
    "word_multiset",
]
