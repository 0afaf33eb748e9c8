"""Is a checkpoint folder complete, which one to resume from, and the loss state saved beside its weights.

A kill during a save leaves files missing or cut short. `FineGrainedTrainer.train(resume_from_checkpoint=True)`
resumes from `last_complete_checkpoint` (`checkpoint_to_resume`) and names the newer folders it passes over, with
`checkpoint_problems` as the reason. `finegrained_state.json` (`STATE_NAME`) holds the CMR thresholds by type name
(`FineGrainedLoss.threshold_state`) and the count of skipped non-finite steps, as strict JSON.

Kept by hand beside transformers' helpers (docs/DESIGN.md, "Kept by hand"): `transformers.trainer_utils.
get_last_checkpoint` takes the same folders for checkpoints and names the same one when it is complete
(tests/test_checkpoints.py), but it returns only the newest folder, complete or not, and never the next one, so passing
over an interrupted save still needs the list below. The loss state is not a Trainer "stateful callback"
(`ExportableState` in `trainer_state.json`): those are restored only with `restore_callback_states_from_checkpoint`
(off by default, and it restores every other stateful callback too), by building a new callback from JSON
arguments (not the loss that holds the thresholds, nor the objects the trainer keeps references to), only from
checkpoints (not the final save), and a checkpoint without them resumes silently; the state file keeps each of those.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import zipfile
from typing import Any

from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .files import atomic_write

logger = logging.getLogger(__name__)
STATE_NAME = "finegrained_state.json"
JIT_SENTINEL = "checkpoint-is-incomplete.txt"  # present while transformers' just-in-time checkpoint is saved
_CHECKPOINT_DIR = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def _safetensors_problem(path: str) -> str | None:
    """Why a safetensors file is cut short, or None: it must hold exactly the bytes its header announces."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"is truncated ({size} bytes, no header)"
        length = struct.unpack("<Q", head)[0]
        if 8 + length > size:
            return f"is truncated ({size} bytes, header of {length} bytes)"
        try:
            header = json.loads(handle.read(length))
        except ValueError:
            return "has an unreadable header"
    end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    return None if size == 8 + length + end else f"is truncated ({size} of {8 + length + end} bytes)"


def checkpoint_problems(folder: str) -> list[str]:
    """Why `folder` is not a complete checkpoint; [] when it is.

    A kill during a save leaves files missing or cut short. `Trainer` writes `trainer_state.json` last, so a
    complete checkpoint has it; every JSON file must parse, every safetensors file must hold all the bytes
    its header announces, every torch archive (`*.pt`, `*.pth`, `*.bin`) must end with its zip directory,
    every shard of a weights index must exist, and no just-in-time save may be under way.
    """
    problems = []
    if os.path.exists(os.path.join(folder, JIT_SENTINEL)):
        problems.append(f"{JIT_SENTINEL} is present (a just-in-time save was interrupted)")
    if not os.path.isfile(os.path.join(folder, TRAINER_STATE_NAME)):
        problems.append(f"{TRAINER_STATE_NAME} is missing (the save stopped before its last file)")
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        if name.endswith(".json"):
            try:
                with open(path, encoding="utf-8") as handle:
                    content = json.load(handle)
            except (ValueError, UnicodeDecodeError) as error:
                problems.append(f"{name} is not valid JSON ({error})")
                continue
            if name.endswith(".index.json") and isinstance(content, dict):
                missing = sorted(set(content.get("weight_map", {}).values()) - set(os.listdir(folder)))
                if missing:
                    problems.append(f"{name} names missing shards {missing}")
        elif name.endswith(".safetensors"):
            problem = _safetensors_problem(path)
            if problem:
                problems.append(f"{name} {problem}")
        elif name.endswith((".pt", ".pth", ".bin")) and not zipfile.is_zipfile(path):
            problems.append(f"{name} is truncated (not a complete torch archive)")
    return problems


def last_complete_checkpoint(output_dir: str) -> tuple[str | None, dict[str, list[str]]]:
    """The complete `checkpoint-<step>` folder of highest step in `output_dir` (None if there is none), and
    the problems of every newer folder it passed over, by folder name."""
    if not os.path.isdir(output_dir):
        return None, {}
    steps = {name: int(match.group(1)) for name in os.listdir(output_dir)
             if (match := _CHECKPOINT_DIR.match(name)) and os.path.isdir(os.path.join(output_dir, name))}
    skipped = {}
    for name in sorted(steps, key=steps.get, reverse=True):
        problems = checkpoint_problems(os.path.join(output_dir, name))
        if not problems:
            return os.path.join(output_dir, name), skipped
        skipped[name] = problems
    return None, skipped


def checkpoint_to_resume(output_dir: str, resume_from_checkpoint: str | bool) -> str:
    """The folder to resume from: for True the newest complete checkpoint of `output_dir` (logging every newer one
    passed over, with the reason), else the folder named, which must be complete; a ValueError saying what to do
    otherwise."""
    if resume_from_checkpoint is True:
        path, skipped = last_complete_checkpoint(output_dir)
        for name, problems in skipped.items():
            logger.warning("Not resuming from %s, left incomplete by an interrupted save: %s.",
                           os.path.join(output_dir, name), "; ".join(problems))
        if path is None:
            listed = "".join(f"\n- {name}: {'; '.join(problems)}" for name, problems in skipped.items())
            raise ValueError(
                f"resume_from_checkpoint=True but there is no complete checkpoint in {output_dir}"
                f"{listed}\nTrain without resume_from_checkpoint, or pass the folder of a complete checkpoint."
            )
        logger.info("Resuming from %s, the newest complete checkpoint.", path)
        return path
    path = str(resume_from_checkpoint)
    if not os.path.isdir(path):
        raise ValueError(f"resume_from_checkpoint={path!r} is not a folder.")
    problems = checkpoint_problems(path)
    if problems:
        newest, _ = last_complete_checkpoint(os.path.dirname(os.path.abspath(path)))
        hint = f" The newest complete checkpoint beside it is {newest}." if newest else ""
        raise ValueError(
            f"{path} is incomplete (an interrupted save?): {'; '.join(problems)}.{hint} Resume from a "
            "complete checkpoint, or with resume_from_checkpoint=True to take the newest complete one."
        )
    return path


def _strict_json_constant(name: str) -> float:
    raise ValueError(f"non-finite value {name} (strict JSON has no NaN or Infinity)")


def write_loss_state(folder: str, state: dict[str, Any]) -> None:
    """Writes `folder/STATE_NAME` (the loss's thresholds and the trainer's counts), atomically, as strict JSON."""
    os.makedirs(folder, exist_ok=True)
    atomic_write(os.path.join(folder, STATE_NAME), lambda handle: json.dump(state, handle, indent=2, allow_nan=False))


def read_loss_state(folder: str) -> dict[str, Any] | None:
    """What `write_loss_state` wrote in `folder` (None when the file is absent); a ValueError naming the file when
    it cannot be read or holds a non-finite value."""
    path = os.path.join(folder, STATE_NAME)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle, parse_constant=_strict_json_constant)
    except ValueError as error:
        raise ValueError(f"Cannot read {path}: {error}. Resume from another checkpoint.") from error


def loss_state_to_resume(checkpoint_dir: str, allow_missing: bool, initial: Any) -> dict[str, Any] | None:
    """The loss state to resume from in `checkpoint_dir` (`read_loss_state`). A missing file is a ValueError saying
    what to do, unless `allow_missing` (`resume_without_loss_state`): then a warning naming the `initial` thresholds
    the run restarts from, and None."""
    path = os.path.join(checkpoint_dir, STATE_NAME)
    state = read_loss_state(checkpoint_dir)
    if state is not None:
        return state
    if not allow_missing:
        raise ValueError(
            f"{path} is missing, so the CMR thresholds of this checkpoint are unknown; restarting them "
            "would make the resumed run diverge from an uninterrupted one. Resume from a checkpoint "
            "written by FineGrainedTrainer, or set resume_without_loss_state=True "
            "(--resume_without_loss_state) to resume anyway with the thresholds restarting."
        )
    logger.warning(
        "%s is missing: resuming anyway (resume_without_loss_state=True); the CMR thresholds restart "
        "from %s, so this run diverges from an uninterrupted one.", path, initial.tolist()
    )
    return None
