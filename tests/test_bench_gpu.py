"""benchmarks/bench_gpu.py runs end to end on CPU with tiny models, and its report holds every field, sane."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B, K = 4, 5


@pytest.mark.slow
def test_bench_gpu_reports_every_field_for_both_families(tmp_path):
    out = tmp_path / "report.json"
    command = [sys.executable, os.path.join(ROOT, "benchmarks", "bench_gpu.py"), "--shape", "tiny", "--device", "cpu",
               "--batch-size", str(B), "--negatives", str(K), "--steps", "2", "--warmup", "1", "--max-batch", "16",
               "--json", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    document = json.loads(out.read_text())
    assert document["dtype"] == "bf16" and document["shape"] == "tiny" and document["device"].startswith("CPU")
    assert [model["family"] for model in document["models"]] == ["clip", "siglip"]
    assert [model["contrastive"] for model in document["models"]] == ["softmax", "sigmoid"]
    for model in document["models"]:
        assert model["batch"] == B and model["negatives"] == K and model["parameters_m"] > 0
        assert model["text_length"] == 64 if model["family"] == "siglip" else 5 <= model["text_length"] <= 20
        steps = model["steps"]
        assert set(steps) == {"ce_clip", "plain_same_texts", "plain_pairs"}
        assert steps["ce_clip"]["texts"] == steps["plain_same_texts"]["texts"] == B * (1 + K)
        assert steps["plain_pairs"]["texts"] == B
        for row in steps.values():
            assert 0 < row["step_s"] < 60
            assert row["steps_per_s"] == pytest.approx(1 / row["step_s"])
            assert row["images_per_s"] == pytest.approx(B / row["step_s"])
            assert 0 < row["peak_memory_gb"] < 100
        for name, ratio in model["ratios"].items():
            assert math.isfinite(ratio) and 0.05 < ratio < 20, name
        ce_clip = steps["ce_clip"]["step_s"]
        assert model["ratios"]["ce_clip_over_plain_pairs"] == pytest.approx(ce_clip / steps["plain_pairs"]["step_s"])
        # No out-of-memory on CPU at these sizes: the doubling search (4, 8, 16) stops at the limit.
        assert model["largest_batch"] == {"fits": 16, "out_of_memory_at": None, "limit": 16}
    assert result.stdout.count("largest CE-CLIP batch that fits: 16 (limit 16 reached)") == 2
