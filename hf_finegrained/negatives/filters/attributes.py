"""Filters of attribute edits (`swap_attribute`, `replace_attribute`): which attribute suits which noun, and
which words name a contrast. The classes and words they read are data (negatives_classes.txt,
negatives_words.txt)."""

from __future__ import annotations

from ..lexicon import Entry, Lexicon
from ..phrases import NounGroup, ParsedCaption, singular


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
    body part ("big ears" -> "small ears": sizes of parts are relative)."""
    tokens = caption.tokens
    if category == "brightness":
        following = tokens[index + 1].lower if index + 1 < len(tokens) else ""
        listed = lexicon.adjectives.lookup.get(following)
        if listed is not None and listed[0].category == "colour":
            return False
        return noun is not None and lexicon.noun_class(noun) not in lexicon.rules["living_classes"]
    if category == "size" and group is not None and noun is None:
        head = tokens[group.head].lower
        return head not in lexicon.rules["body_parts"] and singular(head) not in lexicon.rules["body_parts"]
    return True
