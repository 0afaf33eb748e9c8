"""EqBen: the shuffled annotation with the repository's index files (private_random_idx.json, private_info.json),
un-shuffled as evaluate_eqben_locally.py does it, Winoground scores per sub-dataset (Kubric's three averaged),
micro and the macro over the five sources, YouCook2 frames read from BGR .npy arrays, the light release's .jpg for
a .png, missing images and incomplete examples counted, each image and caption encoded once."""

import json
import random
from pathlib import Path

import numpy as np
import pytest
from eval_helpers import StandInScorer, solid

from hf_finegrained.evaluation import AnnotationError, ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.eqben import category_name, evaluate_eqben, read_eqben, unshuffle

# sub-dataset, (image 0, red), (image 1, red), caption 0, caption 1
EXAMPLES = [
    ("eqbenag", ("eqbenag/v1/a.png", 10), ("eqbenag/v1/b.png", 50), "c" * 10, "d" * 50),  # all right
    ("eqbenag", ("eqbenag/v2/a.png", 10), ("eqbenag/v2/b.jpg", 12), "c" * 10, "d" * 11),  # text right, image tie
    ("eqbenkubric_loc", ("eqbenkubric_loc/1.png", 20), ("eqbenkubric_loc/2.png", 30), "a cube left of a ball",
     "a ball left of a cube"),  # same words: every comparison ties
    ("eqbenyoucook2", ("eqbenyoucook2/f1.npy", 10), ("eqbenyoucook2/f2.npy", 50), "c" * 10, "d" * 50),  # all right
    ("eqbensd", ("eqbensd/1.png", 10), ("eqbensd/absent.png", 50), "c" * 10, "d" * 50),  # an image missing
]
SLOT = {"c0i0": (0, 0), "c0i1": (0, 1), "c1i0": (1, 0), "c1i1": (1, 1)}


def write_eqben(root: Path, seed: int = 3, complete: bool = False) -> None:
    """eqben/ (the three JSON files, rows shuffled) and eqben/images; ag's second image 1 is listed as .png but
    stored as .jpg (the light release), YouCook2's frames are .npy arrays in BGR order. `complete` adds one
    example of each sub-dataset that EXAMPLES lacks or cannot score (its SD image is missing)."""
    folder, images = root / "eqben", root / "eqben" / "images"
    ordered, info = [], []
    extra = [(d, (f"{d}/x0.png", 10), (f"{d}/x1.png", 50), "c" * 10, "d" * 50)
             for d in ("eqbengebc", "eqbenkubric_attr", "eqbenkubric_cnt", "eqbensd")] if complete else []
    for number, (dataset, image0, image1, caption0, caption1) in enumerate(EXAMPLES + extra):
        for name, (c, i) in SLOT.items():
            image = (image0, image1)[i][0]
            ordered.append({"image": image.replace("b.jpg", "b.png"), "caption": (caption0, caption1)[c]})
            info.append({"dataset": dataset, "name": name, "sample_cnt": number})
        for image, red in (image0, image1):
            if "absent" in image:
                continue
            path = images / image
            path.parent.mkdir(parents=True, exist_ok=True)
            if image.endswith(".npy"):
                frame = np.zeros((8, 8, 3), dtype=np.uint8)
                frame[:, :, 2], frame[:, :, 0] = red, 99  # BGR: red is the last channel
                np.save(path, frame)
            else:
                solid(red).save(path, format="PNG")
    index = list(range(len(ordered)))
    random.Random(seed).shuffle(index)  # row r of the annotation is the un-shuffled position index[r]
    shuffled = [ordered[p] for p in index]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ann_json_finegrained_random.json").write_text(json.dumps(shuffled))
    (folder / "private_random_idx.json").write_text(json.dumps(index))
    (folder / "private_info.json").write_text(json.dumps(info))


def test_unshuffle_recovers_the_examples(tmp_path):
    write_eqben(tmp_path)
    rows, index, info = read_eqben(str(tmp_path / "eqben"))
    assert rows[0] != {"image": "eqbenag/v1/a.png", "caption": "c" * 10}  # really shuffled
    slots, spans = unshuffle(rows, index, info)
    assert slots[0]["c0i1"] == {"image": "eqbenag/v1/b.png", "caption": "c" * 10}
    assert slots[2]["c1i1"]["caption"] == "a ball left of a cube"
    assert spans == {"eqbenag": range(0, 2), "eqbenkubric_loc": range(2, 3), "eqbenyoucook2": range(3, 4),
                     "eqbensd": range(4, 5)}
    assert category_name("eqbenkubric_cnt") == "kubric/cnt" and category_name("eqbenag") == "ag"


def test_scores_per_sub_dataset_and_the_five_source_macro(tmp_path):
    write_eqben(tmp_path)
    scorer = StandInScorer()
    engine = ScoringEngine(scorer, batch_size=4, progress=False)
    result = evaluate_eqben(engine, str(tmp_path / "eqben"), str(tmp_path / "eqben" / "images"))
    m = result.metrics
    assert (m["text/ag"], m["image/ag"], m["group/ag"]) == (1.0, 0.5, 0.5)
    assert (m["group/kubric/loc"], m["group/kubric"]) == (0.0, 0.0)
    assert (m["text/youcook2"], m["group/youcook2"]) == (1.0, 1.0)  # read as RGB from the BGR arrays
    assert m["group/macro"] == pytest.approx((0.5 + 0.0 + 1.0) / 3) and result.headline == "group/macro"
    assert m["group/micro"] == 0.5
    assert m["bow_ceiling/group/kubric"] == 0.0
    assert result.counts == {"items": 5, "scored": 4, "missing_images": 1}
    assert result.details["missing_by_category"] == {"sd": 1}
    assert engine.stats.image_encodes == engine.stats.unique_images == 8
    assert sorted(r for r, _ in scorer.images_seen) == [10, 10, 10, 12, 20, 30, 50, 50]


def test_files_that_do_not_match_are_named(tmp_path):
    write_eqben(tmp_path)
    assert check_benchmarks(["eqben"], str(tmp_path))["eqben"] == ("ready", "")
    doc = run_benchmarks(StandInScorer(), ["eqben"], data_root=str(tmp_path), progress=False, log=lambda _: None)
    assert doc["benchmarks"]["eqben"]["metrics"]["group/micro"] == 0.5
    (tmp_path / "eqben" / "private_random_idx.json").write_text(json.dumps([0, 1]))
    status, message = check_benchmarks(["eqben"], str(tmp_path))["eqben"]
    assert status == "error" and "same release" in message
    (tmp_path / "eqben" / "private_info.json").unlink()
    with pytest.raises(AnnotationError, match="private_info.json absent"):
        read_eqben(str(tmp_path / "eqben"))
