"""Nothing lost at the edges (issue 26): where a run writes, what it publishes, what a final save over an older
model leaves, runs that cannot recover or that diverge, and errors that name what the user knows.

Every test builds a tiny CLIP from a config (the session's `tiny_clip_dir`) and trains a few steps on CPU.
"""

from __future__ import annotations

import builtins
import collections
import errno
import json
import logging
import math
import os
import re
import tempfile
from pathlib import Path

import datasets
import pytest
import torch
from helpers import NEGATIVE_TYPES, make_dataset, make_rows
from test_failures_training import PoisonWeightAt
from test_trainer import make_args, make_trainer
from transformers import CLIPModel, CLIPProcessor, PreTrainedModel, TrainerCallback

from hf_finegrained import FineGrainedTrainer
from hf_finegrained.checkpoints import checkpoint_problems
from hf_finegrained.hub import publishable_files


class StepCounter(TrainerCallback):
    """Counts the training steps begun (0: the run stopped before its first step)."""

    def __init__(self) -> None:
        self.steps = 0

    def on_step_begin(self, args, state, control, **kwargs):
        self.steps += 1


# --- item 1: where the run writes --------------------------------------------------------------------------------


def test_an_output_path_that_is_a_file_stops_the_run_before_its_first_step(tiny_clip_dir, tmp_path):
    output = tmp_path / "run"
    output.write_text("not a folder")
    counter = StepCounter()
    with pytest.raises(OSError, match=rf"(?s){re.escape(str(output))} .*not a folder.*--output_dir"):
        make_trainer(tiny_clip_dir, make_args(output, max_steps=2), callbacks=[counter]).train()
    assert counter.steps == 0


def test_a_read_only_output_folder_stops_the_run_before_its_first_step(tiny_clip_dir, tmp_path, monkeypatch):
    """As root, chmod does not make a folder unwritable: every write under it raises EROFS instead, as on a
    read-only mount (the run used to train, then fail at its first save)."""
    output = tmp_path / "run"
    output.mkdir()
    real_open = builtins.open

    def read_only_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and str(file).startswith(str(output)) and set(mode) & set("wax+"):
            raise OSError(errno.EROFS, "Read-only file system", str(file))
        return real_open(file, mode, *args, **kwargs)

    counter = StepCounter()
    trainer = make_trainer(tiny_clip_dir, make_args(output, max_steps=2, save_strategy="steps", save_steps=1),
                           callbacks=[counter])
    monkeypatch.setattr(builtins, "open", read_only_open)
    with pytest.raises(OSError, match=rf"(?s){re.escape(str(output))} is not writable.*Read-only file system.*--output_dir"):
        trainer.train()
    assert counter.steps == 0
    assert not os.listdir(output), "the probe file is removed (here it could not even be created)"


Usage = collections.namedtuple("Usage", "total used free")


def test_too_little_free_space_stops_the_run_before_its_first_step(tiny_clip_dir, tmp_path, monkeypatch):
    output = tmp_path / "run"
    counter = StepCounter()
    trainer = make_trainer(tiny_clip_dir, make_args(output, max_steps=4, save_strategy="steps", save_steps=1),
                           callbacks=[counter])
    monkeypatch.setattr("shutil.disk_usage", lambda path: Usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(OSError, match=rf"(?s)not enough free space in {re.escape(str(output))}.*needs about .* has 1000 bytes free"
                                      r".*--save_total_limit.*--save_steps.*--output_dir"):
        trainer.train()
    assert counter.steps == 0
    monkeypatch.setattr("shutil.disk_usage", lambda path: Usage(10**12, 0, 10**12))
    trainer.train()
    assert counter.steps == 4
    assert not [name for name in os.listdir(output) if name.startswith(".")], "the write probe is removed"


def test_the_space_estimate_counts_each_checkpoint_with_its_optimizer_state_and_the_final_save(tiny_clip_dir,
                                                                                               tmp_path):
    from hf_finegrained.output_checks import SMALL_FILES_BYTES, estimate_save_bytes

    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=5, save_strategy="steps", save_steps=2))
    weights = sum(p.numel() * p.element_size() for p in trainer.model.parameters())
    weights += sum(b.numel() * b.element_size() for b in trainer.model.buffers())
    optimizer = 2 * 4 * sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    estimate = estimate_save_bytes(trainer.model, trainer.args, max_steps=5, num_epochs=1)
    assert estimate.saves == 3  # steps 2, 4 and the last step 5
    assert estimate.checkpoints_at_once == 3
    assert estimate.checkpoint_bytes == weights + optimizer + SMALL_FILES_BYTES
    assert estimate.final_bytes == weights + SMALL_FILES_BYTES
    assert estimate.total == 3 * estimate.checkpoint_bytes + estimate.final_bytes
    limited = estimate_save_bytes(trainer.model, make_args(tmp_path, save_strategy="steps", save_steps=1,
                                                           save_total_limit=2), max_steps=10, num_epochs=1)
    assert (limited.saves, limited.checkpoints_at_once) == (10, 3)  # the limit, plus the one written before rotation
    only_model = estimate_save_bytes(trainer.model, make_args(tmp_path, save_strategy="steps", save_steps=1,
                                                              save_only_model=True), max_steps=2, num_epochs=1)
    assert only_model.checkpoint_bytes == weights + SMALL_FILES_BYTES
    none = estimate_save_bytes(trainer.model, make_args(tmp_path, save_strategy="no"), max_steps=10, num_epochs=1)
    assert none.total == none.final_bytes


def test_a_failed_save_keeps_the_last_complete_checkpoint_and_names_it(tiny_clip_dir, tmp_path, monkeypatch, caplog):
    """A full disk at a checkpoint save (`SafetensorError ... No space left on device`): the earlier complete
    checkpoint stays, and the error and the log say where it is."""
    from safetensors import SafetensorError

    output = tmp_path / "run"
    trainer = make_trainer(tiny_clip_dir, make_args(output, max_steps=4, save_strategy="steps", save_steps=2))
    import transformers.modeling_utils as modeling_utils

    real_save = modeling_utils.safe_save_file
    calls = []

    def disk_full_at_the_second_save(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(modeling_utils, "safe_save_file", disk_full_at_the_second_save)
    with caplog.at_level(logging.ERROR, logger="hf_finegrained"), pytest.raises(OSError) as error:
        trainer.train()
    message = str(error.value)
    assert "No space left on device" in message and str(output / "checkpoint-4") in message
    assert f"last complete checkpoint is {output / 'checkpoint-2'}" in message
    assert str(output / "checkpoint-2") in caplog.text
    assert checkpoint_problems(str(output / "checkpoint-2")) == []
    calls.clear()
    calls.append("the next save fails")
    with pytest.raises(OSError, match=rf"last complete checkpoint is {re.escape(str(output / 'checkpoint-2'))}"):
        trainer.save_model()  # the final save, on the same full disk
    assert checkpoint_problems(str(output / "checkpoint-2")) == []


# --- item 5: nothing published holds a local path ----------------------------------------------------------------


def local_strings(tmp_path: Path) -> list[str]:
    return [os.path.expanduser("~"), tempfile.gettempdir(), str(tmp_path)]


def leaks(folder: Path, tmp_path: Path) -> dict[str, list[str]]:
    """{published text file: the local folder strings it holds}; binary weights are skipped."""
    found = {}
    published = publishable_files(str(folder))
    assert published, f"nothing publishable in {folder}"
    for name in published:
        if name.endswith((".safetensors", ".png", ".bin")):
            continue
        text = (folder / name).read_text(encoding="utf-8")
        hits = [local for local in local_strings(tmp_path) if local in text]
        if hits:
            found[name] = hits
    return found


def test_a_streaming_run_publishes_no_local_path(tiny_clip_dir, tmp_path):
    rows = make_rows(8, invalid_rate=0.0)
    for index, row in enumerate(rows):
        path = tmp_path / "images" / f"img{index}.png"
        path.parent.mkdir(exist_ok=True)
        row["image"].save(path)
        row["image"] = str(path)
    missing = tmp_path / "images" / "img3.png"
    missing.unlink()  # an absolute path to a file that is not there: the row is skipped and named
    features = datasets.Features({"image": datasets.Image(), "caption": datasets.Value("string"),
                                  "hard_negatives": datasets.Sequence(datasets.Value("string"))})
    stream = datasets.Dataset.from_list(rows, features=features).to_iterable_dataset()
    output = tmp_path / "run"
    trainer = make_trainer(tiny_clip_dir, make_args(output, max_steps=1, max_bad_row_rate=1.0), train=stream)
    trainer.train()
    assert trainer.stream_rows.counts.skipped == 1 and str(missing) in trainer.stream_rows.counts.named[0]  # the log: local
    trainer.save_model()
    card = (output / "README.md").read_text()
    assert "stream row 3" in card and "img3.png" in card, "the card still names the bad row, by its file's name"
    assert leaks(output, tmp_path) == {}


def test_a_lora_run_from_a_local_base_publishes_no_local_path(tiny_clip_dir, tmp_path):
    from hf_finegrained.lora import add_lora, load_merged

    model = add_lora(CLIPModel.from_pretrained(tiny_clip_dir), r=2, alpha=4, dropout=0.0)
    output = tmp_path / "run"
    trainer = FineGrainedTrainer(model=model, args=make_args(output, max_steps=1), train_dataset=make_dataset(8),
                                 processing_class=CLIPProcessor.from_pretrained(tiny_clip_dir))
    trainer.train()
    trainer.save_model()
    config = json.loads((output / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == os.path.basename(tiny_clip_dir)
    assert leaks(output, tmp_path) == {}
    merged = load_merged(output)  # this machine still finds the local base (recorded beside, never published)
    assert not any("lora" in name for name, _ in merged.named_parameters())


def test_a_base_from_the_hub_cache_is_published_as_its_hub_id(tmp_path):
    from hf_finegrained.model_card import public_name

    snapshot = tmp_path / "hub" / "models--openai--clip-vit-base-patch32" / "snapshots" / "3d74acf9a28c67741b2f4f2"
    snapshot.mkdir(parents=True)
    assert public_name(str(snapshot)) == "openai/clip-vit-base-patch32"
    assert public_name(str(tmp_path / "my-base")) == "my-base"
    assert public_name("openai/clip-vit-base-patch32") == "openai/clip-vit-base-patch32"


# --- item 6: a final save over an older model --------------------------------------------------------------------

OLD_TIME = 1_000_000_000  # 2001: the modification time given to every file of the older run


def older_model(tiny_clip_dir, tmp_path: Path) -> Path:
    """A final save of another run (seed 1, 2 steps), with the files a sharded save and the example script add,
    a user's note and a checkpoint; every file dated `OLD_TIME`."""
    folder = tmp_path / "model"
    older = make_trainer(tiny_clip_dir, make_args(tmp_path / "older", max_steps=2, seed=1))
    older.train()
    older.save_model(str(folder))
    (folder / "model-00001-of-00002.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {}}))
    (folder / "results.json").write_text("{}")
    (folder / "notes.txt").write_text("the user's own file")
    (folder / "checkpoint-2").mkdir()
    (folder / "checkpoint-2" / "config.json").write_text("{}")
    for path in folder.rglob("*"):
        os.utime(path, (OLD_TIME, OLD_TIME))
    return folder


def older_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.is_file() and path.stat().st_mtime == OLD_TIME)


def test_a_final_save_over_an_older_model_leaves_only_new_files(tiny_clip_dir, tmp_path):
    folder = older_model(tiny_clip_dir, tmp_path)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", max_steps=3, seed=0))
    trainer.train()
    trainer.save_model(str(folder))
    assert older_files(folder) == ["notes.txt"], "only the user's own file is left of the older run"
    assert (folder / "checkpoint-2" / "config.json").stat().st_mtime == OLD_TIME, "checkpoints are left alone"
    saved = torch.load(folder / "training_args.bin", weights_only=False)
    assert (saved.seed, saved.max_steps) == (0, 3)
    assert not (folder / "model.safetensors.index.json").exists()
    CLIPModel.from_pretrained(folder)


def test_a_final_save_killed_over_an_older_model_leaves_no_file_of_it(tiny_clip_dir, tmp_path, monkeypatch):
    folder = older_model(tiny_clip_dir, tmp_path)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", max_steps=3, seed=0))
    trainer.train()
    real_save = PreTrainedModel.save_pretrained

    def killed_after_the_weights(self, *args, **kwargs):
        real_save(self, *args, **kwargs)
        raise KeyboardInterrupt("killed after the weights")

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", killed_after_the_weights)
    with pytest.raises(KeyboardInterrupt):
        trainer.save_model(str(folder))
    assert (folder / "model.safetensors").stat().st_mtime != OLD_TIME, "the kill came after the new weights"
    assert older_files(folder) == ["notes.txt"]
    assert not (folder / "training_args.bin").exists()


# --- item 7: skipping non-finite steps cannot go on forever --------------------------------------------------------


def test_consecutive_skipped_steps_stop_the_run_naming_the_step_and_the_parameter(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", max_steps=10, skip_non_finite_steps=True,
                                                    max_consecutive_non_finite_steps=3),
                           callbacks=[PoisonWeightAt(2)])
    with pytest.raises(FloatingPointError, match=r"(?s)3 optimizer steps in a row.*step 4.*"
                                                 r"visual_projection\.weight.*max_consecutive_non_finite_steps"):
        trainer.train()
    assert trainer.state.global_step == 3
    assert trainer.non_finite_steps_skipped == 3


def test_a_checkpoint_is_never_saved_with_a_non_finite_weight(tiny_clip_dir, tmp_path):
    run = tmp_path / "run"
    trainer = make_trainer(tiny_clip_dir, make_args(run, max_steps=4, skip_non_finite_steps=True, save_strategy="steps",
                                                    save_steps=1), callbacks=[PoisonWeightAt(2)])
    with pytest.raises(FloatingPointError, match=r"(?s)not saving .*checkpoint-2.*visual_projection\.weight"):
        trainer.train()
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-1"]
    assert checkpoint_problems(str(run / "checkpoint-1")) == []
    with pytest.raises(FloatingPointError, match=r"visual_projection\.weight"):
        trainer.save_model(str(tmp_path / "final"))
    assert not (tmp_path / "final").exists()


def test_max_consecutive_non_finite_steps_is_validated(tmp_path):
    assert make_args(tmp_path).max_consecutive_non_finite_steps == 10
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_consecutive_non_finite_steps must be an integer >= 1"):
            make_args(tmp_path, max_consecutive_non_finite_steps=bad)


# --- item 8: a diverging run says so -----------------------------------------------------------------------------


def divergence_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "diverg" in r.getMessage()]


def test_a_diverging_run_warns_once_and_a_sane_one_does_not(tiny_clip_dir, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="hf_finegrained"):
        make_trainer(tiny_clip_dir, make_args(tmp_path / "sane", max_steps=6)).train()
    assert divergence_warnings(caplog) == []
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hf_finegrained"):
        make_trainer(tiny_clip_dir, make_args(tmp_path / "wild", max_steps=6, learning_rate=1e3)).train()
    warned = divergence_warnings(caplog)
    assert len(warned) == 1, warned
    assert "gradient norm" in warned[0] and "learning_rate" in warned[0]


def test_a_loss_back_at_chance_after_learning_is_a_divergence():
    from hf_finegrained.health import DivergenceWatch

    chance = math.log(8)
    watch = DivergenceWatch(contrastive="softmax")
    assert watch.check({"itc_loss": 2.5, "grad_norm": 3.0}, step=1, chance=chance) is None  # above chance: no claim
    assert watch.check({"itc_loss": 1.2, "grad_norm": 3.0}, step=2, chance=chance) is None  # learning
    message = watch.check({"itc_loss": 0.995 * chance, "grad_norm": 3.0}, step=3, chance=chance)
    assert message and "step 3" in message and "chance" in message
    assert watch.check({"itc_loss": chance, "grad_norm": 1e9}, step=4, chance=chance) is None, "warned once"
    fresh = DivergenceWatch(contrastive="softmax")
    assert fresh.check({"itc_loss": chance, "grad_norm": 3.0}, step=5, chance=chance) is None, "never learnt: no claim"
    assert "gradient norm" in fresh.check({"itc_loss": chance, "grad_norm": 2e4}, step=6, chance=chance)
    assert DivergenceWatch(contrastive="softmax").check({"grad_norm": float("nan")}, step=1, chance=None)


# --- item 9: errors name what the user knows ---------------------------------------------------------------------


def test_a_bad_row_found_in_training_is_named_by_its_dataset_index(tiny_clip_dir, tmp_path):
    rows = make_dataset(8).to_list()
    rows[5]["caption"] = " "
    data = datasets.Dataset.from_list(rows, features=make_dataset(1).features)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=2, validate_data=False), train=data)
    with pytest.raises(ValueError, match=r"dataset row 5 \(caption ' '.*caption is empty") as error:
        trainer.train()
    assert "batch row" not in str(error.value)


def test_a_missing_column_is_named_with_the_columns_the_user_gave(tiny_clip_dir, tmp_path):
    data = make_dataset(8).rename_column("image", "picture")
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=1, validate_data=False), train=data)
    with pytest.raises(KeyError, match=r"dataset row \d .*no 'image' column.*'picture'"):
        trainer.train()
    rows = make_dataset(8).to_list()
    listed = [{("photo" if key == "image" else key): value for key, value in row.items()} for row in rows]
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=1, validate_data=False), train=listed)
    with pytest.raises(KeyError, match=r"dataset row \d .*no 'image' column.*'photo'"):
        trainer.train()


def test_rows_carry_their_dataset_index_to_the_collator_only(tiny_clip_dir, tmp_path):
    """Each row reaches the collator with its dataset index (one epoch: every index once); the Trainer still drops
    the user's other columns, and the batch holds model inputs alone."""
    from hf_finegrained.collator import FineGrainedCollator

    class Recording(FineGrainedCollator):
        def __call__(self, rows):
            self.rows = getattr(self, "rows", []) + list(rows)
            return super().__call__(rows)

    data = make_dataset(8).add_column("notes", ["x"] * 8)
    collator = Recording(CLIPProcessor.from_pretrained(tiny_clip_dir), NEGATIVE_TYPES)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=2), train=data, data_collator=collator)
    trainer.train()
    assert sorted(row["__index__"] for row in collator.rows) == list(range(8))
    assert all("notes" not in row for row in collator.rows)
    batch = collator(collator.rows[:2])
    assert sorted(batch) == ["attention_mask", "input_ids", "negative_mask", "pixel_values"]
