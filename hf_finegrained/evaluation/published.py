"""Published numbers for OpenAI CLIP ViT-B/32 and models fine-tuned from it, as data: the rows of
docs/BENCHMARKS.md ("Published ViT-B/32 numbers for comparison") that map one-to-one onto a metric this package
writes to results.json. `results.md` prints them beside a run (`results.published_comparison`).

Each `PublishedNumber` names the benchmark as registered in `runner.BENCHMARKS`, the metric key as results.json
names it, the model, the value as a fraction (with the number of decimals its source printed, so it prints as
the doc prints it), the source key of `SOURCES` and, where it matters, a note (average kind, checkpoint, items).
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

from dataclasses import dataclass


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


def _rows(benchmark: str, metrics: tuple[str, ...], model: str, source: str, values: str, note: str = "",
          notes: dict[str, str] | None = None) -> list[PublishedNumber]:
    """One record per metric from `values`, the percentages as the doc prints them, space-separated ("-" for
    a cell left out); `notes[metric]` adds to `note` for one metric."""
    cells = values.split()
    if len(cells) != len(metrics):
        raise ValueError(f"{benchmark} {model} [{source}]: {len(cells)} values for {len(metrics)} metrics")
    out = []
    for metric, cell in zip(metrics, cells):
        if cell == "-":
            continue
        extra = (notes or {}).get(metric, "")
        out.append(PublishedNumber(benchmark, metric, model, round(float(cell) / 100, 10),
                                   len(cell.partition(".")[2]), source, "; ".join(n for n in (note, extra) if n)))
    return out


_SUGARCREPE = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
_SWAP_OBJ_246 = {"swap_obj": "246 items (245 in today's file)"}
_VALSE = ("existence/existence", "plurality/plurals", "counting/counting-hard", "counting/counting-small-quant",
          "counting/counting-adversarial", "spatial_relations/relations", "actions/action-replacement",
          "actions/actant-swap", "coreference/coreference-standard", "coreference/coreference-hard",
          "foil_it/foil-it")
_VALSE_AVG = "11 instruments, counting's one value counted three times"
_RC_VALSE = "over samples of its Hub copy (whether it keeps only the valid samples was not checked)"
_VG = ("aro_vg_relation", "aro_vg_attribution")
_ORDER = ("aro_coco_order", "aro_flickr_order")
_WINOGROUND = ("text", "image", "group")
_R1 = ("i2t_recall@1", "t2i_recall@1")
_WHATSUP = ("controlled_a", "controlled_b", "coco_one", "coco_two", "gqa_one", "gqa_two")
_EQBEN = ("group/ag", "group/youcook2", "group/gebc", "group/kubric/loc", "group/kubric/attr", "group/kubric/cnt",
          "group/sd")
_MMVP_IMAGE = tuple(f"image/{p}" for p in (
    "orientation_and_direction", "presence_of_specific_features", "state_and_condition", "quantity_and_count",
    "positional_and_relational_context", "color_and_appearance", "structural_characteristics", "texts",
    "viewpoint_and_perspective"))
_SPEC = tuple(f"{d}/{s}" for s in ("absolute_size", "relative_size", "absolute_spatial", "relative_spatial",
                                   "existence", "count") for d in ("i2t", "t2i"))
_VC_TIES = "vl_compo's tie rule is not published"
_VC_EQBEN = "vl_compo's AG and YouCook2 numbers are round fractions: a sample of those sub-datasets"
_VC_MMVP = "vl_compo's image score (how it pairs statements and images is not published)"
_RC_CREPE = "mean over the files of its Hub copy (which CREPE files it holds was not checked)"
_BV_TYPE = "computed from the authors' per-instance outcomes"


def _aro(model: str, source: str, values: str) -> list[PublishedNumber]:
    """VG-Relation, VG-Attribution (ARO's macro), COCO-Order, Flickr-Order (over items), "-" where blank."""
    cells = values.split()
    vg = [r for bench, cell in zip(_VG, cells[:2]) for r in _rows(bench, ("macro",), model, source, cell)]
    order = [r for bench, cell in zip(_ORDER, cells[2:]) for r in _rows(bench, ("micro",), model, source, cell)]
    return vg + order


def _retrieval(model: str, source: str, values: str) -> list[PublishedNumber]:
    """COCO 5k I->T, T->I R@1, Flickr30k 1k I->T, T->I R@1."""
    cells = values.split()
    return (_rows("retrieval_coco", _R1, model, source, " ".join(cells[:2]))
            + _rows("retrieval_flickr", _R1, model, source, " ".join(cells[2:])))


PUBLISHED: tuple[PublishedNumber, ...] = tuple(
    # SugarCrepe, per split
    _rows("sugarcrepe", _SUGARCREPE, "CLIP", "SC", "68.79 77.21 80.08 90.92 69.20 63.96 61.38", notes=_SWAP_OBJ_246)
    + _rows("sugarcrepe", _SUGARCREPE, "CLIP", "VC", "68.79 77.21 80.08 90.92 69.20 63.96 61.22")
    + _rows("sugarcrepe", _SUGARCREPE, "CLIP", "CE", "68.2 77.2 80 90.9 69.2 64 61.4")
    + _rows("sugarcrepe", _SUGARCREPE, "NegCLIP", "CE", "82.8 88.8 85.9 92.7 76.5 75.4 75.2")
    + _rows("sugarcrepe", _SUGARCREPE, "NegCLIP", "VC", "85.12 90.06 87.94 93.83 74.40 77.03 75.92")
    + _rows("sugarcrepe", _SUGARCREPE, "CE-CLIP", "CE", "93.4 92.4 88.8 93.1 79 77 72.8", "the same in [DG]")
    + _rows("sugarcrepe", _SUGARCREPE, "CE-CLIP", "VC", "91.91 92.39 90.36 94.25 81.15 76.58 74.69")
    + _rows("sugarcrepe", _SUGARCREPE, "DAC-LLM", "VC", "97.69 89.62 89.34 94.43 84.42 74.17 75.10")
    + _rows("sugarcrepe", _SUGARCREPE, "DeGLA", "DG", "95.7 93.8 92.6 94.5 84.2 82.1 81.6")
    # SugarCrepe, mean over the split files
    + _rows("sugarcrepe", ("macro",), "NegCLIP", "RC", "83.6", "mean over the split files")
    + _rows("sugarcrepe", ("macro",), "FSC-CLIP", "RC", "85.2", "mean over the split files")
    + _rows("sugarcrepe", ("macro",), "READ-CLIP", "RC", "87.0", "mean over the split files")
    # SugarCrepe++, ITT and TOT, mean over the files
    + _rows("sugarcrepe_pp", ("itt/macro", "tot/macro"), "NegCLIP", "RC", "65.0 62.5", "mean over the files")
    + _rows("sugarcrepe_pp", ("itt/macro", "tot/macro"), "FSC-CLIP", "RC", "67.9 64.4", "mean over the files")
    + _rows("sugarcrepe_pp", ("itt/macro", "tot/macro"), "READ-CLIP", "RC", "69.8 66.2", "mean over the files")
    # ARO: VG-R, VG-A (ARO's code: macro), COCO-Order, Flickr-Order (over items)
    + _aro("CLIP", "CE", "59.3 62.9")
    + _aro("CLIP", "DG", "59.2 62.9 48.4 59.1")
    + _aro("CLIP", "VC", "- - 47.56 59.56")
    + _aro("NegCLIP", "CE", "80.2 70.5")
    + _aro("NegCLIP", "DG", "80.4 70.5 86.9 90.5")
    + _aro("NegCLIP", "VC", "- - 82.56 87.14")
    + _aro("CE-CLIP", "CE", "83.0 76.4")
    + _aro("CE-CLIP", "DG", "83.9 76.4 80.9 83.7")
    + _aro("CE-CLIP", "VC", "- - 72.41 75.80")
    + _aro("DAC-LLM", "VC", "- - 94.42 95.94")
    + _aro("DeGLA", "DG", "81.6 74.3 93.8 94.7")
    # VALSE, acc_r per instrument and the averages of our kinds
    + _rows("valse", _VALSE, "CLIP", "CE", "68.7 57.1 - - - 65.4 77.8 71.8 54.1 51.0 89.8", "the same in [DG]")
    + _rows("valse", ("instrument_mean",), "CLIP", "CE", "65.3", f"{_VALSE_AVG}; the same in [DG]")
    + _rows("valse", _VALSE, "CLIP", "VC", "69.31 57.58 64.52 61.89 58.18 65.98 77.78 71.76 54.94 51.92 90.14")
    + _rows("valse", ("macro",), "CLIP", "VC", "67.53", "7 pieces")
    + _rows("valse", _VALSE, "NegCLIP", "CE", "76.8 71.7 - - - 72.9 81.6 84.7 58.6 53.8 91.9")
    + _rows("valse", ("instrument_mean",), "NegCLIP", "CE", "71.6", _VALSE_AVG)
    + _rows("valse", _VALSE, "NegCLIP", "DG", "76.8 72.0 - - - 72.7 81.6 84.8 58.9 54.8 91.8")
    + _rows("valse", ("instrument_mean",), "NegCLIP", "DG", "71.7", _VALSE_AVG)
    + _rows("valse", _VALSE, "NegCLIP", "VC", "75.05 70.15 69.24 71.22 54.12 68.97 82.87 85.14 60.31 59.62 93.00")
    + _rows("valse", ("macro",), "NegCLIP", "VC", "73.72", "7 pieces")
    + _rows("valse", ("micro",), "NegCLIP", "RC", "73.7", _RC_VALSE)
    + _rows("valse", _VALSE, "CE-CLIP", "CE", "78.6 77.7 - - - 74.4 81.2 88.6 54.7 54.8 93.7")
    + _rows("valse", ("instrument_mean",), "CE-CLIP", "CE", "72.5", _VALSE_AVG)
    + _rows("valse", _VALSE, "CE-CLIP", "DG", "78.6 77.6 - - - 74.0 81.2 88.5 54.9 52.9 93.7")
    + _rows("valse", ("instrument_mean",), "CE-CLIP", "DG", "72.2", _VALSE_AVG)
    + _rows("valse", _VALSE, "CE-CLIP", "VC", "78.42 77.91 68.66 71.78 60.93 73.83 81.17 87.57 59.89 62.50 94.27")
    + _rows("valse", ("macro",), "CE-CLIP", "VC", "76.73", "7 pieces")
    + _rows("valse", _VALSE, "DAC-LLM", "VC", "75.25 66.16 62.56 61.67 58.32 71.40 79.78 82.93 45.62 42.31 94.27")
    + _rows("valse", ("macro",), "DAC-LLM", "VC", "70.46", "7 pieces")
    + _rows("valse", ("macro",), "FSC-CLIP", "FSC", "75.31", "7 pieces; COCO checkpoint")
    + _rows("valse", ("macro",), "FSC-CLIP", "FSC", "73.65", "7 pieces; LAION-COCO checkpoint")
    + _rows("valse", ("micro",), "FSC-CLIP", "RC", "74.4", _RC_VALSE)
    + _rows("valse", _VALSE, "DeGLA", "DG", "82.4 73.8 - - - 75.3 82.6 88.8 58.5 54.8 93.8")
    + _rows("valse", ("instrument_mean",), "DeGLA", "DG", "74.1", _VALSE_AVG)
    + _rows("valse", ("micro",), "READ-CLIP", "RC", "76.2", _RC_VALSE)
    # Winoground
    + _rows("winoground", _WINOGROUND, "CLIP", "WG", "30.75 10.50 8.00")
    + _rows("winoground", _WINOGROUND, "CLIP", "WG-HF", "30.75 10.25 8.25")
    + _rows("winoground", _WINOGROUND, "CLIP", "VC", "31.25 11.00 8.75")
    + _rows("winoground", _WINOGROUND, "NegCLIP", "VC", "30.25 11.00 8.00")
    + _rows("winoground", _WINOGROUND, "CE-CLIP", "VC", "19.50 12.00 5.25")
    + _rows("winoground", _WINOGROUND, "DAC-LLM", "VC", "22.50 10.50 4.75")
    + _rows("winoground", ("group",), "FSC-CLIP", "FSC", "9.50", "vl_compo's Winoground number; COCO checkpoint")
    + _rows("winoground", ("group",), "FSC-CLIP", "FSC", "6.75",
            "vl_compo's Winoground number; LAION-COCO checkpoint")
    # Retrieval, R@1: COCO 5k and Flickr30k 1k (Karpathy test splits)
    + _retrieval("CLIP", "OC", "50.12 30.44 78.90 58.78")
    + _retrieval("CLIP", "VC", "50.12 30.45 78.8 58.76")
    + _retrieval("NegCLIP", "VC", "59.34 45.15 85.7 71.58")
    + _retrieval("CE-CLIP", "VC", "56.04 47.09 75.3 68.94")
    + _retrieval("DAC-LLM", "VC", "29.92 37.33 53.0 64.6")
    # What'sUp: accuracy per subset and the mean of the six (vl_compo), READ-CLIP's mean of the three sources
    + _rows("whatsup", _WHATSUP + ("macro",), "CLIP", "VC", "30.58 30.88 43.26 50.68 46.29 47.08 41.46", _VC_TIES)
    + _rows("whatsup", _WHATSUP + ("macro",), "NegCLIP", "VC", "33.25 37.75 45.97 46.14 46.12 48.11 42.89", _VC_TIES)
    + _rows("whatsup", _WHATSUP + ("macro",), "CE-CLIP", "VC", "31.07 30.39 42.01 51.82 47.07 47.77 41.69", _VC_TIES)
    + _rows("whatsup", _WHATSUP + ("macro",), "DAC-LLM", "VC", "28.40 34.56 42.15 51.14 48.71 50.52 42.58", _VC_TIES)
    + _rows("whatsup", ("macro",), "FSC-CLIP", "FSC", "40.63", "COCO checkpoint")
    + _rows("whatsup", ("macro",), "FSC-CLIP", "FSC", "42.42", "LAION-COCO checkpoint")
    + _rows("whatsup", ("source_mean",), "NegCLIP", "RC", "42.4", "its Hub copy of What'sUp")
    + _rows("whatsup", ("source_mean",), "FSC-CLIP", "RC", "39.8", "its Hub copy of What'sUp")
    + _rows("whatsup", ("source_mean",), "READ-CLIP", "RC", "43.9", "its Hub copy of What'sUp")
    # CREPE: READ-CLIP's number
    + _rows("crepe", ("productivity/recall@1",), "NegCLIP", "RC", "30.5", _RC_CREPE)
    + _rows("crepe", ("productivity/recall@1",), "FSC-CLIP", "RC", "42.5", _RC_CREPE)
    + _rows("crepe", ("productivity/recall@1",), "READ-CLIP", "RC", "41.5", _RC_CREPE)
    # BiVLC: I2T, T2I, group over all instances (the paper's) and per type for CLIP
    + _rows("bivlc", ("i2t/micro", "t2i/micro", "group/micro"), "CLIP", "BV", "75.83 52.40 49.06")
    + _rows("bivlc", ("i2t/micro", "t2i/micro", "group/micro"), "CLIP fine-tuned on COCO", "BV", "82.75 63.89 60.96",
            "BiVLC's CLIP_COCO")
    + _rows("bivlc", ("i2t/micro", "t2i/micro", "group/micro"), "NegCLIP", "BV", "80.74 61.95 58.75")
    + _rows("bivlc", ("i2t/replace", "t2i/replace", "group/replace"), "CLIP", "BV", "82.09 60.36 57.27", _BV_TYPE)
    + _rows("bivlc", ("i2t/swap", "t2i/swap", "group/swap"), "CLIP", "BV", "46.52 16.16 13.65", _BV_TYPE)
    + _rows("bivlc", ("i2t/add", "t2i/add", "group/add"), "CLIP", "BV", "70.32 44.63 39.58", _BV_TYPE)
    # MMVP-VLM: vl_compo's image score per pattern and its mean group score
    + _rows("mmvp_vlm", _MMVP_IMAGE, "CLIP", "VC", "0.00 20.00 13.33 6.67 0.00 26.67 33.33 13.33 26.67", _VC_MMVP)
    + _rows("mmvp_vlm", _MMVP_IMAGE, "NegCLIP", "VC", "20.00 13.33 46.67 13.33 20.00 46.67 20.00 26.67 26.67",
            _VC_MMVP)
    + _rows("mmvp_vlm", _MMVP_IMAGE, "CE-CLIP", "VC", "6.67 20.00 46.67 13.33 20.00 53.33 20.00 20.00 13.33", _VC_MMVP)
    + _rows("mmvp_vlm", _MMVP_IMAGE, "DAC-LLM", "VC", "13.33 20.00 26.67 20.00 6.67 53.33 40.00 26.67 6.67", _VC_MMVP)
    + _rows("mmvp_vlm", ("group/macro",), "CLIP", "VC", "6.67", "vl_compo's MMVP-VLM number")
    + _rows("mmvp_vlm", ("group/macro",), "NegCLIP", "VC", "14.07", "vl_compo's MMVP-VLM number")
    + _rows("mmvp_vlm", ("group/macro",), "CE-CLIP", "VC", "14.81", "vl_compo's MMVP-VLM number")
    + _rows("mmvp_vlm", ("group/macro",), "DAC-LLM", "VC", "12.59", "vl_compo's MMVP-VLM number")
    # EqBen: group score per sub-dataset and the mean over the five sources (vl_compo's number)
    + _rows("eqben", _EQBEN + ("group/macro",), "CLIP", "VC", "3.04 37.34 4.52 1.00 22.20 6.10 77.79 26.49", _VC_EQBEN)
    + _rows("eqben", _EQBEN + ("group/macro",), "NegCLIP", "VC", "4.73 40.15 6.28 0.65 37.45 15.75 82.55 30.33",
            _VC_EQBEN)
    + _rows("eqben", _EQBEN + ("group/macro",), "CE-CLIP", "VC", "5.19 32.17 6.78 0.25 22.50 13.75 76.87 26.64",
            _VC_EQBEN)
    + _rows("eqben", _EQBEN + ("group/macro",), "DAC-LLM", "VC", "2.03 29.85 4.47 0.60 28.80 8.25 79.44 25.67",
            _VC_EQBEN)
    + _rows("eqben", ("group/macro",), "FSC-CLIP", "FSC", "29.81", f"COCO checkpoint; {_VC_EQBEN}")
    + _rows("eqben", ("group/macro",), "FSC-CLIP", "FSC", "29.14", f"LAION-COCO checkpoint; {_VC_EQBEN}")
    # SPEC: image-to-text / text-to-image accuracy per subset and their means over the six subsets
    + _rows("spec", _SPEC + ("i2t/macro", "t2i/macro"), "CLIP", "SP",
            "44.27 36.27 34.07 32.47 12.64 12.20 27.10 26.75 57.00 52.00 25.27 23.62 33.39 30.55")
    # ColorSwap: text, image, group on the 300 test examples
    + _rows("colorswap", _WINOGROUND, "CLIP", "VC", "35.67 15.00 12.00", _VC_TIES)
    + _rows("colorswap", _WINOGROUND, "NegCLIP", "VC", "38.00 24.00 18.33", _VC_TIES)
    + _rows("colorswap", _WINOGROUND, "CE-CLIP", "VC", "32.67 22.00 13.33", _VC_TIES)
    + _rows("colorswap", _WINOGROUND, "DAC-LLM", "VC", "32.33 18.00 13.67", _VC_TIES)
)


def published_for(benchmark: str, metric: str) -> list[PublishedNumber]:
    """The published numbers for `metric` of `benchmark`, in the order of the doc."""
    return [p for p in PUBLISHED if p.benchmark == benchmark and p.metric == metric]
