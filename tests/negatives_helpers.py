"""Shared inputs for the hard-negative tests: hand-written captions and the SugarCrepe folder."""

from __future__ import annotations

import json
from pathlib import Path

SUGARCREPE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "sugarcrepe"

CAPTIONS = [
    "A man in a red shirt is riding a brown horse on the beach.",
    "a dog chasing a cat",
    "An apple next to a dog",
    "A white cat on a black chair.",
    "Two zebras are battling each other on hind legs.",
    "cars are stopped at a traffic light on a highway",
    "The man is sitting on the park bench using his laptop. ",
    "A woman in a red dress cutting a cake with a knife.",
    "a small wooden table under a large window",
    "A Dog chasing a HORSE.",
    "a man and a woman holding umbrellas",
    "a dog and a dog",
    "a red red car",
    "A bathroom with a white tub and white cabinets has a black pattern on the floor.",
    "A very simple living area with a chair, sofa and TV.",
]


def sugarcrepe_captions() -> list[str]:
    """The `caption` fields of the seven SugarCrepe files (7,511 COCO captions)."""
    captions = []
    for path in sorted(SUGARCREPE_DIR.glob("*.json")):
        captions += [item["caption"] for item in json.loads(path.read_text()).values()]
    return captions
