"""The whole pipeline on the tiny CLIP: every benchmark with data runs, absent data is skipped with a message,
results.json / results.md are written; the command and the example script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eval_helpers import write_aro_vg, write_karpathy, write_small_text_benchmarks, write_winoground, zeroshot_dataset

from hf_finegrained.evaluation import BENCHMARKS, run_benchmarks
from hf_finegrained.evaluation.cli import main
from hf_finegrained.evaluation.results import without_local_paths

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("benchmarks")
    write_small_text_benchmarks(root)
    write_aro_vg(root)
    write_winoground(root)
    write_karpathy(root)  # COCO retrieval and COCO-Order; nothing for Flickr30k
    zeroshot_dataset().save_to_disk(str(root / "zeroshot"))
    return root


def test_all_benchmarks_on_the_tiny_model(tiny_clip_dir, data_root, tmp_path):
    messages = []
    document = run_benchmarks(
        tiny_clip_dir, data_root=str(data_root), output_dir=str(tmp_path), progress=False, device="cpu",
        paths={"zeroshot": {"dataset": str(data_root / "zeroshot")}}, log=messages.append,
    )
    entries = document["benchmarks"]
    assert list(entries) == list(BENCHMARKS)
    skipped = {name for name, e in entries.items() if e["status"] == "skipped"}
    suite = {"whatsup", "crepe", "bivlc", "mmvp_vlm", "vismin", "eqben", "spec", "colorswap"}  # test_suite_presets.py
    assert skipped == {"aro_flickr_order", "retrieval_flickr"} | suite
    for name in skipped - suite:  # the message names what is missing and where it goes
        assert str(data_root / "flickr30k" / "flickr30k_test.json") in entries[name]["reason"]
        assert "flickr30k-images" in entries[name]["reason"]
    for name, entry in entries.items():
        if entry["status"] != "ok":
            continue
        assert entry["headline"] in entry["metrics"]
        assert all(0.0 <= v <= 1.0 for v in entry["metrics"].values())
        assert entry["counts"]["scored"] > 0
    assert entries["sugarcrepe"]["counts"] == {"items": 14, "scored": 13, "missing_images": 1}
    assert entries["sugarcrepe_pp"]["counts"] == {"items": 10, "scored": 9, "missing_images": 1}
    assert entries["sugarcrepe_pp"]["headline"] == "itt/macro"
    for name in ("sugarcrepe", "valse", "vl_checklist", "aro_vg_relation", "aro_vg_attribution"):
        assert {"micro", "macro", "bow_ceiling/micro", "bow_ceiling/macro"} <= set(entries[name]["metrics"]), name
    assert {"tot/micro", "tot/macro", "bow_ceiling/itt/macro"} <= set(entries["sugarcrepe_pp"]["metrics"])
    assert entries["aro_coco_order"]["details"]["tie_rule"] == "ties count right"
    assert entries["valse"]["counts"]["scored"] == 11
    assert set(entries["vl_checklist"]["metrics"]) >= {"Attribute", "Relation", "macro"}
    stats = document["settings"]["encode_stats"]
    assert stats["image_encodes"] == stats["unique_images"]
    written = json.loads((tmp_path / "results.json").read_text())
    # the written files are published: the same entries, with local paths shown relative to the data root
    assert written["benchmarks"] == without_local_paths(entries, [str(data_root)])
    assert written["format"] == "hf_finegrained.eval/1" and str(data_root) not in json.dumps(written)
    table = (tmp_path / "results.md").read_text()
    assert "| sugarcrepe | **macro** |" in table and "- retrieval_flickr: data absent" in table
    assert "| sugarcrepe_pp | **itt/macro** |" in table and "|  | micro |" in table
    assert "Order-blind ceiling (%)" in table and "bow_ceiling" not in table
    assert any(m.startswith("[retrieval_flickr] skipped") for m in messages)


def test_missing_zeroshot_dataset_is_reported(tiny_clip_dir, tmp_path):
    document = run_benchmarks(tiny_clip_dir, ["zeroshot", "winoground"], data_root=str(tmp_path), progress=False,
                              log=lambda message: None)
    assert "--set zeroshot.dataset=" in document["benchmarks"]["zeroshot"]["reason"]
    assert str(tmp_path / "winoground" / "examples.jsonl") in document["benchmarks"]["winoground"]["reason"]


def test_command_writes_results(tiny_clip_dir, data_root, tmp_path, capsys):
    code = main([tiny_clip_dir, "--benchmarks", "sugarcrepe,winoground", "--benchmark_data_root", str(data_root),
                 "--output-dir", str(tmp_path), "--disable_tqdm", "--device", "cpu",
                 "--set", f"winoground.images={data_root / 'winoground' / 'images'}"])
    assert code == 0
    document = json.loads((tmp_path / "results.json").read_text())
    assert list(document["benchmarks"]) == ["sugarcrepe", "winoground"]
    assert document["model"] == Path(tiny_clip_dir).name  # a local folder is published by its name only
    assert "[winoground] group = " in capsys.readouterr().out


def test_example_script_runs_and_imports_the_evaluate_library(tiny_clip_dir, data_root, tmp_path):
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "run_benchmarks.py"), tiny_clip_dir, "--benchmarks", "valse",
         "--benchmark_data_root", str(data_root), "--output-dir", str(tmp_path), "--disable_tqdm", "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads((tmp_path / "results.json").read_text())["benchmarks"]["valse"]["status"] == "ok"
