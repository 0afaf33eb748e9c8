"""The generator's profiles: strict (the default, unchanged output) and permissive (the types' invariants only)."""

from __future__ import annotations

import datasets
import pytest

from hf_finegrained.builders import add_hard_negatives
from hf_finegrained.builders.cli import _generator, parser
from hf_finegrained.negatives import HardNegativeGenerator, judge_proposal, parse_caption

# Written for this test (not audit captions): one per pattern the strict filters hold back, and plain ones.
CAPTIONS = [
    "A man in a red shirt is riding a brown horse on the beach.",
    "a dog chasing a cat",
    "A white cat on a black chair.",
    "There are no cars on the street.",
    "small dog chewing bone",
    "A red car next to a bench.",
    "A toilet next to a sink.",
    "is this a park? yes.",
    "a small wooden table under a large window",
    "A Dog chasing a HORSE.",
    "A brown dog on a beige couch.",
    "a dark dog sleeping on the grass",
]

# The strict profile's output for CAPTIONS, made by the rules before profiles existed (commit 0573723); the entries
# marked with an issue 29 session changed deliberately then.
STRICT = {  # caption: (swap_object, swap_attribute, replace_object, replace_attribute, replace_relation)
    'A man in a red shirt is riding a brown horse on the beach.': (
        None,
        None,
        'A man in a red shirt is riding a brown elephant on the beach.',
        'A man in a red shirt is riding a gray horse on the beach.',
        'A man in a red shirt is leading a brown horse on the beach.',
    ),
    'a dog chasing a cat': ('a cat chasing a dog', None, 'a dog chasing a puppy', None, 'a dog watching a cat'),
    'A white cat on a black chair.': (
        None,
        'A black cat on a white chair.',
        'A white cat on a black couch.',
        'A white cat on a gray chair.',  # issue 29's second session: replacements from the noun's palette (never beige)
        'A white cat underneath a black chair.',
    ),
    'There are no cars on the street.': (None, None, None, None, None),
    'small dog chewing bone': (None, None, 'small kitten chewing bone', 'big dog chewing bone', None),
    'A red car next to a bench.': (
        None,
        'A car next to a red bench.',
        'A red motorbike next to a bench.',  # issue 29's fifth round: a taxi is a car (broader.car), the draw moves
        'A black car next to a bench.',  # issue 29's second session: replacements from the noun's palette
        None,
    ),
    'A toilet next to a sink.': (None, None, 'A toilet next to a shower.', None, None),
    'is this a park? yes.': (None, None, None, None, None),
    'a small wooden table under a large window': (
        None,
        None,  # "a large table under a small wooden window" until issue 29's session 8 (unmarked_nouns: a window)
        'a small wooden shelf under a large window',
        'a big wooden table under a large window',  # issue 29's second session: never "a fabric table"
        None,  # "atop a large window" until issue 29's second session: a window is fixed in place
    ),
    'A Dog chasing a HORSE.': (
        'A Horse chasing a DOG.',  # issue 29's ninth session: an animal chases another either way (`chasing_verbs`)
        None,
        'A Cat chasing a HORSE.',
        None,
        'A Dog watching a HORSE.',
    ),
    'A brown dog on a beige couch.': (
        None,
        None,
        'A brown dog on a beige stool.',
        'A brown dog on a silver couch.',  # issue 29's second session: replacements from the noun's palette
        'A brown dog under a beige couch.',
    ),
    'a dark dog sleeping on the grass': (None, None, 'a dark cat sleeping on the grass', None, None),
}


@pytest.fixture(scope="module")
def strict() -> HardNegativeGenerator:
    return HardNegativeGenerator(seed=0)


@pytest.fixture(scope="module")
def permissive(strict) -> HardNegativeGenerator:
    return HardNegativeGenerator(seed=0, profile="permissive", nlp=strict.nlp)


def test_strict_is_the_default_and_unchanged(strict):
    assert strict.profile == "strict"
    expected = {caption: dict(zip(strict.types, row)) for caption, row in STRICT.items()}
    assert dict(zip(CAPTIONS, strict.generate(CAPTIONS))) == expected


def test_permissive_covers_strictly_more(strict, permissive):
    made = [strict.generate(CAPTIONS), permissive.generate(CAPTIONS)]
    for name in strict.types:
        strict_cover = {caption for caption, row in zip(CAPTIONS, made[0]) if row[name] is not None}
        permissive_cover = {caption for caption, row in zip(CAPTIONS, made[1]) if row[name] is not None}
        assert strict_cover <= permissive_cover, name
        assert len(permissive_cover) > len(strict_cover), name
    rows = dict(zip(CAPTIONS, made[1]))
    # what the strict filters hold back, the permissive profile edits: a negated phrase, a question, nearness
    assert rows["There are no cars on the street."]["replace_object"] is not None
    assert rows["is this a park? yes."]["replace_object"] is not None
    assert rows["A toilet next to a sink."]["swap_object"] == "A sink next to a toilet."


def test_permissive_keeps_the_invariants(permissive):
    """Every permissive negative is a minimal edit of its kind: it passes the proposal gate's invariants."""
    for caption, row in zip(CAPTIONS, permissive.generate(CAPTIONS)):
        parsed = parse_caption(permissive.nlp(caption), permissive.lexicon, caption)
        for name, negative in row.items():
            if negative is not None:
                made = parse_caption(permissive.nlp(negative), permissive.lexicon, negative)
                assert judge_proposal(parsed, negative, made, name, permissive.lexicon, "permissive",
                                      frozenset()) is None, (caption, name, negative)


def test_both_profiles_are_deterministic(strict, permissive):
    for generator in (strict, permissive):
        first = generator.generate(CAPTIONS)
        again = HardNegativeGenerator(seed=0, profile=generator.profile, nlp=strict.nlp, batch_size=3)
        assert again.generate(CAPTIONS[::-1])[::-1] == first


def test_a_profile_is_checked_and_reaches_the_builders(strict):
    with pytest.raises(ValueError, match="profile must be one of"):
        HardNegativeGenerator(profile="lenient")
    data = datasets.Dataset.from_dict({"caption": ["A toilet next to a sink."]})
    made = add_hard_negatives(data, profile="permissive")
    assert made[0]["hard_negatives"]["swap_object"] == "A sink next to a toilet."
    assert add_hard_negatives(data)[0]["hard_negatives"]["swap_object"] is None
    with pytest.raises(ValueError, match="differs from the generator's"):
        add_hard_negatives(data, profile="permissive", generator=strict)
    args = parser().parse_args(["negatives", "--dataset_path", "d/", "--output_dir", "o/", "--negatives-profile", "permissive"])
    assert _generator(args).profile == "permissive"
    assert _generator(parser().parse_args(["negatives", "--dataset_path", "d/", "--output_dir", "o/"])).profile == "strict"
