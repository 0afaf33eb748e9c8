"""The spaCy hard-negative generator: each type, offsets and casing, determinism, bad input, real captions."""

from __future__ import annotations

from collections import Counter

import datasets
import pytest
from negatives_helpers import CAPTIONS, SUGARCREPE_DIR, sugarcrepe_captions

from hf_finegrained.builders import add_hard_negatives
from hf_finegrained.negatives import (CANDIDATES, HardNegativeGenerator, load_lexicon, normalize, parse_caption,
                                      word_multiset)
from hf_finegrained.negatives.lexicon import inflect_verb, parse_word_list
from hf_finegrained.negatives.rules import candidate_text
from hf_finegrained.negatives.text import indefinite_article
from hf_finegrained.training_args import DEFAULT_NEGATIVE_TYPES

SWAPS = ("swap_object", "swap_attribute")


@pytest.fixture(scope="module")
def generator() -> HardNegativeGenerator:
    return HardNegativeGenerator(seed=0)


def changed_words(before: str, after: str) -> list[tuple[str, str]]:
    """(old, new) word pairs at positions that differ (both captions must have the same word count)."""
    old, new = before.split(), after.split()
    assert len(old) == len(new), (before, after)
    return [(a, b) for a, b in zip(old, new) if a != b]


def same_words(negative: str, caption: str, name: str) -> bool:
    """A swap keeps the caption's words; moving an attribute may change one "a" into "an" or back."""
    if name == "swap_object":
        return word_multiset(negative) == word_multiset(caption)
    article = {"an": "a"}
    return (sorted(article.get(w, w) for w in word_multiset(negative))
            == sorted(article.get(w, w) for w in word_multiset(caption)))


def test_type_names_are_the_trainer_defaults(generator):
    assert generator.types == list(DEFAULT_NEGATIVE_TYPES)
    assert list(generator.generate_one("a dog chasing a cat")) == list(DEFAULT_NEGATIVE_TYPES)


def test_swap_object(generator):
    assert generator.generate_one("a dog chasing a cat")["swap_object"] == "a cat chasing a dog"
    # the articles are exchanged too, so "an" still precedes a vowel and the words stay the same
    assert generator.generate_one("An elephant chasing a horse")["swap_object"] == "A horse chasing an elephant"
    for caption in ("a dog", "a dog and a dog", "a photo of a dog", "a dog on the grass", "An apple next to a dog"):
        assert generator.generate_one(caption)["swap_object"] is None, caption


def test_swap_attribute(generator):
    assert generator.generate_one("A white cat on a black chair.")["swap_attribute"] == "A black cat on a white chair."
    for caption in ("a white cat on a man", "a red car next to a red bus", "a dog chasing a cat"):
        assert generator.generate_one(caption)["swap_attribute"] is None, caption


def test_replace_object_keeps_category_and_number(generator):
    nouns = load_lexicon().nouns
    for seed in range(10):
        result = HardNegativeGenerator(seed=seed).generate_one("Two dogs chasing a horse")["replace_object"]
        *articles, (old, new) = changed_words("Two dogs chasing a horse", result)
        assert articles in ([], [("a", "an")])  # "a horse" -> "an elephant"
        entry_old, slot_old = nouns.lookup[old.lower()]
        entry_new, slot_new = nouns.lookup[new.lower()]
        assert entry_new.category == entry_old.category in ("animal", "small_animal.pet")  # a dog never a mouse
        assert entry_new.cluster != entry_old.cluster
        assert entry_new.forms[slot_old] == new.lower()  # plural stays plural, singular singular
    assert generator.generate_one("a view of something")["replace_object"] is None


def test_replace_attribute_same_category_and_article(generator):
    adjectives = load_lexicon().adjectives
    seen_articles = set()
    for seed in range(25):
        result = HardNegativeGenerator(seed=seed).generate_one("a red car parked outside")["replace_attribute"]
        pairs = changed_words("a red car parked outside", result)
        old, new = pairs[-1]
        assert old == "red" and adjectives.lookup[new][0].category == "colour" and new != "red"
        article = result.split()[0]
        seen_articles.add(article)
        assert article == ("an" if new[0] in "aeiou" else "a")
    assert seen_articles == {"a", "an"}  # "orange" needs "an": the article is fixed, not left wrong
    assert generator.generate_one("a dog chasing a cat")["replace_attribute"] is None


def test_replace_relation_preposition_and_verb(generator):
    lexicon = load_lexicon()
    for seed in range(10):
        gen = HardNegativeGenerator(seed=seed)
        result = gen.generate_one("a cat on a table")["replace_relation"]
        new = result[len("a cat "):-len(" a table")]
        if new not in ("next to", "beside"):  # a cat beside the table is not on it
            entry = lexicon.relations.lookup[new][0]
            assert entry.category == "vertical" and entry != lexicon.relations.lookup["on"][0]
        # "ride" is read in the first category whose frame fits: a horse is mounted, a bike steered
        for caption, category in (("a man riding a horse", "mounting"), ("a man riding a bike", "steering")):
            [(old, verb)] = changed_words(caption, gen.generate_one(caption)["replace_relation"])
            senses = {entry.category: slot for entry, slot in lexicon.verbs.senses[verb]}
            assert senses.get(category) == 3 and verb != "riding"  # gerund kept
    assert generator.generate_one("a red car")["replace_relation"] is None


def test_offsets_spacing_punctuation_and_casing_kept(generator):
    caption = "A  Cow   chasing a HORSE!! "
    assert generator.generate_one(caption)["swap_object"] == "A  Horse   chasing a COW!! "
    # token edits, not substring edits: "man" -> X never rewrites the inside of "woman"
    for seed in range(20):
        result = HardNegativeGenerator(seed=seed).generate_one("a man and a woman")["replace_object"]
        changes = changed_words("a man and a woman", result)
        assert len(changes) in (1, 2) and changes[-1][0] in ("man", "woman")
        assert all(word in ("a", "an", "man", "woman") for word, _ in changes)


def test_never_equal_and_swaps_keep_words(generator):
    results = generator.generate(CAPTIONS)
    made = 0
    for caption, row in zip(CAPTIONS, results):
        for name, negative in row.items():
            if negative is None:
                continue
            made += 1
            assert normalize(negative) != normalize(caption), (name, caption)
            if name in SWAPS:
                assert same_words(negative, caption, name), (name, caption, negative)
    assert made >= 2 * len(CAPTIONS)


def test_deterministic_across_batch_sizes_order_and_seed():
    reference = HardNegativeGenerator(seed=3, batch_size=64).generate(CAPTIONS)
    assert HardNegativeGenerator(seed=3, batch_size=1).generate(CAPTIONS) == reference
    one_by_one = HardNegativeGenerator(seed=3, batch_size=2)
    assert [one_by_one.generate_one(c) for c in reversed(CAPTIONS)][::-1] == reference
    assert HardNegativeGenerator(seed=4).generate(CAPTIONS) != reference


def test_deterministic_across_num_proc():
    dataset = datasets.Dataset.from_dict({"text": CAPTIONS * 2})
    single = add_hard_negatives(dataset, seed=1, caption_column="text", batch_size=4)
    multi = add_hard_negatives(dataset, seed=1, caption_column="text", batch_size=7, num_proc=2)
    assert single["hard_negatives"] == multi["hard_negatives"]
    assert single["hard_negatives"][:len(CAPTIONS)] == HardNegativeGenerator(seed=1).generate(CAPTIONS)


def test_bad_input_gives_none_and_is_counted():
    gen = HardNegativeGenerator(seed=0)
    bad = [None, 3, "", "   \n", "a dog " * 200, "Un chat noir est assis sur la chaise rouge",
           "一只猫坐在桌子上"]
    rows = gen.generate(bad + ["a dog chasing a cat"])
    assert all(value is None for row in rows[:-1] for value in row.values())
    assert rows[-1]["swap_object"] == "a cat chasing a dog"
    assert dict(gen.stats.skipped) == {"not_string": 2, "empty": 2, "too_long": 1, "non_english": 2}
    assert gen.stats.captions == len(bad) + 1


def test_lexicon_rules():
    with pytest.raises(ValueError, match="already in category"):
        parse_word_list("a: red | blue\nb: red | big", "adjectives")
    with pytest.raises(ValueError, match="line 1"):
        parse_word_list("no colon here", "adjectives")
    # a verb may be listed in several categories: looked up as the first, every listing kept in order
    verbs = parse_word_list("a [person >]: sit | stand\nb [animal >]: lie | sit", "verbs")
    assert verbs.lookup["sitting"][0].category == "a"
    assert [(entry.category, slot) for entry, slot in verbs.senses["sitting"]] == [("a", 3), ("b", 3)]
    assert inflect_verb("sit")[3] == "sitting" and inflect_verb("ride")[3] == "riding"
    assert inflect_verb("carry")[1:3] == ("carries", "carried")
    with pytest.raises(ValueError, match="types must be"):
        HardNegativeGenerator(types=["swap_object", "no_such_type"])


@pytest.mark.skipif(not SUGARCREPE_DIR.is_dir(), reason=f"{SUGARCREPE_DIR} is absent")
def test_sugarcrepe_coverage():
    captions = sugarcrepe_captions()
    assert len(captions) == 7511
    gen = HardNegativeGenerator(seed=0)
    rows = gen.generate(captions)
    coverage = gen.stats.coverage(gen.types)
    # Measured 0.02 / 0.09 / 0.85 / 0.38 / 0.42 (docs/NEGATIVES.md); the bounds catch a broken rule. swap_object
    # is 0.0098 since issue 29's second session dropped the swaps that fit one way only; swap_attribute 0.069
    # since its session 8 stopped moving ages and colours that may hold anyway ("a black woman", "red walls").
    assert coverage["swap_object"] > 0.008 and coverage["replace_object"] > 0.75
    assert coverage["replace_relation"] > 0.35 and coverage["replace_attribute"] > 0.3
    assert coverage["swap_attribute"] > 0.06
    for caption, row in zip(captions, rows):
        for name, negative in row.items():
            if negative is not None:
                assert normalize(negative) != normalize(caption)
                if name in SWAPS:
                    assert same_words(negative, caption, name), (name, caption, negative)


def test_generation_and_the_order_benchmarks_ask_for_the_same_spacy_models(monkeypatch):
    spacy = pytest.importorskip("spacy")
    from hf_finegrained.evaluation import order_perturbations
    from hf_finegrained.negatives import spacy_model

    asked = []

    def load(name, **kwargs):
        asked.append(name)
        raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setattr(spacy, "load", load)
    for loader in (spacy_model.load_spacy_model, order_perturbations.load_spacy):  # the real model may be cached
        getattr(loader, "cache_clear", lambda: None)()
    with pytest.raises(OSError, match="no spaCy English model"):
        spacy_model.load_spacy_model()
    generation, asked[:] = list(asked), []
    with pytest.raises(ImportError, match="COCO-Order/Flickr-Order"):  # what the runner reports as a skip
        order_perturbations.load_spacy()
    assert asked == generation == list(spacy_model.DEFAULT_MODELS)


# Issue 32, item 2: swaps keep the caption's words, on any machine ------------------------------------------

# Written for the swap rules: "a"/"an" mixes (one noun taking each), colours, materials, ages, two objects in a
# relation, all capitals. Several get no swap at all (their articles cannot agree, or no pair is admissible).
SWAP_CAPTIONS = [
    "A unique car sitting beside an airplane.",
    "An elephant chasing a horse.",
    "A horse chasing an elephant in a field.",
    "An elephant chasing a brown horse.",
    "A brown horse running beside an elephant.",
    "AN ELEPHANT CHASING A HORSE.",
    "A black dog chasing a white cat.",
    "An orange cat sleeping beside a white dog.",
    "A small dog lying beside an orange cat.",
    "An orange bus passing a white truck.",
    "A grey elephant walking behind a brown horse.",
    "An orange cat sleeping on the white couch.",
    "A red apple next to a bench.",
    "An umbrella next to a red bicycle.",
    "An old man reading a book.",
    "A woman in a red dress holding an umbrella.",
    "A striped shirt hanging beside an umbrella.",
    "A horse standing next to an old elephant.",
    "A white plate on a wooden table.",
    "A glass vase on a metal table.",
    "A plastic bottle beside a glass cup.",
    "A wooden table next to an old chair.",
    "A black cat on an old chair.",
    "A cat lying on a blue couch near an old television.",
    "A unique car parked beside an old truck.",
]


def articles_agree(text: str) -> bool:
    """Every "a"/"an" is the one its next word takes."""
    words = normalize(text).split()
    return all(indefinite_article(after) == word for word, after in zip(words, words[1:]) if word in ("a", "an"))


def moves_one_word(caption: str, negative: str) -> bool:
    """`negative` is `caption` with one word (not an article) taken out and put back elsewhere, reading every
    "an" as "a": the attribute-move form of swap_attribute, never the exchange of two spans."""
    def plain(text: str) -> list[str]:
        return ["a" if word == "an" else word for word in normalize(text).split()]

    before, after = plain(caption), plain(negative)
    for i, word in enumerate(before):
        rest = before[:i] + before[i + 1:]
        if word != "a" and any(rest[:j] + [word] + rest[j:] == after for j in range(len(rest) + 1) if j != i):
            return True
    return False


def test_swaps_keep_the_captions_words_on_written_captions(generator: HardNegativeGenerator) -> None:
    """Every swap a caption can get (each candidate any seed could draw, and the one drawn) has the caption's
    multiset of words (case and punctuation aside) with agreeing articles; the only exception documented is
    the move of one attribute by swap_attribute, which may turn one "a" into "an" or back. A swap that adds,
    drops or changes a word is detectable from the text alone, so the negative would teach nothing. Unlike the
    SugarCrepe test above, this one runs without ../shared/benchmarks."""
    drawn_counts: Counter[str] = Counter()
    article_changes = 0
    for caption in SWAP_CAPTIONS:
        assert articles_agree(caption), caption
        parsed = parse_caption(generator.nlp(caption), generator.lexicon, caption)
        drawn = generator.generate_one(caption)
        for name in SWAPS:
            texts = [text for text in (candidate_text(parsed, candidate)
                                       for candidate in CANDIDATES[name](parsed, generator.lexicon)) if text]
            assert (drawn[name] is None and not texts) or drawn[name] in texts, (name, caption, drawn[name], texts)
            drawn_counts[name] += drawn[name] is not None
            for negative in texts:
                assert articles_agree(negative), (name, caption, negative)
                change = Counter(word_multiset(negative))
                change.subtract(word_multiset(caption))
                change = Counter({word: count for word, count in change.items() if count})
                if change:
                    assert (name == "swap_attribute" and change in ({"a": 1, "an": -1}, {"a": -1, "an": 1})
                            and moves_one_word(caption, negative)), (name, caption, negative, dict(change))
                    article_changes += 1
    # enough captions get a swap (and an article turned by a move) for the checks above to mean something
    assert drawn_counts["swap_object"] >= 8 and drawn_counts["swap_attribute"] >= 8, drawn_counts
    assert article_changes >= 3
