"""The README's commands stay in step with CI, and the example script runs as a user runs it."""

from __future__ import annotations

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
    assert any("examples/train.py" in b and "torch==2.13.0" in b for b in blocks), "main command missing"


@pytest.mark.slow
def test_example_trains_and_saves_a_plain_clip_folder(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, str(ROOT / "examples" / "train.py"), "--output_dir", str(out),
               "--train_rows", "64", "--eval_rows", "32", "--max_steps", "4", "--logging_steps", "2"]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| swap_object |" in result.stdout and "eval loss after training" in result.stdout
    check = (
        "from transformers import CLIPModel, CLIPProcessor\n"
        f"CLIPModel.from_pretrained({str(out)!r}); CLIPProcessor.from_pretrained({str(out)!r})\n"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert (out / "model.safetensors").is_file() and (out / "finegrained_state.json").is_file()
