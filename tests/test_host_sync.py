"""No host sync per training step beyond the one the non-finite-loss guarantee needs (issue 28, item 5).

A host sync is a read of a device value on the host: `Tensor.item`, `.tolist`, `bool(t)`, `int(t)`, `float(t)`.
On this CPU machine none of them waits for a device, so the test counts the calls themselves, made by this
package's and the Trainer's code between a step's `on_step_begin` and `on_step_end`, while they run on the CPU: on
a GPU each would stall the host until the device catches up. Data preparation (the collator's own tensors, on the
host before the batch is moved) and the optimizer's internals (CPU step counters) are not device reads and are not
counted; nor are the model's own (transformers' `masking_utils` reads a padded text mask: the model's code, not
this package's). Reads inside torch ops (a boolean index, `nonzero`) are invisible to this count: the hot path
avoids them by construction (`ModelFamily.encode_batch`'s positions, `torch.nonzero_static`).
"""

from __future__ import annotations

import collections
import os
import sys

import torch
from transformers import CLIPModel, CLIPProcessor, TrainerCallback

import hf_finegrained
import transformers
from helpers import NEGATIVE_TYPES, make_dataset
from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments

READS = ("item", "tolist", "__bool__", "__int__", "__float__")
PACKAGE = os.path.dirname(hf_finegrained.__file__)
TRAINER = os.path.dirname(transformers.__file__)
DATA_PREPARATION = ("collator.py", "pixels.py", "rows.py", "streaming.py", "validation.py")


class HostReads(TrainerCallback):
    """Counts, per training step, the reads of tensor values made by this package's and the Trainer's code."""

    def __init__(self) -> None:
        self.step: int | None = None
        self.calls: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        self.originals = {name: getattr(torch.Tensor, name) for name in READS}

    def on_step_begin(self, args, state, control, **kwargs):
        self.step = state.global_step + 1

    def on_step_end(self, args, state, control, **kwargs):
        self.step = None  # logging and saving (after on_step_end) are not counted

    def _wrap(self, name):
        original = self.originals[name]

        def read(tensor, *args, **kwargs):
            if self.step is not None:
                frame = sys._getframe(1)
                path = frame.f_code.co_filename
                if (path.startswith(PACKAGE) and os.path.basename(path) not in DATA_PREPARATION) or (
                        path.startswith(TRAINER) and os.path.basename(path).startswith("trainer")):
                    self.calls[self.step][f"{os.path.relpath(path, os.path.dirname(path) + '/..')}:"
                                          f"{frame.f_lineno} {name}"] += 1
            return original(tensor, *args, **kwargs)

        return read

    def __enter__(self):
        for name in READS:
            setattr(torch.Tensor, name, self._wrap(name))
        return self

    def __exit__(self, *exc):
        for name, original in self.originals.items():
            setattr(torch.Tensor, name, original)


def test_a_training_step_reads_one_device_value_the_finite_loss_check(tiny_clip_dir, tmp_path):
    args = FineGrainedTrainingArguments(
        output_dir=str(tmp_path / "run"), per_device_train_batch_size=2, gradient_accumulation_steps=2, max_steps=4,
        learning_rate=5e-3, warmup_steps=0, logging_steps=1000, save_strategy="no", report_to=[], use_cpu=True,
        seed=0, negative_types=NEGATIVE_TYPES, disable_tqdm=True, skip_non_finite_steps=True,
        logging_nan_inf_filter=False,  # the Trainer's own per-micro-batch read (see docs/PERFORMANCE.md)
    )
    reads = HostReads()
    trainer = FineGrainedTrainer(model=CLIPModel.from_pretrained(tiny_clip_dir), args=args,
                                 train_dataset=make_dataset(16), processing_class=CLIPProcessor.from_pretrained(tiny_clip_dir),
                                 callbacks=[reads])
    with reads:
        trainer.train()
    assert sorted(reads.calls) == [1, 2, 3, 4], reads.calls
    for step, calls in reads.calls.items():
        # two micro-batches a step, one read: the finite flags of both, just before the optimizer step
        assert sum(calls.values()) == 1 and all("callbacks.py" in where for where in calls), (step, calls)
    assert trainer.card_data.trained.rows == 16  # the coverage counted on the device is still there
    logs = trainer.state.log_history
    assert logs[-1]["train_loss"] > 0
