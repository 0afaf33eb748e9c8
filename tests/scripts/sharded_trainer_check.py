"""Run under torchrun (or plain python for one process): one `FineGrainedTrainer` step on a fixed batch.

The 8 rows of the dataset form one global batch (8 rows on one process, 4 per rank on two), the step is plain
SGD so that the parameters after it are the initial ones minus the learning rate times the gradient, and rank 0
saves the logged loss components, every rank's thresholds and the *full* state dict after the step (gathered
from the shards under FSDP / DeepSpeed) to --out.

``--sharding fsdp`` trains with FSDP2 full shard through the Trainer's `fsdp` arguments (``fsdp1``: FSDP1, which
the trainer refuses; ``fsdp-launch``: the settings `accelerate launch --config_file ...fsdp.yaml` put in the
environment), ``--sharding zero2`` with DeepSpeed ZeRO stage 2 through its `deepspeed` argument; ``none``
is the plain (one-process or DDP) run. The model is the one given: its `logit_scale` is 0-d before the trainer
readies it for sharding (`distributed.make_shardable`), as in the saved state dicts.

Accelerate 1.15 enables FSDP only for accelerator devices: on CPU it picks its MULTI_CPU (DDP over gloo) type
even when an FSDP plugin is given. `_fsdp_on_cpu` turns that choice into FSDP when the plugin is there, so the
FSDP wrapping, gradient reduce-scatter and state-dict gathering that run are accelerate's and torch's own.
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

from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments  # noqa: E402

ROWS = 8


def _fsdp_on_cpu() -> None:
    """Makes accelerate's state FSDP (not MULTI_CPU) on CPU processes when an FSDP plugin is passed."""
    from accelerate.state import AcceleratorState, PartialState
    from accelerate.utils import DistributedType

    original = AcceleratorState.__init__

    def init(self, *args, fsdp_plugin=None, **kwargs):
        original(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
        if fsdp_plugin is not None and self.distributed_type == DistributedType.MULTI_CPU:
            # Both states: every later AcceleratorState() copies PartialState's fields over its own.
            partial = PartialState()
            self.distributed_type = partial.distributed_type = DistributedType.FSDP
            self.device = partial.device = torch.device("cpu")  # FSDP wants CPU without an index
            self.fsdp_plugin = fsdp_plugin

    AcceleratorState.__init__ = init


def main() -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sharding", choices=["none", "fsdp", "fsdp1", "fsdp-launch", "zero2"], default="none")
    options = parser.parse_args()
    torch.set_num_threads(1)
    world = int(os.environ.get("WORLD_SIZE", "1"))

    sharding: dict = {}
    if options.sharding.startswith("fsdp"):
        _fsdp_on_cpu()
    if options.sharding in ("fsdp", "fsdp1"):
        version = 1 if options.sharding == "fsdp1" else 2
        sharding = {"fsdp": "full_shard", "fsdp_config": {"version": version, "sync_module_states": False}}
    elif options.sharding == "zero2":
        sharding = {"deepspeed": {
            "zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": "auto",
            "gradient_accumulation_steps": "auto", "zero_allow_untested_optimizer": True,  # the Trainer's torch SGD
        }}
    args = FineGrainedTrainingArguments(
        output_dir=os.path.join(os.path.dirname(options.out), f"run-{options.sharding}-{world}"),
        per_device_train_batch_size=ROWS // world, max_steps=1, optim="sgd", learning_rate=1.0, weight_decay=0.0,
        warmup_steps=0, lr_scheduler_type="constant", logging_steps=1, save_strategy="no", report_to=[],
        use_cpu=True, seed=0, negative_types=NEGATIVE_TYPES, disable_tqdm=True, gather_across_devices=True,
        dataloader_drop_last=True, **sharding,
    )
    model = CLIPModel.from_pretrained(options.model)
    initial = {name: value.detach().clone() for name, value in model.state_dict().items()}
    trainer = FineGrainedTrainer(model=model, args=args, train_dataset=make_dataset(ROWS, seed=3, invalid_rate=0.4),
                                 processing_class=CLIPProcessor.from_pretrained(options.model))
    trainer.loss_fn.thresholds.fill_(0.5)  # non-zero so the CMR hinges are active
    trainer.train()
    state = trainer.accelerator.get_state_dict(trainer.model)  # collective: the full weights, on rank 0
    trainer.save_model(os.path.join(args.output_dir, "saved"))  # collective too, as at the end of training
    # What this rank holds of the weights: half of them under FSDP, all of them under ZeRO-2 (which shards the
    # optimizer state and gradients instead).
    held = sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel() for p in trainer.model.parameters())
    stage = trainer.model_wrapped.zero_optimization_stage() if options.sharding == "zero2" else None
    thresholds = trainer.loss_fn.thresholds.detach().clone()
    every, held_by_rank = [thresholds], [held]
    if world > 1:
        every = [torch.empty_like(thresholds) for _ in range(world)]
        dist.all_gather(every, thresholds)
        held_by_rank = [None] * world
        dist.all_gather_object(held_by_rank, held)
    if trainer.accelerator.is_main_process:
        torch.save({
            "world": world,
            "saved": os.path.join(args.output_dir, "saved"),
            "sharding": options.sharding,
            "accelerate_type": str(trainer.accelerator.distributed_type),
            "model_class": type(trainer.model_wrapped).__name__,
            "held": held_by_rank,
            "zero_stage": stage,
            "log": [entry for entry in trainer.state.log_history if "loss" in entry],
            "thresholds": torch.stack(every),
            "initial": initial,
            "state": {name: value.detach().float().cpu().clone() for name, value in state.items()},
        }, options.out)
    return options.out


if __name__ == "__main__":
    # After main returns: the trainer (and its wrapped model, which holds the process group) is freed first.
    end_and_record(main())
