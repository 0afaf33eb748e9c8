"""Sharded training (FSDP full shard, DeepSpeed ZeRO-2) and a two-"node" launch, on CPU processes over gloo.

Each sharded run is one `FineGrainedTrainer` SGD step on 8 rows split over two ranks (tests/scripts/
sharded_trainer_check.py), compared with one process on the joined batch: the logged loss components, the
thresholds of both ranks and the full state dict after the step (gathered from the shards on rank 0), which with
SGD at learning rate 1 is the initial weights minus the gradient.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import CLIPModel

from hf_finegrained.distributed import make_shardable
from scripts.exit_check import gloo_threads_left

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT_PATH = Path(ROOT)
WORKER = os.path.join(ROOT, "tests", "scripts", "sharded_trainer_check.py")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]), **extra}


def _run_worker(model_dir: str, out: str, processes: int, sharding: str = "none", **env: str) -> dict:
    launcher = [] if processes == 1 else ["-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                                          "--master_port", str(_free_port())]
    command = [sys.executable, *launcher, WORKER, "--model", model_dir, "--out", out, "--sharding", sharding]
    result = subprocess.run(command, capture_output=True, text=True, env=_env(**env), timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-6000:]
    assert not gloo_threads_left(out, processes), "a rank left gloo threads running for the interpreter's exit"
    return torch.load(out, weights_only=False)


@pytest.fixture(scope="module")
def one_process(tiny_clip_dir, tmp_path_factory) -> dict:
    return _run_worker(tiny_clip_dir, str(tmp_path_factory.mktemp("one") / "one.pt"), 1)


def _assert_same_step(single: dict, sharded: dict) -> None:
    """Loss components, thresholds (equal on both ranks) and every weight after the step within 1e-5."""
    assert single["world"] == 1 and sharded["world"] == 2
    (one,), (two,) = single["log"], sharded["log"]
    for key in ("loss", "itc_loss", "imc_loss", "cmr_loss"):
        assert two[key] == pytest.approx(one[key], abs=1e-5), key
    assert torch.equal(sharded["thresholds"][0], sharded["thresholds"][1])
    assert (sharded["thresholds"][0] - single["thresholds"][0]).abs().max() <= 1e-5
    assert single["thresholds"][0].abs().sum() > 0
    assert sharded["state"].keys() == single["state"].keys()
    for name, value in single["state"].items():
        assert sharded["state"][name].shape == value.shape, name
        difference = (sharded["state"][name] - value).abs().max().item()
        assert difference <= 1e-5, f"{name}: {difference}"
        # The step moved every tensor (so equal weights mean equal gradients, not two idle runs).
        assert (value - single["initial"][name]).abs().max() > 0, name
    assert single["state"]["logit_scale"].shape == torch.Size([])  # CLIP's 0-d scale, as saved


@pytest.mark.slow
def test_fsdp_full_shard_step_equals_one_process_on_the_joined_batch(tiny_clip_dir, one_process, tmp_path):
    sharded = _run_worker(tiny_clip_dir, str(tmp_path / "fsdp.pt"), 2, "fsdp")
    assert sharded["accelerate_type"] == "DistributedType.FSDP" and sharded["model_class"].startswith("FSDP")
    total = sum(value.numel() for value in one_process["initial"].values())
    assert sum(sharded["held"]) == total and max(sharded["held"]) < 0.6 * total  # each rank holds about half
    _assert_same_step(one_process, sharded)
    # The checkpoint the trainer wrote from the shards is a plain CLIPModel with the same weights.
    saved = CLIPModel.from_pretrained(sharded["saved"]).state_dict()
    for name, value in sharded["state"].items():
        assert torch.equal(saved[name].float(), value), name
    assert os.path.isfile(os.path.join(sharded["saved"], "finegrained_state.json"))


@pytest.mark.slow
def test_the_fsdp_accelerate_config_gives_the_same_step(tiny_clip_dir, one_process, tmp_path):
    """examples/accelerate_configs/fsdp.yaml through `accelerate launch` (2 processes, fp32 here: bf16 would change the
    numbers): the plugin comes from the environment the launcher sets, not from the Trainer's arguments."""
    out = tmp_path / "launch.pt"
    command = [os.path.join(os.path.dirname(sys.executable), "accelerate"), "launch", "--config_file",
               os.path.join(ROOT, "examples", "accelerate_configs", "fsdp.yaml"), "--num_processes", "2",
               "--mixed_precision", "no", "--main_process_port", str(_free_port()), WORKER, "--model", tiny_clip_dir,
               "--out", str(out), "--sharding", "fsdp-launch"]
    result = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-6000:]
    assert not gloo_threads_left(str(out), 2), "a rank left gloo threads running for the interpreter's exit"
    sharded = torch.load(out, weights_only=False)
    assert sharded["accelerate_type"] == "DistributedType.FSDP" and sharded["model_class"].startswith("FSDP")
    _assert_same_step(one_process, sharded)


@pytest.mark.slow
def test_fsdp1_is_refused_naming_fsdp2(tiny_clip_dir, tmp_path):
    """FSDP1 gives the loss an empty shard of the logit scale on rank 1 (it reads it after the forward pass)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(_free_port()), WORKER, "--model", tiny_clip_dir, "--out", str(tmp_path / "x.pt"),
               "--sharding", "fsdp1"]
    result = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode != 0 and "use FSDP2 (the default, fsdp_config version 2)" in result.stderr


@pytest.mark.slow
def test_deepspeed_zero2_step_equals_one_process_on_the_joined_batch(tiny_clip_dir, one_process, tmp_path):
    pytest.importorskip("deepspeed", reason="pip install deepspeed")
    sharded = _run_worker(tiny_clip_dir, str(tmp_path / "zero2.pt"), 2, "zero2", DS_ACCELERATOR="cpu")
    assert sharded["accelerate_type"] == "DistributedType.DEEPSPEED" and sharded["zero_stage"] == 2
    _assert_same_step(one_process, sharded)
    saved = CLIPModel.from_pretrained(sharded["saved"]).state_dict()
    for name, value in sharded["state"].items():
        assert torch.equal(saved[name].float(), value), name


def test_make_shardable_holds_the_scale_as_one_element_and_keeps_checkpoints_plain(tiny_clip_dir, tmp_path):
    """FSDP refuses 0-d parameters: the scale is held as [1] while state dicts and checkpoints keep it 0-d."""
    model = CLIPModel.from_pretrained(tiny_clip_dir)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    inputs = {"input_ids": torch.tensor([[1, 5, 7, 2]]), "pixel_values": torch.randn(2, 3, 32, 32)}
    expected = model(**inputs).logits_per_image
    make_shardable(model)
    assert model.logit_scale.shape == torch.Size([1])
    assert model.get_input_embeddings() is None
    torch.testing.assert_close(model(**inputs).logits_per_image, expected, rtol=0, atol=0)
    state = model.state_dict()
    assert state["logit_scale"].shape == torch.Size([]) and torch.equal(state["logit_scale"], before["logit_scale"])
    model.load_state_dict({**before, "logit_scale": torch.tensor(1.5)})  # a plain (0-d) state dict loads
    assert model.logit_scale.shape == torch.Size([1]) and model.logit_scale.item() == 1.5
    model.save_pretrained(tmp_path / "saved")
    reloaded = CLIPModel.from_pretrained(tmp_path / "saved")
    assert reloaded.logit_scale.shape == torch.Size([]) and reloaded.logit_scale.item() == 1.5


# --- Two "nodes" on one machine: the README's command ----------------------------------------------------------------


def readme_two_node_command() -> tuple[dict[str, str], list[str]]:
    """The environment and words of the README's multi-machine command (its `R` stands for the machine rank)."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT_PATH / "README.md").read_text(), flags=re.S)
    words = shlex.split(next(block for block in blocks if "--num_machines 2" in block).replace("\\\n", " "),
                        comments=True)
    env = {}
    while "=" in words[0]:
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    return env, words


@pytest.mark.slow
def test_the_readme_two_node_launch_trains_one_global_batch(tmp_path):
    """The README's command started twice in the background, machine ranks 0 and 1 (a free port instead of its
    29500): both processes join one group (the rows of both are counted), node 0 scores and saves. The base and plain
    fine-tune are cached first by a one-process run of the same flags, as the README says."""
    env, words = readme_two_node_command()
    assert words[0] == "accelerate" and "examples/train.py" in words
    train = words.index("examples/train.py")
    words[train] = os.path.join(ROOT, "examples", "train.py")
    flags = words[train + 1 :]
    warm = subprocess.run([sys.executable, words[train], *flags, "--output_dir", "warm"], capture_output=True,
                          text=True, env=_env(), timeout=300, cwd=tmp_path)
    assert warm.returncode == 0, warm.stderr[-4000:]
    words[0] = os.path.join(os.path.dirname(sys.executable), "accelerate")
    words[words.index("--main_process_port") + 1] = str(_free_port())
    rank = words.index("--machine_rank") + 1
    assert words[rank] == "R"
    nodes = []
    for machine in ("0", "1"):
        words[rank] = machine
        nodes.append(subprocess.Popen(list(words), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      env=_env(**env), cwd=tmp_path))
    outputs = []
    try:
        outputs = [node.communicate(timeout=300)[0] for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    output_dir = tmp_path / flags[flags.index("--output_dir") + 1]
    results = json.loads((output_dir / "results.json").read_text())
    steps, batch = (int(flags[flags.index(flag) + 1]) for flag in ("--max_steps", "--per_device_train_batch_size"))
    assert results["finetune"]["rows"] == steps * batch * 2  # the world size is 2, not 1 on each machine
    assert "Reusing the cached plain fine-tune" in outputs[0]
    assert "| **test_seen average** |" in outputs[0] and "| **test_seen average** |" not in outputs[1]
    assert (output_dir / "model.safetensors").is_file()
