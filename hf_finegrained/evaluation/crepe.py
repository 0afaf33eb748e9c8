"""CREPE (Ma et al., CVPR 2023): image-to-text retrieval of a Visual Genome region's caption among its own hard
negatives, read as RAIVNLab/CREPE (@1fa81c42) reads its CSV files (`crepe_eval_utils.py`, `BaseCsvDataset`;
`crepe_compo_eval_open_clip.py`, `gather_params`; `crepe_prod_eval_clip.py`).

Files (the repository's `data/prod_hard_negatives.zip` and `data/syst_hard_negatives.zip`, extracted under the
annotation folder; they are found by name at any depth):

- productivity: `<type>/prod_vg_hard_negs_<type>_complexity_<4..12>.csv` for the negative types `atom`, `negate`
  and `swap`, hard negatives in the column `hard_negs`;
- systematicity: `syst_vg_hard_negs_<seen|unseen>_compounds_in_<cc12m|yfcc|laion>.csv`, hard negatives in
  `valid_hard_negs_<atom|comp|combined>` (each column is one retrieval set).

Every row has `image_id` (Visual Genome `<id>.jpg`, looked for in `VG_100K/`, `VG_100K_2/` or the image folder
itself), `caption` and the region `x`, `y`, `width`, `height` the image is cropped to; the negatives are a Python
list literal. The candidates are `[caption] + negatives`, ranked by score; recall@k is the share of rows whose
caption is among the first k (`rank_recall`).

Rules kept from the upstream code: ties are ranked in candidate order, so a negative scoring exactly as the
caption comes after it (`torch.argsort(descending=True)` keeps that order for sets this small on CPU; it is not
a stable sort, so larger sets or another device may place ties otherwise); `strict_ties=true` ranks every tie
first. A row without negatives has a one-candidate set and counts as retrieved, as upstream;
`drop_without_negatives=true` leaves those rows out. Counts of both are in `details`.

The CREPE README restricts systematicity to models pretrained on CC-12M, YFCC-15M or LAION-400M (its seen and
unseen compounds are defined against those corpora), so only productivity is scored by default;
`--set crepe.systematicity=laion` (or `cc12m`, `yfcc`, several comma-separated, or `all`) adds the files of that
pretraining corpus."""

from __future__ import annotations

import ast
import csv
import glob
import os
import re
from collections import Counter
from typing import Any

from ..metrics import load_metric
from . import bow
from .annotations import AnnotationError
from .aro import strict_ties_setting
from .engine import ChoiceItem, ScoringEngine
from .images import FileImage, find_image
from .results import BenchmarkResult
from .spec import CHOICE_TASK, BenchmarkDataset, BenchmarkSpec, MetricType, recall_at

PRODUCTIVITY_TYPES = ("atom", "negate", "swap")
COMPLEXITIES = tuple(range(4, 13))
SYSTEMATICITY_TYPES = ("atom", "comp", "combined")
SPLITS = ("seen_compounds", "unseen_compounds")
CORPORA = ("cc12m", "yfcc", "laion")
K_VALUES = (1, 3, 5, 10)
SOURCE = "github.com/RAIVNLab/CREPE, data/prod_hard_negatives.zip and data/syst_hard_negatives.zip"
_PROD = re.compile(r"^prod_vg_hard_negs_(atom|negate|swap)_complexity_(\d+)\.csv$")
_SYST = re.compile(r"^syst_vg_hard_negs_(seen_compounds|unseen_compounds)_in_(cc12m|yfcc|laion)\.csv$")

Row = tuple[str, str, tuple[float, float, float, float], list[str]]  # (image_id, caption, box, negatives)


def find_files(annotation_dir: str, corpora: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """category -> (CSV path, negatives column) of every CREPE file under `annotation_dir`: productivity
    ("productivity/atom/4") and the systematicity files of `corpora` ("systematicity/laion/seen_compounds/comp")."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(glob.glob(os.path.join(annotation_dir, "**", "*.csv"), recursive=True)):
        name = os.path.basename(path)
        if match := _PROD.match(name):
            found.setdefault(f"productivity/{match[1]}/{int(match[2])}", (path, "hard_negs"))
        elif (match := _SYST.match(name)) and match[2] in corpora:
            for kind in SYSTEMATICITY_TYPES:
                found.setdefault(f"systematicity/{match[2]}/{match[1]}/{kind}", (path, f"valid_hard_negs_{kind}"))
    return dict(sorted(found.items(), key=lambda kv: _order(kv[0])))


def _order(category: str) -> tuple:
    parts = category.split("/")
    return tuple(int(p) if p.isdigit() else p for p in parts)


def negatives(value: str | None, path: str, line: int, column: str) -> list[str]:
    """A negatives cell: a Python list literal of captions (an empty cell is an empty list)."""
    if value is None or not value.strip() or value.strip().lower() == "nan":
        return []
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise AnnotationError(f"{path}: line {line}: {column!r} is not a list literal ({value[:60]!r})") from None
    if not isinstance(parsed, (list, tuple)) or not all(isinstance(v, str) for v in parsed):
        raise AnnotationError(f"{path}: line {line}: {column!r} is not a list of captions")
    return list(parsed)


def read_csv(path: str, column: str) -> list[Row]:
    """The rows of one CREPE CSV; `AnnotationError` naming the file and line when one is malformed."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            needed = ["image_id", "caption", "x", "y", "width", "height", column]
            lacking = [c for c in needed if c not in (reader.fieldnames or [])]
            if lacking:
                raise AnnotationError(f"{path}: no column {', '.join(map(repr, lacking))} (columns: "
                                      f"{', '.join(reader.fieldnames or [])}); is it a CREPE file ({SOURCE})?")
            rows = []
            for line, row in enumerate(reader, start=2):
                try:
                    box = tuple(float(row[k]) for k in ("x", "y", "width", "height"))
                except (TypeError, ValueError):
                    raise AnnotationError(f"{path}: line {line}: the region x, y, width, height is not numeric") \
                        from None
                image_id = (row["image_id"] or "").strip()
                if image_id.endswith(".0"):  # written by pandas as a float
                    image_id = image_id[:-2]
                if not image_id or row["caption"] is None:
                    raise AnnotationError(f"{path}: line {line}: empty image_id or caption")
                rows.append((image_id, row["caption"], box, negatives(row[column], path, line, column)))
            return rows
    except UnicodeDecodeError as error:
        raise AnnotationError(f"{path}: not UTF-8 text ({error.reason}); download it again") from None
    except OSError as error:
        raise AnnotationError(f"{path}: cannot be read ({error.strerror or error})") from None


def corpora_setting(value: Any) -> tuple[str, ...]:
    """The `systematicity` setting: "" / false (none, the default), "all", or corpora names comma-separated."""
    text = str(value or "").strip().lower()
    if text in ("", "false", "no", "0", "off", "none"):
        return ()
    if text in ("all", "true", "yes", "1", "on"):
        return CORPORA
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in CORPORA]
    if unknown:
        raise ValueError(f"systematicity={value!r}: unknown corpus {', '.join(unknown)}; expected {', '.join(CORPORA)}"
                         " or all")
    return names


def read_crepe(annotation_dir: str, corpora: tuple[str, ...] = ()) -> dict[str, list[Row]]:
    """category -> rows of every CREPE file found (see `find_files`)."""
    return {category: read_csv(path, column) for category, (path, column) in find_files(annotation_dir, corpora).items()}


def vg_image(image_id: str, root: str) -> str | None:
    """A Visual Genome image by id under `root`, `root/VG_100K` or `root/VG_100K_2`."""
    for folder in ("", "VG_100K", "VG_100K_2"):
        path = find_image(os.path.join(folder, f"{image_id}.jpg") if folder else f"{image_id}.jpg", [root])
        if path:
            return path
    return None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def evaluate_crepe(engine: ScoringEngine, annotations: str, images: str, strict_ties: bool | str = False,
                   systematicity: Any = "", drop_without_negatives: bool | str = False) -> BenchmarkResult:
    """Recall@1 per file (`productivity/<type>/<complexity>`), recall@k of each negative type (mean over its
    complexities) and of productivity (mean over the types; headline `productivity/recall@1`); with
    `systematicity`, the same per corpus, split and negative type."""
    strict, drop = strict_ties_setting(strict_ties), strict_ties_setting(drop_without_negatives)
    corpora = corpora_setting(systematicity)
    data = read_crepe(annotations, corpora)
    if not data:
        return BenchmarkResult.skipped("crepe", f"no CREPE file under {annotations} ({SOURCE})")
    items, total, missing, empty = [], 0, Counter(), Counter()
    paths: dict[str, str | None] = {}
    for category, rows in data.items():
        for image_id, caption, box, negs in rows:
            total += 1
            if not negs:
                empty[category] += 1
                if drop:
                    continue
            if image_id not in paths:
                paths[image_id] = vg_image(image_id, images)
            if paths[image_id] is None:
                missing[category] += 1
                continue
            items.append(ChoiceItem(FileImage(paths[image_id], box), [caption, *negs], 0, category))
    counts = {"items": total, "scored": len(items), "missing_images": sum(missing.values())}
    if not items:
        return BenchmarkResult.skipped("crepe", f"no row could be scored ({counts['missing_images']} images missing)")
    scores = engine.score_choices(items)
    categories = [item.category for item in items]
    metric = load_metric("rank_recall")
    ties = "wrong" if strict else "first_index"
    out = metric.compute(predictions=scores, references=[0] * len(items), k_values=list(K_VALUES), ties=ties,
                         categories=categories)
    oracle = metric.compute(predictions=[bow.order_blind_scores(i.captions, 0) for i in items],
                            references=[0] * len(items), k_values=[1], ties=ties, categories=categories)
    metrics = _aggregate(out["per_category"])
    metrics.update({bow.PREFIX + k: v for k, v in _aggregate(oracle["per_category"], (1,)).items()})
    shares, equal = bow.equal_share((item.category, item.captions, 0) for item in items)
    details: dict[str, Any] = {
        "recall_per_file": out["per_category"], "num_ties": out["num_ties"],
        "tie_rule": "ties ranked in candidate order, the caption first (as upstream's argsort on CPU)" if not strict
        else "ties ranked before the caption (strict_ties)",
        "rows_without_negatives": dict(empty),
        "rows_without_negatives_rule": "dropped" if drop else "counted as retrieved (one-candidate set, as upstream)",
        "bow_equal_share": shares, "bow_equal_items": equal}
    if missing:
        details["missing_by_category"] = dict(missing)
    if corpora:
        details["systematicity_corpora"] = list(corpora)
    return BenchmarkResult(name="crepe", headline="productivity/recall@1", metrics=metrics, counts=counts,
                           details=details)


def _aggregate(per_file: dict[str, dict[str, float]], k_values: tuple[int, ...] = K_VALUES) -> dict[str, float]:
    """Recall@1 per file and, level by level up the category paths, the mean recall@k of each group."""
    metrics: dict[str, float] = {}
    for category, values in per_file.items():
        metrics[category] = values["recall@1"]

    def node(prefix: tuple[str, ...]) -> dict[int, float]:
        leaves = [c for c in per_file if tuple(c.split("/"))[:len(prefix)] == prefix]
        if len(leaves) == 1 and tuple(leaves[0].split("/")) == prefix:
            return {k: per_file[leaves[0]][f"recall@{k}"] for k in k_values}
        children = sorted({tuple(c.split("/"))[len(prefix)] for c in leaves}, key=lambda x: (len(x), x))
        values = [node(prefix + (child,)) for child in children]
        means = {k: _mean([v[k] for v in values]) for k in k_values}
        for k, value in means.items():
            metrics[f"{'/'.join(prefix)}/recall@{k}"] = value
        return means

    for top in sorted({c.split("/")[0] for c in per_file}):
        node((top,))
    return metrics


def check_crepe(annotations: str, images: str, strict_ties: bool | str = False, systematicity: Any = "",
                drop_without_negatives: bool | str = False) -> dict[str, list[Row]]:
    """`SPEC.check`: reads every CREPE file found (images unopened); `AnnotationError` when there is none."""
    strict_ties_setting(strict_ties)
    strict_ties_setting(drop_without_negatives)
    data = read_crepe(annotations, corpora_setting(systematicity))
    if not data:
        raise AnnotationError(f"{annotations}: no CREPE file (prod_vg_hard_negs_*_complexity_*.csv; {SOURCE})")
    return data


def metric_type(metric: str) -> MetricType:
    """`SPEC.metric_types`: `<group>/recall@<k>` is `recall_at_<k>`; a file's own key (`productivity/atom/4`) its
    recall@1. The right caption is retrieved among its own hard negatives: a choice among candidates, so the choice
    task, not corpus retrieval."""
    head, _, k = metric.rpartition("/recall@")
    if head and k.isdigit():
        return recall_at(int(k), CHOICE_TASK)
    if metric.startswith(("productivity/", "systematicity/")):
        return recall_at(1, CHOICE_TASK)
    raise ValueError(f"crepe emits <productivity|systematicity>/... recalls, not {metric!r}")


SPEC = BenchmarkSpec("crepe", {
    "annotations": ("crepe", f"the extracted CREPE CSV files ({SOURCE})"),
    "images": ("crepe/images", "Visual Genome images (VG_100K/ and VG_100K_2/; visualgenome.org, or the Drive "
                               "folder linked from the CREPE README)"),
}, evaluate_crepe, check_crepe,
    # no Hub copy by the authors: the CSV files are in their GitHub repository
    dataset=BenchmarkDataset("crepe", "CREPE (Ma et al., CVPR 2023)"), metric_types=metric_type)
