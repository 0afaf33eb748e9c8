"""The text-only (blind) check of negatives (`negatives.blind`)."""

from __future__ import annotations

import pytest

pytest.importorskip("nltk")

from hf_finegrained.negatives.blind import BlindTextModel, text_only_score  # noqa: E402

CAPTIONS = ["a man riding a horse on the beach", "a dog sitting on a red couch", "a man riding a bike on the street",
            "a cat sitting on a couch", "a woman riding a horse in a field", "a dog sitting on the grass"] * 3


def test_the_blind_model_prefers_fluent_captions_and_ties_count_half():
    model = BlindTextModel(CAPTIONS)
    fluent = ("a man riding a horse on the street", "a man the horse riding on street a")  # word salad
    assert text_only_score([fluent], model) == {"pairs": 1, "prefers_caption": 1.0}
    assert text_only_score([fluent[::-1]], model)["prefers_caption"] == 0.0
    same = ("a dog sitting on a couch", "A dog sitting on a couch.")
    assert text_only_score([same], model)["prefers_caption"] == 0.5
    # an unseen word is read as a rare word, not as impossible
    assert model.log_probability("a zebra sitting on a couch") > float("-inf")
    assert text_only_score([], model)["pairs"] == 0


def test_the_blind_model_needs_words_to_fit_on():
    with pytest.raises(ValueError, match="min_count"):
        BlindTextModel(["one two three"], min_count=2)
