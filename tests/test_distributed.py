"""Two CPU processes (gloo), started with torchrun as a user would, against one process on the whole batch.

Run as a script (`__main__` at the end), this file is also the torchrun worker of the thresholds test.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from hf_finegrained.distributed import end_process_group
from hf_finegrained.losses import FineGrainedLoss
from scripts.exit_check import gloo_threads_left

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "ddp_loss_check.py")


def _launch(model_dir: str, out: str, processes: int) -> dict:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
        "--master_port", str(_free_port()), SCRIPT, "--model", model_dir, "--out", out,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert not gloo_threads_left(out, processes), "a rank left gloo threads running for the interpreter's exit"
    return torch.load(out, weights_only=False)


@pytest.fixture(scope="module")
def one_and_two_processes(tiny_clip_dir, tmp_path_factory) -> tuple[dict, dict]:
    """The worker's records ({"softmax": ..., "sigmoid": ...}) of one process on the whole batch and of two."""
    folder = tmp_path_factory.mktemp("ddp")
    return _launch(tiny_clip_dir, str(folder / "one.pt"), 1), _launch(tiny_clip_dir, str(folder / "two.pt"), 2)


@pytest.mark.slow
def test_two_processes_match_one_on_the_whole_batch(one_and_two_processes):
    single, double = (records["softmax"] for records in one_and_two_processes)
    _assert_same_step(single, double)


@pytest.mark.slow
def test_two_processes_match_one_on_the_whole_batch_for_the_sigmoid_form(one_and_two_processes):
    """The sigmoid (SigLIP) form gathered over two ranks: loss, thresholds and every gradient (the logit scale's
    and the learnable logit bias's among them) equal one process on the joined batch."""
    single, double = (records["sigmoid"] for records in one_and_two_processes)
    # Its gradients are a sum over B + M terms per image, ~10x the softmax form's here (up to ~130, where one
    # float32 step is 1.5e-5): each parameter's gradients agree to 1e-5 or a millionth of its largest entry.
    _assert_same_step(single, double, relative=1e-6)
    for name in ("logit_scale", "logit_bias"):
        assert single["grads"][name].abs().item() > 1e-4, name
        assert abs(single["grads"][name].item() - double["grads"][name].item()) <= 1e-5, name
    # It is the sigmoid loss that ran: the softmax form on the same batch gives another ITC.
    softmax = one_and_two_processes[0]["softmax"]
    assert abs(softmax["components"]["itc_loss"].item() - single["components"]["itc_loss"].item()) > 1e-3
    assert "logit_bias" not in softmax["grads"]


def _assert_same_step(single: dict, double: dict, relative: float = 0.0) -> None:
    """One process on the whole batch against two on its halves: loss, components, thresholds (the same on both
    ranks) and every gradient within 1e-5 (or ``relative`` times the parameter's largest gradient, if larger)."""
    assert single["world"] == 1 and double["world"] == 2
    assert abs(single["loss"].item() - double["loss"].item()) <= 1e-5
    for key, value in single["components"].items():
        assert abs(value.item() - double["components"][key].item()) <= 1e-5, key
    # Both ranks end with the thresholds of the global batch.
    assert torch.allclose(double["thresholds"][0], double["thresholds"][1], atol=0, rtol=0)
    assert (double["thresholds"][0] - single["thresholds"][0]).abs().max() <= 1e-5
    for name, grad in single["grads"].items():
        difference = (grad - double["grads"][name]).abs().max().item()
        tolerance = max(1e-5, relative * grad.abs().max().item())
        assert difference <= tolerance, f"{name}: gradient difference {difference} > {tolerance}"
    assert any(g.abs().sum() > 0 for g in single["grads"].values())


@pytest.mark.slow
def test_trainer_logs_the_mean_over_ranks_and_one_process_per_node_validates(tiny_clip_dir, tmp_path):
    """`FineGrainedTrainer` under torchrun: the logged loss components are the means over both ranks (not
    rank 0's alone), and only the node's main process read the data before training."""
    out = tmp_path / "trainer.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(_free_port()), os.path.join(os.path.dirname(SCRIPT), "ddp_trainer_check.py"),
               "--model", tiny_clip_dir, "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    # Every rank ended the process group before exiting: no gloo worker was left to abort the interpreter's exit
    # ("terminate called without an active exception", docs/FAILURES.md).
    assert not gloo_threads_left(str(out), 2)
    saved = torch.load(out, weights_only=False)
    ranks = saved["ranks"]
    assert [rank["validated"] for rank in ranks] == [1, 0]
    logs = [entry for entry in saved["log_history"] if "loss" in entry]
    assert len(logs) == 2 and all(len(rank["itc"]) == 2 for rank in ranks)
    assert all(ranks[0]["itc"][step] != ranks[1]["itc"][step] for step in range(2))  # each rank its own batch
    for step, entry in enumerate(logs):
        assert entry["itc_loss"] == pytest.approx((ranks[0]["itc"][step] + ranks[1]["itc"][step]) / 2, rel=1e-5)


# --- CMR thresholds without gathering: every rank must end with the same curriculum ------------------------------

NUM_TYPES = 4
START = 0.5  # every threshold before the step; a type with no valid negative on any rank must keep it


def _rank_batch(rank: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rank `rank`'s own embeddings: images [B_r, D], captions [B_r, D], negatives [B_r, K, D], mask [B_r, K].

    The ranks differ in batch size (6, 8), in how close captions and negatives lie to their images (so their
    local statistics are far apart) and in validity: type 2 is valid on rank 1 only, type 3 on no rank.
    """
    generator = torch.Generator().manual_seed(100 + rank)
    batch, dim = 6 + 2 * rank, 8
    images = torch.randn(batch, dim, generator=generator)
    captions = (0.5 + 3.5 * rank) * images + torch.randn(batch, dim, generator=generator)
    negatives = torch.randn(batch, NUM_TYPES, dim, generator=generator)
    mask = torch.rand(batch, NUM_TYPES, generator=generator) > 0.3
    mask[0, :2] = True  # types 0 and 1 are valid on every rank
    mask[:, 2] = rank == 1
    mask[:, 3] = False
    return images, captions, negatives, mask


def _threshold_loss() -> FineGrainedLoss:
    # Logit units (the paper's): the thresholds are compared below with the logit statistics computed by hand.
    loss_fn = FineGrainedLoss(NUM_TYPES, threshold_upper_bound=100.0, gather_across_devices=False,
                              threshold_units="logit").train()
    loss_fn.thresholds.fill_(START)
    return loss_fn


def _threshold_worker(out: str) -> None:
    """Run under torchrun (gloo): one training call of the loss on this rank's own batch, without gathering;
    rank 0 saves every rank's thresholds after it, [world, K], to `out`."""
    import torch.distributed as dist

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    loss_fn = _threshold_loss()
    loss_fn(*_rank_batch(rank), logit_scale=5.0)
    thresholds = [torch.empty(NUM_TYPES) for _ in range(world)]
    dist.all_gather(thresholds, loss_fn.thresholds)
    if rank == 0:
        torch.save({"world": world, "thresholds": torch.stack(thresholds)}, out)
    end_process_group()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_without_gathering_every_rank_ends_with_the_thresholds_of_the_global_batch(tmp_path):
    out = tmp_path / "thresholds.pt"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(_free_port()), os.path.abspath(__file__), "--thresholds-out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    saved = torch.load(out, weights_only=False)
    assert saved["world"] == 2
    per_rank = saved["thresholds"]  # [2, K]
    assert torch.equal(per_rank[0], per_rank[1]), f"ranks disagree: {per_rank.tolist()}"

    # The same step on one process holding both ranks' rows: the statistic of the global batch.
    batches = [_rank_batch(rank) for rank in range(2)]
    whole = _threshold_loss()
    whole(*(torch.cat(parts) for parts in zip(*batches)), logit_scale=5.0)
    torch.testing.assert_close(per_rank[0], whole.thresholds, rtol=0, atol=1e-5)
    # And by hand: mean of pos over all 14 rows minus, per type, the mean of neg over its valid rows of all ranks.
    images, captions, negatives, mask = (torch.cat(parts).double() for parts in zip(*batches))
    unit = torch.nn.functional.normalize
    pos = 5.0 * (unit(images, dim=-1) * unit(captions, dim=-1)).sum(-1)  # [14]
    neg = 5.0 * torch.einsum("bd,bkd->bk", unit(images, dim=-1), unit(negatives, dim=-1))  # [14, K]
    mask = mask.bool()
    for k in range(3):
        expected = (pos.mean() - neg[mask[:, k], k].mean()).clamp(0, 100).item()
        assert per_rank[0, k].item() == pytest.approx(expected, abs=1e-5), k
    assert per_rank[0, 3].item() == START, "a type valid on no rank keeps its value"

    # The data are such that each rank alone would have moved to clearly different thresholds.
    alone = []
    for batch in batches:
        loss_fn = _threshold_loss()
        loss_fn(*batch, logit_scale=5.0)
        alone.append(loss_fn.thresholds)
    assert (alone[0][:2] - alone[1][:2]).abs().min() > 0.5, (alone[0], alone[1])
    assert alone[0][2].item() == START and alone[1][2] != START


if __name__ == "__main__":  # the torchrun worker of the test above
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--thresholds-out", required=True)
    _threshold_worker(parser.parse_args().thresholds_out)
