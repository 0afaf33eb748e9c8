"""SugarCrepe++ (Dumpala et al., NeurIPS 2024 Datasets and Benchmarks): 5 files of `[{"id", "filename", "caption",
"caption2", "negative_caption"}]` on COCO val2017 images (the SugarCrepe ones). Each item has two positives, P1
(`caption`) and P2 (`caption2`, other words, same meaning), and a negative N (`negative_caption`).

Per file, as the authors' `VLMs/test_*.py` score it, every comparison strict (a tie is wrong):
ITT (image-text task) cos(I, P1) > cos(I, N) and cos(I, P2) > cos(I, N); ITT with P1 only and with P2 only;
TOT (text-only task, text encoder alone) cos(P1, P2) > cos(P1, N) and cos(P1, P2) > cos(P2, N). The rule lives
in the `sugarcrepe_pp_triplet` metric; each unique image and caption is encoded once, for both tasks."""

from __future__ import annotations

import os
from collections import Counter

from ..metrics import load_metric
from . import bow
from .annotations import expect, field, read_json
from .choice import ChoiceSet
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult
from .spec import TEXT_ONLY_TASK, BenchmarkDataset, BenchmarkSpec, MetricType

CATEGORIES = ("replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
TASKS = ("itt", "tot", "itt_p1", "itt_p2")  # the order of the results: the two tasks, then ITT per positive
KEYS = ("filename", "caption", "caption2", "negative_caption")

Entry = tuple[str, str, str, str]  # (filename, P1, P2, N)


def read_sugarcrepe_pp(annotation_dir: str | os.PathLike) -> tuple[dict[str, list[Entry]], list[str]]:
    """(filename, caption, caption2, negative_caption) of every entry, per category file present under
    `annotation_dir`, and the names of the absent files; `AnnotationError` naming the file and entry when one is
    malformed."""
    entries, absent = {}, []
    for category in CATEGORIES:
        path = os.path.join(annotation_dir, f"{category}.json")
        if not os.path.isfile(path):
            absent.append(f"{category}.json")
            continue
        data = expect(read_json(path), list, path, 'of {"id", "filename", "caption", "caption2", "negative_caption"}')
        rows = []
        for n, entry in enumerate(data):
            where = f"entry {n}" + (f" (id {entry['id']!r})" if isinstance(entry, dict) and "id" in entry else "")
            rows.append(tuple(field(entry, key, path, where) for key in KEYS))
        entries[category] = rows
    return entries, absent


def load_sugarcrepe_pp(annotation_dir: str | os.PathLike, image_root: str | os.PathLike) -> ChoiceSet:
    """Items with captions [P1, P2, N] (label 0) and their file as category; images are `image_root/<filename>`.
    Absent files are listed in `notes["absent_files"]`, items whose image is missing counted per file."""
    entries, absent = read_sugarcrepe_pp(annotation_dir)
    items, total, missing = [], 0, Counter()
    for category, rows in entries.items():
        for filename, p1, p2, negative in rows:
            total += 1
            path = find_image(filename, [image_root])
            if path is None:
                missing[category] += 1
                continue
            items.append(ChoiceItem(FileImage(path), [p1, p2, negative], 0, category))
    return ChoiceSet(items=items, total=total, missing_images=sum(missing.values()),
                     missing_by_category=dict(missing), notes={"absent_files": absent} if absent else {})


def triplet_scores(image_scores: list[list[float]], similarities: list[list[list[float]]]) -> list[list[float]]:
    """Per item, the text-text scores the triplet metric reads, [cos(P1, P2), cos(P1, N), cos(P2, N)], from
    the (3, 3) similarity matrix of its captions [P1, P2, N]."""
    return [[m[0][1], m[0][2], m[1][2]] for m in similarities]


def order_blind_triplet(p1: str, p2: str, negative: str) -> tuple[list[float], list[float]]:
    """(image scores, text scores) of the best order-blind scorer on one item (`bow.py`): a caption with the
    negative's words gets the negative's score, and a text-text similarity that involves N equals cos(P1, P2)
    when N has P1's or P2's words (cos(P2, N) = cos(P2, P1)), so that comparison ties."""
    same1, same2 = bow.same_words(p1, negative), bow.same_words(p2, negative)
    image = [0.0 if same1 else 1.0, 0.0 if same2 else 1.0, 0.0]
    text = [1.0, 1.0, 1.0] if same1 or same2 else [1.0, 0.0, 0.0]
    return image, text


def _metrics(out: dict, prefix: str = "") -> dict[str, float]:
    """Results keys of one metric output: per task, `macro`, `micro` and each category ("itt/swap_att")."""
    metrics = {}
    for task in TASKS:
        metrics[f"{prefix}{task}/macro"] = out["macro"][task]
        metrics[f"{prefix}{task}/micro"] = out[task]
        for category, values in out["per_category"].items():
            metrics[f"{prefix}{task}/{category}"] = values[task]
    return metrics


def evaluate_sugarcrepe_pp(engine: ScoringEngine, annotations: str, images: str) -> BenchmarkResult:
    """Metrics `<task>/<file>`, `<task>/micro` (over items) and `<task>/macro` (mean over files) for the tasks
    `itt`, `tot`, `itt_p1`, `itt_p2`; headline `itt/macro` (the paper reports each file, not an average), and
    the order-blind ceiling of each (`bow_ceiling/<key>`)."""
    name = "sugarcrepe_pp"
    choice_set = load_sugarcrepe_pp(annotations, images)
    counts = {"items": choice_set.total, "scored": len(choice_set.items), "missing_images": choice_set.missing_images}
    if not choice_set.items:
        return BenchmarkResult.skipped(name, f"no item could be scored ({choice_set.missing_images} images missing)")
    image_scores, similarities = engine.score_choices_and_texts(choice_set.items)
    categories = [item.category for item in choice_set.items]
    metric = load_metric("sugarcrepe_pp_triplet")
    out = metric.compute(predictions=image_scores, text_scores=triplet_scores(image_scores, similarities),
                         categories=categories)
    oracle = [order_blind_triplet(*item.captions) for item in choice_set.items]
    ceiling = metric.compute(predictions=[o[0] for o in oracle], text_scores=[o[1] for o in oracle],
                             categories=categories)
    # Items whose negative has the words of P1 or of P2: an order-blind scorer ties on them in ITT and TOT.
    shares, equal = bow.equal_share((item.category, [item.captions[2], item.captions[0], item.captions[1]], 0)
                                    for item in choice_set.items)
    details = {"num_ties": out["num_ties"], "category_counts": out["category_counts"],
               "bow_equal_share": shares, "bow_equal_items": equal}
    if choice_set.missing_by_category:
        details["missing_by_category"] = choice_set.missing_by_category
    details.update(choice_set.notes)
    return BenchmarkResult(name=name, headline="itt/macro", metrics={**_metrics(out), **_metrics(ceiling, bow.PREFIX)},
                           counts=counts, details=details)


def check_sugarcrepe_pp(annotations: str, images: str) -> tuple[dict[str, list[Entry]], list[str]]:
    """`SPEC.check`: reads the files present under `annotations` (images unopened)."""
    return read_sugarcrepe_pp(annotations)


def metric_type(metric: str) -> MetricType:
    """`SPEC.metric_types`: the text-only task (`tot/...`: the text encoder alone ranks caption pairs) is
    sentence similarity; the image-text task (`itt/...`) is caption choice like the other benchmarks."""
    return MetricType(task=TEXT_ONLY_TASK) if metric.startswith("tot/") else MetricType()


SPEC = BenchmarkSpec("sugarcrepe_pp", {
    "annotations": ("sugarcrepe_pp", "the 5 SugarCrepe++ files (github.com/Sri-Harsha/scpp, data/*.json)"),
    "images": ("coco/val2017", "COCO val2017 images (cocodataset.org), the ones SugarCrepe uses"),
}, evaluate_sugarcrepe_pp, check_sugarcrepe_pp,
    # not the Hub copy of SugarCrepe++: the runner reads the GitHub files
    dataset=BenchmarkDataset("sugarcrepe-pp", "SugarCrepe++ (Dumpala et al., NeurIPS 2024)"), metric_types=metric_type)
