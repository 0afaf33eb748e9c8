"""The README's commands stay in step with CI, and the example script runs as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    test_commands = [b for b in blocks if "pytest" in b]
    assert len(test_commands) == 1, "the README must show exactly one test command"
    assert test_commands[0] in (ROOT / ".ci" / "run").read_text()
    assert any("hf-finegrained-train" in b and "torch==2.13.0" in b for b in blocks), "main command missing"


@pytest.mark.slow
def test_example_runs_under_accelerate_and_publishes_a_plain_clip_folder(tmp_path):
    out = tmp_path / "run"

    def command(output_dir):
        return [
            sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "1", "--cpu",
            str(ROOT / "examples" / "train.py"), "--output_dir", str(output_dir), "--synthetic_test", "48",
            "--synthetic_probe_rows", "160", "--base_max_steps", "10", "--max_steps", "6", "--logging_steps", "2",
            "--per_device_train_batch_size", "16", "--base_cache_dir", str(tmp_path / "cache"),
        ]

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command(out), capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "| synthetic world, % | base | plain fine-tune | CE-CLIP |" in result.stdout
    for row in ("test_seen swap_obj", "test_seen replace_rel", "held-out test average", "zero-shot top-1",
                "retrieval text->image R@1"):
        assert f"| {row}" in result.stdout, row
    assert "Base relation probe" in result.stdout
    for kind in ("base", "plain"):
        assert list((tmp_path / "cache").glob(f"synthetic-{kind}-*/model.safetensors")), f"{kind} not cached"
    results = json.loads((out / "results.json").read_text())
    for model in ("base", "plain_finetune", "ce_clip"):
        assert set(results[model]) == {"seen", "held_out", "general"}
        assert 0 <= results[model]["seen"]["average"] <= 1
    assert results["base"] != results["ce_clip"] != results["plain_finetune"]
    assert results["finetune"]["rows"] == 6 * 16 and 0 <= results["base_relation_probe"]["accuracy"] <= 1

    check = (
        "import sys\n"
        "from transformers import CLIPModel, CLIPProcessor\n"
        "from huggingface_hub import ModelCard\n"
        f"CLIPModel.from_pretrained({str(out)!r}); CLIPProcessor.from_pretrained({str(out)!r})\n"
        f"card = ModelCard.load({str(out / 'README.md')!r})\n"
        "assert 'hf_finegrained' not in sys.modules\n"
        "print(sorted(r.metric_name for r in card.data.eval_results))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "swap_obj" in loaded.stdout and "replace_rel" in loaded.stdout
    for name in ("model.safetensors", "loss_curves.png", "threshold_curves.png", "finegrained_state.json",
                 "tradeoff.png"):
        assert (out / name).is_file(), name
    card = (out / "README.md").read_text()
    assert str(tmp_path) not in card and "![Per-type thresholds over steps](threshold_curves.png)" in card
    # the trade-off: both fine-tunes interpolated with the base at the default alphas, in results and card
    assert sorted(results["tradeoff"]) == ["ce_clip", "plain_finetune"]
    assert sorted(results["tradeoff"]["ce_clip"]) == sorted(results["tradeoff"]["plain_finetune"]) == ["0.5"]
    assert "## Composition vs general ability" in card and "| CE-CLIP alpha 0.5 | 1 |" in card
    assert "![Composition vs general ability](tradeoff.png)" in card
    assert "| benchmark | metric | base | plain fine-tune | this model |" in card
    seen_average = f"| synthetic_seen | average | {100 * results['base']['seen']['average']:.1f} | "
    assert seen_average in card
    # (a second run reusing the cached base and plain fine-tune: tests/test_sharded.py's README launch)


@pytest.mark.slow
def test_real_path_with_a_local_pretrained_folder_lora_and_benchmarks(tiny_clip_dir, tmp_path):
    """The --model_name_or_path path (same from_pretrained code as a Hub id) on an exported dataset folder."""
    from hf_finegrained.builders import export_parquet
    from hf_finegrained.synthetic import SyntheticWorld

    world = SyntheticWorld(num_train=32, num_test=8, image_size=32)  # the tiny model's image size
    data = world.build()
    export_parquet(data["train"].select_columns(["image", "caption", "hard_negatives"]), tmp_path / "data")
    out = tmp_path / "run"
    command = [
        sys.executable, str(ROOT / "examples" / "train.py"), "--model_name_or_path", tiny_clip_dir,
        "--dataset_path", str(tmp_path / "data"), "--output_dir", str(out), "--max_steps", "2",
        "--per_device_train_batch_size", "8", "--use_lora", "--lora_r", "4", "--merge_lora",
        "--benchmarks", "valse", "--benchmark_data_root", str(tmp_path / "no-benchmarks"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_DATASETS_CACHE": str(tmp_path / "ds-cache")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "[valse] skipped" in result.stdout + result.stderr  # absent data: skipped with a message
    assert (out / "adapter_model.safetensors").is_file() and not (out / "model.safetensors").exists()
    check = (
        "from transformers import CLIPModel, CLIPProcessor\n"
        f"m = CLIPModel.from_pretrained({str(out / 'merged')!r}); CLIPProcessor.from_pretrained({str(out / 'merged')!r})\n"
        "assert not any('lora' in n for n, _ in m.named_parameters())\n"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert json.loads((out / "results.json").read_text())["benchmarks"]["valse"]["status"] == "skipped"
