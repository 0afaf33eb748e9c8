"""The image-text contrastive (ITC) forms behind one interface: CLIP's softmax and SigLIP's sigmoid.

Each form turns the scaled similarities of a batch (and, with hard negatives, of every image against every valid
negative of the batch) into ITC, as open_clip keeps `ClipLoss` and `SigLipLoss` apart. `FineGrainedLoss` builds
the logits, IMC, CMR, the thresholds and distillation, the same for every form, and asks its form for ITC only.

A third form is an addition, not an edit: subclass `ContrastiveForm`, give it a `name` (and `needs_bias` if it
reads the model's logit bias), and it is registered; `FineGrainedLoss(contrastive=<name>)` and a `ModelFamily`
whose `contrastive` is that name then use it (docs/DESIGN.md, "A contrastive form").
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F

CONTRASTIVE_FORMS: dict[str, type[ContrastiveForm]] = {}  # name -> form, filled by subclassing


class ContrastiveForm:
    """ITC from the batch's logits. Subclasses set `name` and implement `__call__`.

    Args of `__call__`:
        logits: [B, B], ``s<v_i, t_j>`` (images along rows, captions along columns), without the bias.
        negative_logits: [B, M], ``s<v_i, n>`` for every valid hard negative ``n`` of the batch (M may be 0), or
            None when the loss runs without hard negatives.
        logit_bias: a 0-d tensor, the bias ``b`` when `needs_bias` (else None).

    Returns:
        (itc, i2t, t2i): scalar tensors; a form without directions reports its ITC for all three.
    """

    name: ClassVar[str]
    needs_bias: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name in CONTRASTIVE_FORMS:
            raise ValueError(f"contrastive form {cls.name!r} is already registered ({CONTRASTIVE_FORMS[cls.name]}).")
        CONTRASTIVE_FORMS[cls.name] = cls

    def __call__(self, logits: torch.Tensor, negative_logits: torch.Tensor | None,
                 logit_bias: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class SoftmaxContrastive(ContrastiveForm):
    """CLIP's (and the paper's) ITC: image->text cross-entropy over the B captions followed by every valid negative
    of the batch, text->image plain B x B cross-entropy (negatives are texts, so they join one direction only); the
    mean of both. Every term is invariant to one constant added to all logits, so a bias would change nothing."""

    name = "softmax"

    def __call__(self, logits, negative_logits, logit_bias):
        targets = torch.arange(logits.shape[0], device=logits.device)
        image_logits = logits if negative_logits is None else torch.cat([logits, negative_logits], dim=1)
        i2t = F.cross_entropy(image_logits, targets)
        t2i = F.cross_entropy(logits.T, targets)
        return (i2t + t2i) / 2, i2t, t2i


class SigmoidContrastive(ContrastiveForm):
    """SigLIP's ITC with hard negatives: one binary term per (image, text) pair, no normalisation over the batch.

    With ``l_ij = s<v_i, t_j> + b`` and ``m_in = s<v_i, n> + b``:
    ``itc = -(1/B) [sum_ij log sigmoid(z_ij l_ij) + sum_i sum_n log sigmoid(-m_in)]``, ``z_ij = 1`` if ``i == j``
    else -1. Without negatives it is `transformers`' `SiglipModel` loss. It has no direction: ``i2t`` and ``t2i``
    both report ``itc``.
    """

    name = "sigmoid"
    needs_bias = True

    def __call__(self, logits, negative_logits, logit_bias):
        batch = logits.shape[0]
        signs = 2 * torch.eye(batch, dtype=logits.dtype, device=logits.device) - 1  # [B, B]: +1 on the diagonal
        itc = -F.logsigmoid(signs * (logits + logit_bias)).sum() / batch
        if negative_logits is not None:  # label -1 for every (image, negative) pair; an empty sum when M = 0
            itc = itc - F.logsigmoid(-(negative_logits + logit_bias)).sum() / batch
        return itc, itc, itc


def contrastive_form(name: str) -> ContrastiveForm:
    """The registered form called `name`; a ValueError naming the registered ones otherwise."""
    if name not in CONTRASTIVE_FORMS:
        raise ValueError(f"contrastive must be one of {tuple(CONTRASTIVE_FORMS)}, got {name!r}.")
    return CONTRASTIVE_FORMS[name]()
