"""Run under torchrun: `FineGrainedTrainer` for 2 steps on 2 CPU processes, without gathering.

Each rank records the ITC loss of every step it computes; rank 0 saves the logged history, every rank's
values and which ranks validated the data to --out. Every rank then ends the process group (`exit_check`).
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
import torch.distributed as dist
from transformers import CLIPModel, CLIPProcessor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from exit_check import end_and_record  # noqa: E402
from helpers import NEGATIVE_TYPES, make_dataset  # noqa: E402

import hf_finegrained.training_data as data_module  # noqa: E402
from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments  # noqa: E402


def main() -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    options = parser.parse_args()
    torch.set_num_threads(1)

    validated = []
    real_validate = data_module.validate_dataset

    def counting_validate(*args, **kwargs):
        validated.append(1)
        return real_validate(*args, **kwargs)

    data_module.validate_dataset = counting_validate
    args = FineGrainedTrainingArguments(
        output_dir=os.path.join(os.path.dirname(options.out), "run"), per_device_train_batch_size=4, max_steps=2,
        learning_rate=5e-3, warmup_steps=0, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, seed=0,
        negative_types=NEGATIVE_TYPES, disable_tqdm=True, gather_across_devices=False,
    )
    trainer = FineGrainedTrainer(model=CLIPModel.from_pretrained(options.model), args=args,
                                 train_dataset=make_dataset(16), processing_class=CLIPProcessor.from_pretrained(options.model))
    seen: list[float] = []
    loss_fn_forward = trainer.loss_fn.forward

    def recording_forward(*args, **kwargs):
        out = loss_fn_forward(*args, **kwargs)
        seen.append(out["itc_loss"].item())
        return out

    trainer.loss_fn.forward = recording_forward
    trainer.train()
    every = [None] * dist.get_world_size()
    dist.all_gather_object(every, {"itc": seen, "validated": len(validated)})
    if dist.get_rank() == 0:
        torch.save({"log_history": trainer.state.log_history, "ranks": every}, options.out)
    return options.out


if __name__ == "__main__":
    # After main returns: the trainer (and its DDP model, which holds the process group) is freed first.
    end_and_record(main())
