"""The suite of papers' benchmarks together: the `compositional` and `readclip` presets, every new benchmark scored
by the tiny CLIPModel through the command (those without files skipped, each saying what to download), the
encode-once guarantee over all of them, results.md with the published numbers beside the run."""

import json

import pytest
from eval_helpers import StandInScorer, write_small_text_benchmarks
from test_bivlc import write_bivlc
from test_colorswap import write_colorswap
from test_crepe import write_crepe
from test_eqben import write_eqben
from test_mmvp import write_mmvp
from test_spec import write_spec
from test_vismin import write_vismin
from test_whatsup import write_whatsup

from hf_finegrained.evaluation import BENCHMARKS, UnknownBenchmarkError, benchmark_names, run_benchmarks
from hf_finegrained.evaluation.cli import main
from hf_finegrained.evaluation.runner import PRESETS

NEW = ["whatsup", "crepe", "bivlc", "mmvp_vlm", "vismin", "eqben", "spec", "colorswap"]


def write_suite(root, complete: bool = False) -> None:
    """The fixtures of the eight benchmarks of the papers' suite under `root` (each test file's own); `complete`
    adds the subsets some leave out (every metric a published number names is then written)."""
    for write in (write_crepe, write_bivlc, write_vismin, write_colorswap):
        write(root)
    write_whatsup(root, complete=complete)
    write_eqben(root, complete=complete)
    write_spec(root, complete=complete)
    write_mmvp(root, pairs=135 if complete else 16)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("suite")
    write_suite(root)
    write_small_text_benchmarks(root)
    return root


def test_presets_expand_in_order_without_repeats():
    compositional = benchmark_names("compositional")
    assert compositional == [n for n in BENCHMARKS if n not in ("retrieval_coco", "retrieval_flickr", "zeroshot")]
    assert set(NEW) <= set(compositional)
    assert benchmark_names("readclip") == ["whatsup", "valse", "crepe", "sugarcrepe", "sugarcrepe_pp"]
    assert benchmark_names("winoground,readclip,valse") == ["winoground", "whatsup", "valse", "crepe", "sugarcrepe",
                                                            "sugarcrepe_pp"]
    assert not set(PRESETS) & set(BENCHMARKS)
    with pytest.raises(UnknownBenchmarkError, match="presets: compositional, readclip"):
        run_benchmarks(StandInScorer(), ["readclp"], progress=False, log=lambda _: None)


def test_command_scores_every_benchmark_found(tiny_clip_dir, data_root, tmp_path, capsys):
    code = main([tiny_clip_dir, "--benchmarks", "compositional", "--benchmark_data_root", str(data_root), "--output-dir",
                 str(tmp_path), "--disable_tqdm", "--device", "cpu"])
    assert code == 0
    document = json.loads((tmp_path / "results.json").read_text())
    entries = document["benchmarks"]
    assert list(entries) == benchmark_names("compositional")
    for name in NEW + ["sugarcrepe", "sugarcrepe_pp", "valse", "vl_checklist"]:
        entry = entries[name]
        assert entry["status"] == "ok", (name, entry.get("reason"))
        assert entry["headline"] in entry["metrics"]
        assert all(0.0 <= v <= 1.0 for v in entry["metrics"].values()), name
    skipped = {n for n, e in entries.items() if e["status"] == "skipped"}
    assert skipped == {"aro_vg_relation", "aro_vg_attribution", "aro_coco_order", "aro_flickr_order", "winoground"}
    out = capsys.readouterr().out
    assert "[winoground] skipped: data absent" in out and "[eqben] group/macro = " in out
    stats = document["settings"]["encode_stats"]
    assert stats["image_encodes"] == stats["unique_images"] and stats["text_encodes"] == stats["unique_texts"]
    table = (tmp_path / "results.md").read_text()
    assert "| whatsup | **macro** |" in table and "| bivlc | **group/micro** |" in table
    section = table[table.index("## Beside published ViT-B/32 numbers"):]
    assert "| whatsup | macro |" in section and "[VC]" in section and "[BV]" in section and "[SP]" in section


def test_readclip_preset_puts_its_numbers_beside_the_run(data_root, tmp_path):
    document = run_benchmarks(StandInScorer(), ["readclip"], data_root=str(data_root), output_dir=str(tmp_path),
                              progress=False, log=lambda _: None)
    assert [n for n, e in document["benchmarks"].items() if e["status"] == "ok"] == list(PRESETS["readclip"])
    section = (tmp_path / "results.md").read_text().split("## Beside published ViT-B/32 numbers")[1]
    for line in ("| READ-CLIP | 43.9 | [RC]", "| READ-CLIP | 41.5 | [RC]", "| READ-CLIP | 76.2 | [RC]",
                 "| READ-CLIP | 87.0 | [RC]", "| READ-CLIP | 69.8 | [RC]", "| READ-CLIP | 66.2 | [RC]"):
        assert line in section, line
