"""Nothing lost, nothing silent (issue 12): interrupted saves, resumes, non-finite values and tokens.

Kills are simulated: a complete checkpoint is written, then files of a newer one are truncated or removed
(what a SIGKILL in the middle of a save leaves), or the final rename of an atomic write is made to fail.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import shutil
from pathlib import Path

import pytest
import torch
from helpers import NEGATIVE_TYPES
from test_trainer import make_args, make_trainer
from transformers import Trainer, TrainerCallback

from hf_finegrained import FineGrainedLoss
from hf_finegrained.checkpoints import checkpoint_problems
from hf_finegrained.trainer import STATE_NAME

COMMON = dict(max_steps=4, save_strategy="steps", save_steps=2, learning_rate=2e-2)
OUR_FILES = (STATE_NAME, "README.md", "loss_curves.png", "threshold_curves.png")


@pytest.fixture(scope="module")
def finished_run(tiny_clip_dir, tmp_path_factory):
    """A 4-step run with checkpoint-2 and checkpoint-4, its final parameters and thresholds."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    trainer = make_trainer(tiny_clip_dir, make_args(folder, **COMMON))
    trainer.train()
    params = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    return folder, params, trainer.loss_fn.thresholds.clone()


def copy_run(finished_run, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished_run[0], run)
    return run


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


# What a kill during the save of checkpoint-4 leaves, and the file the skip message must name.
PARTIAL = {
    "weights truncated": (lambda c: truncate(c / "model.safetensors"), "model.safetensors"),
    "trainer state missing": (lambda c: (c / "trainer_state.json").unlink(), "trainer_state.json"),
    "processor config empty": (lambda c: (c / "processor_config.json").write_text(""), "processor_config.json"),
    "optimizer truncated": (lambda c: truncate(c / "optimizer.pt"), "optimizer.pt"),
    "thresholds truncated": (lambda c: truncate(c / STATE_NAME), STATE_NAME),
    "just-in-time save interrupted": (
        lambda c: (c / "checkpoint-is-incomplete.txt").write_text("in progress"), "checkpoint-is-incomplete.txt"),
}


@pytest.mark.parametrize("partial", sorted(PARTIAL))
def test_resume_true_skips_a_partial_newest_checkpoint_and_says_why(
    finished_run, tiny_clip_dir, tmp_path, caplog, partial
):
    run = copy_run(finished_run, tmp_path)
    damage, culprit = PARTIAL[partial]
    damage(run / "checkpoint-4")
    trainer = make_trainer(tiny_clip_dir, make_args(run, **COMMON))
    with caplog.at_level(logging.WARNING, logger="hf_finegrained"):
        trainer.train(resume_from_checkpoint=True)
    skipped = [r.getMessage() for r in caplog.records if "checkpoint-4" in r.getMessage()]
    assert skipped and culprit in skipped[0], caplog.text
    # Resumed from checkpoint-2: steps 3 and 4 again, ending where the uninterrupted run ended.
    assert trainer.state.global_step == 4
    _, params, thresholds = finished_run
    for name, p in trainer.model.named_parameters():
        assert (p.detach() - params[name]).abs().max().item() <= 1e-6, name
    assert (trainer.loss_fn.thresholds - thresholds).abs().max().item() <= 1e-6
    assert checkpoint_problems(str(run / "checkpoint-4")) == [], "the new save of step 4 is complete"


def test_a_named_partial_checkpoint_is_refused_and_none_complete_is_an_error(finished_run, tiny_clip_dir, tmp_path):
    run = copy_run(finished_run, tmp_path)
    truncate(run / "checkpoint-4" / "model.safetensors")
    trainer = make_trainer(tiny_clip_dir, make_args(run, **COMMON))
    with pytest.raises(ValueError, match=r"(?s)checkpoint-4 is incomplete.*model.safetensors.*checkpoint-2"):
        trainer.train(resume_from_checkpoint=str(run / "checkpoint-4"))
    (run / "checkpoint-2" / "trainer_state.json").unlink()
    with pytest.raises(ValueError, match=r"(?s)no complete checkpoint.*checkpoint-4.*checkpoint-2"):
        trainer.train(resume_from_checkpoint=True)
    assert trainer.state.global_step == 0


def test_an_overwrite_of_a_checkpoint_cut_short_is_not_taken_for_complete(
    finished_run, tiny_clip_dir, tmp_path, monkeypatch
):
    run = copy_run(finished_run, tmp_path)
    original = Trainer.save_model

    def killed_after_the_weights(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise KeyboardInterrupt("killed after the weights")

    monkeypatch.setattr(Trainer, "save_model", killed_after_the_weights)
    trainer = make_trainer(tiny_clip_dir, make_args(run, **COMMON))
    with pytest.raises(KeyboardInterrupt):
        trainer.train(resume_from_checkpoint=str(run / "checkpoint-2"))  # saves over checkpoint-4
    assert any("trainer_state.json" in problem for problem in checkpoint_problems(str(run / "checkpoint-4")))


def test_package_files_are_replaced_atomically(tiny_clip_dir, tmp_path, monkeypatch):
    """A kill before the final rename of a write leaves the previous file whole, never a partial one."""
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", max_steps=2))
    trainer.train()
    folder = tmp_path / "final"
    trainer.save_model(str(folder))
    before = {name: (folder / name).read_bytes() for name in OUR_FILES}
    trainer.loss_fn.thresholds.add_(1.0)  # the next write has other content
    trainer.state.log_history.append({**trainer.state.log_history[-2], "step": 3, "loss": 9.0})

    def killed(source, destination):
        raise OSError("killed before the rename")

    monkeypatch.setattr("os.replace", killed)
    with pytest.raises(OSError, match="killed"):
        trainer.save_loss_state(str(folder))
    trainer.create_model_card(output_dir=str(folder))  # a card failure is logged, never raised
    monkeypatch.undo()
    after = {name: (folder / name).read_bytes() for name in OUR_FILES}
    assert after == before
    assert not [p.name for p in folder.iterdir() if ".tmp" in p.name], "temporary files must be removed"


def test_a_final_save_never_pairs_new_weights_with_old_thresholds_or_card(tiny_clip_dir, tmp_path, monkeypatch):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", max_steps=1))
    trainer.train()
    folder = tmp_path / "final"
    trainer.save_model(str(folder))
    old_state = (folder / STATE_NAME).read_text()
    old_card = (folder / "README.md").read_text()
    old_weights = (folder / "model.safetensors").read_bytes()
    with torch.no_grad():
        trainer.model.text_projection.weight.add_(1.0)
    trainer.loss_fn.thresholds.add_(1.0)
    original = Trainer.save_model

    def killed_after_the_weights(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise KeyboardInterrupt("killed after the weights")

    monkeypatch.setattr(Trainer, "save_model", killed_after_the_weights)
    with pytest.raises(KeyboardInterrupt):
        trainer.save_model(str(folder))
    assert (folder / "model.safetensors").read_bytes() != old_weights, "the kill came after the new weights"
    state = folder / STATE_NAME
    assert not state.exists() or state.read_text() != old_state, "old thresholds beside new weights"
    card = folder / "README.md"
    assert not card.exists() or card.read_text() != old_card, "old card beside new weights"


def test_resume_without_the_threshold_file_is_an_error(finished_run, tiny_clip_dir, tmp_path):
    run = copy_run(finished_run, tmp_path)
    (run / "checkpoint-2" / STATE_NAME).unlink()
    trainer = make_trainer(tiny_clip_dir, make_args(run, **COMMON))
    with pytest.raises(ValueError, match=r"(?s)finegrained_state.json.*resume_without_loss_state=True"):
        trainer.train(resume_from_checkpoint=str(run / "checkpoint-2"))
    assert trainer.state.global_step == 0


def test_resume_without_the_threshold_file_when_asked(finished_run, tiny_clip_dir, tmp_path, caplog):
    run = copy_run(finished_run, tmp_path)
    (run / "checkpoint-2" / STATE_NAME).unlink()
    trainer = make_trainer(tiny_clip_dir, make_args(run, resume_without_loss_state=True, **COMMON))
    with caplog.at_level(logging.WARNING, logger="hf_finegrained"):
        trainer.train(resume_from_checkpoint=str(run / "checkpoint-2"))
    assert trainer.state.global_step == 4
    assert any(STATE_NAME in r.getMessage() and "restart" in r.getMessage() for r in caplog.records), caplog.text


def test_resume_without_loss_state_is_validated(tmp_path):
    assert make_args(tmp_path).resume_without_loss_state is False
    with pytest.raises(ValueError, match="resume_without_loss_state must be True or False"):
        make_args(tmp_path, resume_without_loss_state="yes")
    with pytest.raises(ValueError, match="skip_non_finite_steps must be True or False"):
        make_args(tmp_path, skip_non_finite_steps=1)


class PoisonWeightAt(TrainerCallback):
    """Sets one weight to NaN just before optimizer step `step` (as an overflow in the previous update would)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == self.step - 1:
            with torch.no_grad():
                model.visual_projection.weight[0, 0] = float("nan")


def test_a_non_finite_loss_stops_training_at_its_step_before_anything_is_saved(tiny_clip_dir, tmp_path):
    run = tmp_path / "run"
    trainer = make_trainer(tiny_clip_dir, make_args(run, max_steps=4, save_strategy="steps", save_steps=1),
                           callbacks=[PoisonWeightAt(2)])
    with pytest.raises(FloatingPointError, match=r"(?s)non-finite loss \(nan\) at step 2.*skip_non_finite_steps"):
        trainer.train()
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-1"]
    assert torch.isfinite(trainer.loss_fn.thresholds).all()
    poisoned = [name for name, p in trainer.model.named_parameters() if not torch.isfinite(p).all()]
    assert poisoned == ["visual_projection.weight"], "no backward may spread the NaN"
    saved = json.loads((run / "checkpoint-1" / STATE_NAME).read_text(), parse_constant=lambda c: 1 / 0)
    assert all(math.isfinite(v) for v in saved["thresholds"].values())


class PoisonedLoss(FineGrainedLoss):
    """Makes the negatives of the first type NaN on the given training calls (1-based).

    The loss is then NaN while the statistics of the other types stay finite, so the loss module alone would
    still move their thresholds.
    """

    def __init__(self, *args, poison: set[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.poison = poison
        self.calls = 0

    def forward(self, image_embeds, text_embeds, negative_embeds=None, negative_mask=None, logit_scale=1.0):
        if self.training:
            self.calls += 1
            if self.calls in self.poison:
                assert negative_mask[:, 0].any(), "the poison must reach the loss"
                negative_embeds = negative_embeds.clone()
                negative_embeds[:, 0] = float("nan")
        return super().forward(image_embeds, text_embeds, negative_embeds, negative_mask, logit_scale)


class Snapshots(TrainerCallback):
    def __init__(self) -> None:
        self.params: dict[int, dict[str, torch.Tensor]] = {}
        self.thresholds: dict[int, torch.Tensor] = {}
        self.loss_fn = None

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.params[state.global_step] = {n: p.detach().clone() for n, p in model.named_parameters()}
        self.thresholds[state.global_step] = self.loss_fn.thresholds.clone()


def test_non_finite_steps_are_skipped_and_counted_when_asked(tiny_clip_dir, tmp_path, caplog):
    loss_fn = PoisonedLoss(len(NEGATIVE_TYPES), poison={2})
    snapshots = Snapshots()
    snapshots.loss_fn = loss_fn
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", skip_non_finite_steps=True),
                           loss_fn=loss_fn, callbacks=[snapshots])
    with caplog.at_level(logging.WARNING, logger="hf_finegrained"):
        output = trainer.train()
    assert output.metrics["non_finite_steps_skipped"] == 1
    assert any("step 2" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records), caplog.text
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert [entry["non_finite_steps_skipped"] for entry in logs] == [0, 1, 1]
    # The skipped step adds no component to the logs, so every logged component is finite.
    assert [("itc_loss" in entry) for entry in logs] == [True, False, True]
    assert all(math.isfinite(entry[key]) for entry in logs for key in entry if key.endswith("_loss"))
    # Step 2 left parameters, optimizer moments and thresholds as step 1 left them; step 3 trained again.
    for name, value in snapshots.params[2].items():
        assert torch.equal(value, snapshots.params[1][name]), name
    assert torch.equal(snapshots.thresholds[2], snapshots.thresholds[1])
    assert any(not torch.equal(v, snapshots.params[2][n]) for n, v in snapshots.params[3].items())
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    trainer.save_model(str(tmp_path / "final"))
    assert json.loads((tmp_path / "final" / STATE_NAME).read_text())["non_finite_steps_skipped"] == 1


def test_non_finite_thresholds_are_never_saved_nor_loaded(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", max_steps=1))
    trainer.loss_fn.thresholds[1] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        trainer.save_model(str(tmp_path / "final"))
    assert not (tmp_path / "final").exists(), "nothing may be written beside non-finite thresholds"
    trainer.loss_fn.thresholds[1] = 0.5
    trainer.save_loss_state(str(tmp_path / "final"))
    path = tmp_path / "final" / STATE_NAME
    path.write_text(path.read_text().replace("0.5", "NaN"))
    with pytest.raises(ValueError, match="non-finite"):
        trainer.load_loss_state(str(tmp_path / "final"))


def test_the_hub_token_is_never_written_to_disk(tiny_clip_dir, tmp_path):
    token = "hf_FakeTokenThatMustNeverReachTheDisk0123"
    run = tmp_path / "run"
    trainer = make_trainer(tiny_clip_dir, make_args(run, max_steps=2, save_strategy="steps", save_steps=1,
                                                    hub_token=token))
    trainer.train()
    trainer.save_model()
    files = [p for p in run.rglob("*") if p.is_file()]
    assert len([p for p in files if p.name == "training_args.bin"]) == 3  # two checkpoints and the final save
    leaks = [str(p.relative_to(run)) for p in files if token.encode() in p.read_bytes()]
    assert not leaks, f"the token is written in {leaks}"
    stored = torch.load(run / "checkpoint-1" / "training_args.bin", weights_only=False)
    assert stored.hub_token is None and stored.negative_types == NEGATIVE_TYPES
    assert trainer.args.hub_token == token, "the live run keeps its token (push_to_hub needs it)"
    assert copy.deepcopy(trainer.args).hub_token == token and copy.copy(trainer.args).hub_token == token
