"""What `FineGrainedTrainer` does and collects around its steps, one callback per job.

Acting after optimizer steps: `LogitScaleClampCallback` (CLIP's clamp), `TeacherUpdateCallback` (the EMA
teacher), `SkipNonFiniteStepCallback` (dropping the gradients of a step with a non-finite loss, counting them,
stopping after too many in a row).

Collecting from the batches, which `compute_loss` hands them (a Trainer event does not carry a batch's loss):
`LossCurves` (the logged curves: loss components, logit scale and thresholds, summed on the device and averaged
at log time; the divergence watch), `StreamRowsCallback` (a training stream's read and skipped rows, the skip-rate
stop, the summary at the end of training) and `CardDataCallback` (the model card's data: the `CardInfo` filled at
construction, the coverage of the rows actually trained on, a stream's counts).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import nn
from transformers import TrainerCallback

from .families import unwrap
from .health import DivergenceWatch, first_non_finite_parameter
from .model_card import CardInfo
from .output_checks import last_checkpoint_sentence
from .rows import NegativeCounts
from .streaming import NAMED_ROWS, StreamCounts
from .teacher import DistillationTeacher

logger = logging.getLogger(__name__)


class LogitScaleClampCallback(TrainerCallback):
    """Clamps `logit_scale` (log space) to [0, max] after every optimizer step, as CLIP does (added only for
    families that clamp: `ModelFamily.clamps_scale`)."""

    def __init__(self, maximum: float) -> None:
        self.maximum = maximum

    def on_optimizer_step(self, args, state, control, model=None, **kwargs) -> None:
        if model is not None:
            with torch.no_grad():
                unwrap(model).logit_scale.clamp_(0.0, self.maximum)


class TeacherUpdateCallback(TrainerCallback):
    """Moves an EMA distillation teacher towards the model after every optimizer step (after the clamp)."""

    def __init__(self, teacher: DistillationTeacher) -> None:
        self.teacher = teacher

    def on_optimizer_step(self, args, state, control, model=None, **kwargs) -> None:
        if model is not None:
            self.teacher.update(unwrap(model))


class SkipNonFiniteStepCallback(TrainerCallback):
    """Stops training at a non-finite loss, or (`skip`) drops every gradient just before the optimizer step one of
    whose micro-batches had one, and counts the skipped steps (`skipped`).

    Each training micro-batch's finite flag (all processes) stays on the device (`record`); the flags are read once,
    just before the optimizer step (`check`, from `on_pre_optimizer_step`): one host sync per optimizer step, the
    one the guarantee needs (the step must not be applied), none per micro-batch. The micro-batch's backward runs
    (under DDP every rank must take part) and leaves NaN gradients; stopping then raises before the optimizer
    step, and skipping drops the gradients: parameters without a gradient are left alone by the optimizer, moments
    and weight decay included. The `max_consecutive`-th skipped step in a row raises `FloatingPointError` naming
    the step and the first non-finite parameter (every rank skips the same steps, so every rank raises).
    """

    def __init__(self, max_consecutive: int = 10, output_dir: str | None = None, skip: bool = True) -> None:
        self.recorded: list[tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor, int]] = []
        self.pending = False
        self.consecutive = 0
        self.skipped = 0
        self.max_consecutive = max_consecutive
        self.output_dir = output_dir
        self.skip = skip

    def record(self, finite: torch.Tensor, out: dict[str, torch.Tensor], logit_scale: torch.Tensor, step: int) -> None:
        """Keeps a training micro-batch's finite flag (0-d bool, on the device, True only when the loss is finite on
        every process) and its loss components, unread until `check`."""
        values = {key: out[key].detach() for key in ("loss", "itc_loss", "imc_loss", "cmr_loss")}
        self.recorded.append((finite, values, logit_scale.detach(), step))

    def check(self) -> bool:
        """Whether every micro-batch recorded since the last check had a finite loss: one host read of their flags.
        At a non-finite one, `non_finite_loss` raises or marks the optimizer step to be skipped."""
        recorded, self.recorded = self.recorded, []
        if not recorded:
            return True
        flags = torch.stack([finite for finite, _, _, _ in recorded])
        if bool(flags.all()):  # the one host sync of an optimizer step
            return True
        _, out, logit_scale, step = recorded[int((~flags).nonzero()[0, 0])]
        self.non_finite_loss(out, logit_scale, step)
        return False

    def non_finite_loss(self, out: dict[str, torch.Tensor], logit_scale: torch.Tensor, step: int) -> None:
        """At a non-finite loss (on any process) of training step `step`: raises, or marks the step to be skipped."""
        value = out["loss"].item()
        where = " on another process" if math.isfinite(value) else ""
        details = ", ".join(f"{key}={out[key].item():.4g}" for key in ("itc_loss", "imc_loss", "cmr_loss"))
        details += f", logit_scale={logit_scale.item():.4g}"
        if not self.skip:
            raise FloatingPointError(
                f"non-finite loss ({value}){where} at step {step} ({details}). Training stopped before the "
                "optimizer step of this step; nothing of it was applied or saved. Look for NaN/inf inputs or "
                "weights (a learning rate too high?), resume from the last checkpoint, or set "
                "skip_non_finite_steps=True (--skip_non_finite_steps) to skip such steps and count them."
            )
        self.pending = True
        self.skipped += 1
        logger.warning("Non-finite loss (%s)%s at step %d (%s): the step is skipped (%d skipped so far).",
                       value, where, step, details, self.skipped)

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs) -> None:
        self.check()
        self.consecutive = self.consecutive + 1 if self.pending else 0
        if self.pending and model is not None:
            if self.consecutive >= self.max_consecutive:
                raise FloatingPointError(self._message(state.global_step + 1, model))
            model.zero_grad(set_to_none=True)
        self.pending = False

    def _message(self, step: int, model: nn.Module) -> str:
        name = first_non_finite_parameter(unwrap(model))
        cause = (f"The first non-finite parameter is {name}: skipping steps cannot repair a weight."
                 if name else "Every parameter is finite: the inputs or the loss make the loss non-finite.")
        where = f" {last_checkpoint_sentence(self.output_dir)}" if self.output_dir else ""
        return (f"{self.consecutive} optimizer steps in a row (steps {step - self.consecutive + 1} to {step}) had a "
                f"non-finite loss and were skipped; training stopped at step {step} "
                f"(max_consecutive_non_finite_steps={self.max_consecutive}). {cause}{where} Lower the learning rate "
                "or check the data, or raise --max_consecutive_non_finite_steps.")


class LossCurves:
    """The logged curves: each step's loss components, logit scale and thresholds, summed on the model's device
    (no host sync per step) and averaged over steps and processes when the Trainer logs or ends an evaluation;
    the divergence watch of the training steps (`health.DivergenceWatch`).

    `names`: the logged keys in order, e.g. ``itc_loss, imc_loss, cmr_loss[, distill_loss], logit_scale,
    threshold/<type>...``.
    """

    def __init__(self, negative_types: list[str], distill: bool, contrastive: str, gathered_processes: int) -> None:
        self.loss_names = ["itc_loss", "imc_loss", "cmr_loss"] + (["distill_loss"] if distill else [])
        self.names = [*self.loss_names, "logit_scale", *(f"threshold/{t}" for t in negative_types)]
        self.sums: dict[str, torch.Tensor | None] = {"train": None, "eval": None}
        self.counts: dict[str, int | torch.Tensor] = {"train": 0, "eval": 0}  # a tensor once a step was weighed
        self.divergence = DivergenceWatch(contrastive)
        self.gathered_processes = gathered_processes  # processes whose rows each loss sees (gathering)

    def record(self, out: dict[str, torch.Tensor], logit_scale: torch.Tensor, thresholds: torch.Tensor,
               training: bool, images: int, texts: int, counted: torch.Tensor | None = None) -> None:
        """Adds one step's values (`out` of `FineGrainedLoss`, the scale, the thresholds [K] after the step) to
        the running sums of its mode; a training step's batch shapes (`images`, `texts` on this process) go to
        the divergence watch. `counted` (0-d bool on the device; None: True) leaves the step out of the sums and
        the count when False (a non-finite loss), decided on the device: no host sync."""
        values = torch.cat([torch.stack([*(out[key] for key in self.loss_names), logit_scale]).float(),
                            thresholds.float()]).detach()
        mode = "train" if training else "eval"
        step = 1
        if counted is not None:
            values = torch.where(counted, values, torch.zeros_like(values))
            step = counted.to(torch.int64)
        total = self.sums[mode]
        self.sums[mode] = values if total is None else total + values
        self.counts[mode] = self.counts[mode] + step
        if training:  # shapes only: no host sync
            self.divergence.record(images * self.gathered_processes, texts * self.gathered_processes)

    def averaged(self, mode: str, accelerator: Any, device: torch.device) -> dict[str, float]:
        """The means of the recorded values since the last call, over its steps and over every process.

        Collective under several processes: every rank calls it, as every rank calls `log` and evaluates.
        """
        total, count = self.sums[mode], self.counts[mode]
        self.sums[mode], self.counts[mode] = None, 0
        count = int(count)  # read here, at log time
        if accelerator.num_processes > 1:
            size = len(self.names)
            local = torch.zeros(size + 1, device=device)
            if total is not None:
                local[:size] = total.to(local.device)
            local[size] = count
            summed = accelerator.reduce(local, reduction="sum")
            total, count = summed[:size], int(summed[size].item())
        if total is None or not count:
            return {}
        return dict(zip(self.names, (total / count).tolist()))


class StreamRowsCallback(TrainerCallback):
    """A training stream's rows: the counts each batch carries (`streaming.StreamCollator`) are added up, newly
    named bad rows logged, training stopped once their share passes `max_bad_row_rate`; the bad rows are summed
    up in the log at the end of training. `counts`: this process's; `card_counts`: every process's, as of the last
    save (`gather`, collective)."""

    def __init__(self, max_bad_row_rate: float) -> None:
        self.counts = StreamCounts()
        self.card_counts: StreamCounts | None = None
        self.max_bad_row_rate = max_bad_row_rate

    def add(self, info: dict[str, Any] | None, step: int) -> None:
        """Adds a batch's counts of checked rows (None: a batch without them), at training step `step`."""
        if info is None:
            return
        counts = self.counts
        for name in counts.add(info):
            logger.warning("Skipped a bad training row: %s (%d bad of %d rows read so far by this process; the "
                           "first %d are named, later ones only counted).", name, counts.skipped, counts.read,
                           NAMED_ROWS)
        counts.check(self.max_bad_row_rate, step)

    def gather(self, world_size: int) -> None:
        """`card_counts` from the counts of every process (collective under several processes: every rank saves)."""
        if world_size <= 1 or not torch.distributed.is_initialized():
            self.card_counts = StreamCounts.merged([self.counts])
            return
        parts: list[Any] = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(parts, self.counts)
        self.card_counts = StreamCounts.merged(parts)

    def on_train_end(self, args, state, control, **kwargs) -> None:
        if self.counts.skipped:
            logger.warning("%d of the %d training rows read by this process were bad and skipped (named in the "
                           "model card).", self.counts.skipped, self.counts.read)


class CardDataCallback(TrainerCallback):
    """The model card's data: `info` (filled at construction from the data report, completed by the user before a
    save: dataset name, benchmark results) and the per-type coverage of the rows trained on in this process (the
    card's coverage of a training set that could not be counted ahead, a stream)."""

    def __init__(self, info: CardInfo, negative_types: list[str]) -> None:
        self.info = info
        self.negative_types = list(negative_types)
        self._sums: torch.Tensor | None = None  # [K + 2]: usable per type, rows, rows without any; on the device

    def add_trained(self, negative_mask: torch.Tensor | None, counted: torch.Tensor | None = None) -> None:
        """Counts the rows of a training batch from the collator's `negative_mask` [B, K] (None: no negatives), on
        the device (read only by `trained`); `counted` (0-d bool) False leaves the batch out (a skipped step)."""
        if negative_mask is None:
            return
        present = negative_mask.to(torch.int64)
        rows = present.new_full((1,), present.shape[0])
        sums = torch.cat([present.sum(0), rows, (present.sum(1) == 0).sum().reshape(1)])
        if counted is not None:
            sums = sums * counted.to(torch.int64)
        self._sums = sums if self._sums is None else self._sums + sums

    @property
    def trained(self) -> NegativeCounts:
        """The per-type coverage of the rows trained on in this process (read from the device here)."""
        counts = NegativeCounts(self.negative_types)
        if self._sums is not None:
            *usable, counts.rows, counts.rows_without = self._sums.tolist()
            counts.usable = dict(zip(self.negative_types, usable))
        return counts

    def complete(self, stream: StreamCounts | None) -> CardInfo:
        """`info`, its coverage taken from the rows trained on where the data could not be counted ahead, and a
        stream's read and skipped rows (image file names only: the card is published)."""
        info, trained = self.info, self.trained
        if not info.negative_coverage and trained.rows:
            info.num_train_rows = trained.rows
            info.negative_coverage = dict(trained.usable)
        if stream is not None and stream.read:
            info.data_checks = {**info.data_checks, **stream.card_entries()}
            info.data_checks_when = "as the stream was read"
            info.skipped_rows = list(stream.public)
        return info
