"""The swap rules' outputs, pinned: recorded from the rules before their loops were merged into one.

Each case: a caption, then (swap_object, swap_attribute) with seed 0 and with seed 5 (the seed decides the
order pairs are tried in, so two seeds check that the shuffles draw the same).
"""

from __future__ import annotations

import pytest

from hf_finegrained.negatives import HardNegativeGenerator

SWAPS = ("swap_object", "swap_attribute")
SEEDS = (0, 5)
CASES = [
    ('A man in a red shirt is riding a brown horse on the beach.',
     ('A man in a red shirt is riding a brown beach on the horse.', 'A man in a brown shirt is riding a red horse on the beach.'),
     ('A man in a red horse is riding a brown shirt on the beach.', 'A man in a brown shirt is riding a red horse on the beach.')),
    ('a dog chasing a cat',
     ('a cat chasing a dog', None),
     ('a cat chasing a dog', None)),
    ('An apple next to a dog',
     ('A dog next to an apple', None),
     ('A dog next to an apple', None)),
    ('A white cat on a black chair.',
     ('A white chair on a black cat.', 'A black cat on a white chair.'),
     ('A white chair on a black cat.', 'A black cat on a white chair.')),
    ('Two zebras are battling each other on hind legs.',
     ('Two legs are battling each other on hind zebras.', None),
     ('Two legs are battling each other on hind zebras.', None)),
    ('cars are stopped at a traffic light on a highway',
     ('cars are stopped at a highway on a traffic light', None),
     ('cars are stopped at a highway on a traffic light', None)),
    ('The man is sitting on the park bench using his laptop. ',
     ('The park bench is sitting on the man using his laptop. ', None),
     ('The man is sitting on the laptop using his park bench. ', None)),
    ('A woman in a red dress cutting a cake with a knife.',
     ('A woman in a red knife cutting a cake with a dress.', None),
     ('A woman in a red cake cutting a dress with a knife.', None)),
    ('a small wooden table under a large window',
     ('a small wooden window under a large table', 'a large table under a small wooden window'),
     ('a small wooden window under a large table', 'a large table under a small wooden window')),
    ('A Dog chasing a HORSE.',
     ('A Horse chasing a DOG.', None),
     ('A Horse chasing a DOG.', None)),
    ('a man and a woman holding umbrellas',
     ('a woman and a man holding umbrellas', None),
     ('a woman and a man holding umbrellas', None)),
    ('a dog and a dog',
     (None, None),
     (None, None)),
    ('a red red car',
     (None, None),
     (None, None)),
    ('A bathroom with a white tub and white cabinets has a black pattern on the floor.',
     ('A bathroom with a white tub and white cabinets has a black floor on the pattern.', 'A bathroom with a white tub and black cabinets has a white pattern on the floor.'),
     ('A bathroom with a white pattern and white cabinets has a black tub on the floor.', 'A bathroom with a white tub and black cabinets has a white pattern on the floor.')),
    ('A very simple living area with a chair, sofa and TV.',
     ('A very simple living area with a TV, sofa and chair.', None),
     ('A very simple living area with a chair, TV and sofa.', None)),
    ('A young boy in a blue shirt throws a red frisbee to a brown dog.',
     ('A young boy in a blue dog throws a red frisbee to a brown shirt.', 'A brown boy in a blue shirt throws a red frisbee to a young dog.'),
     ('A young shirt in a blue boy throws a red frisbee to a brown dog.', 'A blue boy in a young shirt throws a red frisbee to a brown dog.')),
    ('An orange cat sleeping next to a gray laptop on a wooden desk.',
     ('An orange desk sleeping next to a gray laptop on a wooden cat.', 'An orange cat sleeping next to a wooden laptop on a gray desk.'),
     ('An orange desk sleeping next to a gray laptop on a wooden cat.', 'A gray cat sleeping next to an orange laptop on a wooden desk.')),
    ('an elephant standing behind a small car',
     (None, None),
     (None, None)),
    ('Two small dogs and a large cat sitting on a green couch.',
     ('Two small dogs and a large couch sitting on a green cat.', 'Two green dogs and a large cat sitting on a small couch.'),
     ('Two small dogs and a large couch sitting on a green cat.', 'Two large dogs and a small cat sitting on a green couch.')),
    ('A cross-country skier passes a snowy tree.',
     (None, None),
     (None, None)),
    ('a black-and-white photo of an old man with a young woman',
     ('a black-and-white photo of an old woman with a young man', 'a black-and-white photo of a young man with an old woman'),
     ('a black-and-white photo of an old woman with a young man', 'a black-and-white photo of a young man with an old woman')),
    ('A tall giraffe eating leaves from a short tree near a white fence.',
     ('A tall giraffe eating leaves from a short fence near a white tree.', 'A tall giraffe eating leaves from a white tree near a short fence.'),
     ('A tall tree eating leaves from a short giraffe near a white fence.', 'A tall giraffe eating leaves from a white tree near a short fence.')),
    ('the red bus is parked beside a yellow taxi',
     ('the red taxi is parked beside a yellow bus', 'the yellow bus is parked beside a red taxi'),
     ('the red taxi is parked beside a yellow bus', 'the yellow bus is parked beside a red taxi')),
    ('A plate with broccoli, rice and a piece of grilled chicken.',
     ('A plate with broccoli, chicken and a piece of grilled rice.', None),
     ('A chicken with broccoli, rice and a piece of grilled plate.', None)),
    ('A pizza with cheese and a knife on a table',
     ('A pizza with knife and a cheese on a table', None),
     ('A pizza with cheese and a table on a knife', None)),
    ('An umbrella over a bench in the park',
     ('A bench over an umbrella in the park', None),
     ('An umbrella over a park in the bench', None)),
    ('Several people riding bikes down a busy street.',
     ('Several bikes riding people down a busy street.', None),
     ('Several bikes riding people down a busy street.', None)),
    ('A little girl holding a big teddy bear',
     ('A little bear holding a big teddy girl', None),
     ('A little bear holding a big teddy girl', None)),
    ('a hot dog on a paper plate next to a cold soda',
     ('a hot soda on a paper plate next to a cold dog', 'a paper dog on a hot plate next to a cold soda'),
     ('a hot plate on a paper dog next to a cold soda', 'a hot dog on a cold plate next to a paper soda')),
    ('Three black horses grazing in an open field.',
     (None, None),
     (None, None)),
    ('A man wearing a hat and a woman wearing a scarf.',
     ('A woman wearing a hat and a man wearing a scarf.', None),
     ('A man wearing a scarf and a woman wearing a hat.', None)),
    ('A stop sign in front of a brick building.',
     ('A building in front of a brick stop sign.', None),
     ('A building in front of a brick stop sign.', None)),
    ('an empty kitchen with stainless steel appliances and white counters',
     ('an empty kitchen with stainless steel counters and white appliances', 'an empty kitchen with white appliances and stainless steel counters'),
     ('an empty kitchen with stainless steel counters and white appliances', 'an empty kitchen with white appliances and stainless steel counters')),
    ('A DOG WITH A RED COLLAR CHASES A BLUE BALL.',
     ('A ball WITH A RED COLLAR CHASES A BLUE DOG.', None),
     ('A ball WITH A RED COLLAR CHASES A BLUE DOG.', None)),
    ('A surfer riding a large wave while a small boat waits.',
     ('A wave riding a large surfer while a small boat waits.', 'A surfer riding a small wave while a large boat waits.'),
     ('A wave riding a large surfer while a small boat waits.', 'A surfer riding a small wave while a large boat waits.')),
    ('A clock tower stands tall above the old city.',
     ('A city stands tall above the old clock tower.', None),
     ('A city stands tall above the old clock tower.', None)),
    ('a bowl of apples beside a bowl of oranges',
     ('a bowl of oranges beside a bowl of apples', None),
     ('a bowl of oranges beside a bowl of apples', None)),
    ('the airplane flies over the ocean',
     ('the ocean flies over the airplane', None),
     ('the ocean flies over the airplane', None)),
    ('A cat',
     (None, None),
     (None, None)),
    ('',
     (None, None),
     (None, None)),
]


@pytest.mark.parametrize("seed", SEEDS)
def test_swap_outputs_are_unchanged(seed):
    generator = HardNegativeGenerator(types=SWAPS, seed=seed)
    results = generator.generate([caption for caption, *_ in CASES], progress=False)
    got = [(row["swap_object"], row["swap_attribute"]) for row in results]
    expected = [by_seed[SEEDS.index(seed)] for _, *by_seed in CASES]
    assert got == expected
    assert sum(value is not None for pair in got for value in pair) >= 40  # the cases exercise both rules


def test_cases_cover_both_outcomes_of_both_rules():
    for index, name in enumerate(SWAPS):
        values = [by_seed[k][index] for _, *by_seed in CASES for k in range(len(SEEDS))]
        assert None in values and sum(v is not None for v in values) >= 15, name
    # the seeds order the pairs differently on some captions
    assert sum(first != second for _, first, second in CASES) >= 10
