"""SigLIP and SigLIP 2 through the model-family seam: padding, training, resume, LoRA, card, scoring, loading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import COLORS, NEGATIVE_TYPES, SHAPES, all_captions, draw, make_dataset, make_rows
from transformers import AutoModel, AutoProcessor, CLIPTextConfig, CLIPTextModel, TrainerCallback

from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments, interpolate_weights
from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.families import CLIP, FAMILIES, SIGLIP, SIGLIP2, UnsupportedModelError, family_of
from hf_finegrained.synthetic.tiny_clip import build_siglip_model, build_siglip_processor, train_clip_tokenizer

MAX_LENGTH = 40


def _save_siglip(folder, version: int) -> str:
    tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
    build_siglip_model(tokenizer, image_size=32, patch_size=8, hidden_size=32, num_layers=2, num_heads=2,
                       max_position_embeddings=MAX_LENGTH, version=version).save_pretrained(folder)
    build_siglip_processor(tokenizer, image_size=32, version=version, max_length=MAX_LENGTH).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def siglip_dir(tmp_path_factory) -> str:
    return _save_siglip(tmp_path_factory.mktemp("siglip"), 1)


@pytest.fixture(scope="module")
def siglip2_dir(tmp_path_factory) -> str:
    return _save_siglip(tmp_path_factory.mktemp("siglip2"), 2)


class StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


def _args(output_dir, **overrides) -> FineGrainedTrainingArguments:
    settings = dict(output_dir=str(output_dir), per_device_train_batch_size=4, max_steps=3, learning_rate=5e-3,
                    warmup_steps=0, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, seed=0,
                    negative_types=NEGATIVE_TYPES, disable_tqdm=True)
    settings.update(overrides)
    return FineGrainedTrainingArguments(**settings)


def _trainer(model_dir, args, **kwargs) -> FineGrainedTrainer:
    return FineGrainedTrainer(model=AutoModel.from_pretrained(model_dir), args=args, train_dataset=make_dataset(16),
                              processing_class=AutoProcessor.from_pretrained(model_dir), **kwargs)


def test_families_are_found_and_anything_else_is_refused_by_name(siglip_dir, siglip2_dir, tiny_clip_dir, tmp_path):
    assert family_of(AutoModel.from_pretrained(siglip_dir)) is SIGLIP
    assert family_of(AutoModel.from_pretrained(siglip2_dir)) is SIGLIP2
    assert family_of(AutoModel.from_pretrained(tiny_clip_dir)) is CLIP
    text_only = CLIPTextModel(CLIPTextConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                             num_attention_heads=2))
    with pytest.raises(UnsupportedModelError, match=r"CLIPTextModel is not a supported.*CLIPModel.*SiglipModel.*Siglip2Model"):
        FineGrainedTrainer(model=text_only, args=_args(tmp_path), train_dataset=make_dataset(4),
                           processing_class=AutoProcessor.from_pretrained(tiny_clip_dir))


def test_collator_pads_each_family_as_it_was_trained(siglip_dir, siglip2_dir, tiny_clip_dir):
    rows = make_rows(4)
    clip = FineGrainedCollator(AutoProcessor.from_pretrained(tiny_clip_dir), NEGATIVE_TYPES, max_length=77)(rows)
    assert clip["input_ids"].shape[1] < 77  # longest in the batch
    for folder, family in ((siglip_dir, SIGLIP), (siglip2_dir, SIGLIP2)):
        processor = AutoProcessor.from_pretrained(folder)
        batch = FineGrainedCollator(processor, NEGATIVE_TYPES, max_length=MAX_LENGTH, family=family)(rows)
        assert batch["input_ids"].shape == (4 + int(batch["negative_mask"].sum()), MAX_LENGTH)
        # exactly what the model's own processor gives for the captions (padding="max_length")
        own = processor(text=[r["caption"] for r in rows], padding="max_length", max_length=MAX_LENGTH,
                        truncation=True, return_tensors="pt")
        assert torch.equal(batch["input_ids"][:4], own["input_ids"])
        assert set(family.image_keys) <= set(batch)
    assert set(SIGLIP2.image_keys) == {"pixel_values", "pixel_attention_mask", "spatial_shapes"}


@pytest.mark.parametrize("version", [1, 2])
def test_siglip_trains_with_the_sigmoid_loss_and_its_bias(version, siglip_dir, siglip2_dir, tmp_path):
    folder = siglip_dir if version == 1 else siglip2_dir
    trainer = _trainer(folder, _args(tmp_path))
    assert trainer.loss_fn.contrastive == "sigmoid" and trainer.family.contrastive == "sigmoid"
    bias, scale = trainer.model.logit_bias.item(), trainer.model.logit_scale.item()
    trainer.train()
    assert trainer.model.logit_bias.item() != bias and trainer.model.logit_scale.item() != scale
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 3 and all(entry["imc_loss"] > 0 for entry in logs)
    trainer.save_model()
    card = (tmp_path / "README.md").read_text()
    name = "SiglipModel" if version == 1 else "Siglip2Model"
    assert f"is a `{name}` fine-tuned" in card and "sigmoid form" in card


def test_siglip_scale_is_not_clamped_like_clips(siglip_dir, tmp_path):
    """SigLIP trains its scale unclamped: a scale above CLIP's ceiling must survive a step."""
    model = AutoModel.from_pretrained(siglip_dir)
    with torch.no_grad():
        model.logit_scale.fill_(5.0)  # above ln 100
    trainer = FineGrainedTrainer(model=model, args=_args(tmp_path, max_steps=1, learning_rate=1e-6),
                                 train_dataset=make_dataset(8), processing_class=AutoProcessor.from_pretrained(siglip_dir))
    trainer.train()
    assert trainer.model.logit_scale.item() > 4.9


def test_siglip2_output_loads_without_the_package_and_resumes(siglip2_dir, tmp_path):
    common = dict(max_steps=4, save_strategy="steps", save_steps=2)
    straight = _trainer(siglip2_dir, _args(tmp_path / "straight", **common))
    straight.train()
    first = _trainer(siglip2_dir, _args(tmp_path / "resumed", **common), callbacks=[StopAt(2)])
    first.train()
    second = _trainer(siglip2_dir, _args(tmp_path / "resumed", **common))
    second.train(resume_from_checkpoint=str(tmp_path / "resumed" / "checkpoint-2"))
    for (name, a), (_, b) in zip(straight.model.named_parameters(), second.model.named_parameters()):
        assert (a - b).abs().max().item() <= 1e-5, name
    assert (straight.loss_fn.thresholds - second.loss_fn.thresholds).abs().max().item() <= 1e-5
    second.save_model()
    AutoProcessor.from_pretrained(siglip2_dir).save_pretrained(tmp_path / "resumed")
    check = (
        "import sys\n"
        "from transformers import AutoModel, AutoProcessor\n"
        f"model = AutoModel.from_pretrained({str(tmp_path / 'resumed')!r})\n"
        f"AutoProcessor.from_pretrained({str(tmp_path / 'resumed')!r})\n"
        "assert type(model).__name__ == 'Siglip2Model', type(model).__name__\n"
        "assert 'hf_finegrained' not in sys.modules\n"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-3000:]


def test_siglip_lora_merge_and_interpolation(siglip_dir, tmp_path):
    from hf_finegrained.lora import add_lora, merge_lora

    base = AutoModel.from_pretrained(siglip_dir)
    model = add_lora(AutoModel.from_pretrained(siglip_dir), r=2, alpha=4, dropout=0.0)
    trainer = FineGrainedTrainer(model=model, args=_args(tmp_path, max_steps=2), train_dataset=make_dataset(8),
                                 processing_class=AutoProcessor.from_pretrained(siglip_dir))
    trainer.train()
    merged = merge_lora(trainer.model)
    assert type(merged).__name__ == "SiglipModel"
    half = interpolate_weights(base, merged, 0.5)
    name = "text_model.encoder.layers.0.self_attn.q_proj.weight"
    expected = (base.state_dict()[name] + merged.state_dict()[name]) / 2
    torch.testing.assert_close(half.state_dict()[name], expected)
    assert not torch.equal(merged.state_dict()[name], base.state_dict()[name])


def test_scoring_uses_the_familys_padding(siglip_dir):
    """The scorer pads SigLIP texts to max_length, as the model was trained: its embeddings are the model's own."""
    from hf_finegrained.evaluation.engine import make_engine

    model, processor = AutoModel.from_pretrained(siglip_dir).eval(), AutoProcessor.from_pretrained(siglip_dir)
    engine = make_engine(model, processor=processor, progress=False)
    texts = ["a red square on a white background", "a cat"]
    got = engine.scorer.encode_texts(texts)
    tokens = processor(text=texts, padding="max_length", max_length=MAX_LENGTH, truncation=True, return_tensors="pt")
    with torch.no_grad():
        out = model.get_text_features(**{k: v for k, v in tokens.items() if k in ("input_ids", "attention_mask")})
    own = torch.nn.functional.normalize(getattr(out, "pooler_output", out), dim=-1)
    torch.testing.assert_close(got, own, rtol=1e-5, atol=1e-5)
    longest = processor.tokenizer(texts, padding="longest", return_tensors="pt")
    with torch.no_grad():
        other = model.get_text_features(**longest)
    assert not torch.allclose(own, torch.nn.functional.normalize(getattr(other, "pooler_output", other), dim=-1),
                              atol=1e-3)  # longest-padding would have given other embeddings


def test_benchmark_runner_scores_a_siglip_folder(siglip2_dir, tmp_path):
    """`hf-finegrained-eval <siglip folder>`: the runner loads any supported family from a folder."""
    from eval_helpers import write_small_text_benchmarks

    from hf_finegrained.evaluation.cli import main

    write_small_text_benchmarks(tmp_path / "data")
    status = main([siglip2_dir, "--benchmarks", "sugarcrepe,valse", "--benchmark_data_root", str(tmp_path / "data"),
                   "--output-dir", str(tmp_path / "out"), "--disable_tqdm", "--device", "cpu"])
    assert status == 0
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {name: entry["status"] for name, entry in document["benchmarks"].items()} == {"sugarcrepe": "ok",
                                                                                        "valse": "ok"}


@pytest.mark.slow
def test_embedded_default_runs_with_a_siglip_base(tmp_path):
    """`examples/train.py --model_family siglip`: the embedded default on a small SiglipModel base."""
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, str(root / "examples" / "train.py"), "--model_family", "siglip",
               "--output_dir", str(tmp_path / "run"), "--synthetic_test", "48", "--synthetic_probe_rows", "0",
               "--base_max_steps", "10", "--max_steps", "4", "--logging_steps", "2", "--per_device_train_batch_size",
               "16", "--base_cache_dir", str(tmp_path / "cache"), "--tradeoff_alphas", "0.5"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-4000:]
    assert "| synthetic world, % | base | plain fine-tune | CE-CLIP |" in result.stdout
    card = (tmp_path / "run" / "README.md").read_text()
    assert "is a `SiglipModel` fine-tuned" in card and "sigmoid form" in card
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model_type"] == "siglip"


# Negative masks that are not a prefix of each row: a slot filled from the wrong (row, type) shows up.
SCATTERED_MASKS = [
    [[False, True], [True, False]],
    [[False, True, False, True], [False, False, False, False], [True, True, True, False], [False, False, True, True]],
]


@pytest.mark.parametrize("mask", SCATTERED_MASKS, ids=["2x2", "4x4"])
@pytest.mark.parametrize("family_name", ["clip", "siglip", "siglip2"])
def test_each_negative_embedding_lands_in_its_row_and_type_slot(family_name: str, mask: list[list[bool]],
                                                               request: pytest.FixtureRequest) -> None:
    """`ModelFamily.encode_batch` puts the embedding of row i's type-k negative in slot (i, k) and zeros in the
    masked slots: the loss reads a caption's negatives from its own row, so a negative placed in another
    row's (or type's) slot would train against the wrong caption while every shape still fits. Each slot is
    compared with its text encoded as a caption (the family's own text path) in a batch without negatives."""
    folder = request.getfixturevalue({"clip": "tiny_clip_dir", "siglip": "siglip_dir",
                                      "siglip2": "siglip2_dir"}[family_name])
    family = FAMILIES[family_name]
    model, processor = AutoModel.from_pretrained(folder).eval(), AutoProcessor.from_pretrained(folder)
    colours, shapes = list(COLORS), list(SHAPES)
    types = [f"type_{k}" for k in range(len(mask[0]))]
    rows = []
    for i, row_mask in enumerate(mask):
        negatives = [f"a {colours[(i + k) % 4]} {shapes[k % 3]} number {i} {k}" if keep else None
                     for k, keep in enumerate(row_mask)]
        rows.append({"image": draw(colours[i % 4], shapes[i % 3]), "caption": f"a {colours[i % 4]} {shapes[i % 3]}",
                     "hard_negatives": negatives})
    valid = [(i, k, text) for i, row in enumerate(rows) for k, text in enumerate(row["hard_negatives"])
             if text is not None]

    batch = FineGrainedCollator(processor, types, family=family)(rows)
    alone = FineGrainedCollator(processor, [], include_negatives=False, family=family)(
        [{"image": draw("red", "square"), "caption": text} for _, _, text in valid])
    with torch.no_grad():
        encoded = family.encode_batch(model, batch)
        expected = family.encode_batch(model, alone)["text_embeds"]

    atol = 1e-5
    # the negatives' own embeddings are far apart, so a misplaced one cannot pass within the tolerance
    assert torch.cdist(expected, expected).add(torch.eye(len(valid)) * 1e9).min() > 1000 * atol
    slots = encoded["negative_embeds"]
    assert torch.equal(encoded["negative_mask"], torch.tensor(mask))
    assert slots.shape == (len(mask), len(types), expected.shape[1])
    for j, (i, k, text) in enumerate(valid):
        torch.testing.assert_close(slots[i, k], expected[j], rtol=0, atol=atol, msg=lambda m: f"slot {(i, k)} "
                                   f"should hold {text!r}: {m}")
    masked = ~torch.tensor(mask)
    assert torch.equal(slots[masked], torch.zeros(int(masked.sum()), expected.shape[1]))
