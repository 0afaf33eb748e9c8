"""Weight interpolation (WiSE-FT): the mixed weights, refusals, and the command run as a user would."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch
from eval_helpers import write_small_text_benchmarks
from helpers import make_rows
from transformers import AutoModel, CLIPModel, CLIPProcessor

from hf_finegrained import IncompatibleModelsError, interpolate_weights
from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.interpolation import main as interpolate_main
from hf_finegrained.interpolation import save_interpolated
from hf_finegrained.output_folder import OutputFolderError
from hf_finegrained.synthetic.tiny_clip import build_clip_model


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
    from hf_finegrained.synthetic.tiny_clip import train_clip_tokenizer
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
    adapted.save_pretrained(adapter_dir)  # the adapter alone (a --use_lora run adds more files: test below)
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
               "--output_dir", str(out)]
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
               "--output_dir", str(sweep), "--benchmarks", "sugarcrepe,valse", "--benchmark_data_root", str(root)]
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
                          "--alphas", "0,half", "--output_dir", str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode != 0 and "'half' is not a number" in bad.stderr


# Issue 26, item 3: the LoRA folder hf-finegrained-train writes ----------------------------------------------


def test_the_command_reads_the_lora_folder_that_train_py_writes(tiny_clip_dir, tmp_path):
    """`hf-finegrained-train --use_lora` saves the adapter with the processor (tokenizer files) and the run's own
    files beside it; the command merges that folder exactly as the training command's `--merge_lora` does."""
    from helpers import make_dataset
    from test_failures_eval import _real_flags

    from hf_finegrained.training_command import main as train_main

    data = tmp_path / "data"
    data.mkdir()
    make_dataset(8, invalid_rate=0.0).to_parquet(str(data / "train.parquet"))
    run = tmp_path / "lora-run"
    train_main(_real_flags(tiny_clip_dir, data, run, "--use_lora", "--lora_r", "2", "--merge_lora",
                           "--learning_rate", "1e-2"))
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer_config.json",
                 "finegrained_state.json", "training_args.bin"):
        assert (run / name).is_file(), name  # the layout that made peft's AutoPeftModel resize embeddings
    assert not (run / "model.safetensors").exists()
    merged = CLIPModel.from_pretrained(run / "merged").state_dict()  # merged by train.py from the trained model
    base = CLIPModel.from_pretrained(tiny_clip_dir).state_dict()
    assert any(not torch.equal(base[name], merged[name]) for name in base)  # the adapter learned something

    assert interpolate_main([tiny_clip_dir, str(run), "--alpha", "1", "--output_dir", str(tmp_path / "one")]) == 0
    whole = CLIPModel.from_pretrained(tmp_path / "one").state_dict()
    assert set(whole) == set(merged) and all(torch.equal(whole[name], merged[name]) for name in merged)
    assert interpolate_main([tiny_clip_dir, str(run), "--alpha", "0.5", "--output_dir", str(tmp_path / "half")]) == 0
    half = CLIPModel.from_pretrained(tmp_path / "half").state_dict()
    expected = interpolate_weights(CLIPModel.from_pretrained(tiny_clip_dir), CLIPModel.from_pretrained(run / "merged"),
                                   0.5).state_dict()
    assert all(torch.equal(half[name], expected[name]) for name in expected)
    CLIPProcessor.from_pretrained(tmp_path / "half")  # the run's processor came along
    assert not (tmp_path / "half" / "finegrained_state.json").exists()  # the run's thresholds did not


# Issue 26, item 2: never over a model silently -----------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path) with a hash of its bytes."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _leftovers(parent: Path) -> list[str]:
    return [path.name for path in parent.iterdir() if ".partial-" in path.name or ".replaced-" in path.name]


def test_the_command_never_writes_over_an_input_even_with_overwrite(parents, tiny_clip_dir, tmp_path):
    _, _, tuned_dir = parents
    runs = tmp_path / "runs"
    tuned = runs / "ce-clip"
    shutil.copytree(tuned_dir, tuned)
    (tuned / "finegrained_state.json").write_text("{}")
    before, base_before = _snapshot(tuned), _snapshot(Path(tiny_clip_dir))
    cases = [(str(tuned), ["--alpha", "0.5"], "is the fine-tuned model"),
             (str(tuned), ["--alpha", "0.5", "--overwrite"], "is the fine-tuned model"),
             (tiny_clip_dir, ["--alpha", "0.5", "--overwrite"], "is the base model"),
             (str(runs / ".." / "runs" / "ce-clip") + "/", ["--alphas", "0,1", "--overwrite"],
              "is the fine-tuned model"),
             (str(runs), ["--alphas", "0,1", "--overwrite"], "holds the fine-tuned model")]
    for output, flags, words in cases:
        with pytest.raises(SystemExit) as raised:
            interpolate_main([tiny_clip_dir, str(tuned), *flags, "--output_dir", output])
        message = str(raised.value)
        assert words in message and output in message and "even with --overwrite" in message, message
    assert _snapshot(tuned) == before and _snapshot(Path(tiny_clip_dir)) == base_before
    assert sorted(path.name for path in runs.iterdir()) == ["ce-clip"]


def test_a_non_empty_output_is_refused_unless_overwrite_which_replaces_it_whole(parents, tiny_clip_dir, tmp_path):
    _, _, tuned_dir = parents
    out = tmp_path / "wise"
    out.mkdir()
    for name in ("model.safetensors", "finegrained_state.json", "training_args.bin", "loss_curves.png"):
        (out / name).write_text("old")
    before = _snapshot(out)
    with pytest.raises(SystemExit) as raised:
        interpolate_main([tiny_clip_dir, tuned_dir, "--alpha", "0.5", "--output_dir", str(out)])
    assert "is not empty" in str(raised.value) and "--overwrite" in str(raised.value) and str(out) in str(raised.value)
    assert _snapshot(out) == before

    assert interpolate_main([tiny_clip_dir, tuned_dir, "--alpha", "0.5", "--output_dir", str(out), "--overwrite"]) == 0
    fresh = tmp_path / "fresh"
    assert interpolate_main([tiny_clip_dir, tuned_dir, "--alpha", "0.5", "--output_dir", str(fresh)]) == 0
    assert sorted(_snapshot(out)) == sorted(_snapshot(fresh))  # nothing of the old folder is left
    assert not (out / "finegrained_state.json").exists() and not (out / "training_args.bin").exists()
    assert _snapshot(out)["model.safetensors"] == _snapshot(fresh)["model.safetensors"]

    sweep = tmp_path / "sweep"
    (sweep / "alpha-0.3").mkdir(parents=True)
    (sweep / "alpha-0.3" / "model.safetensors").write_text("old")
    assert interpolate_main([tiny_clip_dir, tuned_dir, "--alphas", "0,1", "--output_dir", str(sweep), "--overwrite"]) == 0
    assert sorted(path.name for path in sweep.iterdir()) == ["alpha-0", "alpha-1"]
    assert _leftovers(tmp_path) == []


def test_a_failure_while_writing_leaves_no_partial_folder_and_the_old_one_intact(parents, tiny_clip_dir, tmp_path):
    _, _, tuned_dir = parents
    old = tmp_path / "wise"
    old.mkdir()
    (old / "model.safetensors").write_text("the model that was there")
    before = _snapshot(old)
    with mock.patch("hf_finegrained.model_card.interpolation_card", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError, match="disk full"):  # after the weights were written
            interpolate_main([tiny_clip_dir, tuned_dir, "--alpha", "0.5", "--output_dir", str(tmp_path / "new")])
        assert not (tmp_path / "new").exists()
        with pytest.raises(RuntimeError, match="disk full"):
            interpolate_main([tiny_clip_dir, tuned_dir, "--alpha", "0.5", "--output_dir", str(old), "--overwrite"])
    assert _snapshot(old) == before
    assert _leftovers(tmp_path) == []


def test_save_interpolated_refuses_a_non_empty_folder_and_an_input(parents, tiny_clip_dir, tmp_path):
    base, tuned, tuned_dir = parents
    mixed = interpolate_weights(base, tuned, 0.5)
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.json").write_text("{}")
    with pytest.raises(OutputFolderError, match="is not empty"):
        save_interpolated(mixed, processor, str(out), tiny_clip_dir, tuned_dir, 0.5)
    assert (out / "stale.json").is_file()
    with pytest.raises(OutputFolderError, match="is the fine-tuned model"):
        save_interpolated(mixed, processor, tuned_dir, tiny_clip_dir, tuned_dir, 0.5, overwrite=True)
    save_interpolated(mixed, processor, str(out), tiny_clip_dir, tuned_dir, 0.5, overwrite=True)
    assert not (out / "stale.json").exists() and (out / "model.safetensors").is_file()
    assert os.listdir(tmp_path) == ["out"]


# Issue 32, item 3: the endpoints are the parents bit for bit -------------------------------------------------


@pytest.fixture(scope="module")
def distant_parents(tiny_clip_dir: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> tuple[CLIPModel, CLIPModel, str, str]:
    """Two tiny CLIPs of one config built from other seeds, the second's floating tensors scaled by 37.3 and
    shifted by 11.7, each saved as a folder: parents this far apart, unlike a fine-tune a little noise away
    from its base, make `start + alpha * (end - start)` miss a parent's bits at an endpoint."""
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    sizes = dict(image_size=32, patch_size=8, hidden_size=32, num_layers=2, num_heads=2, projection_dim=16)
    base = build_clip_model(processor.tokenizer, seed=1, **sizes)
    far = build_clip_model(processor.tokenizer, seed=2, **sizes)
    with torch.no_grad():
        for tensor in far.state_dict().values():
            if tensor.is_floating_point():
                tensor.mul_(37.3).add_(11.7)
    folders = []
    for name, model in (("base", base), ("far", far)):
        folder = tmp_path_factory.mktemp(name)
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        folders.append(str(folder))
    return base.eval(), far.eval(), folders[0], folders[1]


def _assert_same_tensors(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor], label: str) -> None:
    assert got.keys() == want.keys(), label
    differing = [name for name, tensor in want.items() if not torch.equal(got[name], tensor)]
    assert not differing, f"{label}: {len(differing)} of {len(want)} tensors are not the parent's, e.g. {differing[:3]}"


def test_endpoints_are_the_parents_bit_for_bit_even_when_they_are_far_apart(
        distant_parents: tuple[CLIPModel, CLIPModel, str, str]) -> None:
    """alpha 0 returns the base's tensors and alpha 1 the fine-tune's, exactly (as documented), whatever the
    distance between them: a model written at an endpoint must be the parent itself, not a rounded copy."""
    base, far, _, _ = distant_parents
    left, right = base.state_dict(), far.state_dict()
    floating = [name for name, tensor in right.items() if tensor.is_floating_point()]
    # these parents are far enough apart that the straight-line formula misses each endpoint somewhere
    assert any(not torch.equal(left[name] + (right[name] - left[name]), right[name]) for name in floating)
    assert any(not torch.equal(right[name] + (left[name] - right[name]), left[name]) for name in floating)
    _assert_same_tensors(interpolate_weights(base, far, 0.0).state_dict(), left, "alpha 0")
    _assert_same_tensors(interpolate_weights(base, far, 1.0).state_dict(), right, "alpha 1")
    # and the other way round: the far model as the base
    _assert_same_tensors(interpolate_weights(far, base, 0.0).state_dict(), right, "alpha 0, reversed")
    _assert_same_tensors(interpolate_weights(far, base, 1.0).state_dict(), left, "alpha 1, reversed")


def test_the_command_writes_the_parents_bit_for_bit_at_alpha_0_and_1(
        distant_parents: tuple[CLIPModel, CLIPModel, str, str], tmp_path: Path) -> None:
    """`hf-finegrained-interpolate BASE FINETUNED --alphas 0,1` writes folders holding exactly the parents'
    tensors, after a save and a load (run in this process through `main`, as the command does)."""
    from hf_finegrained.interpolation import main

    _, _, base_dir, far_dir = distant_parents
    assert main([base_dir, far_dir, "--alphas", "0,1", "--output_dir", str(tmp_path)]) == 0
    for alpha, parent_dir in (("0", base_dir), ("1", far_dir)):
        written = CLIPModel.from_pretrained(tmp_path / f"alpha-{alpha}").state_dict()
        _assert_same_tensors(written, CLIPModel.from_pretrained(parent_dir).state_dict(), f"alpha {alpha}")
