"""Is training still sane? Non-finite weights and diverging runs, judged cheaply.

- `first_non_finite_parameter`: the first parameter holding a NaN or inf (one host sync for the whole model),
  checked before every save (`check_finite_before_save`) and when `skip_non_finite_steps` has skipped too many
  steps in a row.
- `DivergenceWatch`: reads the values the trainer logs anyway (no per-step host sync) and says once when the run
  has left a sane range (the rule is in its docstring and in docs/FAILURES.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

from .distributed import all_ranks_true
from .output_checks import last_checkpoint_sentence

GRAD_NORM_LIMIT = 1e4  # a logged gradient norm above this (before clipping) is a divergence
CHANCE_BAND = 0.02  # an ITC loss at or above (1 - this) x its chance level is "at chance"
LEARNT_MARGIN = 0.10  # ... which counts once a logged ITC loss has been this far below chance


def first_non_finite_parameter(model: nn.Module) -> str | None:
    """The name of the first parameter of `model` holding a NaN or inf, or None; the local shard of a sharded
    (DTensor) parameter is read. One host sync for the whole model."""
    named = list(model.named_parameters())
    if not named:
        return None
    device = named[0][1].device
    flags = torch.stack([torch.isfinite(_local(p.detach())).all().to(device) for _, p in named])
    if bool(flags.all()):
        return None
    return named[int((~flags).nonzero()[0, 0])][0]


def check_finite_before_save(model: nn.Module, device: torch.device, output_dir: str, run_dir: str,
                             step: int) -> None:
    """Raises `FloatingPointError` naming the first non-finite parameter of `model` before a save into
    `output_dir` would write it, and the last complete checkpoint of `run_dir`; decided together by every process
    (collective: every rank saves)."""
    name = first_non_finite_parameter(model)
    if all_ranks_true(name is None, device):
        return
    what = f"parameter {name} holds" if name else "a parameter of another process holds"
    raise FloatingPointError(
        f"not saving {output_dir}: {what} NaN or inf values at step {step}, and a checkpoint with them could only "
        f"be resumed into the same failure. {last_checkpoint_sentence(run_dir)} Lower the learning rate or check "
        "the data.")


def _local(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.to_local() if hasattr(tensor, "to_local") else tensor


def chance_level(images: int, texts: int) -> float:
    """The softmax ITC-hn loss of uniform similarities: the mean of image->text cross-entropy over `texts`
    candidates (captions and negatives) and text->image over `images` candidates."""
    return (math.log(texts) + math.log(images)) / 2 if images > 0 and texts > 0 else float("nan")


class DivergenceWatch:
    """Warns once when a run diverges, from the values of its training logs.

    The rule, at each training log (`logging_steps`), from values the Trainer computes anyway:

    - the gradient norm (`grad_norm`, logged before clipping) is not finite or above `GRAD_NORM_LIMIT` (1e4; a
      sane CLIP fine-tune stays in the single or double digits), or
    - softmax ITC only: the ITC loss is back at chance, at or above 98% of the loss of uniform similarities
      (`chance_level`, ln of the candidates, e.g. ln B without negatives), after an earlier log had it at least
      10% below chance: the model had learnt and lost it (a run that starts at chance, like one from a random
      initialisation, is not judged by this rule; the gradient norm still is).

    Chance levels are counted per training step from the batch shapes (`record`, host integers only) and averaged
    over the logging window. Only one warning per run: a diverged run would repeat it at every log.
    """

    def __init__(self, contrastive: str = "softmax", grad_norm_limit: float = GRAD_NORM_LIMIT) -> None:
        self.contrastive = contrastive
        self.grad_norm_limit = grad_norm_limit
        self.warned = False
        self.best_ratio: float | None = None
        self._chance_sum = 0.0
        self._chance_steps = 0

    def record(self, images: int, texts: int) -> None:
        """Counts the chance level of one training batch (`images` images against `texts` captions and negatives,
        after any gathering across processes)."""
        if self.contrastive == "softmax":
            self._chance_sum += chance_level(images, texts)
            self._chance_steps += 1

    def _window_chance(self) -> float | None:
        chance = self._chance_sum / self._chance_steps if self._chance_steps else None
        self._chance_sum, self._chance_steps = 0.0, 0
        return chance

    def check(self, logs: Mapping[str, float], step: int, chance: float | None = None) -> str | None:
        """The warning for this training log (`logs` holds `grad_norm`, `itc_loss`, `learning_rate` when logged),
        or None; `chance` defaults to the mean chance level recorded since the last log. Once it has warned, None."""
        chance = self._window_chance() if chance is None else chance
        if self.warned:
            return None
        problems = []
        grad_norm = logs.get("grad_norm")
        if grad_norm is not None and not (math.isfinite(grad_norm) and grad_norm <= self.grad_norm_limit):
            problems.append(f"the gradient norm is {grad_norm:.3g} (above {self.grad_norm_limit:g})")
        itc = logs.get("itc_loss")
        if self.contrastive == "softmax" and chance and math.isfinite(chance) and itc is not None \
                and math.isfinite(itc):
            ratio = itc / chance
            if self.best_ratio is not None and self.best_ratio <= 1 - LEARNT_MARGIN and ratio >= 1 - CHANCE_BAND:
                problems.append(f"itc_loss is {itc:.4g}, back at chance ({chance:.4g}, uniform similarities) after "
                                f"{self.best_ratio * chance:.4g} earlier")
            self.best_ratio = ratio if self.best_ratio is None else min(self.best_ratio, ratio)
        if not problems:
            return None
        self.warned = True
        rate = logs.get("learning_rate")
        rate_text = f" (learning_rate is {rate:.3g})" if rate is not None else " (learning_rate)"
        return (f"Training looks diverged at step {step}: {'; '.join(problems)}. Lower the learning rate{rate_text}, "
                "add warmup (--warmup_steps) or clip gradients (--max_grad_norm), and resume from a checkpoint "
                "written before this step. Warned once.")
