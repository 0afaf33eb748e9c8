"""What the rules may edit: the checks that drop candidate edits a rule cannot make well, split by what they
judge: `objects` (swap_object, replace_object), `attributes` (swap_attribute, replace_attribute), `relations`
(replace_relation), and what they all read (`common`: the listed noun of a noun group, the groups around a token).

Each check answers for one recurring failure of the negatives audits (docs/NEGATIVES.md). The noun classes, their
properties and the word sets the checks read are data, not code: `hf_finegrained/data/negatives_classes.txt`
(classes and nouns: which are swapped, replaced, ridden, attached, their usual colours...) and
`negatives_words.txt` (attribute, relation and verb words), read by `lexicon.load_lexicon` into
`Lexicon.rules`; noun classes are the categories of `negatives_nouns.txt` (`Lexicon.noun_class`).
"""

from .attributes import (attribute_fits, attribute_movable_to, attribute_replaceable, compared_in, described_animal,
                         described_noun, implied_attribute, in_fixed_phrase, noun_after,
                         replacement_suits)
from .common import (direct_link, group_after, group_before, head_entry, heads_of_phrase, in_name, object_entry,
                     subject_before)
from .objects import (broader_term, conjoined, describes_next_noun, exchange_reads, has_indefinite_article,
                      in_hyphenated_word, in_list, mass_fits, modifies_next_noun, mutually_linked, named_elsewhere,
                      next_to_possessive,
                      portion_of, read_as_mass, repeated_noun, ridden, room_fits, same_age, same_swap_class, same_way,
                      one_way_link, scene_fits, swappable_class, taken_by, verb_objects)
from .relations import (attached_thing, body_part_landmark, can_be_under, cooking_before, directed_verb_before,
                        fixed_in_place, found_inside, ground_opposite, held_to_body, in_slashed_word, motion_fits,
                        object_of_verb_before, outfit_after, posture_clashes, pronoun_landmark, relation_fits,
                        relation_object, restated_by_pronoun, ridden_landmark, side_fits, verb_before, verb_fits,
                        in_phrasal_verb, verb_complement, worn_by_landmark, entailed, asked_again, asked_words,
                        question_start, frame_noun_sense, unsuited_object,
                        told_otherwise, path_particle, mounted_on,
                        worn_thing, holds_either_way, at_posture_follows)

__all__ = [
    "attached_thing", "attribute_fits", "attribute_movable_to", "attribute_replaceable", "can_be_under", "conjoined",
    "describes_next_noun", "direct_link", "directed_verb_before", "exchange_reads", "ground_opposite", "group_after",
    "group_before", "has_indefinite_article", "head_entry", "heads_of_phrase", "implied_attribute", "in_list",
    "in_slashed_word", "mass_fits", "motion_fits", "named_elsewhere", "next_to_possessive", "object_entry",
    "object_of_verb_before", "portion_of", "posture_clashes", "pronoun_landmark", "read_as_mass", "relation_fits",
    "relation_object", "repeated_noun", "ridden", "same_age", "same_swap_class", "side_fits", "subject_before",
    "swappable_class", "verb_before", "verb_fits", "at_posture_follows",
    "body_part_landmark", "cooking_before", "fixed_in_place", "found_inside", "held_to_body", "outfit_after",
    "restated_by_pronoun", "ridden_landmark",
    "broader_term", "compared_in", "described_animal", "described_noun", "in_fixed_phrase", "in_hyphenated_word",
    "in_name", "modifies_next_noun", "noun_after", "replacement_suits", "room_fits", "same_way", "scene_fits",
    "taken_by",
    "verb_objects", "one_way_link", "mutually_linked", "in_phrasal_verb", "verb_complement", "worn_by_landmark",
    "entailed",
    "asked_again", "asked_words", "question_start", "frame_noun_sense", "unsuited_object",
    "told_otherwise", "path_particle", "mounted_on", "worn_thing", "holds_either_way",
]
