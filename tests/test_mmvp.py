"""MMVP-VLM: Questions.csv and the image folders in the upstream layout, the "a photo of " prompt, both images read
from the first row's pattern folder, patterns assigned by row order (15 pairs each), ties going to the second
image (wrong for both with strict_ties), the pair rule, the Winoground scores beside it, a trailing unpaired row
ignored, each image and text encoded once."""

import csv
from pathlib import Path

import pytest
import torch
from eval_helpers import link_images

from hf_finegrained.evaluation import AnnotationError, ScoringEngine, check_benchmarks, run_benchmarks
from hf_finegrained.evaluation.mmvp import PATTERNS, evaluate_mmvp, key, read_questions
from hf_finegrained.metrics import load_metric


class LookupScorer:
    """Images by the red value of their top-left pixel, texts by their string, each to a chosen 2-d vector:
    red 1 -> (1, 0), red 2 -> (0, 1); "a photo of A" -> (1, 0) (prefers image red 1), "a photo of B" -> (0, 1),
    "a photo of T" -> (1, 1) / sqrt 2 (ties exactly between the two)."""

    TEXTS = {"a photo of A": (1.0, 0.0), "a photo of B": (0.0, 1.0), "a photo of T": (0.5 ** 0.5, 0.5 ** 0.5)}

    def __init__(self):
        self.texts_seen = []

    def encode_images(self, images):
        return torch.tensor([(1.0, 0.0) if im.getpixel((0, 0))[0] == 1 else (0.0, 1.0) for im in images])

    def encode_texts(self, texts):
        self.texts_seen += texts
        return torch.tensor([self.TEXTS[t] for t in texts])


def write_mmvp(root: Path, extra_row: bool = True, pairs: int = 16) -> None:
    """16 pairs: pair n has question ids 2n+1 (image red 1) and 2n+2 (image red 2). Pair 0: statements A / B (both
    right); pair 1: A / T (the second statement ties: image 2, right); pair 2: T / B (the first ties: image 2,
    wrong); the rest A / B. Pair 15 (the 16th) is the first of the second pattern; its second row names the folder
    "Texts", but both images are read from the first row's folder. `pairs=135` fills the nine patterns."""
    folder = root / "mmvp_vlm"
    rows = [["Question ID", "Type", "Statement"]]
    statements = {0: ("A", "B"), 1: ("A", "T"), 2: ("T", "B")}
    for n in range(pairs):
        first, second = statements.get(n, ("A", "B"))
        rows.append([str(2 * n + 1), "Orientation", first])
        rows.append([str(2 * n + 2), "Orientation" if n < 15 else "Texts", second])
        images = folder / "MLLM_VLM Images" / "Orientation"
        link_images(images, [f"{2 * n + 1}.jpg"], red=1)
        link_images(images, [f"{2 * n + 2}.jpg"], red=2)
    if extra_row:
        rows.append(["99", "Texts", "A"])  # unpaired: ignored
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "Questions.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def test_pairs_patterns_by_row_order_and_ties_to_the_second_image(tmp_path):
    write_mmvp(tmp_path)
    scorer = LookupScorer()
    engine = ScoringEngine(scorer, batch_size=8, progress=False)
    result = evaluate_mmvp(engine, str(tmp_path / "mmvp_vlm" / "Questions.csv"), str(tmp_path / "mmvp_vlm"))
    m = result.metrics
    first, second = key(PATTERNS[0]), key(PATTERNS[1])
    assert m[f"pair/{first}"] == 14 / 15  # pair 2 lost: its first statement's tie went to image 2
    assert m[f"pair/{second}"] == 1.0  # the 16th pair belongs to the second pattern by row order
    assert m["pair/macro"] == pytest.approx((14 / 15 + 1) / 2) and result.headline == "pair/macro"
    assert m["pair/micro"] == 15 / 16
    # Winoground scores: the image score is the pair rule with ties wrong (pairs 1 and 2 lost)
    assert m[f"image/{first}"] == 13 / 15 and m[f"text/{first}"] == 1.0  # T is nearer its own image than A, B
    assert result.details["num_ties"]["statements"] == 2
    assert result.counts == {"items": 16, "scored": 16, "missing_images": 0}
    assert set(scorer.texts_seen) == {"a photo of A", "a photo of B", "a photo of T"}
    assert engine.stats.text_encodes == 3 and engine.stats.image_encodes == engine.stats.unique_images == 32


def test_strict_ties(tmp_path):
    write_mmvp(tmp_path)
    engine = ScoringEngine(LookupScorer(), progress=False)
    result = evaluate_mmvp(engine, str(tmp_path / "mmvp_vlm" / "Questions.csv"), str(tmp_path / "mmvp_vlm"),
                           strict_ties="true")
    assert result.metrics[f"pair/{key(PATTERNS[0])}"] == 13 / 15  # pair 1's tie now wrong too


def test_metric_rule_on_hand_made_scores():
    mmvp = load_metric("mmvp_pairs")
    tie_second = [[[0.9, 0.1], [0.4, 0.4]]]  # statement 2 ties
    assert mmvp.compute(predictions=tie_second, references=[[0, 1]])["accuracy"] == 1.0
    assert mmvp.compute(predictions=tie_second, references=[[0, 1]], ties="wrong")["accuracy"] == 0.0
    tie_first = [[[0.4, 0.4], [0.1, 0.9]]]
    assert mmvp.compute(predictions=tie_first, references=[[0, 1]])["accuracy"] == 0.0
    with pytest.raises(ValueError):
        mmvp.compute(predictions=[[[0.1, 0.2]]], references=[[0, 1]])


def test_file_problems_are_named(tmp_path):
    write_mmvp(tmp_path, extra_row=False)
    assert len(read_questions(str(tmp_path / "mmvp_vlm" / "Questions.csv"))) == 16
    assert check_benchmarks(["mmvp_vlm"], str(tmp_path))["mmvp_vlm"] == ("ready", "")
    doc = run_benchmarks(LookupScorer(), ["mmvp_vlm"], data_root=str(tmp_path), progress=False, log=lambda _: None)
    assert doc["benchmarks"]["mmvp_vlm"]["metrics"]["pair/micro"] == 15 / 16
    (tmp_path / "mmvp_vlm" / "Questions.csv").write_text("id,type,statement,extra\n1,a,b,c\n")
    with pytest.raises(AnnotationError, match="4 fields"):
        read_questions(str(tmp_path / "mmvp_vlm" / "Questions.csv"))
    rows = "\n".join(["id,type,statement"] + [f"{i},T,s" for i in range(1, 2 * 136 + 1)])
    (tmp_path / "mmvp_vlm" / "Questions.csv").write_text(rows)
    with pytest.raises(AnnotationError, match="135 pairs at most"):
        read_questions(str(tmp_path / "mmvp_vlm" / "Questions.csv"))
