"""The synthetic default's cache: where it lives (HF_FINEGRAINED_CACHE, HF_HOME, XDG_CACHE_HOME) and two processes
building the same base at once (one builds, the other waits and reuses it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hf_finegrained.synthetic.recipe import default_cache_dir

TESTS = Path(__file__).resolve().parent


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    for name in ("HF_FINEGRAINED_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == str(tmp_path / "home" / ".cache" / "hf_finegrained")  # unchanged default
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == str(tmp_path / "xdg" / "hf_finegrained")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert default_cache_dir() == str(tmp_path / "hf" / "hf_finegrained")
    monkeypatch.setenv("HF_FINEGRAINED_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == str(tmp_path / "mine")


# Each process builds the same tiny base. Building starts (tokenizer training) only once the other process has
# started too, and lingers a second, so without the lock both would build.
_BUILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {tests!r})
    from helpers import all_captions
    from hf_finegrained.synthetic import recipe

    cache, signals, me, other = sys.argv[1:5]
    recipe.tokenizer_texts = lambda world, settings: all_captions() * 4
    train_tokenizer = recipe.train_tokenizer

    def building_together(world, settings, texts=None):
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(signals, other)) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        return train_tokenizer(world, settings, texts)

    recipe.train_tokenizer = building_together
    world = recipe.default_world(num_seen=8, num_validation=8, num_test=8, num_zeroshot=48, num_retrieval=8)
    settings = recipe.BaseModelSettings(hidden_size=16, num_layers=1, num_heads=2, projection_dim=8, vocab_size=300,
                                        max_steps=2, batch_size=4, warmup_steps=0)
    open(os.path.join(signals, me), "w").close()
    folder = recipe.prepare_base_model(world, settings, cache_dir=cache, log=lambda line: print("LOG", line))
    print("FOLDER", folder)
""")


def test_two_processes_building_the_same_base_build_it_once(tmp_path):
    cache, signals = tmp_path / "cache", tmp_path / "signals"
    signals.mkdir()
    script = tmp_path / "build.py"
    script.write_text(_BUILD.format(tests=str(TESTS)))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    runs = [subprocess.Popen([sys.executable, str(script), str(cache), str(signals), me, other], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for me, other in (("a", "b"), ("b", "a"))]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-3000:]
    logs = [out for out, _ in outputs]
    built = [log for log in logs if "Pre-training" in log]
    assert len(built) == 1, logs
    waited = next(log for log in logs if log is not built[0])
    assert "waiting for it to finish" in waited and "Reusing the cached pre-trained base model" in waited, waited
    folders = {line.split(" ", 1)[1] for log in logs for line in log.splitlines() if line.startswith("FOLDER")}
    assert len(folders) == 1
    folder = Path(folders.pop())
    assert (folder / "model.safetensors").is_file()
    assert sorted(path.name for path in cache.iterdir()) == [folder.name, folder.name + ".lock"]  # no scratch left
