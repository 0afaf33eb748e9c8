"""SPEC (Peng et al., CVPR 2024): six subsets (absolute and relative size, absolute and relative spatial position,
existence, count) of image-to-text and text-to-image choices among candidates that differ in one concept, read
and scored as wjpoom/SPEC (@ad982a42) does it (`spec/dataset.py`, `spec/models/clip_wrapper.py`, `spec/eval.py`).

Layout (the Hub dataset `wjpoom/SPEC`, `data.zip` extracted): `<subset>/image2text.json`, a list of `{"query":
<image path>, "keys": [captions], "label": <index>}`, and `<subset>/text2image.json`, a list of `{"query":
<caption>, "keys": [image paths], "label": <index>}`; image paths are relative to the subset folder.

Rule: the prediction is `argmax` over the candidates (`scores.argmax(dim=-1) == label`), which returns the first
of equal maxima: a tie counts right only when the right candidate comes first among the tied ones
(`strict_ties=true` counts every tie wrong). Accuracy per subset and direction (`i2t/<subset>`, `t2i/<subset>`),
`i2t/macro` and `t2i/macro` = the unweighted mean over the subsets (what `eval.py` prints as "average all subset";
headline `i2t/macro`), and `/micro` over items."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import torch

from ..metrics import load_metric
from . import bow
from .annotations import AnnotationError, expect, field, read_json, texts
from .aro import strict_ties_setting
from .engine import ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, MetricType

SUBSETS = ("absolute_size", "relative_size", "absolute_spatial", "relative_spatial", "existence", "count")
SOURCE = "wjpoom/SPEC on the Hugging Face Hub (data.zip), linked from github.com/wjpoom/SPEC"
Entry = tuple[Any, list, int]  # (query, candidates, label)


def read_file(path: str, direction: str) -> list[Entry]:
    """The items of one SPEC file ("i2t": image query, caption keys; "t2i": caption query, image keys)."""
    data = expect(read_json(path), list, path, "of {\"query\", \"keys\", \"label\"} items")
    out = []
    for n, item in enumerate(data):
        where = f"item {n}"
        query = field(item, "query", path, where)
        keys = texts(field(item, "keys", path, where, list), path, f"{where}: 'keys'")
        label = field(item, "label", path, where, int)
        if not 0 <= label < len(keys):
            raise AnnotationError(f"{path}: {where}: label {label} is outside its {len(keys)} keys")
        out.append((query, keys, label))
    return out


def read_spec(root: str) -> tuple[dict[str, dict[str, list[Entry]]], list[str]]:
    """subset -> direction -> items for every subset folder present under `root`; and the absent subsets."""
    data, absent = {}, []
    for subset in SUBSETS:
        folder = os.path.join(root, subset)
        files = {"i2t": os.path.join(folder, "image2text.json"), "t2i": os.path.join(folder, "text2image.json")}
        if not all(os.path.isfile(p) for p in files.values()):
            absent.append(subset)
            continue
        data[subset] = {direction: read_file(path, direction) for direction, path in files.items()}
    return data, absent


def _scores(engine: ScoringEngine, pairs: list[tuple[FileImage, list[str]]],
            reverse: list[tuple[str, list[FileImage]]]) -> tuple[list[list[float]], list[list[float]]]:
    """Image-to-captions scores and caption-to-images scores, every unique image and caption encoded once."""
    refs = [image for image, _ in pairs] + [image for _, images in reverse for image in images]
    captions = [c for _, keys in pairs for c in keys] + [caption for caption, _ in reverse]
    image_emb, image_row = engine.embed_images(refs)
    text_emb, text_row = engine.embed_texts(captions)
    i2t = []
    for image, keys in pairs:
        rows = text_emb[torch.tensor([text_row[c] for c in keys])]
        i2t.append((rows * image_emb[image_row[image.key]]).sum(dim=-1).tolist())
    t2i = []
    for caption, images in reverse:
        rows = image_emb[torch.tensor([image_row[i.key] for i in images])]
        t2i.append((rows * text_emb[text_row[caption]]).sum(dim=-1).tolist())
    return i2t, t2i


def evaluate_spec(engine: ScoringEngine, annotations: str, images: str | None = None,
                  strict_ties: bool | str = False) -> BenchmarkResult:
    """`i2t|t2i/<subset>`, `/macro` (mean over subsets; headline `i2t/macro`) and `/micro`."""
    strict = strict_ties_setting(strict_ties)
    root_images = images or annotations
    data, absent = read_spec(annotations)
    if not data:
        return BenchmarkResult.skipped("spec", f"no SPEC subset under {annotations} (expected "
                                               f"<subset>/image2text.json and text2image.json for {', '.join(SUBSETS)}; "
                                               f"{SOURCE})")
    i2t_items, t2i_items, missing, total = [], [], Counter(), 0
    for subset, files in data.items():
        folder = os.path.join(root_images, subset)
        for query, keys, label in files["i2t"]:
            total += 1
            path = find_image(query, [folder])
            if path is None:
                missing[f"i2t/{subset}"] += 1
                continue
            i2t_items.append((subset, FileImage(path), keys, label))
        for query, keys, label in files["t2i"]:
            total += 1
            paths = [find_image(k, [folder]) for k in keys]
            if None in paths:
                missing[f"t2i/{subset}"] += 1
                continue
            t2i_items.append((subset, query, [FileImage(p) for p in paths], label))
    counts = {"items": total, "scored": len(i2t_items) + len(t2i_items), "missing_images": sum(missing.values())}
    if not i2t_items or not t2i_items:
        return BenchmarkResult.skipped("spec", f"no item could be scored in a direction ({counts['missing_images']} "
                                               "items with images missing)")
    i2t, t2i = _scores(engine, [(i[1], i[2]) for i in i2t_items], [(t[1], t[2]) for t in t2i_items])
    ties = "wrong" if strict else "first_index"
    recall = load_metric("rank_recall")
    metrics: dict[str, float] = {}
    details: dict[str, Any] = {"num_ties": {}, "tie_rule": "a tie counts wrong (strict_ties)" if strict else
                               "argmax: the first of equal maxima is predicted (as upstream)"}
    for direction, scores, items in (("i2t", i2t, i2t_items), ("t2i", t2i, t2i_items)):
        out = recall.compute(predictions=scores, references=[i[3] for i in items], ties=ties,
                             categories=[i[0] for i in items])
        metrics[f"{direction}/micro"] = out["recall@1"]
        metrics[f"{direction}/macro"] = out["macro"]["recall@1"]
        metrics.update({f"{direction}/{s}": v["recall@1"] for s, v in out["per_category"].items()})
        details["num_ties"][direction] = out["num_ties"]
    # Order-blind ceiling of the caption choice (image-to-text): captions with the right one's words tie it.
    oracle = recall.compute(predictions=[bow.order_blind_scores(i[2], i[3]) for i in i2t_items],
                            references=[i[3] for i in i2t_items], ties=ties, categories=[i[0] for i in i2t_items])
    metrics[bow.PREFIX + "i2t/micro"] = oracle["recall@1"]
    metrics[bow.PREFIX + "i2t/macro"] = oracle["macro"]["recall@1"]
    metrics.update({f"{bow.PREFIX}i2t/{s}": v["recall@1"] for s, v in oracle["per_category"].items()})
    shares, equal = bow.equal_share((i[0], i[2], i[3]) for i in i2t_items)
    details.update(bow_equal_share=shares, bow_equal_items=equal)
    if missing:
        details["missing_by_category"] = dict(missing)
    if absent:
        details["absent_files"] = [f"{s}/" for s in absent]
    return BenchmarkResult(name="spec", headline="i2t/macro", metrics=metrics, counts=counts, details=details)


def check_spec(annotations: str, images: str | None = None, strict_ties: bool | str = False) -> dict:
    """`SPEC.check` (the benchmark's spec): reads the subset files present; `AnnotationError` when none is."""
    strict_ties_setting(strict_ties)
    data, _ = read_spec(annotations)
    if not data:
        raise AnnotationError(f"{annotations}: no SPEC subset folder with image2text.json and text2image.json "
                              f"({SOURCE})")
    return data


def metric_type(metric: str) -> MetricType:
    """`SPEC.metric_types` (the benchmark's spec): `i2t/...` and `t2i/...` are accuracies of choosing the right
    caption, or the right image, among the candidates."""
    if metric.split("/", 1)[0] not in ("i2t", "t2i"):
        raise ValueError(f"spec emits i2t/... and t2i/... accuracies, not {metric!r}")
    return MetricType()


SPEC = BenchmarkSpec("spec", {
    "annotations": ("spec", f"the extracted SPEC data.zip: one folder per subset ({', '.join(SUBSETS)}; {SOURCE})"),
    "images": ("spec", "the same folders (SPEC's images sit beside its JSON files, in each subset folder)"),
}, evaluate_spec, check_spec,
    dataset=BenchmarkDataset("wjpoom/SPEC", "SPEC (Peng et al., CVPR 2024)"), metric_types=metric_type)
