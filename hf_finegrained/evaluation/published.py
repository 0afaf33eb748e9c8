"""Published numbers for OpenAI CLIP ViT-B/32 and models fine-tuned from it, as data: the rows of
docs/BENCHMARKS.md ("Published ViT-B/32 numbers for comparison") that map one-to-one onto a metric this package
writes to results.json. `results.md` prints them beside a run (`results.published_comparison`).

The numbers live in the package data file `data/published_results.csv` (`DATA_FILE`), one row per (model,
benchmark, metric, value, source) with an optional note; this module holds the sources they cite (`SOURCES`) and
reads the file into `PUBLISHED`. Each `PublishedNumber` names the benchmark as registered in
`runner.BENCHMARKS`, the metric key as results.json names it, the model, the value as a fraction (with the number
of decimals its source printed, so it prints as the doc prints it), the source key of `SOURCES` and, where it
matters, a note (average kind, checkpoint, items).
tests/test_eval_published.py checks every value against the doc's tables and every name against what the
benchmarks produce.

Included: per-split / per-instrument / per-task numbers (SugarCrepe splits, VALSE instruments, ARO VG-R and VG-A
from ARO's own code (its macro), ARO COCO- and Flickr-Order (accuracy over items: `micro`), Winoground text /
image / group, COCO 5k and Flickr30k 1k R@1), and the averages whose kind is ours: SugarCrepe and SugarCrepe++
means over the split files ([RC]: `macro`, `itt/macro`, `tot/macro`), VALSE "11 instruments" ([CE], [DG]:
`instrument_mean`), VALSE "7 pieces" ([VC], [FSC]: `macro`, mean over the pieces of the mean over their
instruments, as ours) and VALSE "over samples" ([RC]: `micro`). The papers' suite: What'sUp per subset and the
mean of the six ([VC], [FSC]: `macro`) and READ-CLIP's mean of the three sources ([RC]: `source_mean`); READ-CLIP's
CREPE number ([RC]: `productivity/recall@1`, with a note: which files its Hub copy holds was not checked); BiVLC
I2T / T2I / group over all instances ([BV]) and per type (computed from [BV]'s per-instance outcomes); MMVP-VLM
vl_compo's image score per pattern and its mean group score ([VC]: `image/<pattern>`, `group/macro`); EqBen group
per sub-dataset and the mean over the five sources ([VC], [FSC]: `group/macro`); SPEC per subset and direction
and the means ([SP]); ColorSwap text / image / group ([VC]).

Left out, because they do not have the meaning of one of our metrics:

- SugarCrepe group numbers (REPLACE / SWAP / ADD) of [SC] (item-weighted within the group), [CE] and [DG] (mean
  of the splits in the group): we write no group metric.
- SugarCrepe's one number per benchmark of vl_compo ([VC] `results.csv`, [FSC]): the mean of the three
  item-weighted group accuracies, neither our `macro` (7 splits) nor our `micro` (items).
- The doc's "macro, computed" and "micro, computed" SugarCrepe columns: computed in the doc, not published.
- VALSE counting of [CE] and [DG]: one value printed for the three counting instruments.
- ARO VG-R / VG-A of [VC]: which average vl_compo takes over relations and attribute pairs is not published;
  DAC-LLM's VG-R / VG-A in [CE] (marked †, copied from the DAC paper, average not stated); the ARO aggregates
  (mean of the four tasks) of [VC] / [FSC]: we write no such metric.
- VL-CheckList: [CE]'s average is the mean of the 9 sub-types, ours (`macro`) the mean of the 3 types; how [CE]
  averages inside a type, and what vl_compo's `vl_checklist` number is, are not documented.
- ImageNet zero-shot top-1: our `zeroshot` benchmark scores whatever dataset it is given and results.json does
  not say it was ImageNet; [FSC]'s 21-dataset zero-shot mean has no counterpart either.
- CREPE of vl_compo ([VC] per negative type, [VC] / [FSC] their mean): how it averages over the complexities is
  not published. SPEC of [FSC]: vl_compo's definition of its one number is not published.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    """A source key of docs/BENCHMARKS.md: where its numbers were read and the harness that produced them."""

    key: str  # as printed in brackets: "SC" for [SC]
    reference: str
    harness: str


@dataclass(frozen=True)
class PublishedNumber:
    """One published number: `value` a fraction in [0, 1], printed with `decimals` decimals as in its source."""

    benchmark: str  # a name of runner.BENCHMARKS
    metric: str  # a key of that benchmark's results.json metrics
    model: str
    value: float
    decimals: int
    source: str  # a key of SOURCES
    note: str = ""

    @property
    def percent(self) -> str:
        """The value in %, as its source printed it ("61.38", "79")."""
        return f"{100 * self.value:.{self.decimals}f}"


SOURCES: dict[str, Source] = {s.key: s for s in (
    Source("SC", "Hsieh et al., NeurIPS 2023 D&B (SugarCrepe): the pretrained-CLIP table, RAIVNLab/sugar-crepe "
                 "assets/sugarcrepe_eval.png (@0047054b)", "SugarCrepe's own (main_eval.py, open_clip)"),
    Source("CE", "Zhang et al., CVPR 2024 (CE-CLIP): Tables 1 (ARO, VALSE) and 3 (SugarCrepe), "
                 "lezhang7/Enhance-FineGrained assets/aro.png, assets/sugarcrepe.png (@ef87eb7e)",
           "the CE-CLIP paper's runs of the ARO, VALSE and SugarCrepe code"),
    Source("DG", "Hu et al., ACM MM 2025 (DeGLA, arXiv 2504.16801): Tables 2 (VALSE), 3 (SugarCrepe), 4 (ARO), "
                 "xiaoxing2001/DeGLA assets/ (@1c5e9606)",
           "the DeGLA paper's runs of the ARO, SugarCrepe and VALSE code"),
    Source("VC", "Oh et al., CVPR 2024 MMFM workshop (arXiv 2406.09388): ytaek-oh/vl_compo individual_results.csv "
                 "and results.csv (@43e2eae0)", "vl_compo, one code path for all models"),
    Source("FSC", "Oh et al., EMNLP 2024 (FSC-CLIP): ytaek-oh/fsc-clip assets/extended_results.csv (@604015db)",
           "vl_compo (src/training/eval_compo.py)"),
    Source("RC", "READ-CLIP, NeurIPS 2025 (arXiv 2510.16540): JiH00nKw0n/READ-CLIP README.md, table "
                 "\"Reproducing the Paper\" (@b2f096ca)",
           "READ-CLIP's evaluate.py (transformers CLIPModel; argmax, a tie counts right)"),
    Source("OC", "mlfoundations/open_clip docs/openclip_retrieval_results.csv (29b90b8d), row ViT-B-32,openai",
           "CLIP_benchmark"),
    Source("WG", "Thrush et al., CVPR 2022 (Winoground): CLIP (ViT-B/32) recomputed from the authors' released "
                 "per-example scores, juletx/spatial-reasoning thesis/chapters/3_winoground_zero_shot.tex, "
                 "tab:results_aggr_baseline (@85f6c2a3)", "the Winoground authors'"),
    Source("WG-HF", "OpenAI CLIP ViT-B/32 run again through transformers: juletx/spatial-reasoning "
                    "thesis/chapters/3_winoground_zero_shot.tex, tab:results_aggr_ours (@85f6c2a3)",
           "J. Etxaniz's master's thesis, transformers CLIPModel"),
    Source("BV", "Miranda et al., NeurIPS 2024 D&B (BiVLC): IMirandaM/BiVLC misc/main_results.PNG (the paper's main "
                 "table) and results/BiVLC_ViT-B-32.csv (its per-instance outcomes for OpenAI CLIP ViT-B/32) "
                 "(@84f0d175)", "BiVLC's main_evaluation_BiVLC.py (open_clip, strict >)"),
    Source("SP", "Peng et al., CVPR 2024 (SPEC): wjpoom/SPEC notebooks/evaluate_example_local.ipynb, the printed "
                 "outputs of section 4.1 (CLIP ViT-B/32, OpenAI weights) (@ad982a42)",
           "SPEC's own (spec/eval.py, open_clip, argmax)"),
)}


DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "published_results.csv"
COLUMNS = ("model", "benchmark", "metric", "value_percent", "source", "note")


def read_published(path: str | os.PathLike = DATA_FILE) -> tuple[PublishedNumber, ...]:
    """The rows of `path` (`DATA_FILE`: one row per model, benchmark, metric, value and source, in the doc's order):
    `value_percent` the percentage as its source printed it ("61.38", "79"), `note` optional. A malformed row
    raises ValueError naming the file, the line and what to fix."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: the header must be {','.join(COLUMNS)}, not {','.join(reader.fieldnames or [])}")
        out = []
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            if None in row or any(row[c] is None for c in COLUMNS):
                raise ValueError(f"{where}: {len(COLUMNS)} cells expected ({','.join(COLUMNS)})")
            if not all(row[c] for c in COLUMNS[:5]):
                raise ValueError(f"{where}: model, benchmark, metric, value_percent and source must not be empty")
            if row["source"] not in SOURCES:
                raise ValueError(f"{where}: unknown source {row['source']!r}; add it to SOURCES "
                                 f"({', '.join(SOURCES)}) or fix the key")
            cell = row["value_percent"]
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"{where}: value_percent {cell!r} is not a number (a percentage as printed)") from None
            if not 0.0 <= value <= 100.0:
                raise ValueError(f"{where}: value_percent {cell!r} is not a percentage in [0, 100]")
            out.append(PublishedNumber(row["benchmark"], row["metric"], row["model"], round(value / 100, 10),
                                       len(cell.partition(".")[2]), row["source"], row["note"]))
    return tuple(out)


PUBLISHED: tuple[PublishedNumber, ...] = read_published()


def published_for(benchmark: str, metric: str) -> list[PublishedNumber]:
    """The published numbers for `metric` of `benchmark`, in the order of the doc."""
    return [p for p in PUBLISHED if p.benchmark == benchmark and p.metric == metric]
