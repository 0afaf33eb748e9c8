"""A vocabulary for the negatives: `corpus_vocabulary`, `HardNegativeGenerator(vocabulary=...)` (rules and
proposals), and the synthetic world's `negatives_vocabulary`."""

from __future__ import annotations

import pytest

from hf_finegrained.negatives import HardNegativeGenerator, load_lexicon
from hf_finegrained.negatives.text import corpus_vocabulary, written_words

from negatives_helpers import CAPTIONS

CAPTION = "A white cat on a black chair."


@pytest.fixture(scope="module")
def nlp():
    return HardNegativeGenerator().nlp


def test_corpus_vocabulary_counts_normalized_words():
    captions = ["A red ring.", "a RED bar", None, 3, "the bar, the bar"]
    assert corpus_vocabulary(captions) == {"a", "red", "ring", "bar", "the"}
    assert corpus_vocabulary(captions, min_count=2) == {"a", "red", "bar", "the"}
    assert corpus_vocabulary(captions, min_count=3) == {"bar"}
    with pytest.raises(ValueError, match="min_count"):
        corpus_vocabulary(captions, min_count=0)
    assert written_words("a red ring", "A blue ring.") == {"blue"}


def test_a_vocabulary_holding_every_listed_word_changes_nothing(nlp):
    lexicon = load_lexicon()
    everything = set(lexicon.words) | corpus_vocabulary(CAPTIONS) | {"a", "an", "the"}
    open_ = HardNegativeGenerator(seed=3, nlp=nlp).generate(CAPTIONS)
    closed = HardNegativeGenerator(seed=3, nlp=nlp, vocabulary=everything).generate(CAPTIONS)
    assert closed == open_


def test_negatives_only_write_words_of_the_vocabulary(nlp):
    open_ = HardNegativeGenerator(seed=0, nlp=nlp).generate(CAPTIONS)
    written = {word for caption, row in zip(CAPTIONS, open_) for negative in row.values() if negative
               for word in written_words(caption, negative)}
    assert len(written) > 5  # the unrestricted rules write many new words
    vocabulary = corpus_vocabulary(CAPTIONS)  # only words some caption already uses
    closed = HardNegativeGenerator(seed=0, nlp=nlp, vocabulary=vocabulary).generate(CAPTIONS)
    for caption, row in zip(CAPTIONS, closed):
        for negative in row.values():
            assert negative is None or written_words(caption, negative) <= vocabulary, (caption, negative)
    # swaps write no new word: unchanged
    assert [row["swap_object"] for row in closed] == [row["swap_object"] for row in open_]
    assert [row["swap_attribute"] for row in closed] == [row["swap_attribute"] for row in open_]
    # a replacement is still drawn where the vocabulary holds one: "white" and "black" are colours of the corpus
    row = HardNegativeGenerator(seed=0, nlp=nlp, vocabulary=corpus_vocabulary(CAPTIONS)).generate_one(CAPTION)
    assert row["replace_attribute"] is not None
    assert written_words(CAPTION, row["replace_attribute"]) <= {"red", "brown"}
    # and none where it holds none
    bare = HardNegativeGenerator(seed=0, nlp=nlp, vocabulary=corpus_vocabulary([CAPTION])).generate_one(CAPTION)
    assert bare["replace_attribute"] is None and bare["replace_object"] is None


def test_a_scorer_draws_within_the_vocabulary_too(nlp):
    vocabulary = corpus_vocabulary(CAPTIONS)
    scorer = lambda texts: [float(len(text)) for text in texts]  # noqa: E731  (prefers the longest)
    rows = HardNegativeGenerator(seed=0, nlp=nlp, scorer=scorer, vocabulary=vocabulary).generate(CAPTIONS)
    assert any(negative for row in rows for negative in row.values())
    for caption, row in zip(CAPTIONS, rows):
        for negative in row.values():
            assert negative is None or written_words(caption, negative) <= vocabulary


def test_proposals_outside_the_vocabulary_are_rejected_and_counted(nlp):
    caption = "a dog chasing a cat"
    proposals = ["a dog chasing a ferret", "a dog chasing a horse"]

    def proposer(requests):
        return [list(proposals) for _ in requests]

    vocabulary = corpus_vocabulary([caption, "a horse"])
    generator = HardNegativeGenerator(types=["replace_object"], nlp=nlp, proposer=proposer, profile="permissive",
                                      vocabulary=vocabulary, fallback_to_rules=False)
    assert generator.generate_one(caption)["replace_object"] == "a dog chasing a horse"
    counts = generator.stats.as_dict(["replace_object"])["proposals"]["replace_object"]
    assert counts["rejected"]["outside_vocabulary"] == 1 and counts["accepted"] == 1
    unrestricted = HardNegativeGenerator(types=["replace_object"], nlp=nlp, proposer=proposer, profile="permissive",
                                         fallback_to_rules=False)
    assert unrestricted.generate_one(caption)["replace_object"] == "a dog chasing a ferret"


def test_a_string_is_not_a_vocabulary():
    with pytest.raises(TypeError, match="corpus_vocabulary"):
        HardNegativeGenerator(vocabulary="a red ring")


def test_the_world_writes_its_negatives_in_its_own_words():
    from hf_finegrained.synthetic.world import SyntheticWorld, caption_vocabulary

    words = caption_vocabulary()
    found = {}
    for vocabulary in ("lexicon", "world"):
        world = SyntheticWorld(num_train=0, negatives_vocabulary=vocabulary, distractors=0.25)
        rows = list(world.train_stream(120, name="finetune-0"))
        assert corpus_vocabulary(row["caption"] for row in rows) <= words
        found[vocabulary] = {word for row in rows for negative in row["hard_negatives"].values() if negative
                             for word in written_words(row["caption"], negative)}
    assert found["world"] and found["world"] <= words
    assert found["lexicon"] - words  # the lexicon's words: "triangle", "grey"...
    with pytest.raises(ValueError, match="negatives_vocabulary"):
        SyntheticWorld(num_train=0, negatives_vocabulary="corpus")
