"""Training-step throughput on one accelerator: CE-CLIP against plain contrastive steps, in one process.

For a randomly initialised ViT-B/32-shaped `CLIPModel` (softmax form) and a SigLIP-B/16-shaped `SiglipModel`
(sigmoid form), at per-device batch B with K hard negatives per image (B images, B + B*K texts; COCO-length
captions, padded as each family was trained), under bf16 autocast with fp32 weights and AdamW:

- ce_clip: forward of the B images and B + B*K texts, `FineGrainedLoss` (ITC-hn + IMC + CMR), backward, step;
- plain_same_texts: the same forward, the plain contrastive loss on the B pairs: the loss's own cost;
- plain_pairs: a plain step on the B pairs alone (B texts): what the hard negatives cost in all.

Variants alternate step by step after a warm-up; each reports the median step time, steps/s, images/s and the
peak accelerator memory of its steps. Then the largest CE-CLIP batch that fits is searched by doubling B
(until out of memory, or --max-batch). One command on a GPU (a few minutes):

    python benchmarks/bench_gpu.py --json bench_gpu.json

and on a CPU, to check that it runs (tests/test_bench_gpu.py does this):

    python benchmarks/bench_gpu.py --shape tiny --device cpu --batch-size 4 --steps 2 --max-batch 16
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from transformers import SiglipConfig, SiglipModel

from bench_step import build as build_clip  # benchmarks/ is on the path when run as a script
from bench_step import coco_like_rows
from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.families import ModelFamily, family_of
from hf_finegrained.losses import FineGrainedLoss
from hf_finegrained.trainer import encode_batch

SIGLIP_TEXT_LENGTH = 64  # SigLIP pads every text to 64 positions, as it was trained


def build_siglip(tiny: bool) -> nn.Module:
    """A randomly initialised SiglipModel shaped like SigLIP-B/16 at 224 px (or a tiny one at 64 px)."""
    if tiny:
        width, layers, heads, mlp, image_size, patch = 64, 2, 2, 256, 64, 16
    else:
        width, layers, heads, mlp, image_size, patch = 768, 12, 12, 3072, 224, 16
    common = {"hidden_size": width, "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": mlp}
    torch.manual_seed(0)
    config = SiglipConfig(text_config={**common, "vocab_size": 32000, "max_position_embeddings": SIGLIP_TEXT_LENGTH,
                                       "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1},
                          vision_config={**common, "image_size": image_size, "patch_size": patch})
    return SiglipModel(config)


def make_batch(processor: Any, family: ModelFamily, batch: int, negatives: int) -> dict[str, torch.Tensor]:
    """B COCO-length rows with K valid negatives each, collated as the trainer does (captions, then negatives)."""
    types = [f"type{k}" for k in range(negatives)]
    max_length = SIGLIP_TEXT_LENGTH if family.text_padding == "max_length" else 77
    return FineGrainedCollator(processor, types, max_length=max_length, family=family)(coco_like_rows(batch, negatives))


def tile(inputs: dict[str, torch.Tensor], times: int) -> dict[str, torch.Tensor]:
    """The batch repeated `times` times (images, captions and negatives each, keeping the trainer's text order)."""
    batch = inputs["pixel_values"].shape[0]
    out = {"pixel_values": inputs["pixel_values"].repeat(times, 1, 1, 1),
           "negative_mask": inputs["negative_mask"].repeat(times, 1)}
    for key in ("input_ids", "attention_mask"):
        if key in inputs:
            captions, rest = inputs[key][:batch], inputs[key][batch:]
            out[key] = torch.cat([captions.repeat(times, 1), rest.repeat(times, 1)])
    return out


def pairs_only(inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The B images and B captions of a batch, without negatives."""
    batch = inputs["pixel_values"].shape[0]
    out = {"pixel_values": inputs["pixel_values"], "input_ids": inputs["input_ids"][:batch]}
    if "attention_mask" in inputs:
        out["attention_mask"] = inputs["attention_mask"][:batch]
    return out


class Stepper:
    """One training step of a model on a batch: forward under autocast, a loss, backward, AdamW."""

    def __init__(self, model: nn.Module, device: torch.device, dtype: torch.dtype | None, negatives: int) -> None:
        self.model, self.device, self.dtype = model, device, dtype
        self.family = family_of(model)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
        self.ce_clip = FineGrainedLoss(negatives, contrastive=self.family.contrastive).to(device).train()
        self.plain = FineGrainedLoss(0, use_hard_negatives=False, contrastive=self.family.contrastive)
        self.plain.to(device).train()

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def step(self, inputs: dict[str, torch.Tensor], loss: str) -> float:
        """Seconds of one step; `loss` is "ce_clip" or "plain" (the plain loss on the B pairs, whatever the texts)."""
        self.sync()
        start = time.perf_counter()
        with torch.autocast(self.device.type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
            encoded = encode_batch(self.model, inputs, self.family)
            if loss == "plain":
                encoded = {key: value for key, value in encoded.items()
                           if key not in ("negative_embeds", "negative_mask")}
                out = self.plain(**encoded)
            else:
                out = self.ce_clip(**encoded)
        out["loss"].float().backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.sync()
        return time.perf_counter() - start


def peak_memory_gb(device: torch.device) -> float:
    """Peak accelerator memory since the last reset; on CPU, the process's peak resident memory."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def measure(stepper: Stepper, variants: dict[str, tuple[dict, str]], steps: int, warmup: int) -> dict[str, dict]:
    """Median step time, steps/s, images/s and peak memory of each variant, alternating step by step."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    peaks: dict[str, float] = dict.fromkeys(variants, 0.0)
    for round_index in range(warmup + steps):
        for name, (inputs, loss) in variants.items():
            reset_peak(stepper.device)
            seconds = stepper.step(inputs, loss)
            peaks[name] = max(peaks[name], peak_memory_gb(stepper.device))
            if round_index >= warmup:
                times[name].append(seconds)
    report = {}
    for name, (inputs, _) in variants.items():
        median = statistics.median(times[name])
        images = inputs["pixel_values"].shape[0]
        report[name] = {"step_s": median, "steps_per_s": 1 / median, "images_per_s": images / median,
                        "texts": int(inputs["input_ids"].shape[0]), "peak_memory_gb": peaks[name]}
    return report


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower()


def largest_batch(stepper: Stepper, base: dict[str, torch.Tensor], limit: int) -> dict[str, int | None]:
    """The largest CE-CLIP batch (B doubled from the measured one) whose step runs, and the first that did not."""
    batch = base["pixel_values"].shape[0]
    fits, failed = None, None
    times = 1
    while batch * times <= limit:
        inputs = None
        try:
            inputs = {key: value.to(stepper.device) for key, value in tile(base, times).items()}
            stepper.step(inputs, "ce_clip")
            fits = batch * times
        except RuntimeError as error:
            if not is_out_of_memory(error):
                raise
            failed = batch * times
        finally:
            del inputs
            stepper.optimizer.zero_grad(set_to_none=True)
            gc.collect()
            if stepper.device.type == "cuda":
                torch.cuda.empty_cache()
        if failed is not None:
            break
        times *= 2
    return {"fits": fits, "out_of_memory_at": failed, "limit": limit}


def run_model(name: str, model: nn.Module, processor: Any, args: argparse.Namespace, device: torch.device,
              dtype: torch.dtype | None) -> dict[str, Any]:
    model.to(device).train()
    stepper = Stepper(model, device, dtype, args.negatives)
    base = make_batch(processor, stepper.family, args.batch_size, args.negatives)
    full = {key: value.to(device) for key, value in base.items()}
    variants: dict[str, tuple[dict, str]] = {
        "ce_clip": (full, "ce_clip"), "plain_same_texts": (full, "plain"), "plain_pairs": (pairs_only(full), "plain"),
    }
    steps = measure(stepper, variants, args.steps, args.warmup)
    ce_clip = steps["ce_clip"]["step_s"]
    report = {
        "model": name, "family": stepper.family.name, "contrastive": stepper.family.contrastive,
        "parameters_m": sum(p.numel() for p in model.parameters()) / 1e6, "batch": args.batch_size,
        "negatives": args.negatives, "text_length": int(full["input_ids"].shape[1]), "steps": steps,
        "ratios": {"ce_clip_over_plain_same_texts": ce_clip / steps["plain_same_texts"]["step_s"],
                   "ce_clip_over_plain_pairs": ce_clip / steps["plain_pairs"]["step_s"]},
    }
    report["largest_batch"] = largest_batch(stepper, base, args.max_batch or 64 * args.batch_size)
    model.to("cpu")
    del stepper, full, variants
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"\n{report['model']} ({report['family']}, {report['contrastive']}, "
          f"{report['parameters_m']:.1f}M parameters): "
          f"B={report['batch']}, K={report['negatives']}, texts padded to {report['text_length']}")
    print(f"{'variant':<18} {'texts':>6} {'step s':>9} {'steps/s':>9} {'images/s':>10} {'peak GB':>9}")
    for name, row in report["steps"].items():
        print(f"{name:<18} {row['texts']:>6} {row['step_s']:>9.4f} {row['steps_per_s']:>9.2f} "
              f"{row['images_per_s']:>10.1f} {row['peak_memory_gb']:>9.2f}")
    ratios = report["ratios"]
    print(f"CE-CLIP / plain on the same {report['steps']['ce_clip']['texts']} texts: "
          f"{ratios['ce_clip_over_plain_same_texts']:.3f}  (the loss)")
    print(f"CE-CLIP / plain on the {report['batch']} pairs: {ratios['ce_clip_over_plain_pairs']:.3f}  "
          "(the hard negatives in all)")
    largest = report["largest_batch"]
    stop = f"out of memory at {largest['out_of_memory_at']}" if largest["out_of_memory_at"] else \
        f"limit {largest['limit']} reached"
    print(f"largest CE-CLIP batch that fits: {largest['fits']} ({stop})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="clip,siglip", help="clip (ViT-B/32-shaped) and/or siglip (B/16-shaped)")
    parser.add_argument("--shape", choices=["base", "tiny"], default="base", help="tiny: small models, to test")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16", help="autocast dtype (weights stay fp32)")
    parser.add_argument("--batch-size", type=int, default=256, help="images per step (per device)")
    parser.add_argument("--negatives", type=int, default=5, help="hard negatives per image (all valid)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--max-batch", type=int, default=0, help="batch search limit (default 64 x --batch-size)")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.dtype == "bf16" else None
    tiny = args.shape == "tiny"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; autocast {args.dtype}")

    clip, clip_processor = build_clip(tiny)  # its processor's images match the model (224 px, or 64 tiny)
    builders: dict[str, Callable[[], tuple[nn.Module, Any, str]]] = {
        "clip": lambda: (clip, clip_processor, "CLIP ViT-B/32-shaped" if not tiny else "CLIP tiny"),
        "siglip": lambda: (build_siglip(tiny), clip_processor, "SigLIP B/16-shaped" if not tiny else "SigLIP tiny"),
    }
    reports = []
    for key in args.models.split(","):
        model, processor, label = builders[key]()
        reports.append(run_model(label, model, processor, args, device, dtype))
        print_report(reports[-1])
    document = {"device": name, "torch": torch.__version__, "dtype": args.dtype, "shape": args.shape, "models": reports}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)


if __name__ == "__main__":
    main()
