"""LoRA through PEFT: adapter-only checkpoints, reload, merge into plain CLIPModel weights."""

from __future__ import annotations

import torch
from helpers import make_dataset
from peft import PeftModel
from test_trainer import make_args
from transformers import CLIPModel, CLIPProcessor

from hf_finegrained import FineGrainedTrainer
from hf_finegrained.lora import add_lora, merge_lora


def test_lora_trains_saves_adapter_reloads_and_merges(tiny_clip_dir, tmp_path):
    model = add_lora(CLIPModel.from_pretrained(tiny_clip_dir), r=4, alpha=8, dropout=0.0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = FineGrainedTrainer(
        model=model,
        args=make_args(tmp_path / "lora", max_steps=3, learning_rate=5e-2, save_strategy="steps", save_steps=3),
        train_dataset=make_dataset(16),
        processing_class=CLIPProcessor.from_pretrained(tiny_clip_dir),
    )
    trainer.train()
    trained = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trained and all("lora_" in n for n in trained)
    assert all(not torch.equal(before[n], p.detach()) for n, p in model.named_parameters() if p.requires_grad)
    assert all(torch.equal(before[n], p.detach()) for n, p in model.named_parameters() if not p.requires_grad)

    checkpoint = tmp_path / "lora" / "checkpoint-3"
    assert (checkpoint / "adapter_model.safetensors").is_file()
    assert not (checkpoint / "model.safetensors").exists(), "LoRA checkpoints hold only the adapter"

    reloaded = PeftModel.from_pretrained(CLIPModel.from_pretrained(tiny_clip_dir), checkpoint).eval()
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    row = make_dataset(2, seed=5)[0]
    inputs = processor(images=[row["image"]], text=[row["caption"], "a blue circle"], return_tensors="pt",
                       padding=True)
    with torch.no_grad():
        adapter_logits = reloaded(**inputs).logits_per_image
    merge_lora(reloaded).save_pretrained(tmp_path / "merged")
    plain = CLIPModel.from_pretrained(tmp_path / "merged").eval()
    assert not any("lora" in n for n, _ in plain.named_parameters())
    with torch.no_grad():
        torch.testing.assert_close(plain(**inputs).logits_per_image, adapter_logits, rtol=1e-4, atol=1e-4)
    base = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    with torch.no_grad():
        assert not torch.allclose(base(**inputs).logits_per_image, adapter_logits, atol=1e-4)
