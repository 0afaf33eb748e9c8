"""The teacher of the distillation term: a frozen copy of the starting weights, or their moving average.

`DistillationTeacher` keeps its own copy of the model, never in the optimizer and always without gradient.
`"frozen"` stays the weights the trainer was built with (a resumed run rebuilds it from the model given to
the trainer, so give it the same starting model); `"ema"` follows the student after every optimizer step,
`teacher <- decay * teacher + (1 - decay) * student` (DeGLA's self-distillation teacher), and is saved beside
every checkpoint (`TEACHER_NAME`) so a resume continues it bit for bit.
"""

from __future__ import annotations

import copy
import logging
import os

import torch
from torch import nn

from .families import ModelFamily, family_of

logger = logging.getLogger(__name__)
TEACHER_NAME = "distill_teacher.safetensors"
TEACHER_KINDS = ("frozen", "ema")


class DistillationTeacher:
    """A no-gradient copy of `model` (the plain model under DDP/PEFT wrappers, adapters included).

    Args:
        model: the student as it starts (a supported model, or a PEFT model whose adapters start at zero).
        kind: "frozen" or "ema".
        decay: the EMA decay, in (0, 1); ignored for "frozen".
        family: the model's family (default: found from `model`).

    Costs one more copy of the weights in memory and one forward of the images and captions per step.
    """

    def __init__(self, model: nn.Module, kind: str = "frozen", decay: float = 0.999,
                 family: ModelFamily | None = None) -> None:
        if kind not in TEACHER_KINDS:
            raise ValueError(f"distill_teacher must be one of {TEACHER_KINDS}, got {kind!r}")
        self.kind = kind
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        self.family = family or family_of(model)
        self.model.requires_grad_(False)

    @torch.no_grad()
    def encode(self, inputs: dict[str, torch.Tensor], batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The teacher's image [B, D] and caption [B, D] embeddings of a collated batch's first `batch` texts
        (the captions; the negatives are not encoded)."""
        device = inputs["pixel_values"].device
        if next(self.model.parameters()).device != device:
            self.model.to(device)
        return self.family.caption_embeddings(self.model, inputs, batch)

    @torch.no_grad()
    def update(self, student: nn.Module) -> None:
        """One EMA step towards `student`'s current weights (nothing for a frozen teacher)."""
        if self.kind != "ema":
            return
        current = student.state_dict()
        for name, tensor in self.model.state_dict().items():
            if tensor.is_floating_point():
                tensor.lerp_(current[name].to(device=tensor.device, dtype=tensor.dtype), 1.0 - self.decay)

    def save(self, folder: str) -> str | None:
        """Writes an EMA teacher's weights to `folder/TEACHER_NAME`; a frozen one writes nothing."""
        if self.kind != "ema":
            return None
        from safetensors.torch import save

        from .files import atomic_write

        path = os.path.join(folder, TEACHER_NAME)
        state = {name: tensor.detach().contiguous().cpu() for name, tensor in self.model.state_dict().items()}
        atomic_write(path, lambda handle: handle.write(save(state)), binary=True)
        return path

    def load(self, folder: str) -> bool:
        """Restores an EMA teacher from `folder/TEACHER_NAME`; False when the file is absent."""
        path = os.path.join(folder, TEACHER_NAME)
        if self.kind != "ema" or not os.path.isfile(path):
            return False
        from safetensors.torch import load_file

        state = load_file(path)
        missing = sorted(set(self.model.state_dict()) - set(state))
        if missing:
            raise ValueError(f"{path} does not hold the teacher's {missing[0]!r} (and {len(missing) - 1} more): it "
                             "was written for another model. Resume from a checkpoint of this run.")
        self.model.load_state_dict(state, strict=True)
        return True

    def checkpoint_bytes(self) -> int:
        """What `save` writes into every checkpoint, in bytes (0 for a frozen teacher)."""
        if self.kind != "ema":
            return 0
        return sum(t.numel() * t.element_size() for t in self.model.state_dict().values())

    def resume(self, folder: str, allow_missing: bool = False) -> None:
        """Restores an EMA teacher from a checkpoint `folder` (a frozen one has nothing to restore). A missing file
        is an error, or with `allow_missing` (`resume_without_loss_state`) a warning: the teacher restarts from the
        weights given to the trainer."""
        if self.kind != "ema" or self.load(folder):
            return
        path = os.path.join(folder, TEACHER_NAME)
        if not allow_missing:
            raise ValueError(
                f"{path} is missing, so the EMA teacher of this checkpoint is unknown. Resume from a checkpoint "
                "written with distill_teacher='ema', or set resume_without_loss_state=True to restart the teacher "
                "from the weights given to the trainer."
            )
        logger.warning("%s is missing: the EMA teacher restarts from the weights given to the trainer.", path)
