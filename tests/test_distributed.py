"""Two CPU processes (gloo), started with torchrun as a user would, against one process on the whole batch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "ddp_loss_check.py")


def _launch(model_dir: str, out: str, processes: int) -> dict:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
        "--master_port", str(29500 + processes + os.getpid() % 1000), SCRIPT, "--model", model_dir, "--out", out,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return torch.load(out, weights_only=False)


@pytest.mark.slow
def test_two_processes_match_one_on_the_whole_batch(tiny_clip_dir, tmp_path):
    single = _launch(tiny_clip_dir, str(tmp_path / "one.pt"), 1)
    double = _launch(tiny_clip_dir, str(tmp_path / "two.pt"), 2)
    assert single["world"] == 1 and double["world"] == 2
    assert abs(single["loss"].item() - double["loss"].item()) <= 1e-5
    for key, value in single["components"].items():
        assert abs(value.item() - double["components"][key].item()) <= 1e-5, key
    # Both ranks end with the thresholds of the global batch.
    assert torch.allclose(double["thresholds"][0], double["thresholds"][1], atol=0, rtol=0)
    assert (double["thresholds"][0] - single["thresholds"][0]).abs().max() <= 1e-5
    worst = max((single["grads"][n] - double["grads"][n]).abs().max().item() for n in single["grads"])
    assert worst <= 1e-5, f"largest gradient difference {worst}"
    assert any(g.abs().sum() > 0 for g in single["grads"].values())
