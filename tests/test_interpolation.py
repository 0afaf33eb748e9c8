"""Weight interpolation (WiSE-FT): the mixed weights, refusals, and the command run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from eval_helpers import write_small_text_benchmarks
from helpers import make_rows
from transformers import AutoModel, CLIPModel, CLIPProcessor

from hf_finegrained import IncompatibleModelsError, interpolate_weights
from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.tiny_clip import build_clip_model


@pytest.fixture(scope="module")
def parents(tiny_clip_dir, tmp_path_factory):
    """The tiny base and a 'fine-tune' of it (every floating tensor moved by noise), saved as folders."""
    base = CLIPModel.from_pretrained(tiny_clip_dir)
    tuned = CLIPModel.from_pretrained(tiny_clip_dir)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for tensor in tuned.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(0.05 * torch.randn(tensor.shape, generator=generator))
    folder = tmp_path_factory.mktemp("finetuned")
    tuned.save_pretrained(folder)
    CLIPProcessor.from_pretrained(tiny_clip_dir).save_pretrained(folder)
    return base.eval(), tuned.eval(), str(folder)


def _outputs(model, tiny_clip_dir):
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    batch = FineGrainedCollator(processor, [], include_negatives=False)(make_rows(4, seed=5))
    with torch.no_grad():
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                    pixel_values=batch["pixel_values"])
    return out.logits_per_image


def test_endpoints_reproduce_the_parents_outputs_exactly(parents, tiny_clip_dir):
    base, tuned, _ = parents
    assert torch.equal(_outputs(interpolate_weights(base, tuned, 0.0), tiny_clip_dir), _outputs(base, tiny_clip_dir))
    assert torch.equal(_outputs(interpolate_weights(base, tuned, 1.0), tiny_clip_dir), _outputs(tuned, tiny_clip_dir))
    assert not torch.equal(_outputs(base, tiny_clip_dir), _outputs(tuned, tiny_clip_dir))


def test_half_is_the_mean_of_every_floating_tensor_and_inputs_are_untouched(parents):
    base, tuned, _ = parents
    before = {name: tensor.clone() for name, tensor in tuned.state_dict().items()}
    mixed = interpolate_weights(base, tuned, 0.5).state_dict()
    left, right = base.state_dict(), tuned.state_dict()
    floating = [name for name, tensor in mixed.items() if tensor.is_floating_point()]
    assert "logit_scale" in floating and len(floating) > 20
    for name in floating:
        torch.testing.assert_close(mixed[name], (left[name] + right[name]) / 2, rtol=0, atol=1e-6)
    assert all(torch.equal(before[name], right[name]) for name in before)
    quarter = interpolate_weights(base, tuned, 0.25).state_dict()["logit_scale"]
    torch.testing.assert_close(quarter, 0.75 * left["logit_scale"] + 0.25 * right["logit_scale"])


def test_mismatched_models_are_refused_naming_the_first_difference(parents, tiny_clip_dir):
    base, tuned, _ = parents
    from hf_finegrained.tiny_clip import train_clip_tokenizer
    from helpers import all_captions

    tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
    wider = build_clip_model(tokenizer, image_size=32, patch_size=8, hidden_size=48, num_layers=2, num_heads=2,
                             projection_dim=16)
    with pytest.raises(IncompatibleModelsError, match=r"'text_model.embeddings.token_embedding.weight' has shape"):
        interpolate_weights(base, wider, 0.5)
    deeper = build_clip_model(tokenizer, image_size=32, patch_size=8, hidden_size=32, num_layers=3, num_heads=2,
                              projection_dim=16)
    with pytest.raises(IncompatibleModelsError, match=r"'text_model.encoder.layers.2.*' is in the fine-tuned model"):
        interpolate_weights(base, deeper, 0.5)
    with pytest.raises(IncompatibleModelsError, match="classes differ: CLIPModel and CLIPTextModel"):
        interpolate_weights(base, tuned.text_model, 0.5)
    with pytest.raises(ValueError, match="finite"):
        interpolate_weights(base, tuned, float("nan"))


def test_a_lora_run_interpolates_after_merging_and_not_before(parents, tiny_clip_dir, tmp_path):
    from hf_finegrained.lora import add_lora, merge_lora

    base, _, _ = parents
    adapted = add_lora(CLIPModel.from_pretrained(tiny_clip_dir), r=2, alpha=4, dropout=0.0)
    with torch.no_grad():  # a trained adapter: B is no longer zero
        for name, parameter in adapted.named_parameters():
            if "lora_B" in name:
                parameter.add_(0.1)
    with pytest.raises(IncompatibleModelsError, match="PEFT model: merge its adapter first"):
        interpolate_weights(base, adapted, 0.5)
    adapter_dir = tmp_path / "adapter"
    adapted.save_pretrained(adapter_dir)  # what a --use_lora run writes; the command merges it on load
    from hf_finegrained.interpolation import _load

    loaded, _ = _load(str(adapter_dir), None)
    assert type(loaded) is CLIPModel
    merged = merge_lora(adapted)
    assert type(merged) is CLIPModel
    assert all(torch.equal(loaded.state_dict()[name], tensor) for name, tensor in merged.state_dict().items())
    mixed = interpolate_weights(base, merged, 0.5)
    assert set(mixed.state_dict()) == set(base.state_dict())


def test_the_command_writes_plain_transformers_folders_and_scores_a_sweep(parents, tiny_clip_dir, tmp_path):
    """`hf-finegrained-interpolate` as a user runs it: one alpha, then a sweep scored on two benchmarks."""
    base, tuned, tuned_dir = parents
    out = tmp_path / "half"
    command = [sys.executable, "-m", "hf_finegrained.interpolation", tiny_clip_dir, tuned_dir, "--alpha", "0.5",
               "--output", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = AutoModel.from_pretrained(out)
    assert type(loaded) is CLIPModel and (out / "model.safetensors").is_file()
    CLIPProcessor.from_pretrained(out)
    expected = interpolate_weights(base, tuned, 0.5).state_dict()
    assert all(torch.equal(loaded.state_dict()[name], expected[name]) for name in expected)
    card = (out / "README.md").read_text()
    assert "alpha-0.5" in card and "finetuned" in card and "tiny_clip" in card and str(tmp_path) not in card

    root = tmp_path / "data"
    write_small_text_benchmarks(root)
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "hf_finegrained.interpolation", tiny_clip_dir, tuned_dir, "--alphas", "0,1",
               "--output", str(sweep), "--benchmarks", "sugarcrepe,valse", "--data-root", str(root)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    table = json.loads((sweep / "sweep.json").read_text())
    assert [point["alpha"] for point in table["points"]] == [0.0, 1.0]
    for point in table["points"]:
        assert {name: entry["status"] for name, entry in point["benchmarks"].items()} == {"sugarcrepe": "ok",
                                                                                        "valse": "ok"}
        assert (sweep / f"alpha-{point['alpha']:g}" / "results.json").is_file()
    assert "| 0 |" in (sweep / "sweep.md").read_text() and "| 1 |" in (sweep / "sweep.md").read_text()
    bad = subprocess.run([sys.executable, "-m", "hf_finegrained.interpolation", tiny_clip_dir, tuned_dir,
                          "--alphas", "0,half", "--output", str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode != 0 and "'half' is not a number" in bad.stderr
