"""sentence-transformers users: a trained folder loads as a `SentenceTransformer` whose embeddings are exactly the
model's own, and `CEClipLoss` makes one `SentenceTransformerTrainer` step equal to one `FineGrainedTrainer` step."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import NEGATIVE_TYPES, make_dataset, make_rows
from transformers import CLIPModel, CLIPProcessor, TrainerCallback

from hf_finegrained import FineGrainedLoss, FineGrainedTrainer, FineGrainedTrainingArguments
from hf_finegrained.checkpoints import STATE_NAME
from hf_finegrained.families import CLIP

sentence_transformers = pytest.importorskip("sentence_transformers")
from sentence_transformers import (  # noqa: E402
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)

from hf_finegrained.sentence_transformers_loss import (  # noqa: E402
    MASK_COLUMN,
    CEClipLoss,
    dual_encoder,
    sentence_transformers_columns,
)

ROWS = 8
# One plain-SGD step (no momentum, no decay, constant rate): the update is the rate times the gradient, so equal
# weights mean equal gradients. Adam's first step is the sign of each gradient, which turns rounding noise in a
# near-zero gradient into a full step either way; it would test the optimiser, not the loss.
STEP = dict(max_steps=1, learning_rate=0.5, optim="sgd", weight_decay=0.0, warmup_steps=0,
            lr_scheduler_type="constant", per_device_train_batch_size=ROWS, seed=0, report_to=[], use_cpu=True,
            save_strategy="no", disable_tqdm=True, logging_steps=1)
# The two trainers encode the texts in other batch shapes (sentence-transformers also encodes the masked negatives)
# and may order the rows of the batch differently: float32 rounding, nothing more.
LOSS_RTOL, WEIGHT_ATOL = 1e-5, 1e-6


def _texts_and_images(model, processor, rows):
    captions = [row["caption"] for row in rows]
    images = [row["image"] for row in rows]
    with torch.no_grad():
        text = model.get_text_features(**processor.tokenizer(captions, padding=True, return_tensors="pt"))
        image = model.get_image_features(**processor.image_processor(images=images, return_tensors="pt"))
    return getattr(text, "pooler_output", text), getattr(image, "pooler_output", image), captions, images


def test_a_trained_folder_loads_as_a_sentence_transformer_with_the_models_own_embeddings(tiny_clip_dir, tmp_path):
    trainer = FineGrainedTrainer(
        model=CLIPModel.from_pretrained(tiny_clip_dir), processing_class=CLIPProcessor.from_pretrained(tiny_clip_dir),
        args=FineGrainedTrainingArguments(output_dir=str(tmp_path), negative_types=NEGATIVE_TYPES, **STEP),
        train_dataset=make_dataset(ROWS),
    )
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))

    st = SentenceTransformer(str(tmp_path / "final"), device="cpu")
    rows = make_rows(5, seed=3)
    text, image, captions, images = _texts_and_images(
        CLIPModel.from_pretrained(tmp_path / "final"), CLIPProcessor.from_pretrained(tmp_path / "final"), rows)
    assert torch.equal(st.encode(captions, convert_to_tensor=True), text)
    assert torch.equal(st.encode(images, convert_to_tensor=True), image)
    assert not torch.equal(st.encode(captions, convert_to_tensor=True),
                           _texts_and_images(CLIPModel.from_pretrained(tiny_clip_dir),
                                             CLIPProcessor.from_pretrained(tiny_clip_dir), rows)[0]), \
        "the trained weights, not the base's"


def test_sentence_transformers_columns_follow_the_collators_mask():
    rows = make_rows(12, seed=1, invalid_rate=0.4)
    rows[0]["hard_negatives"][2] = rows[0]["caption"].upper()  # equal to the caption: masked, as the collator does
    from datasets import Dataset

    columns = sentence_transformers_columns(Dataset.from_list(rows), NEGATIVE_TYPES)
    assert columns.column_names == ["image", "caption", *(f"negative_{t}" for t in NEGATIVE_TYPES), MASK_COLUMN]
    for row, converted in zip(rows, columns):
        for name, negative, used in zip(NEGATIVE_TYPES, row["hard_negatives"], converted[MASK_COLUMN]):
            usable = negative is not None and negative.lower() != row["caption"].lower()
            assert used == usable
            assert converted[f"negative_{name}"] == (negative if usable else row["caption"])
    assert columns[0][MASK_COLUMN][2] is False


class _Outputs:
    """Keeps what a `FineGrainedLoss` returned on each call."""

    def __init__(self, loss_module: torch.nn.Module) -> None:
        self.calls: list[dict[str, torch.Tensor]] = []
        loss_module.register_forward_hook(lambda module, args, out: self.calls.append(
            {key: value.detach().clone() for key, value in out.items()}))


@pytest.fixture(scope="module")
def tiny_siglip_dir(tmp_path_factory) -> str:
    from helpers import all_captions

    from hf_finegrained.synthetic.tiny_clip import build_siglip_model, build_siglip_processor, train_clip_tokenizer

    folder = tmp_path_factory.mktemp("tiny_siglip")
    tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
    build_siglip_model(tokenizer, image_size=32, patch_size=8, hidden_size=32, num_layers=2, num_heads=2,
                       max_position_embeddings=24).save_pretrained(folder)
    build_siglip_processor(tokenizer, image_size=32, max_length=24).save_pretrained(folder)
    return str(folder)


@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_one_sentence_transformers_step_equals_one_finegrained_trainer_step(family, tiny_clip_dir, tiny_siglip_dir,
                                                                            tmp_path):
    from transformers import AutoModel, AutoProcessor

    folder = tiny_clip_dir if family == "clip" else tiny_siglip_dir
    rows = make_dataset(ROWS)
    assert 0 < sum(n is None for row in rows["hard_negatives"] for n in row) < ROWS * len(NEGATIVE_TYPES)

    ours = FineGrainedTrainer(
        model=AutoModel.from_pretrained(folder), processing_class=AutoProcessor.from_pretrained(folder),
        args=FineGrainedTrainingArguments(output_dir=str(tmp_path / "ours"), negative_types=NEGATIVE_TYPES, **STEP),
        train_dataset=rows,
    )
    ours_out = _Outputs(ours.loss_fn)
    ours.train()

    model = SentenceTransformer(folder, device="cpu")
    loss = CEClipLoss(model, NEGATIVE_TYPES)
    assert loss.fine_grained.contrastive == ("softmax" if family == "clip" else "sigmoid")
    theirs_out = _Outputs(loss.fine_grained)
    before = {name: p.detach().clone() for name, p in dual_encoder(model).named_parameters()}
    SentenceTransformerTrainer(
        model=model, args=SentenceTransformerTrainingArguments(output_dir=str(tmp_path / "st"), **STEP),
        train_dataset=sentence_transformers_columns(rows, NEGATIVE_TYPES), loss=loss, callbacks=loss.callbacks(),
    ).train()

    assert len(ours_out.calls) == len(theirs_out.calls) == 1
    a, b = ours_out.calls[0], theirs_out.calls[0]
    assert a["num_valid_negatives"] == b["num_valid_negatives"] > 0
    for key in ("loss", "itc_loss", "imc_loss", "cmr_loss"):
        assert b[key].item() == pytest.approx(a[key].item(), rel=LOSS_RTOL), key
    assert a["cmr_loss"] > 0
    torch.testing.assert_close(loss.fine_grained.thresholds, ours.loss_fn.thresholds, rtol=LOSS_RTOL, atol=1e-7)
    assert (ours.loss_fn.thresholds > 0).any(), "the thresholds moved in both"

    trained = dict(dual_encoder(model).named_parameters())
    moved = 0
    for name, weight in ours.model.named_parameters():
        assert (trained[name].detach() - weight.detach()).abs().max().item() <= WEIGHT_ATOL, name
        moved += not torch.equal(weight.detach(), before[name])
    assert moved >= len(before) - 2, "one step moves (nearly) every weight: the comparison is not vacuous"
    if family == "siglip":
        assert not torch.equal(trained["logit_bias"].detach(), before["logit_bias"]), "the bias is trained too"


def test_the_loss_refuses_other_column_counts_and_mask_shapes(tiny_clip_dir):
    model = SentenceTransformer(tiny_clip_dir, device="cpu")
    loss = CEClipLoss(model, NEGATIVE_TYPES)
    rows = make_rows(2)
    image = model.preprocess([row["image"] for row in rows])
    text = model.preprocess([row["caption"] for row in rows])
    with pytest.raises(ValueError, match="expects 6 input columns"):
        loss([image, text], None)
    with pytest.raises(ValueError, match="4 booleans per row"):
        loss([image, text, text, text, text, text], torch.ones(2, 3, dtype=torch.bool))
    assert loss([image, text, text, text, text, text], None).isfinite()


def test_a_siglip_folder_gives_its_own_text_embeddings_once_padded_as_trained(tmp_path):
    from helpers import all_captions

    from hf_finegrained.families import SIGLIP
    from hf_finegrained.sentence_transformers_loss import pad_as_trained
    from hf_finegrained.synthetic.tiny_clip import build_siglip_model, build_siglip_processor, train_clip_tokenizer

    tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
    model = build_siglip_model(tokenizer, hidden_size=32, num_heads=2)
    processor = build_siglip_processor(tokenizer)
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    captions = [row["caption"] for row in make_rows(4)]
    with torch.no_grad():
        padding = SIGLIP.text_kwargs(SIGLIP.max_text_length(tokenizer, model))
        own = model.get_text_features(**processor.tokenizer(captions, return_tensors="pt", **padding))
    own = getattr(own, "pooler_output", own)
    st = SentenceTransformer(str(tmp_path), device="cpu")
    assert not torch.allclose(st.encode(captions, convert_to_tensor=True), own), \
        "sentence-transformers' own padding (longest) differs: the fix below is needed"
    assert torch.equal(pad_as_trained(st).encode(captions, convert_to_tensor=True), own)


def test_from_args_builds_the_loss_the_training_arguments_describe(tiny_clip_dir, tmp_path):
    model = SentenceTransformer(tiny_clip_dir, device="cpu")
    args = FineGrainedTrainingArguments(output_dir=str(tmp_path), negative_types=NEGATIVE_TYPES[:2], imc_weight=0.7,
                                        cmr_weight=0.1, threshold_units="logit", fixed_threshold=2.0, use_cpu=True)
    loss = CEClipLoss.from_args(model, args).fine_grained
    expected = FineGrainedLoss.from_args(args, CLIP)
    assert loss.extra_repr() == expected.extra_repr()
    assert torch.equal(loss.thresholds, expected.thresholds)
    args.distill_weight = 1.0
    with pytest.raises(ValueError, match="no distillation teacher"):
        CEClipLoss.from_args(model, args)


class _StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


def test_the_thresholds_travel_in_sentence_transformers_checkpoints_and_a_resume_restores_them(tiny_clip_dir, tmp_path):
    common = dict(STEP, max_steps=4, save_strategy="steps", save_steps=2, optim="adamw_torch", learning_rate=2e-2,
                  per_device_train_batch_size=4)
    rows = sentence_transformers_columns(make_dataset(16), NEGATIVE_TYPES)

    def run(output, resume=None, load=True, stop=None):
        model = SentenceTransformer(tiny_clip_dir, device="cpu")
        loss = CEClipLoss(model, NEGATIVE_TYPES)
        if resume is not None and load:
            loss.load_state(str(resume))
        trainer = SentenceTransformerTrainer(
            model=model, args=SentenceTransformerTrainingArguments(output_dir=str(output), **common),
            train_dataset=rows, loss=loss, callbacks=[*loss.callbacks(), *([_StopAt(stop)] if stop else [])])
        trainer.train(resume_from_checkpoint=str(resume) if resume is not None else None)
        return model, loss

    straight_model, straight = run(tmp_path / "straight")
    _, first = run(tmp_path / "resumed", stop=2)
    checkpoint = tmp_path / "resumed" / "checkpoint-2"
    saved = json.loads((checkpoint / STATE_NAME).read_text())
    assert list(saved["thresholds"].values()) == first.fine_grained.thresholds.tolist()
    assert any(value > 0 for value in saved["thresholds"].values()), "a resume test with zero thresholds is vacuous"

    with pytest.raises(ValueError, match="loss.load_state"):
        run(tmp_path / "resumed", resume=checkpoint, load=False)
    resumed_model, resumed = run(tmp_path / "resumed", resume=checkpoint)
    assert resumed.resumed_from == str(checkpoint)
    torch.testing.assert_close(resumed.fine_grained.thresholds, straight.fine_grained.thresholds, rtol=0, atol=1e-6)
    trained = dict(dual_encoder(resumed_model).named_parameters())
    for name, weight in dual_encoder(straight_model).named_parameters():
        assert (trained[name] - weight).abs().max().item() <= 1e-6, name

    (checkpoint / STATE_NAME).unlink()
    with pytest.raises(ValueError, match="finegrained_state.json is missing"):
        CEClipLoss(SentenceTransformer(tiny_clip_dir, device="cpu"), NEGATIVE_TYPES).load_state(str(checkpoint))
