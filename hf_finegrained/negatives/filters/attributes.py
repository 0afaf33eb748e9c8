"""Filters of attribute edits (`swap_attribute`, `replace_attribute`): which attribute suits which noun, and
which words name a contrast. The classes and words they read are data (negatives_classes.txt,
negatives_words.txt)."""

from __future__ import annotations

import functools

from ..lexicon import Entry, Lexicon
from ..phrases import NounGroup, ParsedCaption, singular
from .common import group_before, head_entry, object_entry


def implied_attribute(lexicon: Lexicon, category: str, word: str, noun: Entry, noun_attributes: list[str]) -> bool:
    """An attribute moved onto a noun that may have it anyway: a colour onto one with a material among its
    attribute categories (`noun_attributes`: "a brown wooden bench"), or a usual colour or material of the noun
    (`usual.<noun>` of negatives_classes.txt: "a yellow taxi", "a wooden table", "a metal fork")."""
    if category == "colour" and "material" in noun_attributes:
        return True
    usual = lexicon.rules.map("usual")
    return any(word in usual.get(form, ()) for form in noun.forms[:1])


def attribute_movable_to(lexicon: Lexicon, category: str, noun: Entry, word: str | None = None) -> bool:
    """The second `swap_attribute` form may give an attribute of `category` to listed `noun`: colour, material
    and pattern to man-made things, age to them and to grown people and animals (`attribute_fits` then keeps
    "young" for the living and "vintage" for things; never "an old baby")."""
    kind = lexicon.noun_class(noun)
    if category == "material":
        if word in lexicon.rules["heavy_materials"]:
            return kind in ("structure", "building_part")  # never "brick cabinets", "a stone blender"
        return kind in lexicon.rules["material_classes"]  # never "a wooden laptop", "a cement skateboard"
    if category == "age":  # "young" never moves (see `moved_ages`): a young boy is young anyway
        return (kind in lexicon.rules["colourable_classes"] | lexicon.rules["living_classes"]) and noun.category not in lexicon.rules["unswappable_people"] and (
            noun.forms[0] not in lexicon.rules["children"])
    return kind in lexicon.rules["colourable_classes"]


def attribute_fits(lexicon: Lexicon, word: str, category: str, noun: Entry | None, like: str | None = None) -> bool:
    """Attribute `word` (of adjective `category`) may describe `noun` (pattern 8). For a noun the lists do not
    know (None), `like` (the attribute it replaces) tells what kind of thing it is where the word can: "young"
    describes someone, "vintage" something; otherwise only words that suit anything pass."""
    kind = lexicon.noun_class(noun) if noun is not None else None
    if category == "colour":
        if kind in lexicon.rules["animal_classes"]:
            return word in lexicon.rules["natural_colours"]
        return kind is None or kind in lexicon.rules["colourable_classes"]
    if category in lexicon.rules["man_made_categories"]:
        return kind is None or kind in lexicon.rules["colourable_classes"]
    if category == "age":
        if kind is None:
            if like in lexicon.rules["person_ages"] - lexicon.rules["thing_ages"]:
                kind = "person"
            elif like in lexicon.rules["thing_ages"] - lexicon.rules["person_ages"]:
                kind = "thing"
            else:
                return False
        return word in (lexicon.rules["person_ages"] if kind in lexicon.rules["living_classes"] else lexicon.rules["thing_ages"])
    if category == "length":
        if kind is None:
            if like in lexicon.rules["height_words"] - lexicon.rules["length_words"]:
                return word in lexicon.rules["height_words"]
            if like in lexicon.rules["length_words"] - lexicon.rules["height_words"]:
                return word in lexicon.rules["length_words"]
            return False
        return word in (lexicon.rules["height_words"] if kind in lexicon.rules["tall_classes"] else lexicon.rules["length_words"])
    if category == "size" and kind == "person":
        return False  # "a little girl" is a child: "a large girl" is not her opposite
    if category in ("emotion", "wakefulness"):
        return kind is None or kind in lexicon.rules["living_classes"]
    return True


def attribute_replaceable(caption: ParsedCaption, lexicon: Lexicon, index: int, category: str,
                          group: NounGroup | None, noun: Entry | None) -> bool:
    """The attribute at token `index` names a contrast its replacement can deny: brightness only of a listed
    thing, not of a colour ("dark brown") nor of the living ("a dark dog" is a dark-coloured dog); no size of a
    body part ("big ears" -> "small ears": sizes of parts are relative); a category of `replaced_on` only on a
    listed noun of its classes ("an open door", never "the open view")."""
    tokens = caption.tokens
    if category == "brightness":
        following = tokens[index + 1].lower if index + 1 < len(tokens) else ""
        listed = lexicon.adjectives.lookup.get(following)
        if listed is not None and listed[0].category == "colour":
            return False
        return noun is not None and lexicon.noun_class(noun) not in lexicon.rules["living_classes"]
    head = tokens[group.head].lower if group is not None else (noun.forms[0] if noun is not None else "")
    heads = {head, singular(head)}
    if category == "size" and group is not None and noun is None and heads & lexicon.rules["body_parts"]:
        return False
    if category == "age" and heads & lexicon.rules["young_nouns"]:
        return False  # "a young boy" -> "an old boy": a boy is young
    classes = lexicon.rules.map("replaced_on").get(category)
    if classes is not None and not any(lexicon.noun_class(listed) in classes for listed in (
            noun, *(lexicon.nouns.lookup[word][0] for word in heads if word in lexicon.nouns.lookup)) if listed):
        return False  # "the open view" -> "the closed view": only what opens and closes is open or closed
    if heads & lexicon.rules.map("inherent").get(category, frozenset()):
        return False  # "a circular disk", "small trinkets": the noun says it
    return not in_fixed_phrase(caption, lexicon, index)


def in_fixed_phrase(caption: ParsedCaption, lexicon: Lexicon, index: int) -> bool:
    """The token at `index` is a word of a fixed phrase (`fixed_attribute_phrases`: "black and white photo",
    "old-fashioned", "fast food"), found in the caption's lower-cased text around it."""
    token = caption.tokens[index]
    phrases = lexicon.fixed_phrases_by_word.get(token.lower)
    if not phrases:
        return False
    text = caption.text.lower()
    for phrase in phrases:
        at = text.find(phrase, max(0, token.start - len(phrase)))
        while -1 < at < token.end:
            end = at + len(phrase)
            if (at <= token.start and token.end <= end and (at == 0 or not text[at - 1].isalnum())
                    and (end == len(text) or not text[end].isalnum())):
                return True
            at = text.find(phrase, at + 1)
    return False


def replacement_suits(lexicon: Lexicon, category: str, new: str, old: str, noun: Entry | None) -> bool:
    """Replacement attribute `new` (for `old`, of adjective `category`) is a plain word for its noun: one of the
    noun's `palette.<category>.<key>` (the usual colours, materials, sizes of its kind: "a glass cup" never
    becomes "a cloth cup", "a black cat" never "a golden cat", "large mirrors" never "miniature mirrors"), and no
    near-synonym of `old` (`close.<word>`: "cloudy" -> "rainy"). Drawn shapes (`free_attribute_classes`) take
    any word but of the man-made categories (`man_made_categories`: "a metal bar" never "a cloth bar")."""
    if (noun is not None and lexicon.noun_class(noun) in lexicon.rules["free_attribute_classes"]
            and category not in lexicon.rules["man_made_categories"]):
        return True  # a drawn shape's colour and size; its material (a metal bar, stone pillars) is a thing's
    palette = lexicon.by_noun("palette", noun, category + ".")
    if palette is not None and new not in palette:
        return False
    close = lexicon.rules.map("close")
    return new not in close.get(old, ()) and old not in close.get(new, ())


def described_animal(caption: ParsedCaption, lexicon: Lexicon, index: int) -> Entry | None:
    """The listed animal an attribute outside any noun group describes: the noun group right before it names one
    ("A cat, black in color", "a cow, which is brown and white"); else None."""
    group = group_before(caption, index)
    entry = group and object_entry(caption, group, lexicon)
    return entry if entry is not None and lexicon.noun_class(entry) in lexicon.rules["animal_classes"] else None


def noun_after(caption: ParsedCaption, lexicon: Lexicon, index: int) -> Entry | None:
    """The listed noun (a one-word form) right after the attribute at token `index` and any listed attributes
    that follow it ("small pink square": square), else None."""
    tokens, nouns = caption.tokens, lexicon.nouns.lookup
    for token in tokens[index + 1:]:
        if token.lower in nouns:
            return nouns[token.lower][0]
        if token.lower not in lexicon.adjectives.lookup:
            return None
    return None


def described_noun(caption: ParsedCaption, lexicon: Lexicon, group: NounGroup, noun: Entry | None) -> Entry | None:
    """The listed noun whose kind a replacement in `group`'s modifiers must suit: the group's noun (`noun`), else
    its head's ("a glass coffee cup": cup); a colour read as the noun ("a large orange square", "a large orange
    fire hydrant") gives way to the listed noun after it."""
    tokens = caption.tokens
    after = group.noun_end
    if (noun is not None and group.noun_end - group.noun_start == 1 and after < len(tokens)
            and tokens[after].lower in lexicon.nouns.lookup):
        listed = lexicon.adjectives.lookup.get(tokens[group.head].lower)
        if listed is not None and listed[0].category == "colour":
            return lexicon.nouns.lookup[tokens[after].lower][0]
    return noun if noun is not None else head_entry(caption, group, lexicon)


def compared_in(words: frozenset[str], word: str) -> bool:
    """The caption holds a comparative or superlative of `word` ("old and younger people" -> "young and younger")."""
    return not words.isdisjoint(_compared_forms(word))


@functools.lru_cache(maxsize=4096)  # asked for the listed adjectives: a bounded set of words
def _compared_forms(word: str) -> frozenset[str]:
    """What `compared_in` looks for: `word` + "er", "est", "r", "st", also after a doubled last letter or a final
    "y" made "i" ("big" -> "bigger", "happy" -> "happiest")."""
    stems = (word, word + word[-1:], word[:-1] + "i" if word.endswith("y") else word)
    return frozenset(stem + ending for stem in stems for ending in ("er", "est", "r", "st"))
