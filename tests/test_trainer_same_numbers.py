"""Bit-identical training: a few `FineGrainedTrainer` steps give exactly the numbers stored in a fixture.

Four short runs on tiny models built from a config (CLIP with hard negatives, IMC and CMR in cosine units; SigLIP
with the same; CLIP in logit units with an EMA distillation teacher and gradient accumulation; SigLIP's plain
loss): every logged value (loss components, logit scale, thresholds, learning rate, gradient norm), the thresholds
after every optimizer step, the eval metrics and the final weights are compared with `torch.equal` against
`tests/fixtures/same_numbers.pt`, written by the code before the trainer and loss were redesigned (issue 27). A
refactoring that changes one bit of one step fails here.

The fixture holds float results of this machine's CPU kernels (torch 2.13.0, 1 thread). After a deliberate change
of the numbers (or on another CPU whose kernels round differently), rewrite it with
`OMP_NUM_THREADS=1 python tests/test_trainer_same_numbers.py --write` and say why in the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from helpers import NEGATIVE_TYPES, all_captions, make_dataset
from transformers import TrainerCallback

from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments
from hf_finegrained.synthetic.tiny_clip import (
    build_clip_model,
    build_processor,
    build_siglip_model,
    build_siglip_processor,
    train_clip_tokenizer,
)

FIXTURE = Path(__file__).parent / "fixtures" / "same_numbers.pt"
SIZES = dict(image_size=32, patch_size=8, hidden_size=16, num_layers=1, num_heads=2)
RUNS = {
    "clip_ce": dict(family="clip", args={}),
    "siglip_ce": dict(family="siglip", args={}),
    "clip_logit_ema_accumulated": dict(family="clip", args=dict(
        threshold_units="logit", distill_weight=1.0, distill_teacher="ema", ema_decay=0.5,
        gradient_accumulation_steps=2, max_steps=2)),
    "siglip_plain": dict(family="siglip", args=dict(use_hard_negatives=False)),
}
UNTIMED = ("runtime", "per_second", "total_flos")  # wall-clock values of the log: never the same twice


class RecordThresholds(TrainerCallback):
    """The loss's thresholds after every optimizer step."""

    def __init__(self, trainer: FineGrainedTrainer) -> None:
        self.trainer = trainer
        self.after_step: list[torch.Tensor] = []

    def on_step_end(self, args, state, control, **kwargs) -> None:
        self.after_step.append(self.trainer.loss_fn.thresholds.detach().clone())


def _model_and_processor(family: str):
    tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
    if family == "clip":
        return build_clip_model(tokenizer, projection_dim=8, **SIZES), build_processor(tokenizer, image_size=32)
    model = build_siglip_model(tokenizer, max_position_embeddings=24, **SIZES)
    return model, build_siglip_processor(tokenizer, image_size=32, max_length=24)


def run(name: str, output_dir: str) -> dict[str, torch.Tensor]:
    """Trains run `name` and returns every number it produced, as float64 / weight tensors by key."""
    spec = RUNS[name]
    model, processor = _model_and_processor(spec["family"])
    settings = dict(output_dir=output_dir, per_device_train_batch_size=4, per_device_eval_batch_size=4, max_steps=3,
                    learning_rate=5e-3, warmup_steps=0, logging_steps=1, save_strategy="no", report_to=[],
                    use_cpu=True, seed=0, negative_types=NEGATIVE_TYPES, disable_tqdm=True)
    settings.update(spec["args"])
    trainer = FineGrainedTrainer(model=model, args=FineGrainedTrainingArguments(**settings),
                                 train_dataset=make_dataset(16), eval_dataset=make_dataset(8, seed=1),
                                 processing_class=processor)
    recorder = RecordThresholds(trainer)
    trainer.add_callback(recorder)
    trainer.train()
    numbers: dict[str, torch.Tensor] = {}
    for index, entry in enumerate(trainer.state.log_history):
        for key, value in entry.items():
            if not any(part in key for part in UNTIMED):
                numbers[f"log/{index}/{key}"] = torch.tensor(float(value), dtype=torch.float64)
    for key, value in trainer.evaluate().items():
        if not any(part in key for part in UNTIMED):
            numbers[f"eval/{key}"] = torch.tensor(float(value), dtype=torch.float64)
    for step, thresholds in enumerate(recorder.after_step):
        numbers[f"thresholds/{step}"] = thresholds
    for key, value in trainer.model.state_dict().items():
        numbers[f"weights/{key}"] = value.detach().clone()
    return numbers


@pytest.mark.parametrize("name", list(RUNS))
def test_training_steps_are_bit_identical_to_the_fixture(name, tmp_path):
    expected = torch.load(FIXTURE)[name]
    actual = run(name, str(tmp_path))
    assert sorted(actual) == sorted(expected), "the run logged other keys than the fixture's"
    different = [key for key in expected if not torch.equal(actual[key], expected[key])]
    assert not different, f"{len(different)} numbers differ from the fixture, first: " + ", ".join(
        f"{key}: {actual[key].flatten()[:3].tolist()} != {expected[key].flatten()[:3].tolist()}"
        for key in different[:5])


if __name__ == "__main__":  # python tests/test_trainer_same_numbers.py --write
    import tempfile

    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: OMP_NUM_THREADS=1 python tests/test_trainer_same_numbers.py --write")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as scratch:
        fixture = {name: run(name, f"{scratch}/{name}") for name in RUNS}
    FIXTURE.parent.mkdir(exist_ok=True)
    torch.save(fixture, FIXTURE)
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size} bytes)")
