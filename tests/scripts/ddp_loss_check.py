"""Run under torchrun/accelerate: one loss + backward on a fixed batch split over the ranks.

Every rank takes its contiguous share of the same 8 rows, the model is wrapped for DDP by accelerate,
and rank 0 saves the loss, the thresholds of every rank and the (DDP-averaged) gradients to --out.

Both contrastive forms run in one launch (one process group, two models), saved as ``{"softmax": ..., "sigmoid":
...}``: the sigmoid (SigLIP) form on a CLIPModel, which has no logit bias, so one is added to the model as a
learnable parameter ``logit_bias`` (as SiglipModel holds it) before DDP wraps it, and passed to the loss; its
gradient is saved with the others.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
from accelerate import Accelerator
from transformers import CLIPModel, CLIPProcessor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from exit_check import end_and_record  # noqa: E402
from helpers import NEGATIVE_TYPES, make_rows  # noqa: E402

from hf_finegrained.collator import FineGrainedCollator  # noqa: E402
from hf_finegrained.losses import FineGrainedLoss  # noqa: E402
from hf_finegrained.trainer import encode_batch  # noqa: E402


def one_step(accelerator: Accelerator, model_dir: str, num_rows: int, contrastive: str) -> dict | None:
    """One loss + backward of `contrastive`'s form on this rank's share of the batch; rank 0 gets the record."""
    rank, world = accelerator.process_index, accelerator.num_processes
    model = CLIPModel.from_pretrained(model_dir)
    sigmoid = contrastive == "sigmoid"
    if sigmoid:
        model.logit_bias = torch.nn.Parameter(torch.tensor(-3.0))
    collator = FineGrainedCollator(CLIPProcessor.from_pretrained(model_dir), NEGATIVE_TYPES)
    rows = make_rows(num_rows, seed=3, invalid_rate=0.4)
    share = num_rows // world
    batch = collator(rows[rank * share : (rank + 1) * share])
    model = accelerator.prepare(model)
    loss_fn = FineGrainedLoss(len(NEGATIVE_TYPES), gather_across_devices=True, contrastive=contrastive).train()
    loss_fn.thresholds.fill_(0.5)  # non-zero so CMR hinges are active

    encoded = encode_batch(model, batch)
    if sigmoid:  # whether or not encode_batch already picked the bias up from the model
        encoded["logit_bias"] = accelerator.unwrap_model(model).logit_bias
    out = loss_fn(**encoded)
    accelerator.backward(out["loss"])
    thresholds = accelerator.gather(loss_fn.thresholds[None]).cpu()  # [world, K]
    if not accelerator.is_main_process:
        return None
    return {
        "world": world,
        "loss": out["loss"].detach(),
        "components": {k: out[k].detach() for k in ("itc_loss", "imc_loss", "cmr_loss")},
        "thresholds": thresholds,
        "grads": {name: p.grad.detach().clone() for name, p in accelerator.unwrap_model(model).named_parameters()},
    }


def main() -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", type=int, default=8)
    args = parser.parse_args()

    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    records = {form: one_step(accelerator, args.model, args.rows, form) for form in ("softmax", "sigmoid")}
    if accelerator.is_main_process:
        torch.save(records, args.out)
    return args.out


if __name__ == "__main__":
    # After main returns: the DDP model, which holds the process group, is freed first.
    end_and_record(main())
