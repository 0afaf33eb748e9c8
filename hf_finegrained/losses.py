"""The CE-CLIP objective: ITC with hard negatives + IMC + CMR with adaptive per-type thresholds.

ITC comes in two forms, each its own small class in `contrastive.py`: CLIP's softmax cross-entropy (the paper's)
and SigLIP's sigmoid (per-pair binary) loss.

The loss takes embeddings only, so its maths is tested without a model. See ``docs/LOSS.md`` for the
derivation and for every place where it departs from the reference implementation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from .contrastive import CONTRASTIVE_FORMS, contrastive_form
from .distributed import gather_no_grad, gather_with_grad, is_distributed, sum_across_ranks

if TYPE_CHECKING:  # only for hints
    from .families import ModelFamily

logger = logging.getLogger(__name__)


# Units of the CMR thresholds, their bound and a fixed threshold. "logit": multiples of the logit scale's unit,
# like ``s<v, t>`` (the paper's and the reference code's); "cosine": cosine similarity, the logit value divided by
# the scale ``s``, so one setting means the same margin at any scale.
THRESHOLD_UNITS = ("cosine", "logit")
DEFAULT_THRESHOLD_UNITS = "cosine"  # chosen on the synthetic world's validation split: docs/LOSS.md
PAPER_LOGIT_SCALE = 100.0  # CLIP's scale when the paper fine-tunes it (exp of logit_scale, clamped at 100)
PAPER_THRESHOLD_BOUND = 10.0  # the paper's threshold bound, in logit units at PAPER_LOGIT_SCALE
# The loss settings' defaults, read by `FineGrainedLoss` and by `FineGrainedTrainingArguments`' fields alike.
PAPER_IMC_WEIGHT = 0.3
PAPER_CMR_WEIGHT = 0.2
DEFAULT_GATHER_ACROSS_DEVICES = True  # the loss and thresholds of the global batch (no effect on one process)


def default_threshold_bound(units: str) -> float:
    """The paper's bound in ``units``: 10 in logit units, or the same margin at the paper's scale 100 in
    cosine units (0.1)."""
    if units not in THRESHOLD_UNITS:
        raise ValueError(f"threshold_units must be one of {THRESHOLD_UNITS}, got {units!r}.")
    return PAPER_THRESHOLD_BOUND if units == "logit" else PAPER_THRESHOLD_BOUND / PAPER_LOGIT_SCALE


def loss_setting_problems(
    num_negative_types: int = 0,
    imc_weight: float = PAPER_IMC_WEIGHT,
    cmr_weight: float = PAPER_CMR_WEIGHT,
    threshold_upper_bound: float | None = None,
    fixed_threshold: float | None = None,
    distill_weight: float = 0.0,
    contrastive: str | None = "softmax",
    threshold_units: str = DEFAULT_THRESHOLD_UNITS,
) -> list[str]:
    """Every problem of a set of loss settings, one sentence each (empty when they are valid): the one check
    behind `FineGrainedLoss` (which raises on the first) and `FineGrainedTrainingArguments` (which lists all)."""
    problems = []
    if threshold_units not in THRESHOLD_UNITS:
        problems.append(f"threshold_units must be one of {THRESHOLD_UNITS}; got {threshold_units!r}.")
    if contrastive is not None and contrastive not in CONTRASTIVE_FORMS:  # None: chosen later (by the family)
        problems.append(f"contrastive must be one of {tuple(CONTRASTIVE_FORMS)}; got {contrastive!r}.")
    if isinstance(num_negative_types, bool) or not isinstance(num_negative_types, int) or num_negative_types < 0:
        problems.append(f"num_negative_types must be an integer >= 0; got {num_negative_types!r}.")
    for name, value in (("imc_weight", imc_weight), ("cmr_weight", cmr_weight), ("distill_weight", distill_weight),
                        ("threshold_upper_bound", threshold_upper_bound)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            problems.append(f"{name} must be a finite number >= 0; got {value}.")
    if fixed_threshold is not None and not (math.isfinite(fixed_threshold) and fixed_threshold >= 0):
        problems.append(f"fixed_threshold must be None (adaptive) or a finite number >= 0; got {fixed_threshold}.")
    return problems


def _scalar(value: torch.Tensor | float, name: str, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``value`` (a number or a one-element tensor, e.g. a model's [1] parameter) as a 0-d tensor of
    ``dtype`` on ``device``, keeping its autograd graph."""
    tensor = torch.as_tensor(value, device=device)
    if tensor.numel() != 1:
        raise ValueError(f"{name} must be a number or a one-element tensor; got shape {tuple(tensor.shape)}.")
    return tensor.to(dtype).reshape(())


class FineGrainedLoss(nn.Module):
    """ITC-hn + ``imc_weight`` * IMC + ``cmr_weight`` * CMR, from L2-normalised embeddings.

    With ``v_i`` the image, ``t_i`` the caption and ``n_ik`` the type-``k`` hard negative of row ``i``
    (all normalised here), ``s`` the exponentiated logit scale, ``pos_i = s<v_i, t_i>`` and
    ``neg_ik = s<v_i, n_ik>``. Only negatives whose mask is True take part anywhere:

    - ITC-hn: the form named by ``contrastive`` (``contrastive.CONTRASTIVE_FORMS``), given the B x B logits and
      those of every image against every valid negative of the batch (every image sees every negative).
      ``"softmax"`` (the default and the paper's, ``contrastive.SoftmaxContrastive``): image->text
      cross-entropy over the B captions followed by the negatives; text->image plain BxB cross-entropy; the
      mean of both. ``"sigmoid"`` (SigLIP's loss with hard negatives, ``contrastive.SigmoidContrastive``): with
      ``b`` the logit bias, one binary term per (image, text) pair and per (image, negative) pair, no
      normalisation over the batch; without negatives it is ``transformers``' ``SiglipModel`` loss; it has no
      direction (``i2t_loss`` and ``t2i_loss`` both report ``itc``). The bias enters ITC only: IMC, CMR, the thresholds and distillation
      use the unbiased ``s<., .>`` (IMC and distillation are softmaxes, invariant to a shift of a row; CMR
      and the threshold statistic are differences of two biased logits, where ``b`` cancels).
    - IMC: for caption i, cross-entropy with target 0 over ``[pos_i, s<t_i, n_jk> for all valid n_jk]``.
    - CMR: mean over valid (i, k) of ``relu(u * theta_k + neg_ik - pos_i)``, using the thresholds as they
      stood before this call; 0 when no negative is valid. ``u`` converts the thresholds to logit units: 1 for
      ``threshold_units="logit"``, the scale ``s`` without gradient for ``"cosine"`` (so the hinge is
      ``s * relu(theta_k + cos(v_i, n_ik) - cos(v_i, t_i))`` and its gradient with respect to ``s`` is that of
      the logit form at the same margin).
    - Thresholds (the curriculum), in training mode only and without gradient, after the loss is formed:
      ``theta_k <- clamp((mean_i pos_i - mean_{i valid} neg_ik) / u, 0, threshold_upper_bound)``. A type with no
      valid negative in the batch keeps its previous value, and so does a type whose statistic is not finite
      (a NaN or inf embedding or logit scale): the thresholds never hold a non-finite value. The means are
      those of the global batch on every rank: gathered inputs already are, and without gathering the sums
      behind them (``sum_i pos_i``, ``B``, ``sum_{i valid} neg_ik``, the valid counts) are summed over ranks
      first, so all ranks hold the same thresholds (the reference updates them per process).
    - Fixed thresholds (``fixed_threshold`` set, the paper's Figure 4 baseline): every ``theta_k`` equals
      that value for the whole run and is never updated.
    - Distillation (``distill_weight`` > 0; not in the paper): with a teacher's embeddings ``v'_i``, ``t'_j``
      of the same rows, ``KL(softmax_j(s'<v'_i, t'_j>) || softmax_j(s<v_i, t_j>))`` averaged over the rows,
      image->text and text->image (over the B captions only, never the negatives), mean of both directions;
      ``s'`` is the student's scale without gradient (the teacher's distribution is a fixed target at the
      student's temperature). 0 when student and teacher embeddings are equal. The same softmax KL for both
      forms of ITC (also the sigmoid one: it compares similarity structures, without the bias).

    Threshold units: the paper's thresholds and bound (10) are logit values at CLIP's fine-tuning scale 100,
    where 10 is a cosine margin of 0.1. ``threshold_units="logit"`` keeps them in logit units, as the paper and
    the reference code do; ``"cosine"`` (the default) holds thresholds, bound and ``fixed_threshold`` in cosine
    units, so the bound 0.1 is the paper's margin at any logit scale (a model trained at scale 20 would otherwise
    get a margin of 0.5 from the bound 10). At scale 100 both give the same loss, gradients and thresholds (up to
    rounding; ``theta_cosine = theta_logit / 100``).

    Differences from the reference implementation (also in ``docs/LOSS.md``): the reference keeps
    invalid negatives (empty captions) inside ITC and IMC, divides the CMR sum by B*K instead of the
    number of valid pairs, turns a threshold into NaN for good when a type has no valid negative in a
    batch, and resets the thresholds every epoch. Here thresholds live for the whole run and are saved
    in checkpoints.

    Args:
        num_negative_types: K, the number of hard-negative types (columns of ``negative_embeds``).
        imc_weight: weight of the intra-modal contrastive term.
        cmr_weight: weight of the cross-modal rank term.
        threshold_upper_bound: ceiling of every adaptive threshold, in ``threshold_units``; None (default): the
            paper's bound in those units (10 logit, 0.1 cosine: ``default_threshold_bound``).
        fixed_threshold: None (default) for the adaptive curriculum; a number >= 0 (in ``threshold_units``)
            fixes every threshold at that value instead.
        threshold_units: ``"cosine"`` (default) or ``"logit"`` (the paper's and the reference code's): the units
            of the thresholds, their bound and ``fixed_threshold`` (see above).
        use_hard_negatives: False gives the plain CLIP loss (IMC and CMR are 0, negatives ignored).
        distill_weight: weight of the distillation term (0, the default: off, and no teacher is needed).
        contrastive: ``"softmax"`` (default; CLIP's and the paper's ITC) or ``"sigmoid"`` (SigLIP's; every
            call then needs ``logit_bias``).
        gather_across_devices: True (default; as `FineGrainedTrainingArguments`): under torch.distributed with
            several processes, gather every input from every rank (with gradient) so the loss and thresholds are those of the global batch.
            When False each rank's loss is that of its own batch, but the threshold statistics are still
            summed over ranks (a few floats, one all-reduce per training call), so the thresholds are the
            same on every rank and the ones rank 0 saves are every rank's. Every rank must then call the
            loss in training mode equally often, as DDP already requires. Both forms gather the same way: the
            sigmoid form's sums then run over the pairs and negatives of the global batch.

    Inputs:
        image_embeds: [B, D]. text_embeds: [B, D]. negative_embeds: [B, K, D] (may be None when
        ``use_hard_negatives`` is False). negative_mask: [B, K] bool, True = valid negative.
        negative_positions: optional [M] row-major indices of the True entries of ``negative_mask``
        (`ModelFamily.encode_batch` gives them): the valid negatives are then selected without the host sync
        of a boolean index (not when gathering across several processes).
        logit_scale: the exponentiated scale ``s``, a float or a 0-d (or one-element) tensor (gradient flows
        through it).
        logit_bias: the bias ``b`` of the sigmoid form (``SiglipModel.logit_bias``, not exponentiated), a float
        or a 0-d (or one-element) tensor, gradient flowing through it. Required by the sigmoid form. The
        softmax form ignores it: every one of its terms is invariant to adding one constant to all logits,
        so its value and gradients are those without it (and the bias receives no gradient from it).
        teacher_image_embeds, teacher_text_embeds: [B, D'] each, the teacher's embeddings of the same images
        and captions (needed when ``distill_weight`` > 0; used without gradient; D' may differ from D).

    Returns:
        A dict of scalar tensors: ``loss``, ``itc_loss``, ``imc_loss``, ``cmr_loss``, ``distill_loss``,
        ``i2t_loss``, ``t2i_loss``, ``num_valid_negatives``, and ``thresholds`` [K] (the values this call used).
    """

    thresholds: torch.Tensor

    def __init__(
        self,
        num_negative_types: int,
        imc_weight: float = PAPER_IMC_WEIGHT,
        cmr_weight: float = PAPER_CMR_WEIGHT,
        threshold_upper_bound: float | None = None,
        use_hard_negatives: bool = True,
        gather_across_devices: bool = DEFAULT_GATHER_ACROSS_DEVICES,
        fixed_threshold: float | None = None,
        distill_weight: float = 0.0,
        contrastive: str = "softmax",
        threshold_units: str = DEFAULT_THRESHOLD_UNITS,
    ) -> None:
        super().__init__()
        problems = loss_setting_problems(num_negative_types, imc_weight, cmr_weight, threshold_upper_bound,
                                         fixed_threshold, distill_weight, contrastive, threshold_units)
        if problems:
            raise ValueError(problems[0] if len(problems) == 1 else "Invalid loss settings:\n- " + "\n- ".join(problems))
        self.num_negative_types = num_negative_types
        self.imc_weight = imc_weight
        self.cmr_weight = cmr_weight
        self.threshold_upper_bound = (default_threshold_bound(threshold_units) if threshold_upper_bound is None
                                      else threshold_upper_bound)
        self.use_hard_negatives = use_hard_negatives
        self.gather_across_devices = gather_across_devices
        self.fixed_threshold = fixed_threshold
        self.distill_weight = distill_weight
        self.contrastive = contrastive
        self.form = contrastive_form(contrastive)
        self.threshold_units = threshold_units
        self.register_buffer("thresholds", torch.full((num_negative_types,), float(fixed_threshold or 0.0)))
        # per type: updates that kept the threshold for a non-finite statistic, counted on the device and read
        # when the trainer logs (`report_skipped_statistics`), so the update needs no host sync
        self.register_buffer("skipped_statistics", torch.zeros(num_negative_types, dtype=torch.long), persistent=False)

    @classmethod
    def from_args(cls, args: Any, family: ModelFamily) -> FineGrainedLoss:
        """The loss of a training run: its settings from `args` (a `FineGrainedTrainingArguments`, not imported
        here: it imports this module; one threshold per name of `args.negative_types`, none without hard
        negatives), its ITC form from the model's `family` (`ModelFamily.contrastive`)."""
        return cls(
            num_negative_types=len(args.negative_types) if args.use_hard_negatives else 0,
            imc_weight=args.imc_weight,
            cmr_weight=args.cmr_weight,
            threshold_upper_bound=args.threshold_upper_bound,
            use_hard_negatives=args.use_hard_negatives,
            gather_across_devices=args.gather_across_devices,
            fixed_threshold=args.fixed_threshold,
            distill_weight=args.distill_weight,
            contrastive=family.contrastive,
            threshold_units=args.threshold_units,
        )

    def threshold_values(self, names: Sequence[str]) -> dict[str, float]:
        """The thresholds by type name (`names`: one per threshold, in order); a ValueError if one is not finite
        (the loss never makes one: only code that set `thresholds` itself can)."""
        values = dict(zip(names, self.thresholds.tolist()))
        if not all(math.isfinite(value) for value in values.values()):
            raise ValueError(
                f"non-finite CMR thresholds {values}: nothing is saved. FineGrainedLoss never produces them; "
                "check the code that set `trainer.loss_fn.thresholds` or a custom loss_fn."
            )
        return values

    def threshold_state(self, names: Sequence[str]) -> dict[str, Any]:
        """What a checkpoint keeps of the loss (JSON-ready): the type names, the thresholds by name, their units."""
        return {"negative_types": list(names), "thresholds": self.threshold_values(names),
                "threshold_units": self.threshold_units}

    def load_threshold_state(self, state: Mapping[str, Any], names: Sequence[str], source: str) -> None:
        """Restores what `threshold_state` returned (read from `source`, named in errors); the type names and the
        units must be this loss's. A state without units was written before they existed and holds logits."""
        if list(state["negative_types"]) != list(names):
            raise ValueError(
                f"{source} was written for negative types {state['negative_types']} but this run uses "
                f"{list(names)}; resume with the same --negative_types."
            )
        units = state.get("threshold_units", "logit")
        if units != self.threshold_units:
            raise ValueError(
                f"{source} holds thresholds in {units} units but this run uses --threshold_units "
                f"{self.threshold_units}; resume with --threshold_units {units}."
            )
        self.thresholds.copy_(torch.tensor([state["thresholds"][name] for name in names]))

    def snapshot_thresholds(self) -> torch.Tensor:
        """A copy of the thresholds [K], for `restore_thresholds` (a step that does not count moves none)."""
        return self.thresholds.clone()

    def restore_thresholds(self, snapshot: torch.Tensor) -> None:
        """Puts back the thresholds of `snapshot_thresholds`."""
        self.thresholds.copy_(snapshot)

    def extra_repr(self) -> str:
        return (
            f"num_negative_types={self.num_negative_types}, imc_weight={self.imc_weight}, "
            f"cmr_weight={self.cmr_weight}, threshold_upper_bound={self.threshold_upper_bound}, "
            f"use_hard_negatives={self.use_hard_negatives}, gather_across_devices={self.gather_across_devices}, "
            f"fixed_threshold={self.fixed_threshold}, distill_weight={self.distill_weight}, "
            f"contrastive={self.contrastive!r}, threshold_units={self.threshold_units!r}"
        )

    def _check_shapes(
        self, image_embeds: torch.Tensor, text_embeds: torch.Tensor, negative_embeds, negative_mask
    ) -> None:
        if image_embeds.dim() != 2 or image_embeds.shape != text_embeds.shape:
            raise ValueError(
                f"image_embeds and text_embeds must both be [B, D]; got {tuple(image_embeds.shape)} "
                f"and {tuple(text_embeds.shape)}."
            )
        if not self.use_hard_negatives:
            return
        if negative_embeds is None or negative_mask is None:
            raise ValueError("use_hard_negatives=True needs negative_embeds [B, K, D] and negative_mask [B, K].")
        batch, dim = image_embeds.shape
        expected = (batch, self.num_negative_types, dim)
        if tuple(negative_embeds.shape) != expected:
            raise ValueError(f"negative_embeds must be {expected} (B, K, D); got {tuple(negative_embeds.shape)}.")
        if tuple(negative_mask.shape) != expected[:2] or negative_mask.dtype != torch.bool:
            raise ValueError(
                f"negative_mask must be a bool tensor of shape {expected[:2]}; got {negative_mask.dtype} "
                f"{tuple(negative_mask.shape)}."
            )

    def forward(
        self,
        image_embeds: torch.Tensor,
        text_embeds: torch.Tensor,
        negative_embeds: torch.Tensor | None = None,
        negative_mask: torch.Tensor | None = None,
        logit_scale: torch.Tensor | float = 1.0,
        teacher_image_embeds: torch.Tensor | None = None,
        teacher_text_embeds: torch.Tensor | None = None,
        logit_bias: torch.Tensor | float | None = None,
        negative_positions: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        self._check_shapes(image_embeds, text_embeds, negative_embeds, negative_mask)
        if self.form.needs_bias and logit_bias is None:
            raise ValueError(f'contrastive="{self.contrastive}" needs logit_bias (a float or a 0-d tensor, e.g. '
                             "SiglipModel.logit_bias); this form is not defined without it.")
        distill = self.distill_weight > 0
        if distill and (teacher_image_embeds is None or teacher_text_embeds is None
                        or teacher_image_embeds.shape[0] != image_embeds.shape[0]
                        or teacher_text_embeds.shape[0] != image_embeds.shape[0]):
            raise ValueError("distill_weight > 0 needs teacher_image_embeds and teacher_text_embeds, [B, D'] each "
                             f"for the B={image_embeds.shape[0]} rows.")
        dtype = torch.promote_types(image_embeds.dtype, torch.float32)
        scale = _scalar(logit_scale, "logit_scale", image_embeds.device, dtype)
        bias = _scalar(logit_bias, "logit_bias", image_embeds.device, dtype) if self.form.needs_bias else None

        if self.gather_across_devices:
            image_embeds = gather_with_grad(image_embeds)
            text_embeds = gather_with_grad(text_embeds)
            if self.use_hard_negatives:
                negative_embeds = gather_with_grad(negative_embeds)
                negative_mask = gather_no_grad(negative_mask)
            if distill:
                teacher_image_embeds = gather_no_grad(teacher_image_embeds)
                teacher_text_embeds = gather_no_grad(teacher_text_embeds)

        image = F.normalize(image_embeds.to(dtype), dim=-1)
        text = F.normalize(text_embeds.to(dtype), dim=-1)
        targets = torch.arange(image.shape[0], device=image.device)
        logits = scale * image @ text.T  # [B, B]
        pos = logits.diagonal()  # [B]
        zero = logits.new_zeros(())
        distill_loss = zero
        if distill:
            with torch.no_grad():
                teacher = scale.detach() * (F.normalize(teacher_image_embeds.to(dtype), dim=-1)
                                            @ F.normalize(teacher_text_embeds.to(dtype), dim=-1).T)  # [B, B]
            distill_loss = (similarity_kl(logits, teacher) + similarity_kl(logits.T, teacher.T)) / 2

        if not self.use_hard_negatives:
            itc, i2t, t2i = self.form(logits, None, bias)
            return self._result(itc, i2t, t2i, zero, zero, distill_loss, zero.long(), self.thresholds.clone())

        negatives = F.normalize(negative_embeds.to(dtype), dim=-1)  # [B, K, D]
        if negative_positions is not None and not (self.gather_across_devices and is_distributed()):
            # the same rows as negatives[negative_mask], selected without the host sync of a boolean index
            valid = negatives.reshape(-1, negatives.shape[-1]).index_select(0, negative_positions)  # [M, D]
        else:
            valid = negatives[negative_mask]  # [M, D]
        itc, i2t, t2i = self.form(logits, scale * image @ valid.T, bias)  # every image against every negative

        imc_logits = torch.cat([pos[:, None], scale * text @ valid.T], dim=1)  # [B, 1 + M]
        imc = F.cross_entropy(imc_logits, torch.zeros_like(targets))

        neg_own = scale * torch.einsum("bd,bkd->bk", image, negatives)  # [B, K]
        to_logits = scale.detach() if self.threshold_units == "cosine" else scale.new_ones(())
        margins = self.thresholds.to(dtype) * to_logits  # [K], logit units
        hinge = F.relu(margins[None, :] + neg_own - pos[:, None])
        num_valid = negative_mask.sum()
        cmr = torch.where(negative_mask, hinge, torch.zeros_like(hinge)).sum() / num_valid.clamp(min=1)

        used = self.thresholds.clone()
        if self.training and self.fixed_threshold is None:
            self._update_thresholds(pos.detach() / to_logits, neg_own.detach() / to_logits, negative_mask)
        return self._result(itc, i2t, t2i, imc, cmr, distill_loss, num_valid, used)

    @torch.no_grad()
    def _update_thresholds(self, pos: torch.Tensor, neg_own: torch.Tensor, mask: torch.Tensor) -> None:
        """theta_k <- clamp(mean_i pos_i - mean_{i valid} neg_ik, 0, bound), means over the global batch.

        pos: [B]; neg_own: [B, K] (in ``threshold_units``: logits, or logits divided by the scale); mask: [B, K].
        Without gathering, under torch.distributed, the sums and counts
        behind both means ([2 + 2K] floats) are summed over ranks before dividing, so every rank computes the
        same thresholds (those of one process holding all ranks' rows); on one process nothing is reduced. A
        type keeps its value when it has no valid row (on any rank) or when its statistic is non-finite (a
        NaN/inf embedding or logit scale, on any rank): the check comes before the clamp, which would turn
        +inf into the bound.
        """
        num_types = mask.shape[1]
        sums = torch.cat([
            pos.sum()[None],  # [1]
            pos.new_tensor([pos.shape[0]]),  # [1]
            torch.where(mask, neg_own, torch.zeros_like(neg_own)).sum(dim=0).to(pos.dtype),  # [K]
            mask.sum(dim=0).to(pos.dtype),  # [K]
        ])
        if not self.gather_across_devices:  # gathered inputs already are the global batch
            sums = sum_across_ranks(sums)
        pos_sum, rows, neg_sum, counts = sums.split([1, 1, num_types, num_types])
        statistic = pos_sum / rows - neg_sum / counts.clamp(min=1)  # [K]
        usable = (counts > 0) & statistic.isfinite()
        self.skipped_statistics += ((counts > 0) & ~usable).to(self.skipped_statistics.dtype)
        proposal = statistic.nan_to_num(0.0).clamp(0.0, self.threshold_upper_bound)
        self.thresholds.copy_(torch.where(usable, proposal.to(self.thresholds.dtype), self.thresholds))

    def report_skipped_statistics(self, negative_types: list[str] | None = None) -> int:
        """Warns about the threshold updates that kept a type's threshold for a non-finite statistic since the last
        call (counted on the device by the update), and returns how many; one host read."""
        counts = self.skipped_statistics.tolist()
        if not any(counts):
            return 0
        self.skipped_statistics.zero_()
        names = negative_types or [str(k) for k in range(len(counts))]
        logger.warning("Non-finite CMR statistics: thresholds kept their previous values (%s).",
                       ", ".join(f"{name}: {count} update(s)" for name, count in zip(names, counts) if count))
        return sum(counts)

    def _result(self, itc, i2t, t2i, imc, cmr, distill, num_valid, thresholds) -> dict[str, torch.Tensor]:
        loss = itc + self.imc_weight * imc + self.cmr_weight * cmr
        if self.distill_weight > 0:
            loss = loss + self.distill_weight * distill
        return {
            "loss": loss,
            "itc_loss": itc,
            "imc_loss": imc,
            "cmr_loss": cmr,
            "distill_loss": distill,
            "i2t_loss": i2t,
            "t2i_loss": t2i,
            "num_valid_negatives": num_valid,
            "thresholds": thresholds,
        }


def similarity_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """KL(softmax(teacher) || softmax(student)) per row, averaged over the rows; logits [B, C] each."""
    return F.kl_div(F.log_softmax(student_logits, dim=-1), F.log_softmax(teacher_logits, dim=-1),
                    reduction="batchmean", log_target=True)
