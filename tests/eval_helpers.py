"""Helpers for the evaluation tests: a stand-in scorer whose right answers are known, tiny images on disk."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

import torch
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
UNIT = math.pi / 1000


class StandInScorer:
    """score(image, caption) = cos(pi/1000 * (R - len(caption))), R = red value of the image's top-left pixel.

    Images map to the unit vector at angle R * pi/1000 and captions to the one at len(caption) * pi/1000, so
    cosine similarity gives the formula above exactly. With R = 0 a shorter caption always scores higher and
    two captions of equal length tie exactly. Counts every image and text it encodes.
    """

    def __init__(self) -> None:
        self.images_seen: list[tuple[int, tuple[int, int]]] = []
        self.texts_seen: list[str] = []

    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        reds = [image.getpixel((0, 0))[0] for image in images]
        self.images_seen += [(r, image.size) for r, image in zip(reds, images)]
        return _unit_angles([r * UNIT for r in reds])

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        self.texts_seen += texts
        return _unit_angles([len(t) * UNIT for t in texts])


def stand_in_score(red: int, caption: str) -> float:
    return math.cos(UNIT * (red - len(caption)))


def _unit_angles(angles: list[float]) -> torch.Tensor:
    a = torch.tensor(angles, dtype=torch.float64)
    return torch.stack([a.cos(), a.sin()], dim=1).float()


def solid(red: int = 0, size: int = 8) -> Image.Image:
    return Image.new("RGB", (size, size), (red, 0, 0))


def link_images(root: str | os.PathLike, names: Iterable[str], red: int = 0) -> int:
    """Creates every `root/name` as a symlink to one tiny image (fast for thousands of names); returns the count.

    The shared file is PNG-encoded whatever the extension, so its pixels are exact.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    source = root / f".shared_{red}.png"
    if not source.exists():
        solid(red).save(source, format="PNG")
    count = 0
    for name in set(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.symlink_to(source)
            count += 1
    return count


# Small format fixtures in each benchmark's layout under a data root (see docs/BENCHMARKS.md) ----------------

def _dump(path: Path, data) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def halves(left: int, right: int) -> Image.Image:
    """20x10 image: red = `left` on the left half, `right` on the right half."""
    image = Image.new("RGB", (20, 10), (left, 0, 0))
    image.paste(solid(right, 10), (10, 0))
    return image


def write_aro_vg(root: Path) -> None:
    """aro/: VG-R (5 items, one image missing) and VG-A (25 + 3 items) on crops of the right half (red 40).

    The true caption has 40 characters (score 1 on the crop); the false one 20, which would win on the
    uncropped image (top-left red 20). VG-R: "on" 2 of 3 right, "wearing" right, "next to" (left out by
    ARO) wrong. VG-A: "red_blue" 25 right, "big_small" 3 wrong (fewer than 25 items, left out).
    """
    images = root / "aro" / "images"
    images.mkdir(parents=True, exist_ok=True)
    halves(20, 40).save(images / "1.jpg", format="PNG")
    box = {"bbox_x": 10, "bbox_y": 0, "bbox_w": 10, "bbox_h": 10}
    right, wrong = {"true_caption": "t" * 40, "false_caption": "f" * 20}, {"true_caption": "t" * 20,
                                                                          "false_caption": "f" * 40}
    relation = [
        {"image_path": "1.jpg", "relation_name": "on", **box, **right},
        {"image_path": "1.jpg", "relation_name": "on", **box, **right},
        {"image_path": "1.jpg", "relation_name": "on", **box, **wrong},
        {"image_path": "1.jpg", "relation_name": "wearing", **box, **right},
        {"image_path": "1.jpg", "relation_name": "next to", **box, **wrong},
        {"image_path": "absent.jpg", "relation_name": "on", **box, **right},
    ]
    attribution = [{"image_path": "1.jpg", "attributes": ["red", "blue"], **box, **right}] * 25 + \
                  [{"image_path": "1.jpg", "attributes": ["big", "small"], **box, **wrong}] * 3
    _dump(root / "aro" / "visual_genome_relation.json", relation)
    _dump(root / "aro" / "visual_genome_attribution.json", attribution)


def write_winoground(root: Path) -> None:
    """winoground/: ex 0 all right (Object); ex 1 text right, image tie (Relation); ex 2 image missing."""
    images = root / "winoground" / "images"
    images.mkdir(parents=True, exist_ok=True)
    for name, red in (("ex_0_img_0", 10), ("ex_0_img_1", 50), ("ex_1_img_0", 10), ("ex_1_img_1", 12),
                      ("ex_2_img_0", 10)):
        solid(red).save(images / f"{name}.png")
    rows = [
        {"id": 0, "caption_0": "a" * 10, "caption_1": "b" * 50, "image_0": "ex_0_img_0", "image_1": "ex_0_img_1",
         "collapsed_tag": "Object"},
        {"id": 1, "caption_0": "a" * 10, "caption_1": "b" * 11, "image_0": "ex_1_img_0", "image_1": "ex_1_img_1",
         "collapsed_tag": "Relation"},
        {"id": 2, "caption_0": "a", "caption_1": "b", "image_0": "ex_2_img_0", "image_1": "ex_2_img_1",
         "collapsed_tag": "Both"},
    ]
    path = root / "winoground" / "examples.jsonl"
    import json

    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def write_karpathy(root: Path) -> None:
    """coco/coco_karpathy_test.json + val2014 images (red 20, 40, 60) and one missing image.

    Stand-in answers: image->text R@1 = 1; text->image R@1 = 4/6 (the 30-char caption ties images 0 and 1,
    the 45-char one is closer to image 1), R@5 = 1.
    """
    folder = root / "coco" / "val2014"
    folder.mkdir(parents=True, exist_ok=True)
    for i, red in enumerate((20, 40, 60)):
        solid(red).save(folder / f"COCO_val2014_{i}.jpg", format="PNG")
    entries = [
        {"image": "val2014/COCO_val2014_0.jpg", "caption": ["x" * 20, "x" * 30]},
        {"image": "val2014/COCO_val2014_1.jpg", "caption": ["y" * 40, "y" * 31]},
        {"image": "val2014/COCO_val2014_2.jpg", "caption": ["z" * 45, "z" * 60]},
        {"image": "val2014/COCO_val2014_9.jpg", "caption": ["lost", "lost too"]},
    ]
    _dump(root / "coco" / "coco_karpathy_test.json", entries)


ORDER_CAPTIONS = ["A brown dog chases a small red ball in the green park",
                  "Two young men ride old bicycles down a quiet street"]


def write_order(root: Path) -> None:
    """flickr30k/flickr30k_test.json: 2 images x the ORDER_CAPTIONS (for COCO/Flickr-Order)."""
    folder = root / "flickr30k" / "flickr30k-images"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(2):
        solid(0).save(folder / f"{i}.jpg", format="PNG")
    _dump(root / "flickr30k" / "flickr30k_test.json",
          [{"image": f"flickr30k-images/{i}.jpg", "caption": ORDER_CAPTIONS} for i in range(2)])


ZEROSHOT_NAMES = ["c" * 4, "d" * 24, "e" * 44, "f" * 64, "g" * 84, "h" * 104]  # prompts of 20, 40, ... 120 chars


def zeroshot_dataset():
    """6 classes; images red 20 (class 0, right), 40 (class 1, right), 45 (class 2: top-5 only), 110 (class 0:
    ranked 6th, after a tie between classes 4 and 5). Stand-in answers: top-1 = 0.5, top-5 = 0.75."""
    import datasets

    features = datasets.Features({"img": datasets.Image(), "label": datasets.ClassLabel(names=ZEROSHOT_NAMES)})
    rows = {"img": [solid(r) for r in (20, 40, 45, 110)], "label": [0, 1, 2, 0]}
    return datasets.Dataset.from_dict(rows, features=features)


def write_sugarcrepe_pp(root: Path) -> None:
    """sugarcrepe_pp/ (5 files x 2 items, one image missing in swap_obj) on the coco/val2017 images, red 0.

    Stand-in answers (shorter caption wins, equal lengths tie): item 0 right on every task; item 1 ties P1 with
    N (ITT and ITT-P1 wrong by a tie, ITT-P2 right), and as P1 and N have the same length the text encoder
    finds them identical (TOT wrong). Item 1's negative has P1's words: an order-blind scorer gets it wrong on
    every task but ITT-P2."""
    from hf_finegrained.evaluation.sugarcrepe_pp import CATEGORIES

    for c in CATEGORIES:
        _dump(root / "sugarcrepe_pp" / f"{c}.json", [
            {"id": 0, "filename": "000000000001.jpg", "caption": "a cat", "caption2": "one cat",
             "negative_caption": "a black dog on a mat"},
            {"id": 1, "filename": "000000000002.jpg" if c != "swap_obj" else "absent.jpg",
             "caption": "dog bites man", "caption2": "man", "negative_caption": "man bites dog"},
        ])
    link_images(root / "coco" / "val2017", ["000000000001.jpg", "000000000002.jpg"])


def write_small_text_benchmarks(root: Path) -> None:
    """sugarcrepe/ (7 files x 2 items, one image missing), sugarcrepe_pp/ (`write_sugarcrepe_pp`), valse/
    (11 files, one invalid sample each), vl_checklist/data (2 files) with images, all at red 0 (shorter caption
    wins)."""
    from hf_finegrained.evaluation.sugarcrepe import CATEGORIES
    from hf_finegrained.evaluation.valse import INSTRUMENTS

    write_sugarcrepe_pp(root)

    for c in CATEGORIES:
        _dump(root / "sugarcrepe" / f"{c}.json", {
            "0": {"filename": "000000000001.jpg", "caption": "short", "negative_caption": "a longer one"},
            "2": {"filename": "000000000002.jpg" if c != "swap_obj" else "absent.jpg", "caption": "tie",
                  "negative_caption": "eit"},
        })
    link_images(root / "coco" / "val2017", ["000000000001.jpg", "000000000002.jpg"])
    for name in INSTRUMENTS:
        _dump(root / "valse" / f"{name}.json", {
            "a": {"image_file": "v1.jpg", "caption": "right", "foil": "a long foil", "mturk": {"caption": 3}},
            "b": {"image_file": "v2.jpg", "caption": "x", "foil": "xyz", "mturk": {"caption": 1}},
        })
    link_images(root / "valse" / "images", ["v1.jpg", "v2.jpg"])
    _dump(root / "vl_checklist" / "data" / "Attribute" / "vg" / "color.json",
          [["VG_100K/1.jpg", {"POS": ["red car", "unused"], "NEG": ["blue car"]}]])
    _dump(root / "vl_checklist" / "data" / "Relation" / "vg" / "action.json",
          [["VG_100K/1.jpg", {"POS": ["man riding horse"], "NEG": ["man eating"]}]])
    link_images(root / "vl_checklist" / "images" / "vg", ["VG_100K/1.jpg"])
