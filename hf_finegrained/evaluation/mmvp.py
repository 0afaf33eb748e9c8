"""MMVP-VLM (Tong et al., CVPR 2024): 9 visual patterns x 15 pairs of images, one statement per image, read and
scored as tsb0601/MMVP (@76350059) does it in `scripts/evaluate_vlm.py`.

Layout (the Hub dataset `MMVP/MMVP_VLM`): `Questions.csv` with a header and three columns (question id, pattern
folder, statement), the two statements of a pair on consecutive rows; images `<image folder>/<pattern
folder>/<question id>.jpg` inside `MLLM_VLM Images/` (the folder name in the script) or `MMVP_VLM_Images/` (the
one in the README), or directly under the image folder.

Rule (kept as upstream, quirks included):
- the text is "a photo of " + the statement;
- both images of a pair are read from the **first** row's pattern folder;
- each statement predicts image 1 when its softmax over the two images gives image 1 more than 0.5, else image 2,
  so an exact tie goes to **image 2** (`strict_ties=true` counts ties wrong); its right image is image 1 for an odd
  question id, image 2 for an even one (`mmvp_pairs`);
- a pair counts when both statements are right; the pattern of the n-th pair is the (n // 15)-th of the script's
  fixed list of nine names, by row order, whatever the pattern folder says; a trailing unpaired row is ignored.
Accuracy per pattern (`pair/<pattern>`), `pair/macro` = mean over the patterns (the paper's "MMVP Average",
headline) and `pair/micro`. Also the Winoground text / image / group scores per pattern (vl_compo reports these;
`image` is the pair rule with ties counted wrong)."""

from __future__ import annotations

import csv
import os
from collections import Counter
from typing import Any

from ..metrics import load_metric
from . import bow
from .annotations import AnnotationError
from .aro import strict_ties_setting
from .engine import ScoringEngine
from .images import FileImage, find_image
from .pairs import PairExample, count_ties, order_blind_matrix, pair_metrics, score_matrices
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, MetricType, pair_scores

# The fixed list of `evaluate_vlm.py`, in order; a pair's pattern is PATTERNS[pair number // PAIRS_PER_PATTERN].
PATTERNS = ("Orientation and Direction", "Presence of Specific Features", "State and Condition", "Quantity and Count",
            "Positional and Relational Context", "Color and Appearance", "Structural Characteristics", "Texts",
            "Viewpoint and Perspective")
PAIRS_PER_PATTERN = 15
PROMPT = "a photo of "
IMAGE_FOLDERS = ("MLLM_VLM Images", "MMVP_VLM_Images", "")
SOURCE = "MMVP/MMVP_VLM on the Hugging Face Hub (linked from github.com/tsb0601/MMVP)"


def key(pattern: str) -> str:
    """The results key of a pattern: "Orientation and Direction" -> "orientation_and_direction"."""
    return pattern.lower().replace(" ", "_")


def read_questions(path: str) -> list[tuple[tuple[int, str, str], tuple[int, str, str], str]]:
    """The pairs of `Questions.csv`: ((qid, folder, statement) x 2, pattern); `AnnotationError` naming the file
    and line when one is malformed."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))[1:]  # header skipped
    except UnicodeDecodeError as error:
        raise AnnotationError(f"{path}: not UTF-8 text ({error.reason}); download it again") from None
    except OSError as error:
        raise AnnotationError(f"{path}: cannot be read ({error.strerror or error})") from None
    parsed = []
    for line, row in enumerate(rows, start=2):
        if len(row) != 3:
            raise AnnotationError(f"{path}: line {line} has {len(row)} fields, expected 3 (question id, pattern, "
                                  f"statement); is it MMVP-VLM's Questions.csv ({SOURCE})?")
        try:
            parsed.append((int(row[0]), row[1], row[2]))
        except ValueError:
            raise AnnotationError(f"{path}: line {line}: the question id {row[0]!r} is not a number") from None
    pairs = []
    for n in range(len(parsed) // 2):
        pattern_number = n // PAIRS_PER_PATTERN
        if pattern_number >= len(PATTERNS):
            raise AnnotationError(f"{path}: {len(parsed) // 2} pairs; the upstream script assigns patterns by row "
                                  f"order to {len(PATTERNS) * PAIRS_PER_PATTERN} pairs at most")
        pairs.append((parsed[2 * n], parsed[2 * n + 1], PATTERNS[pattern_number]))
    return pairs


def find_pair_image(root: str, folder: str, qid: int) -> str | None:
    for images in IMAGE_FOLDERS:
        path = find_image(os.path.join(images, folder, f"{qid}.jpg") if images else os.path.join(folder, f"{qid}.jpg"),
                          [root])
        if path:
            return path
    return None


def evaluate_mmvp(engine: ScoringEngine, annotations: str, images: str, strict_ties: bool | str = False) -> BenchmarkResult:
    """`pair/<pattern>`, `pair/macro` (headline), `pair/micro`, and `text|image|group/<pattern>|macro|micro`."""
    strict = strict_ties_setting(strict_ties)
    pairs = read_questions(annotations)
    examples, references, patterns, missing = [], [], [], Counter()
    for (qid1, folder, statement1), (qid2, _, statement2), pattern in pairs:
        paths = [find_pair_image(images, folder, qid) for qid in (qid1, qid2)]  # both from the first row's folder
        if None in paths:
            missing[key(pattern)] += 1
            continue
        examples.append(PairExample(images=(FileImage(paths[0]), FileImage(paths[1])),
                                    captions=(PROMPT + statement1, PROMPT + statement2), category=key(pattern)))
        references.append([0 if qid1 % 2 == 1 else 1, 0 if qid2 % 2 == 1 else 1])
        patterns.append(key(pattern))
    counts = {"items": len(pairs), "scored": len(examples), "missing_images": sum(missing.values())}
    if not examples:
        return BenchmarkResult.skipped("mmvp_vlm", f"no pair could be scored ({counts['missing_images']} with images "
                                                   "missing)")
    matrices = score_matrices(engine, examples)
    oracle_matrices = [order_blind_matrix(example.captions) for example in examples]
    ties = "wrong" if strict else "second_image"
    mmvp = load_metric("mmvp_pairs")
    metrics: dict[str, float] = {}
    for prefix, scored in (("", matrices), (bow.PREFIX, oracle_matrices)):
        out = mmvp.compute(predictions=scored, references=references, categories=patterns, ties=ties)
        metrics[f"{prefix}pair/micro"] = out["accuracy"]
        metrics[f"{prefix}pair/macro"] = out["macro_accuracy"]
        metrics.update({f"{prefix}pair/{p}": v["accuracy"] for p, v in out["per_category"].items()})
    # Winoground scores need caption i to go with image i: reorder the statements by their right image.
    aligned = [(m if ref == [0, 1] else [m[1], m[0]], o if ref == [0, 1] else [o[1], o[0]], p)
               for m, o, ref, p in zip(matrices, oracle_matrices, references, patterns) if sorted(ref) == [0, 1]]
    wino = load_metric("winoground_scores")
    if aligned:
        for prefix, index in (("", 0), (bow.PREFIX, 1)):
            out = wino.compute(predictions=[a[index] for a in aligned], categories=[a[2] for a in aligned])
            metrics.update({prefix + k: v for k, v in pair_metrics(out, {}, True).items()})
    shares, equal = bow.equal_share((p, list(e.captions), 0) for p, e in zip(patterns, examples))
    details: dict[str, Any] = {
        "num_ties": {"statements": mmvp.compute(predictions=matrices, references=references)["num_ties"],
                     **count_ties(matrices)},
        "tie_rule": "a tie counts wrong (strict_ties)" if strict else "a tie goes to image 2 (as the authors' script)",
        "patterns": {key(p): p for p in PATTERNS}, "bow_equal_share": shares, "bow_equal_items": equal,
        "pairs_without_one_image_each": len(examples) - len(aligned)}
    if missing:
        details["missing_by_category"] = dict(missing)
    return BenchmarkResult(name="mmvp_vlm", headline="pair/macro", metrics=metrics, counts=counts, details=details)


def _pair_accuracy(metric: str) -> MetricType:
    if metric.startswith("pair/"):
        return MetricType("pair_accuracy")
    raise ValueError(f"mmvp_vlm emits pair/... accuracies and text|image|group/... scores, not {metric!r}")


SPEC = BenchmarkSpec("mmvp_vlm", {
    "annotations": ("mmvp_vlm/Questions.csv", f"MMVP-VLM's Questions.csv ({SOURCE})"),
    "images": ("mmvp_vlm", f"the folder holding MMVP-VLM's image folder ('MLLM_VLM Images' or MMVP_VLM_Images; "
                           f"{SOURCE})"),
}, evaluate_mmvp, lambda annotations, images, strict_ties=False: read_questions(annotations),
    # `pair/...`: both statements of a pair right (the paper's accuracy); `text|image|group/...`: Winoground's
    dataset=BenchmarkDataset("MMVP/MMVP_VLM", "MMVP-VLM (Tong et al., CVPR 2024)"),
    metric_types=pair_scores(others=_pair_accuracy))
