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
    loss_fn = FineGrainedLoss(4, threshold_units="logit", imc_weight=imc_weight, cmr_weight=cmr_weight, threshold_upper_bound=10.0).train()
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
    loss_fn = FineGrainedLoss(4, threshold_units="logit").train()
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
    high = FineGrainedLoss(4, threshold_units="logit", threshold_upper_bound=0.5).train()
    v, t, n, mask = _inputs(generator, closeness=5.0)  # positives far above negatives
    high(v, t, n, mask, 50.0)
    assert torch.equal(high.thresholds[:3], torch.full((3,), 0.5))
    low = FineGrainedLoss(4, threshold_units="logit").train()
    v, t, n, mask = _inputs(generator, closeness=0.0, neg_closeness=5.0)  # negatives closer than positives
    low(v, t, n, mask, 50.0)
    assert torch.equal(low.thresholds, torch.zeros(4))


def test_eval_mode_does_not_update_thresholds():
    generator = torch.Generator().manual_seed(3)
    loss_fn = FineGrainedLoss(4, threshold_units="logit").eval()
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
    loss_fn = FineGrainedLoss(4, threshold_units="logit", fixed_threshold=2.5).train()
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
    loss_fn = FineGrainedLoss(4, threshold_units="logit").train()
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


def _reference_distill(v, t, tv, tt, s):
    """Element by element: mean over rows of KL(teacher || student), image->text and text->image, halved."""
    v, t, tv, tt = _unit(v), _unit(t), _unit(tv), _unit(tt)
    batch = v.shape[0]

    def kl(student_rows, teacher_rows):
        total = 0.0
        for student, teacher in zip(student_rows, teacher_rows):
            p = torch.softmax(teacher, 0)
            total = total + (p * (torch.log_softmax(teacher, 0) - torch.log_softmax(student, 0))).sum()
        return total / batch

    i2t = kl([s * t @ v[i] for i in range(batch)], [s * tt @ tv[i] for i in range(batch)])
    t2i = kl([s * v @ t[j] for j in range(batch)], [s * tv @ tt[j] for j in range(batch)])
    return (i2t + t2i) / 2


def test_distillation_term_matches_its_formula_and_trains_only_the_student():
    generator = torch.Generator().manual_seed(7)
    v, t, n, mask = _inputs(generator)
    tv = v + 0.3 * torch.randn(v.shape, generator=generator, dtype=torch.float64)
    tt = t + 0.3 * torch.randn(t.shape, generator=generator, dtype=torch.float64)
    v, t, tv, tt = (x.clone().requires_grad_(True) for x in (v, t, tv, tt))
    s = torch.tensor(4.0, dtype=torch.float64, requires_grad=True)
    loss_fn = FineGrainedLoss(4, distill_weight=0.5).eval()
    out = loss_fn(v, t, n, mask, s, teacher_image_embeds=tv, teacher_text_embeds=tt)
    expected = _reference_distill(v.detach(), t.detach(), tv.detach(), tt.detach(), 4.0)
    assert out["distill_loss"].item() == pytest.approx(expected.item(), rel=1e-10) and expected > 0
    plain = FineGrainedLoss(4).eval()(v, t, n, mask, s)
    assert out["loss"].item() == pytest.approx(plain["loss"].item() + 0.5 * expected.item(), rel=1e-10)
    out["distill_loss"].backward()
    assert v.grad.abs().sum() > 0 and t.grad.abs().sum() > 0
    assert tv.grad is None and tt.grad is None  # the teacher is a fixed target


def test_distillation_is_zero_for_a_teacher_equal_to_the_student_and_off_by_default():
    generator = torch.Generator().manual_seed(8)
    v, t, n, mask = _inputs(generator)
    out = FineGrainedLoss(4, distill_weight=1.0)(v, t, n, mask, 3.0, teacher_image_embeds=v.clone(),
                                                 teacher_text_embeds=t.clone())
    assert abs(out["distill_loss"].item()) < 1e-12
    scaled = FineGrainedLoss(4, distill_weight=1.0, use_hard_negatives=False)(
        v, t, logit_scale=3.0, teacher_image_embeds=2 * v, teacher_text_embeds=t)  # only directions count
    assert abs(scaled["distill_loss"].item()) < 1e-12
    off = FineGrainedLoss(4)(v, t, n, mask, 3.0)
    assert off["distill_loss"].item() == 0
    with pytest.raises(ValueError, match="needs teacher_image_embeds"):
        FineGrainedLoss(4, distill_weight=1.0)(v, t, n, mask, 3.0)
    with pytest.raises(ValueError, match="distill_weight must be a finite number >= 0"):
        FineGrainedLoss(4, distill_weight=-1.0)


# --- The sigmoid form (SigLIP) ----------------------------------------------------------------------------------


def _log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """log(1 / (1 + exp(-x))) for one number, written out (stable for either sign)."""
    return torch.clamp(x, max=0.0) - torch.log1p(torch.exp(-x.abs()))


def reference_sigmoid_itc(v, t, n, mask, s, b):
    """The sigmoid ITC-hn, one term at a time: every (image, caption) pair with label +1 on the diagonal and -1
    elsewhere, then every image against every valid negative of the batch with label -1; the sum over B."""
    v, t, n = _unit(v), _unit(t), _unit(n)
    batch, num_types = mask.shape
    valid = [n[j, k] for j in range(batch) for k in range(num_types) if mask[j, k]]
    total = torch.zeros((), dtype=v.dtype)
    for i in range(batch):
        for j in range(batch):
            label = 1.0 if i == j else -1.0
            total = total + _log_sigmoid(label * (s * v[i] @ t[j] + b))
        for x in valid:
            total = total + _log_sigmoid(-(s * v[i] @ x + b))
    return -total / batch


def test_sigmoid_form_matches_a_loop_over_pairs_over_steps():
    """ITC from the loop above; IMC, CMR and the thresholds exactly as in the softmax form (no bias there)."""
    generator = torch.Generator().manual_seed(20)
    loss_fn = FineGrainedLoss(4, threshold_units="logit", contrastive="sigmoid").train()
    thresholds = torch.zeros(4, dtype=torch.float64)
    for step in range(4):
        v, t, n, mask = _inputs(generator)  # type 3 is invalid in every row
        s, b = torch.tensor(6.0 + step, dtype=torch.float64), torch.tensor(-3.0 + step, dtype=torch.float64)
        out = loss_fn(v, t, n, mask, s, logit_bias=b)
        itc = reference_sigmoid_itc(v, t, n, mask, s, b)
        softmax_terms, new = reference(v, t, n, mask, s, thresholds, 10.0)
        torch.testing.assert_close(out["itc_loss"], itc, rtol=1e-10, atol=1e-10)
        assert torch.equal(out["i2t_loss"], out["itc_loss"]) and torch.equal(out["t2i_loss"], out["itc_loss"])
        for key in ("imc_loss", "cmr_loss"):
            torch.testing.assert_close(out[key], softmax_terms[key], rtol=1e-10, atol=1e-10, msg=key)
        expected = itc + 0.3 * softmax_terms["imc_loss"] + 0.2 * softmax_terms["cmr_loss"]
        torch.testing.assert_close(out["loss"], expected, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(loss_fn.thresholds.double(), new, rtol=1e-6, atol=1e-6)
        assert out["num_valid_negatives"].item() == mask.sum().item()
        thresholds = loss_fn.thresholds.double().clone()
    assert thresholds[:3].gt(0).any() and thresholds[3] == 0


def test_sigmoid_form_gradients_match_the_loop_and_reach_the_scale_and_the_bias():
    generator = torch.Generator().manual_seed(21)
    v, t, n, mask = _inputs(generator)
    loss_fn = FineGrainedLoss(4, threshold_units="logit", contrastive="sigmoid").train()
    loss_fn.thresholds.fill_(0.7)
    ours = [x.clone().requires_grad_() for x in (v, t, n)]
    theirs = [x.clone().requires_grad_() for x in (v, t, n)]
    s_ours, b_ours, s_ref, b_ref = (torch.tensor(x, dtype=torch.float64, requires_grad=True)
                                    for x in (5.0, -2.0, 5.0, -2.0))
    loss_fn(*ours, mask, s_ours, logit_bias=b_ours)["loss"].backward()
    softmax_terms = reference(*theirs, mask, s_ref, torch.full((4,), 0.7, dtype=torch.float64), 10.0)[0]
    expected = (reference_sigmoid_itc(*theirs, mask, s_ref, b_ref) + 0.3 * softmax_terms["imc_loss"]
                + 0.2 * softmax_terms["cmr_loss"])
    expected.backward()
    for a, b in zip(ours + [s_ours, b_ours], theirs + [s_ref, b_ref]):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-8, atol=1e-10)
    assert s_ours.grad != 0 and b_ours.grad != 0
    assert ours[2].grad[~mask].abs().max() == 0, "masked negatives must get no gradient"

    # And against finite differences, in the scale and the bias, of the ITC alone.
    def itc(scale, bias):
        return FineGrainedLoss(4, contrastive="sigmoid").eval()(v, t, n, mask, scale, logit_bias=bias)["itc_loss"]

    assert torch.autograd.gradcheck(itc, (torch.tensor(4.0, dtype=torch.float64, requires_grad=True),
                                          torch.tensor(-1.5, dtype=torch.float64, requires_grad=True)))


def test_sigmoid_form_ignores_masked_negatives():
    generator = torch.Generator().manual_seed(22)
    v, t, n, mask = _inputs(generator)
    moved = n.clone()
    moved[~mask] = 100 * torch.randn(int((~mask).sum()), n.shape[-1], generator=generator, dtype=torch.float64)
    moved[0, 3] = v[0]  # an invalid negative equal to its image would be the hardest one of all
    outs, thresholds = [], []
    for negatives in (n, moved):
        loss_fn = FineGrainedLoss(4, contrastive="sigmoid").train()
        loss_fn.thresholds.fill_(0.4)
        outs.append(loss_fn(v, t, negatives, mask, 8.0, logit_bias=-4.0))
        thresholds.append(loss_fn.thresholds)
    for key in outs[0]:
        assert torch.equal(outs[0][key], outs[1][key]), key
    assert torch.equal(thresholds[0], thresholds[1])
    # Making one of them valid does change the loss.
    mask = mask.clone()
    mask[0, 3] = True
    assert FineGrainedLoss(4, contrastive="sigmoid")(v, t, moved, mask, 8.0, logit_bias=-4.0)["itc_loss"] > outs[0][
        "itc_loss"]


def _tiny_siglip(dtype: torch.dtype):
    from transformers import SiglipConfig, SiglipModel

    config = SiglipConfig(
        text_config=dict(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=8, pad_token_id=0, bos_token_id=1,
                         eos_token_id=2),
        vision_config=dict(image_size=16, patch_size=8, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                           num_attention_heads=2),
    )
    torch.manual_seed(0)
    model = SiglipModel(config).to(dtype)
    with torch.no_grad():  # away from the initial 0 and 0, so that both matter
        model.logit_scale.fill_(math.log(7.0))
        model.logit_bias.fill_(-2.5)
    return model


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sigmoid_form_without_negatives_is_transformers_siglip_loss(dtype):
    """SiglipModel(return_loss=True).loss, and the gradient of every parameter of the model through it."""
    model = _tiny_siglip(dtype)
    generator = torch.Generator().manual_seed(23)
    batch = 5
    inputs = dict(input_ids=torch.randint(0, 64, (batch, 8), generator=generator),
                  pixel_values=torch.randn(batch, 3, 16, 16, generator=generator, dtype=dtype))
    tolerance = 1e-6  # float32 differs by ~2e-7 here (float64: 0)

    outputs = model(**inputs, return_loss=True)
    outputs.loss.backward()
    expected_grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()

    outputs = model(**inputs, return_loss=True)
    # Its orientation: logits_per_text[j, i] = s<t_j, v_i> + b, label +1 on the diagonal; symmetric in the sum.
    scale, bias = model.logit_scale.exp(), model.logit_bias  # both [1], as the model holds them
    plain = FineGrainedLoss(4, use_hard_negatives=False, contrastive="sigmoid").train()
    out = plain(outputs.image_embeds, outputs.text_embeds, logit_scale=scale, logit_bias=bias)
    assert abs(out["loss"].item() - outputs.loss.item()) <= tolerance
    assert out["loss"].shape == () and out["imc_loss"] == 0 and out["cmr_loss"] == 0
    # With negatives on but none valid: the same number.
    none_valid = FineGrainedLoss(4, contrastive="sigmoid").train()
    empty = none_valid(outputs.image_embeds, outputs.text_embeds,
                       torch.zeros(batch, 4, outputs.text_embeds.shape[-1], dtype=dtype),
                       torch.zeros(batch, 4, dtype=torch.bool), scale, logit_bias=bias)
    assert abs(empty["loss"].item() - outputs.loss.item()) <= tolerance

    out["loss"].backward()
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(parameter.grad, expected_grads[name], rtol=1e-4, atol=tolerance, msg=name)
    assert model.logit_bias.grad.abs().item() > 0 and model.logit_scale.grad.abs().item() > 0


def test_sigmoid_form_needs_a_bias_and_the_form_is_checked():
    v = torch.randn(4, 8)
    n, mask = torch.randn(4, 3, 8), torch.ones(4, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="needs logit_bias"):
        FineGrainedLoss(3, contrastive="sigmoid")(v, v, n, mask, 10.0)
    with pytest.raises(ValueError, match="needs logit_bias"):
        FineGrainedLoss(3, contrastive="sigmoid", use_hard_negatives=False)(v, v, logit_scale=10.0)
    with pytest.raises(ValueError, match="contrastive must be one of"):
        FineGrainedLoss(3, contrastive="hinge")
    with pytest.raises(ValueError, match="logit_bias must be a number or a one-element tensor"):
        FineGrainedLoss(3, contrastive="sigmoid")(v, v, n, mask, 10.0, logit_bias=torch.zeros(2))
    assert "contrastive='sigmoid'" in repr(FineGrainedLoss(3, contrastive="sigmoid"))
    assert FineGrainedLoss(3).contrastive == "softmax"


def test_softmax_form_ignores_a_bias():
    """Every softmax term is invariant to one constant added to all logits: a bias changes nothing."""
    generator = torch.Generator().manual_seed(24)
    v, t, n, mask = _inputs(generator)
    bias = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    without = FineGrainedLoss(4).train()(v, t, n, mask, 6.0)
    with_bias = FineGrainedLoss(4).train()(v, t, n, mask, 6.0, logit_bias=bias)
    for key in without:
        assert torch.equal(without[key], with_bias[key]), key
    assert not with_bias["loss"].requires_grad


def test_distillation_is_the_same_for_both_forms():
    generator = torch.Generator().manual_seed(25)
    v, t, n, mask = _inputs(generator)
    tv = v + 0.3 * torch.randn(v.shape, generator=generator, dtype=torch.float64)
    tt = t + 0.3 * torch.randn(t.shape, generator=generator, dtype=torch.float64)
    kwargs = dict(teacher_image_embeds=tv, teacher_text_embeds=tt)
    softmax = FineGrainedLoss(4, distill_weight=0.5)(v, t, n, mask, 4.0, **kwargs)
    sigmoid = FineGrainedLoss(4, distill_weight=0.5, contrastive="sigmoid")(v, t, n, mask, 4.0, logit_bias=-2.0,
                                                                           **kwargs)
    assert torch.equal(softmax["distill_loss"], sigmoid["distill_loss"]) and sigmoid["distill_loss"] > 0
    plain = FineGrainedLoss(4, contrastive="sigmoid")(v, t, n, mask, 4.0, logit_bias=-2.0)
    torch.testing.assert_close(sigmoid["loss"], plain["loss"] + 0.5 * sigmoid["distill_loss"])


# --- Threshold units: cosine thresholds mean the same margin at any logit scale ---------------------------------


def test_cosine_units_equal_the_papers_logit_units_at_scale_100():
    """At CLIP's fine-tuning scale 100, cosine units with bound 0.1 are the paper's logit units with bound 10:
    the same losses and gradients (the scale's included) over steps, thresholds in a ratio of exactly 100."""
    generator = torch.Generator().manual_seed(30)
    logit = FineGrainedLoss(4, threshold_units="logit").train()
    cosine = FineGrainedLoss(4, threshold_units="cosine").train()
    assert (logit.threshold_upper_bound, cosine.threshold_upper_bound) == (10.0, 0.1)
    logit.thresholds = logit.thresholds.double()
    cosine.thresholds = cosine.thresholds.double()
    moved = False
    for _ in range(5):
        v, t, n, mask = _inputs(generator, closeness=0.15, neg_closeness=0.1)  # statistics below the bound
        outs, grads = [], []
        for loss_fn in (logit, cosine):
            inputs = [x.clone().requires_grad_() for x in (v, t, n)]
            scale = torch.tensor(100.0, dtype=torch.float64, requires_grad=True)
            out = loss_fn(*inputs, mask, scale)
            out["loss"].backward()
            outs.append(out)
            grads.append([x.grad for x in inputs] + [scale.grad])
        for key in ("loss", "itc_loss", "imc_loss", "cmr_loss"):
            torch.testing.assert_close(outs[0][key], outs[1][key], rtol=1e-12, atol=1e-12, msg=key)
        for a, b in zip(*grads):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(cosine.thresholds * 100, logit.thresholds, rtol=1e-12, atol=1e-12)
        moved |= bool(((logit.thresholds[:3] > 0) & (logit.thresholds[:3] < 10)).any())
    assert moved, "no threshold ever moved strictly inside its bounds: the comparison would be vacuous"
    assert outs[0]["cmr_loss"] > 0


@pytest.mark.parametrize("scale", [5.0, 20.0, 60.0])
def test_cosine_thresholds_are_the_logit_statistic_over_the_scale_and_bound_in_cosine(scale):
    """The reference in logit units with every threshold and the bound multiplied by s gives the cosine form's
    losses, and its new thresholds divided by s are the cosine ones; the cosine bound caps at 0.1 whatever s."""
    generator = torch.Generator().manual_seed(31)
    loss_fn = FineGrainedLoss(4, threshold_units="cosine").train()
    thresholds = torch.zeros(4, dtype=torch.float64)
    capped = False
    for _ in range(4):
        v, t, n, mask = _inputs(generator, closeness=1.0)
        s = torch.tensor(scale, dtype=torch.float64)
        out = loss_fn(v, t, n, mask, s)
        expected, new = reference(v, t, n, mask, s, thresholds * scale, 0.1 * scale)
        for key, value in expected.items():
            torch.testing.assert_close(out[key], value, rtol=1e-6, atol=1e-6, msg=key)
        torch.testing.assert_close(loss_fn.thresholds.double(), new / scale, rtol=1e-5, atol=1e-6)
        assert loss_fn.thresholds.max() <= 0.1 + 1e-7
        capped |= bool(torch.isclose(loss_fn.thresholds, torch.tensor(0.1)).any())
        thresholds = loss_fn.thresholds.double().clone()
    assert capped, "inputs chosen so that some type reaches the cosine bound"


def test_threshold_units_are_checked_and_set_the_default_bound():
    assert FineGrainedLoss(2).threshold_units == "cosine"
    assert FineGrainedLoss(2).threshold_upper_bound == pytest.approx(0.1)
    assert FineGrainedLoss(2, threshold_units="logit").threshold_upper_bound == 10.0
    assert FineGrainedLoss(2, threshold_units="logit", threshold_upper_bound=3.0).threshold_upper_bound == 3.0
    assert "threshold_units='cosine'" in repr(FineGrainedLoss(2))
    for bound in (None, 1.0):
        with pytest.raises(ValueError, match="threshold_units"):
            FineGrainedLoss(2, threshold_units="degrees", threshold_upper_bound=bound)


def test_a_third_contrastive_form_is_an_addition_behind_the_same_interface():
    """A new form is one subclass of `ContrastiveForm` (registered by its name); the loss builds the logits, the
    negatives' logits, IMC and CMR around it unchanged, and a second form of the same name is refused."""
    from hf_finegrained.contrastive import CONTRASTIVE_FORMS, ContrastiveForm

    seen = {}

    class RankOnly(ContrastiveForm):
        name = "test_rank_only"

        def __call__(self, logits, negative_logits, logit_bias):
            seen.update(logits=logits, negatives=negative_logits, bias=logit_bias)
            itc = logits.diagonal().neg().mean()
            return itc, itc, itc

    try:
        torch.manual_seed(0)
        v, t, n = torch.randn(4, 8), torch.randn(4, 8), torch.randn(4, 3, 8)
        mask = torch.tensor([[True, False, True]] * 4)
        mine = FineGrainedLoss(3, contrastive="test_rank_only")(v, t, n, mask, 10.0)
        softmax = FineGrainedLoss(3)(v, t, n, mask, 10.0)
        assert seen["logits"].shape == (4, 4) and seen["negatives"].shape == (4, 8) and seen["bias"] is None
        torch.testing.assert_close(mine["itc_loss"], -(10.0 * _unit(v) * _unit(t)).sum(-1).mean())
        for key in ("imc_loss", "cmr_loss", "thresholds"):  # everything but ITC is the same for every form
            assert torch.equal(mine[key], softmax[key]), key
        with pytest.raises(ValueError, match="already registered"):
            type("Again", (ContrastiveForm,), {"name": "test_rank_only"})
    finally:
        CONTRASTIVE_FORMS.pop("test_rank_only", None)


def test_the_loss_of_a_run_is_built_from_its_arguments_and_the_defaults_have_one_home(tmp_path):
    """`FineGrainedLoss.from_args`: every setting from the arguments, the form from the family; the arguments'
    defaults are the loss's, and both refuse a bad setting with the same sentence (`loss_setting_problems`)."""
    import inspect

    from hf_finegrained import FineGrainedTrainingArguments
    from hf_finegrained.families import CLIP, SIGLIP

    args = FineGrainedTrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True, imc_weight=0.7,
                                        cmr_weight=0.4, threshold_units="logit", fixed_threshold=2.0,
                                        gather_across_devices=False, distill_weight=0.5,
                                        negative_types=["swap_object", "replace_relation"])
    loss_fn = FineGrainedLoss.from_args(args, SIGLIP)
    assert (loss_fn.num_negative_types, loss_fn.imc_weight, loss_fn.cmr_weight, loss_fn.threshold_units,
            loss_fn.fixed_threshold, loss_fn.gather_across_devices, loss_fn.distill_weight, loss_fn.contrastive,
            loss_fn.threshold_upper_bound) == (2, 0.7, 0.4, "logit", 2.0, False, 0.5, "sigmoid", 10.0)
    assert loss_fn.thresholds.tolist() == [2.0, 2.0]
    plain = FineGrainedTrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True, use_hard_negatives=False)
    assert FineGrainedLoss.from_args(plain, CLIP).num_negative_types == 0

    defaults = FineGrainedTrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True)
    signature = inspect.signature(FineGrainedLoss.__init__).parameters
    for name in ("imc_weight", "cmr_weight", "use_hard_negatives", "gather_across_devices", "fixed_threshold",
                 "distill_weight", "threshold_units"):
        assert getattr(defaults, name) == signature[name].default, name
    assert defaults.threshold_upper_bound == FineGrainedLoss(1).threshold_upper_bound == 0.1
    for bad in (dict(imc_weight=-1.0), dict(threshold_upper_bound=float("inf")), dict(distill_weight=float("nan"))):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
            FineGrainedLoss(2, **bad)
        with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
            FineGrainedTrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True, **bad)


def test_threshold_state_round_trips_and_refuses_other_types_or_units():
    loss_fn = FineGrainedLoss(2, threshold_units="logit")
    loss_fn.thresholds.copy_(torch.tensor([1.5, 3.0]))
    state = loss_fn.threshold_state(["a", "b"])
    assert state == {"negative_types": ["a", "b"], "thresholds": {"a": 1.5, "b": 3.0}, "threshold_units": "logit"}
    other = FineGrainedLoss(2, threshold_units="logit")
    other.load_threshold_state(state, ["a", "b"], "state.json")
    assert torch.equal(other.thresholds, loss_fn.thresholds)
    with pytest.raises(ValueError, match="state.json was written for negative types"):
        other.load_threshold_state(state, ["b", "a"], "state.json")
    with pytest.raises(ValueError, match="resume with --threshold_units logit"):
        FineGrainedLoss(2).load_threshold_state(state, ["a", "b"], "state.json")
    snapshot = other.snapshot_thresholds()
    other.thresholds.fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite CMR thresholds"):
        other.threshold_state(["a", "b"])
    other.restore_thresholds(snapshot)
    assert other.threshold_values(["a", "b"]) == {"a": 1.5, "b": 3.0}
