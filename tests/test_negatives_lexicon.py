"""The lexicon as data: the filters' classes and word sets are read from data files a user can edit, and the
rules and the scorer path share one choice."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from hf_finegrained.negatives import CANDIDATES, RULES, HardNegativeGenerator, load_lexicon, parse_caption
from hf_finegrained.negatives.lexicon import LIST_FILES, RULE_FILES, parse_rule_sets, parse_word_list
from hf_finegrained.negatives.rules import draw
from hf_finegrained.negatives.seeding import CaptionRandom, caption_seed

SEEDS = range(12)


def _copy_data(folder: Path) -> Path:
    shipped = resources.files("hf_finegrained").joinpath("data")
    for name in (*LIST_FILES.values(), *RULE_FILES):
        (folder / name).write_text(shipped.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def _made(caption: str, kind: str, folder: Path | None = None) -> set[str]:
    lexicon = load_lexicon(None if folder is None else str(folder))
    found = {HardNegativeGenerator(seed=seed, types=[kind], lexicon=lexicon).generate_one(caption)[kind]
             for seed in SEEDS}
    return {text for text in found if text is not None}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_word_added_to_a_data_file_changes_the_output(tmp_path):
    folder = _copy_data(tmp_path)
    caption = "A man riding a horse on a beach."
    assert not any("zebra" in text for text in _made(caption, "replace_object", folder))
    _edit(folder / "negatives_classes.txt", "rideable: horse |", "rideable: zebra | horse |")
    load_lexicon.cache_clear()
    assert any("zebra" in text for text in _made(caption, "replace_object", folder))
    # a property of relations: what is attached is never flipped
    assert _made("A cat on a red car.", "replace_relation", folder)
    _edit(folder / "negatives_classes.txt", "attached: number |", "attached: cat | number |")
    load_lexicon.cache_clear()
    assert _made("A cat on a red car.", "replace_relation", folder) == set()
    # a new noun of a class: replaced and a replacement
    _edit(folder / "negatives_nouns.txt", "| camel\n", "| camel | moose/moose\n")
    load_lexicon.cache_clear()
    assert any("moose" in text for text in _made("Two cows grazing in a field.", "replace_object", folder))
    load_lexicon.cache_clear()


def test_the_shipped_sets_are_read_from_the_data_files():
    rules = load_lexicon().rules
    assert "horse" in rules["rideable"] and "food" in rules["resting_classes"]
    assert rules.ordered("side_relations") == ("next to", "beside")
    assert rules.map("usual")["taxi"] == frozenset({"yellow"})
    lexicon = load_lexicon()
    assert lexicon.noun_class(lexicon.nouns.lookup["skier"][0]) == "person"  # role.snow is a person
    assert lexicon.noun_class(lexicon.nouns.lookup["chair"][0]) == "furniture"


def test_bad_rule_lines_and_missing_sets_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"my\.txt line 2: expected `name: word"):
        parse_rule_sets("ok: a | b\nno colon here\n", "my.txt")
    with pytest.raises(ValueError, match="defined twice"):
        parse_rule_sets("a: x\na: y\n", "my.txt")
    with pytest.raises(ValueError, match="continuation"):
        parse_rule_sets("   | a\n", "my.txt")
    assert parse_rule_sets("a: x | y\n    | z\n").sets["a"] == frozenset({"x", "y", "z"})
    folder = _copy_data(tmp_path)
    _edit(folder / "negatives_classes.txt", "rideable:", "rideable_animals:")
    load_lexicon.cache_clear()
    with pytest.raises(KeyError, match="no rule set 'rideable'"):
        _made("A man riding a horse on a beach.", "replace_object", folder)
    load_lexicon.cache_clear()
    with pytest.raises(ValueError, match="must name a word listed earlier"):
        parse_word_list("colour: red | tan~brown\n", "adjectives")


def test_near_synonyms_joined_by_a_tilde_keep_the_draw_order_of_other_words():
    words = parse_word_list("colour: red | blue | brown | tan~brown | green\n", "adjectives")
    red, brown = words.lookup["red"][0], words.lookup["brown"][0]
    assert [entry.forms[0] for entry in words.alternatives(red)] == ["blue", "brown", "tan", "green"]
    assert [entry.forms[0] for entry in words.alternatives(brown)] == ["red", "blue", "green"]


def test_rules_and_the_scorer_path_share_one_choice():
    lexicon = load_lexicon()
    generator = HardNegativeGenerator(seed=3)
    caption = "A white cat sitting on a black chair near a red couch."
    parsed = parse_caption(generator.nlp(caption), lexicon, caption)
    for name, rule in RULES.items():
        found = draw(parsed, CANDIDATES[name](parsed, lexicon), CaptionRandom(caption_seed(3, name, caption)), 1)
        assert rule(parsed, lexicon, CaptionRandom(caption_seed(3, name, caption))) == (found[0] if found else None)
    # a scorer rating one drawn candidate keeps what the built-in choice keeps
    scored = HardNegativeGenerator(seed=3, scorer=lambda texts: [0.0] * len(texts), scorer_candidates=1)
    assert scored.generate_one(caption) == generator.generate_one(caption)
