"""FineGrainedLoss against an independent, loop-by-loop float64 computation of the paper's maths."""

from __future__ import annotations

import math

import pytest
import torch
from transformers.models.clip.modeling_clip import image_text_contrastive_loss as clip_loss

from hf_finegrained import FineGrainedLoss


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def _neg_log_softmax(row: list[torch.Tensor], target: int) -> torch.Tensor:
    values = torch.stack(row)
    return -(values[target] - torch.logsumexp(values, dim=0))


def reference(v, t, n, mask, s, thresholds, bound, imc_weight=0.3, cmr_weight=0.2):
    """Element-by-element CE-CLIP loss; returns (components, new thresholds)."""
    v, t, n = _unit(v), _unit(t), _unit(n)
    batch, num_types = mask.shape
    valid = [n[i, k] for i in range(batch) for k in range(num_types) if mask[i, k]]
    i2t = sum(
        _neg_log_softmax([s * v[i] @ t[j] for j in range(batch)] + [s * v[i] @ x for x in valid], i)
        for i in range(batch)
    ) / batch
    t2i = sum(_neg_log_softmax([s * v[j] @ t[i] for j in range(batch)], i) for i in range(batch)) / batch
    itc = (i2t + t2i) / 2
    pos = [s * v[i] @ t[i] for i in range(batch)]
    imc = sum(_neg_log_softmax([pos[i]] + [s * t[i] @ x for x in valid], 0) for i in range(batch)) / batch
    hinges = [
        torch.relu(thresholds[k] + s * v[i] @ n[i, k] - pos[i])
        for i in range(batch)
        for k in range(num_types)
        if mask[i, k]
    ]
    cmr = sum(hinges) / len(hinges) if hinges else torch.zeros((), dtype=v.dtype)
    new = thresholds.clone()
    mean_pos = sum(pos).detach() / batch
    for k in range(num_types):
        rows = [i for i in range(batch) if mask[i, k]]
        if rows:
            mean_neg = sum(s * v[i] @ n[i, k] for i in rows).detach() / len(rows)
            new[k] = min(max((mean_pos - mean_neg).item(), 0.0), bound)
    loss = itc + imc_weight * imc + cmr_weight * cmr
    return {"loss": loss, "itc_loss": itc, "imc_loss": imc, "cmr_loss": cmr}, new


def _inputs(generator, batch=6, num_types=4, dim=8, closeness=1.0, neg_closeness=0.0):
    v = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    t = closeness * v + torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    n = neg_closeness * v[:, None] + torch.randn(batch, num_types, dim, generator=generator, dtype=torch.float64)
    mask = torch.rand(batch, num_types, generator=generator) > 0.35
    mask[:, -1] = False  # an all-invalid type
    return v, t, n, mask


@pytest.mark.parametrize("imc_weight,cmr_weight", [(0.3, 0.2), (1.0, 2.0)])
def test_matches_reference_over_steps(imc_weight, cmr_weight):
    generator = torch.Generator().manual_seed(0)
    loss_fn = FineGrainedLoss(4, imc_weight=imc_weight, cmr_weight=cmr_weight, threshold_upper_bound=10.0).train()
    thresholds = torch.zeros(4, dtype=torch.float64)
    seen_positive = False
    for _ in range(5):
        v, t, n, mask = _inputs(generator)
        s = torch.tensor(7.0, dtype=torch.float64)
        out = loss_fn(v, t, n, mask, s)
        expected, new = reference(v, t, n, mask, s, thresholds, 10.0, imc_weight, cmr_weight)
        for key, value in expected.items():
            torch.testing.assert_close(out[key], value, rtol=1e-6, atol=1e-6, msg=key)
        torch.testing.assert_close(out["thresholds"].double(), thresholds.float().double())
        torch.testing.assert_close(loss_fn.thresholds.double(), new, rtol=1e-6, atol=1e-6)
        assert out["num_valid_negatives"].item() == mask.sum().item()
        thresholds = loss_fn.thresholds.double().clone()
        seen_positive |= bool((thresholds[:3] > 0).any())
    assert seen_positive, "the test inputs never produced a non-zero threshold"
    assert thresholds[3] == 0, "an all-invalid type must keep its value"


def test_gradients_match_reference():
    generator = torch.Generator().manual_seed(1)
    v, t, n, mask = _inputs(generator)
    loss_fn = FineGrainedLoss(4).train()
    loss_fn.thresholds.fill_(0.7)
    ours = [x.clone().requires_grad_() for x in (v, t, n)]
    theirs = [x.clone().requires_grad_() for x in (v, t, n)]
    s_ours = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    s_ref = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    loss_fn(*ours, mask, s_ours)["loss"].backward()
    reference(*theirs, mask, s_ref, torch.full((4,), 0.7, dtype=torch.float64), 10.0)[0]["loss"].backward()
    for a, b in zip(ours + [s_ours], theirs + [s_ref]):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-6, atol=1e-8)
    assert ours[2].grad[~mask].abs().max() == 0, "masked negatives must get no gradient"


def test_thresholds_clamp_to_bounds():
    generator = torch.Generator().manual_seed(2)
    high = FineGrainedLoss(4, threshold_upper_bound=0.5).train()
    v, t, n, mask = _inputs(generator, closeness=5.0)  # positives far above negatives
    high(v, t, n, mask, 50.0)
    assert torch.equal(high.thresholds[:3], torch.full((3,), 0.5))
    low = FineGrainedLoss(4).train()
    v, t, n, mask = _inputs(generator, closeness=0.0, neg_closeness=5.0)  # negatives closer than positives
    low(v, t, n, mask, 50.0)
    assert torch.equal(low.thresholds, torch.zeros(4))


def test_eval_mode_does_not_update_thresholds():
    generator = torch.Generator().manual_seed(3)
    loss_fn = FineGrainedLoss(4).eval()
    v, t, n, mask = _inputs(generator, closeness=3.0)
    loss_fn(v, t, n, mask, 10.0)
    assert torch.equal(loss_fn.thresholds, torch.zeros(4))
    loss_fn.train()(v, t, n, mask, 10.0)
    assert loss_fn.thresholds[:3].gt(0).all()


def test_no_valid_negative_at_all_is_finite_and_plain_itc():
    generator = torch.Generator().manual_seed(4)
    v, t, n, _ = _inputs(generator)
    n = torch.zeros_like(n, requires_grad=True)  # what the trainer puts in masked slots
    mask = torch.zeros(6, 4, dtype=torch.bool)
    loss_fn = FineGrainedLoss(4).train()
    loss_fn.thresholds.fill_(1.5)
    out = loss_fn(v, t, n, mask, 10.0)
    assert out["imc_loss"].item() == 0 and out["cmr_loss"].item() == 0
    logits = 10.0 * _unit(t) @ _unit(v).T
    torch.testing.assert_close(out["loss"], clip_loss(logits))
    out["loss"].backward()
    assert torch.isfinite(n.grad).all()
    assert torch.equal(loss_fn.thresholds, torch.full((4,), 1.5))


def test_without_hard_negatives_equals_clip_loss():
    generator = torch.Generator().manual_seed(5)
    v, t, n, mask = _inputs(generator)
    scale = math.exp(2.0)
    plain = FineGrainedLoss(4, use_hard_negatives=False).train()
    out = plain(v, t, None, None, scale)
    logits_per_text = scale * _unit(t) @ _unit(v).T
    torch.testing.assert_close(out["loss"], clip_loss(logits_per_text))
    assert out["imc_loss"] == 0 and out["cmr_loss"] == 0
    assert torch.equal(plain.thresholds, torch.zeros(4))
    # Negatives given anyway are ignored.
    torch.testing.assert_close(plain(v, t, n, mask, scale)["loss"], out["loss"])


def test_float32_and_half_inputs_give_float32_losses():
    generator = torch.Generator().manual_seed(6)
    v, t, n, mask = _inputs(generator)
    loss_fn = FineGrainedLoss(4).train()
    out32 = loss_fn(v.float(), t.float(), n.float(), mask, 10.0)
    out16 = FineGrainedLoss(4).train()(v.half(), t.half(), n.half(), mask, 10.0)
    assert out32["loss"].dtype == torch.float32 and out16["loss"].dtype == torch.float32
    torch.testing.assert_close(out16["loss"], out32["loss"], rtol=1e-2, atol=1e-2)


def test_shape_errors_are_explicit():
    loss_fn = FineGrainedLoss(3)
    v = torch.randn(4, 8)
    with pytest.raises(ValueError, match="negative_embeds must be"):
        loss_fn(v, v, torch.randn(4, 2, 8), torch.ones(4, 2, dtype=torch.bool), 1.0)
    with pytest.raises(ValueError, match="negative_mask must be a bool"):
        loss_fn(v, v, torch.randn(4, 3, 8), torch.ones(4, 3), 1.0)
    with pytest.raises(ValueError, match="needs negative_embeds"):
        loss_fn(v, v)
    with pytest.raises(ValueError, match="must both be"):
        loss_fn(v, torch.randn(3, 8))


def test_fixed_threshold_is_used_and_never_moves():
    generator = torch.Generator().manual_seed(7)
    loss_fn = FineGrainedLoss(4, fixed_threshold=2.5).train()
    fixed = torch.full((4,), 2.5, dtype=torch.float64)
    for _ in range(3):
        v, t, n, mask = _inputs(generator, closeness=3.0)
        out = loss_fn(v, t, n, mask, 10.0)
        expected, adaptive_update = reference(v, t, n, mask, 10.0, fixed, 10.0)
        for key, value in expected.items():
            torch.testing.assert_close(out[key], value, rtol=1e-6, atol=1e-6, msg=key)
        assert torch.equal(loss_fn.thresholds, torch.full((4,), 2.5))
        assert not torch.allclose(adaptive_update.float(), loss_fn.thresholds), "adaptive would have moved"
    with pytest.raises(ValueError, match="fixed_threshold"):
        FineGrainedLoss(4, fixed_threshold=-1.0)


@pytest.mark.parametrize("poison", ["nan image", "inf logit scale", "nan negative of type 0"])
def test_non_finite_statistics_never_reach_the_thresholds(poison):
    """The loss may be non-finite (the trainer acts on it); the thresholds keep their last finite value."""
    generator = torch.Generator().manual_seed(8)
    v, t, n, mask = _inputs(generator, closeness=3.0)
    mask[:, :3] = True  # every adaptive type has valid rows, so each would be updated
    scale = torch.tensor(10.0, dtype=torch.float64)
    if poison == "nan image":
        v[0, 0] = float("nan")
    elif poison == "inf logit scale":
        scale = torch.tensor(float("inf"), dtype=torch.float64)
    else:
        n[1, 0, 0] = float("nan")
    loss_fn = FineGrainedLoss(4).train()
    before = torch.tensor([0.5, 1.0, 1.5, 2.0])
    loss_fn.thresholds.copy_(before)
    out = loss_fn(v, t, n, mask, scale)
    assert not torch.isfinite(out["loss"])
    assert torch.isfinite(loss_fn.thresholds).all()
    _, proposal = reference(v, t, n, mask, scale, before.double(), 10.0)
    expected = torch.where(proposal.isfinite(), proposal, before.double())
    if poison == "nan negative of type 0":
        assert proposal[1:3].isfinite().all(), "the clean types must still be updated"
        assert loss_fn.thresholds[0] == before[0]
    else:
        expected = before.double()  # every statistic is non-finite (an infinite scale clamps to the bound otherwise)
    torch.testing.assert_close(loss_fn.thresholds.double(), expected, rtol=1e-6, atol=1e-6)

    # The next clean step is unaffected.
    v, t, n, mask = _inputs(generator, closeness=3.0)
    kept = loss_fn.thresholds.double().clone()
    out = loss_fn(v, t, n, mask, 10.0)
    expected_out, new = reference(v, t, n, mask, 10.0, kept, 10.0)
    torch.testing.assert_close(out["loss"], expected_out["loss"], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(loss_fn.thresholds.double(), new, rtol=1e-6, atol=1e-6)
