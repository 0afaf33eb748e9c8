"""Published ViT-B/32 numbers (`evaluation/published.py`): the data agrees with the tables of docs/BENCHMARKS.md
both ways, names only benchmarks and metrics the runner produces, and results.md prints them beside a run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eval_helpers import (
    StandInScorer, write_aro_vg, write_karpathy, write_order, write_small_text_benchmarks, write_winoground,
)

from hf_finegrained.evaluation import BENCHMARKS, BenchmarkResult, ScoringEngine, markdown_table, run_benchmarks
from hf_finegrained.evaluation.published import PUBLISHED, SOURCES, published_for
from hf_finegrained.evaluation.results import results_document
from hf_finegrained.evaluation.sugarcrepe import CATEGORIES

DOC = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
SECTION = "## Published ViT-B/32 numbers for comparison"

# The doc's column headers -> (benchmark, metric) per " / "-separated part of the header. A cell is read only
# when it has as many parts as its header (VALSE's one counting value under three instruments is not read).
COLUMNS = {
    **{split: [("sugarcrepe", split)] for split in CATEGORIES},
    "ITT": [("sugarcrepe_pp", "itt/macro")],
    "TOT": [("sugarcrepe_pp", "tot/macro")],
    "VG-Relation": [("aro_vg_relation", "macro")],
    "VG-Attribution": [("aro_vg_attribution", "macro")],
    "COCO-Order": [("aro_coco_order", "micro")],
    "Flickr-Order": [("aro_flickr_order", "micro")],
    "existence": [("valse", "existence/existence")],
    "plurals": [("valse", "plurality/plurals")],
    "counting hard / small-quant / adversarial": [("valse", "counting/counting-hard"),
                                                  ("valse", "counting/counting-small-quant"),
                                                  ("valse", "counting/counting-adversarial")],
    "relations": [("valse", "spatial_relations/relations")],
    "action-replacement": [("valse", "actions/action-replacement")],
    "actant-swap": [("valse", "actions/actant-swap")],
    "coreference standard / hard": [("valse", "coreference/coreference-standard"),
                                    ("valse", "coreference/coreference-hard")],
    "foil-it": [("valse", "foil_it/foil-it")],
    "text": [("winoground", "text")],
    "image": [("winoground", "image")],
    "group": [("winoground", "group")],
    "COCO 5k I->T R@1": [("retrieval_coco", "i2t_recall@1")],
    "COCO 5k T->I R@1": [("retrieval_coco", "t2i_recall@1")],
    "Flickr30k 1k I->T R@1": [("retrieval_flickr", "i2t_recall@1")],
    "Flickr30k 1k T->I R@1": [("retrieval_flickr", "t2i_recall@1")],
    # the papers' suite (tests/test_suite_presets.py writes their fixtures)
    "Controlled-A / Controlled-B": [("whatsup", "controlled_a"), ("whatsup", "controlled_b")],
    "COCO-spatial one / two": [("whatsup", "coco_one"), ("whatsup", "coco_two")],
    "GQA-spatial one / two": [("whatsup", "gqa_one"), ("whatsup", "gqa_two")],
    "mean of the 6 subsets": [("whatsup", "macro")],
    "mean of the 3 sources": [("whatsup", "source_mean")],
    "READ-CLIP's CREPE number": [("crepe", "productivity/recall@1")],
    **{header: [("bivlc", f"{score}/{part}") for score in ("i2t", "t2i", "group")] for header, part in (
        ("I2T / T2I / group, all instances", "micro"), ("replace I2T / T2I / group", "replace"),
        ("swap I2T / T2I / group", "swap"), ("add I2T / T2I / group", "add"))},
    "image score: orientation / presence / state / quantity / position / colour / structure / texts / viewpoint": [
        ("mmvp_vlm", f"image/{p}") for p in (
            "orientation_and_direction", "presence_of_specific_features", "state_and_condition", "quantity_and_count",
            "positional_and_relational_context", "color_and_appearance", "structural_characteristics", "texts",
            "viewpoint_and_perspective")],
    "group, mean of the 9 patterns": [("mmvp_vlm", "group/macro")],
    "group: AG / YouCook2 / GEBC": [("eqben", "group/ag"), ("eqben", "group/youcook2"), ("eqben", "group/gebc")],
    "group: Kubric loc / attr / cnt": [("eqben", f"group/kubric/{k}") for k in ("loc", "attr", "cnt")],
    "group: SD": [("eqben", "group/sd")],
    "group, mean of the 5 sources": [("eqben", "group/macro")],
    **{f"{subset.replace('_', ' ')} I2T / T2I": [("spec", f"i2t/{subset}"), ("spec", f"t2i/{subset}")]
       for subset in ("absolute_size", "relative_size", "absolute_spatial", "relative_spatial", "existence", "count")},
    "mean of the 6 subsets I2T / T2I": [("spec", "i2t/macro"), ("spec", "t2i/macro")],
    "ColorSwap text / image / group": [("colorswap", "text"), ("colorswap", "image"), ("colorswap", "group")],
}
# Average columns whose metric depends on the kind the cell names; a cell naming none of them is not ours
# (vl_compo's mean of the group accuracies, for one).
KIND_COLUMNS = {
    "published overall": ("sugarcrepe", {"macro": "macro"}),
    "average (kind)": ("valse", {"11 instruments": "instrument_mean", "7 pieces": "macro",
                                 "over samples": "micro"}),
}
# A number in a cell, not the count of a kind ("7 pieces", "11 instruments").
NUMBER = re.compile(r"\d+(?:\.\d+)?(?![\d.]| pieces| instruments)")


def _tables() -> list[tuple[list[str], list[list[str]]]]:
    """(header, rows) of every table of the doc's section of published numbers."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    tables, block = [], []
    for line in text[start:end if end >= 0 else None].splitlines() + [""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif block:
            tables.append((block[0], block[2:]))
            block = []
    return tables


def _doc_cells() -> list[dict]:
    """Every cell of the doc that is one of our metrics: benchmark, metric, model, source keys, the numbers."""
    cells = []
    for header, rows in _tables():
        source_column = next((i for i, h in enumerate(header) if h.startswith("source")), None)
        if source_column is None or not header[0].startswith("model"):
            continue  # the legend of the source keys
        for row in rows:
            model = re.split(r",| \(", row[0])[0].strip()
            keys = set(re.findall(r"\[([A-Z-]+)\]", row[source_column]))
            for column, cell in zip(header, row):
                if column in COLUMNS:
                    parts = cell.split(" / ")
                    if len(parts) != len(COLUMNS[column]):
                        continue
                    pairs = zip(COLUMNS[column], parts)
                elif column in KIND_COLUMNS:
                    benchmark, kinds = KIND_COLUMNS[column]
                    pairs = [((benchmark, metric), cell) for kind, metric in kinds.items() if kind in cell]
                else:
                    continue
                for (benchmark, metric), part in pairs:
                    numbers = NUMBER.findall(part)
                    if numbers:
                        cells.append({"benchmark": benchmark, "metric": metric, "model": model, "keys": keys,
                                      "source_cell": row[source_column], "column": column, "numbers": numbers})
    return cells


def _left_out(cell: dict) -> bool:
    """Cells of the doc left out of published.py on purpose (its docstring says why)."""
    copied = "†" in cell["source_cell"]  # copied from another paper, average not stated
    vc_vg = cell["column"] in ("VG-Relation", "VG-Attribution") and "VC" in cell["keys"]  # average not published
    return copied or vc_vg


def test_the_doc_tables_are_read():
    cells = _doc_cells()
    assert {c["benchmark"] for c in cells} == {
        "sugarcrepe", "sugarcrepe_pp", "aro_vg_relation", "aro_vg_attribution", "aro_coco_order", "aro_flickr_order",
        "valse", "winoground", "retrieval_coco", "retrieval_flickr",
        "whatsup", "crepe", "bivlc", "mmvp_vlm", "eqben", "spec", "colorswap"}
    assert any(c["metric"] == "swap_obj" and c["keys"] == {"SC"} and c["numbers"] == ["61.38"] for c in cells)


@pytest.mark.parametrize("number", PUBLISHED, ids=lambda p: f"{p.benchmark}:{p.metric}:{p.model}:{p.source}")
def test_every_number_is_in_the_doc_table_of_its_benchmark_as_printed(number):
    assert 0.0 <= number.value <= 1.0 and number.source in SOURCES
    rows = [c for c in _doc_cells() if (c["benchmark"], c["metric"], c["model"]) ==
            (number.benchmark, number.metric, number.model) and number.source in c["keys"]]
    assert rows, f"no row of {number.model} from [{number.source}] under {number.benchmark} {number.metric}"
    assert any(number.percent in c["numbers"] for c in rows), (number.percent, [c["numbers"] for c in rows])


def test_every_number_of_the_doc_that_maps_onto_our_metrics_is_in_the_data():
    missing = []
    for cell in _doc_cells():
        if _left_out(cell):
            continue
        for value in cell["numbers"]:
            if not any(p.percent == value and p.source in cell["keys"] and p.model == cell["model"]
                       for p in published_for(cell["benchmark"], cell["metric"])):
                missing.append((cell["benchmark"], cell["metric"], cell["model"], value, cell["source_cell"]))
    assert not missing


def test_no_number_is_recorded_twice():
    keys = [(p.benchmark, p.metric, p.model, p.source, p.note) for p in PUBLISHED]
    assert len(keys) == len(set(keys))


@pytest.fixture(scope="module")
def produced(tmp_path_factory) -> tuple[dict[str, set[str]], set[str]]:
    """Metric names each benchmark writes (all but zeroshot, on the tiny fixtures), and the benchmarks skipped."""
    root = tmp_path_factory.mktemp("published")
    write_small_text_benchmarks(root)
    write_aro_vg(root)
    write_winoground(root)
    write_karpathy(root)
    write_order(root)  # Flickr30k: retrieval and Order
    from test_suite_presets import write_suite

    write_suite(root, complete=True)  # the papers' suite: What'sUp, CREPE, BiVLC, MMVP-VLM, VisMin, EqBen, SPEC, ColorSwap
    engine = ScoringEngine(StandInScorer(), batch_size=8, progress=False)
    document = run_benchmarks(engine, [name for name in BENCHMARKS if name != "zeroshot"], data_root=str(root),
                              log=lambda message: None)
    entries = document["benchmarks"]
    skipped = {name for name, e in entries.items() if e["status"] == "skipped" and "spacy" in e["reason"].lower()}
    assert all(e["status"] == "ok" for name, e in entries.items() if name not in skipped), entries
    return {name: set(e["metrics"]) for name, e in entries.items() if e["status"] == "ok"}, skipped


def test_benchmark_and_metric_names_are_ones_the_runner_writes(produced):
    metrics, skipped = produced
    for number in PUBLISHED:
        assert number.benchmark in BENCHMARKS, number
        if number.benchmark in skipped:  # an Order task without spaCy
            continue
        assert number.metric in metrics[number.benchmark], number


def _document(*results: BenchmarkResult) -> dict:
    return results_document("m", list(results), {})


def test_results_md_puts_a_sugarcrepe_score_beside_the_published_ones():
    result = BenchmarkResult("sugarcrepe", headline="micro", metrics={"micro": 0.6, "swap_obj": 0.7},
                             counts={"scored": 10, "missing_images": 0})
    table = markdown_table(_document(result))
    assert "| sugarcrepe | **micro** | 60.00 | 10 | 0 |" in table  # the table of the run is kept
    section = table[table.index("## Beside published ViT-B/32 numbers"):]
    lines = section.splitlines()
    assert "| sugarcrepe | swap_obj | 70.00 | CLIP | 61.38 | [SC] | 246 items (245 in today's file) |" in lines
    swap_obj = published_for("sugarcrepe", "swap_obj")
    assert {p.source for p in swap_obj} == {"SC", "VC", "CE", "DG"}
    for number in swap_obj[1:]:
        assert f"|  |  |  | {number.model} | {number.percent} | [{number.source}] | {number.note} |" in lines
    assert "| micro |" not in section  # no published micro for SugarCrepe
    for key in ("SC", "VC", "CE", "DG"):  # the legend of the keys used, and only those
        assert any(line.startswith(f"- [{key}] {SOURCES[key].reference}") for line in lines), key
    assert not any(line.startswith(("- [RC]", "- [WG]", "- [OC]")) for line in lines)
    assert "about a point" in section and "same kind" in section and "docs/BENCHMARKS.md" in section


def test_results_md_prints_nothing_of_it_without_a_published_metric():
    tiny = BenchmarkResult("tiny", headline="macro", metrics={"macro": 0.5, "micro": 0.4},
                           counts={"scored": 4, "missing_images": 0})
    micro_only = BenchmarkResult("sugarcrepe", headline="micro", metrics={"micro": 0.6, "bow_ceiling/micro": 0.9},
                                 counts={"scored": 4, "missing_images": 0})
    table = markdown_table(_document(tiny, micro_only, BenchmarkResult.failed("valse", "broken file"),
                                     BenchmarkResult.skipped("winoground", "data absent")))
    assert "Beside published" not in table and "Sources:" not in table and "[SC]" not in table
    assert table.endswith("- winoground: data absent\n")


def test_the_doc_says_results_md_prints_the_comparison():
    text = DOC.read_text(encoding="utf-8")
    paragraph = text[text.index("### Putting your own run beside these rows"):text.index("## Results files")]
    assert "results.md" in paragraph and "hf_finegrained/data/published_results.csv" in paragraph


def test_the_numbers_are_a_package_data_file_with_a_source_on_every_row(tmp_path):
    """`PUBLISHED` is read from data/published_results.csv (shipped as package data): one row per (model,
    benchmark, metric, value, source), every row citing a known source; a broken row is named with its line."""
    import csv

    from hf_finegrained.evaluation.published import COLUMNS, DATA_FILE, read_published

    with open(DATA_FILE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(PUBLISHED) and all(row["source"] in SOURCES for row in rows)
    assert [(r["model"], r["benchmark"], r["metric"], r["value_percent"], r["source"]) for r in rows] == [
        (p.model, p.benchmark, p.metric, p.percent, p.source) for p in PUBLISHED]
    broken = tmp_path / "published.csv"
    header = ",".join(COLUMNS)
    for body, message in (("CLIP,sugarcrepe,add_att,68.79,XX,\n", "line 2: unknown source 'XX'"),
                          ("CLIP,sugarcrepe,add_att,68,79,SC,\n", "line 2: 6 cells expected"),
                          ("CLIP,sugarcrepe,add_att,n/a,SC,\n", "line 2: value_percent 'n/a' is not a number"),
                          ("CLIP,sugarcrepe,add_att,,SC,\n", "line 2: model, benchmark, metric")):
        broken.write_text(f"{header}\n{body}")
        with pytest.raises(ValueError, match=re.escape(message)):
            read_published(broken)
