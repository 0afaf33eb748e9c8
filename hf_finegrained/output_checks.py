"""Where a run writes: checked before its first step, and what a save leaves behind or says when it fails.

`FineGrainedTrainer` uses these so that a run never trains for hours and then loses its model:

- `check_output_writable`: the output folder is created if missing and a probe file is written and removed in
  it, before the first step (a read-only mount, a path that is a file or a folder without permission fails
  there, not at the first save).
- `estimate_save_bytes` and `check_free_space`: the disk must have room for everything the run will write
  (see `estimate_save_bytes` for the estimate), or the run stops before its first step naming the flags that
  change it.
- `remove_older_run_files`: a save over an existing model first removes every top-level file a save writes
  (and, at this trainer's first save into the folder, the results and plots left beside an older model), so no
  file of an older run survives beside the new weights, even when the save is killed halfway.
- `reporting_save_failure`: a save that fails (full disk, I/O error) raises `SaveFailedError` naming the
  folder, the cause and the newest complete checkpoint, which the failed save has left as it was.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import math
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from torch import nn

from .checkpoints import last_complete_checkpoint
from .distributed import all_ranks_true

logger = logging.getLogger(__name__)

PROBE_PREFIX = ".hf_finegrained-write-probe-"
SMALL_FILES_BYTES = 16 * 2**20  # per save: config, processor and tokenizer files, states, card, plots (a bound)
ADAM_STATE_BYTES = 2 * 4  # two float32 moments per trainable parameter (AdamW, the Trainer's default `optim`)
SPACE_FLAGS = ("keep fewer checkpoints (--save_total_limit N), save less often (--save_steps N, or "
               "--save_strategy epoch|no), or write elsewhere (--output_dir)")

# The top-level files a save writes (`save_pretrained` of a model or a PEFT adapter, the processor and tokenizer,
# `training_args.bin`); the trainer adds its own (thresholds, card, plots, teacher).
SAVED_FILE_PATTERNS: tuple[str, ...] = (
    "*.safetensors", "*.safetensors.index.json", "pytorch_model*.bin", "pytorch_model.bin.index.json",
    "adapter_model.bin", "config.json", "generation_config.json", "adapter_config.json", "training_args.bin",
    "preprocessor_config.json", "processor_config.json", "video_preprocessor_config.json", "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json", "vocab.txt",
    "merges.txt", "spiece.model", "tokenizer.model", "chat_template.json", "chat_template.jinja",
)
# Written beside a final model after its save (`examples/train.py`, the benchmark runner): removed only at a
# trainer's first save into a folder, where they can only be an older model's.
OLDER_RUN_EXTRAS: tuple[str, ...] = ("results.json", "results.md", "*.png")


class OutputCheckError(OSError):
    """The output folder cannot be written, or its disk cannot hold what the run will write."""


class SaveFailedError(OSError):
    """A save failed (full disk, I/O error); the message names the newest complete checkpoint, left as it was."""


def _size(count: float) -> str:
    if count < 1024:
        return f"{int(count)} bytes"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count / 1024:.1f} KiB"


def _value(setting: Any) -> str:
    """The string of a Trainer strategy (an enum or a str)."""
    return str(getattr(setting, "value", setting))


def ensure_output_folder(folder: str) -> None:
    """Creates `folder` if missing; `OutputCheckError` (naming `--output_dir`) when a file is in the way or the
    folder cannot be created."""
    if os.path.lexists(folder) and not os.path.isdir(folder):
        raise OutputCheckError(f"the output folder {folder} exists and is not a folder (a file is in the way); "
                               "remove it or give another folder (--output_dir).")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OutputCheckError(f"cannot create the output folder {folder} ({error.strerror or error}); give a "
                               "folder this process can write (--output_dir).") from error


def check_output_writable(folder: str) -> None:
    """`ensure_output_folder`, then writes a probe file in `folder` and removes it; `OutputCheckError` when the
    folder is not writable (read-only mount, no permission)."""
    ensure_output_folder(folder)
    probe = os.path.join(folder, f"{PROBE_PREFIX}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(probe, "wb") as handle:
            handle.write(b"probe")
    except OSError as error:
        raise OutputCheckError(
            f"{folder} is not writable ({error.strerror or error}): the run would train and then fail at its first "
            "save. Make the folder writable, or give another one (--output_dir).") from error
    finally:
        with contextlib.suppress(OSError):
            os.remove(probe)


def planned_steps(args: Any, num_rows: int | None, batch_size: int) -> tuple[int, int]:
    """(optimizer steps, epochs) the run will make: `max_steps` when set, else `num_train_epochs` over `num_rows`
    rows in batches of `batch_size` per process and `gradient_accumulation_steps`; (0, 0) when unknown."""
    per_epoch = None
    if num_rows:
        batches = math.ceil(num_rows / max(1, batch_size * max(1, args.world_size)))
        per_epoch = max(1, batches // max(1, args.gradient_accumulation_steps))
    if args.max_steps > 0:
        return args.max_steps, math.ceil(args.max_steps / per_epoch) if per_epoch else 1
    if per_epoch is None:
        return 0, 0
    return math.ceil(args.num_train_epochs * per_epoch), math.ceil(args.num_train_epochs)


def planned_saves(args: Any, max_steps: int, num_epochs: int) -> int:
    """How many checkpoints the save strategy writes over `max_steps` steps and `num_epochs` epochs: every
    `save_steps` (a fraction < 1 of `max_steps` as the Trainer reads it) plus one at the last step, every epoch,
    or (`best`) at most one per evaluation."""
    strategy = _value(args.save_strategy)
    if strategy == "steps":
        every = args.save_steps if args.save_steps >= 1 else math.ceil(max_steps * args.save_steps)
        return math.ceil(max_steps / max(1, int(every)))
    if strategy == "epoch":
        return num_epochs
    if strategy == "best":
        evaluation = _value(args.eval_strategy)
        if evaluation == "steps":
            every = args.eval_steps or args.logging_steps
            every = every if every >= 1 else math.ceil(max_steps * every)
            return math.ceil(max_steps / max(1, int(every)))
        return num_epochs if evaluation == "epoch" else 0
    return 0


@dataclass(frozen=True)
class SaveEstimate:
    """The bytes a run will write at its peak (`estimate_save_bytes`)."""

    weights_bytes: int
    optimizer_bytes: int
    saves: int
    checkpoints_at_once: int
    checkpoint_bytes: int
    final_bytes: int

    @property
    def total(self) -> int:
        """Every checkpoint that can exist at once, plus the final save."""
        return self.checkpoints_at_once * self.checkpoint_bytes + self.final_bytes

    def describe(self) -> str:
        checkpoints = (f"{self.checkpoints_at_once} checkpoint(s) on disk at once of {self.saves} saves, "
                       f"{_size(self.checkpoint_bytes)} each (weights {_size(self.weights_bytes)}, optimizer state "
                       f"{_size(self.optimizer_bytes)}, small files), and " if self.saves else "")
        return f"{checkpoints}the final model, {_size(self.final_bytes)}"


def _parameter_bytes(tensors: Iterable[Any]) -> int:
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors)


def estimate_save_bytes(model: nn.Module, args: Any, max_steps: int, num_epochs: int,
                        extra_per_save: int = 0) -> SaveEstimate:
    """What a run will write at its peak, in bytes (an estimate, meant as an upper bound).

    - Weights: the bytes of the model's parameters and buffers in their own dtypes (what `save_pretrained`
      writes); for a PEFT model, of its trainable parameters only (the adapter).
    - A checkpoint: the weights, the optimizer state (two float32 moments per trainable parameter, what AdamW, the
      default `optim`, keeps; none with `save_only_model`), `extra_per_save` (an EMA teacher's weights) and
      `SMALL_FILES_BYTES` for the small files (config, processor, scheduler, RNG and trainer states, card, plots).
    - Checkpoints at once: every save of the run (`planned_saves`) without `save_total_limit`; with it, the limit
      plus one, since the Trainer writes a new checkpoint before it deletes the oldest (and at least two are kept
      when a best model is tracked).
    - The final save: the weights, `extra_per_save` and the small files.

    The files an older model leaves in the folder are not counted as freed: they are still there while the
    checkpoints are written.
    """
    trainable = [p for p in model.parameters() if p.requires_grad]
    if hasattr(model, "peft_config"):
        weights = _parameter_bytes(trainable)
    else:
        weights = _parameter_bytes(model.parameters()) + _parameter_bytes(model.buffers())
    optimizer = 0 if args.save_only_model else ADAM_STATE_BYTES * sum(p.numel() for p in trainable)
    saves = planned_saves(args, max_steps, num_epochs)
    if args.save_total_limit and args.save_total_limit > 0:
        kept = max(args.save_total_limit, 2 if args.metric_for_best_model else 1)
        at_once = min(saves, kept + 1)
    else:
        at_once = saves
    return SaveEstimate(weights_bytes=weights, optimizer_bytes=optimizer, saves=saves, checkpoints_at_once=at_once,
                        checkpoint_bytes=weights + optimizer + extra_per_save + SMALL_FILES_BYTES,
                        final_bytes=weights + extra_per_save + SMALL_FILES_BYTES)


def check_free_space(folder: str, estimate: SaveEstimate) -> None:
    """`OutputCheckError` when the disk of `folder` has less free space (`shutil.disk_usage`) than `estimate.total`,
    naming both and the flags that change them."""
    free = shutil.disk_usage(folder).free
    if free >= estimate.total:
        return
    raise OutputCheckError(
        f"not enough free space in {folder} for what this run will write: it needs about {_size(estimate.total)} "
        f"({estimate.describe()}) and the disk has {_size(free)} free. Free some space, {SPACE_FLAGS}.")


def check_output_before_training(args: Any, model: nn.Module, num_rows: int | None, batch_size: int,
                                 extra_per_save: int = 0) -> None:
    """Before the first step: the output folder is writable and its disk holds what the run will write
    (`estimate_save_bytes`, with `extra_per_save` bytes more per save, e.g. an EMA teacher), else
    `OutputCheckError` naming the folder, the space needed and available, and the flags that change them. Every
    process stops when one fails (collective under several processes)."""
    problem = None
    if args.should_save:
        try:
            check_output_writable(args.output_dir)
            max_steps, epochs = planned_steps(args, num_rows, batch_size)
            check_free_space(args.output_dir, estimate_save_bytes(model, args, max_steps, epochs,
                                                                  extra_per_save=extra_per_save))
        except OutputCheckError as error:
            problem = error
    if not all_ranks_true(problem is None, args.device):
        raise problem or OutputCheckError("the output folder check failed on another process (see its error).")


def older_run_files(folder: str, own_files: Iterable[str] = (), first_save: bool = True) -> list[str]:
    """The top-level files of `folder` that a save writes (`SAVED_FILE_PATTERNS` and `own_files`) and, when
    `first_save`, the results and plots written beside a model (`OLDER_RUN_EXTRAS`); sub-folders (checkpoints)
    and other files (the user's own) are not listed."""
    if not os.path.isdir(folder):
        return []
    patterns = (*SAVED_FILE_PATTERNS, *own_files, *(OLDER_RUN_EXTRAS if first_save else ()))
    return sorted(entry.name for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False)
                  and any(fnmatch.fnmatch(entry.name, pattern) for pattern in patterns))


def remove_older_run_files(folder: str, own_files: Iterable[str] = (), first_save: bool = True) -> list[str]:
    """Removes `older_run_files(folder, ...)` before a save writes there; returns their names."""
    removed = older_run_files(folder, own_files, first_save)
    for name in removed:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, name))
    if removed:
        logger.info("Removed %d file(s) of the model saved before in %s: %s.", len(removed), folder, ", ".join(removed))
    return removed


def last_checkpoint_sentence(output_dir: str) -> str:
    """Where the newest complete checkpoint of `output_dir` is (or that there is none), as a sentence."""
    newest, _ = last_complete_checkpoint(output_dir)
    if newest is None:
        return f"There is no complete checkpoint in {output_dir}."
    return (f"The last complete checkpoint is {newest}, left as it was: resume from it "
            "(train(resume_from_checkpoint=True), or --resume_from_checkpoint) once the cause is fixed.")


def _write_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OSError, RuntimeError)
    with contextlib.suppress(ImportError):
        from safetensors import SafetensorError

        errors += (SafetensorError,)
    return errors


@contextlib.contextmanager
def reporting_save_failure(folder: str, output_dir: str) -> Iterator[None]:
    """Turns an error while writing `folder` (an `OSError`, a `SafetensorError` or torch's `RuntimeError` of a full
    disk) into a `SaveFailedError` that names the folder, the cause and the newest complete checkpoint of
    `output_dir` (`last_checkpoint_sentence`), and logs it. Other errors (and kills) pass unchanged."""
    try:
        yield
    except SaveFailedError:
        raise
    except _write_errors() as error:
        message = (f"saving {folder} failed ({type(error).__name__}: {error}). {last_checkpoint_sentence(output_dir)} "
                   f"If the disk is full: {SPACE_FLAGS}.")
        logger.error(message)
        raise SaveFailedError(message) from error
