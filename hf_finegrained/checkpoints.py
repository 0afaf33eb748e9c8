"""Is a checkpoint folder complete? A kill during a save leaves files missing or cut short.

`FineGrainedTrainer.train(resume_from_checkpoint=True)` resumes from `last_complete_checkpoint` and names the
newer folders it passes over, with `checkpoint_problems` as the reason.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile

from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

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
