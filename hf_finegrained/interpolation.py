"""Weight-space interpolation between a base model and its fine-tune (WiSE-FT, Wortsman et al., 2022).

`interpolate_weights(base, finetuned, alpha)` gives `(1 - alpha) * base + alpha * finetuned` for every
floating parameter and buffer: alpha 0 is the base, 1 the fine-tune, values between trade the fine-tune's
gain against what the base knew. `hf-finegrained-interpolate` writes such a model (or a sweep of them,
optionally scored on benchmarks) as plain `transformers` folders.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .output_folder import OutputFolderError, check_output_folder, staged_folder

logger = logging.getLogger(__name__)


class IncompatibleModelsError(ValueError):
    """The two models cannot be interpolated: other architectures, parameter names or shapes."""


def _first_difference(base: nn.Module, finetuned: nn.Module) -> str | None:
    """What first tells the two models apart (class, a parameter or buffer name, a shape), or None."""
    for model in (base, finetuned):
        if hasattr(model, "peft_config"):
            return (f"{type(model).__name__} is a PEFT model: merge its adapter first "
                    "(hf_finegrained.lora.merge_lora, or `merge_and_unload()`)")
    if type(base) is not type(finetuned):
        return f"the classes differ: {type(base).__name__} and {type(finetuned).__name__}"
    left, right = base.state_dict(), finetuned.state_dict()
    for name in left:
        if name not in right:
            return f"{name!r} is in the base but not in the fine-tuned model"
    for name in right:
        if name not in left:
            return f"{name!r} is in the fine-tuned model but not in the base"
    for name, tensor in left.items():
        other = right[name]
        if tensor.shape != other.shape:
            return f"{name!r} has shape {tuple(tensor.shape)} in the base and {tuple(other.shape)} in the fine-tuned model"
        if tensor.dtype != other.dtype:
            return f"{name!r} is {tensor.dtype} in the base and {other.dtype} in the fine-tuned model"
        if not tensor.is_floating_point() and not torch.equal(tensor, other.to(tensor.device)):
            return f"{name!r} is not floating point (cannot be interpolated) and differs between the models"
    return None


def interpolate_weights(base: nn.Module, finetuned: nn.Module, alpha: float) -> nn.Module:
    """A new model whose floating parameters and buffers are `(1 - alpha) * base + alpha * finetuned`.

    Args:
        base: the starting model (e.g. `CLIPModel.from_pretrained("openai/clip-vit-base-patch32")`).
        finetuned: a model of the same class with the same parameter names and shapes (a LoRA run merged
            first: `hf_finegrained.lora.merge_lora`).
        alpha: the weight of the fine-tune; 0 gives the base's weights, 1 the fine-tune's (exactly, both).
            Values outside [0, 1] extrapolate and are allowed.

    Returns a deep copy of `finetuned` (its config and device) holding the mixed weights; neither input
    changes. Each tensor is mixed in float32 and stored in its own dtype. Non-floating tensors (integer
    buffers) must be equal in both models.

    Raises `IncompatibleModelsError` naming the first difference (class, name, shape, dtype), and
    `ValueError` for a non-finite alpha.
    """
    alpha = float(alpha)
    if not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number (0 = base, 1 = fine-tuned), got {alpha}")
    problem = _first_difference(base, finetuned)
    if problem:
        raise IncompatibleModelsError(f"cannot interpolate these models: {problem}.")
    mixed = copy.deepcopy(finetuned)
    base_state = base.state_dict()
    with torch.no_grad():
        for name, tensor in mixed.state_dict().items():
            if not tensor.is_floating_point():
                continue
            start = base_state[name].to(device=tensor.device, dtype=torch.float32)
            # The endpoints are copied, not computed, so that alpha 0 and 1 give the parents bit for bit.
            if alpha == 0.0:
                value = start
            elif alpha == 1.0:
                continue
            else:
                value = torch.lerp(start, tensor.float(), alpha)
            tensor.copy_(value.to(tensor.dtype))
    return mixed


def _load(path: str, device: str | None) -> tuple[nn.Module, Any]:
    """A model and its processor from a folder or Hub id; a LoRA adapter folder is loaded on its base and merged."""
    from transformers import AutoModel, AutoProcessor

    if os.path.isfile(os.path.join(path, "adapter_config.json")):
        from .lora import load_merged

        model = load_merged(path)
        logger.info("%s is a LoRA adapter: merged into its base model.", path)
    else:
        model = AutoModel.from_pretrained(path)
    if device:
        model = model.to(device)
    try:
        processor = AutoProcessor.from_pretrained(path)
    except (OSError, ValueError):
        processor = None
    return model.eval(), processor


def _write_interpolated(model: nn.Module, processor: Any, folder: str, base: str, finetuned: str,
                        alpha: float, license: str | None = None) -> None:
    """Writes `model` (safetensors), its processor and a card naming both parents and alpha into `folder`
    (`license`: the card's, default the parents' as `model_card.interpolation_card` reads it)."""
    from .model_card import interpolation_card

    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    if processor is not None:
        processor.save_pretrained(folder)
    interpolation_card(base, finetuned, alpha, type(model).__name__, license).save(os.path.join(folder, "README.md"))


def save_interpolated(model: nn.Module, processor: Any, output_dir: str, base: str, finetuned: str,
                      alpha: float, overwrite: bool = False, license: str | None = None) -> str:
    """Writes `model` (safetensors), its processor and a card naming both parents and alpha to `output_dir`.

    The folder is written beside `output_dir` and moved into place when complete (`output_folder.staged_folder`):
    a failure leaves no partial folder and an existing one as it was. A non-empty `output_dir` is refused
    (`OutputFolderError`) unless `overwrite`, which replaces it whole; an `output_dir` that is, or holds, the
    folder of `base` or `finetuned` is always refused.
    """
    inputs = {"base model": base, "fine-tuned model": finetuned}
    with staged_folder(output_dir, overwrite, inputs) as staged:
        _write_interpolated(model, processor, str(staged), base, finetuned, alpha, license)
    return output_dir


def parse_alphas(text: str) -> list[float]:
    """`"0,0.25,0.5"` -> [0.0, 0.25, 0.5]; an error naming the item that is not a finite number."""
    values = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise SystemExit(f"--alphas: {item.strip()!r} is not a number (write e.g. 0,0.25,0.5,0.75,1)") from None
        if not math.isfinite(value):
            raise SystemExit(f"--alphas: {item.strip()!r} is not finite")
        values.append(value)
    return values


# Old flag names, still read (with a FutureWarning): old name -> the name to use.
DEPRECATED_FLAGS = {"output": "output_dir", "data_root": "benchmark_data_root"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command's arguments; every flag as `--a_b` or `--a-b` (`command_line`), old names with a warning."""
    from .command_line import OneNameHelpFormatter, add_flag, warn_deprecated

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="hf-finegrained-interpolate",
        description="Mix a base model and its fine-tune (CLIP, SigLIP or SigLIP 2) in weight space: "
                    "(1 - alpha) * BASE + alpha * FINETUNED. Flags take --a_b or --a-b.",
        formatter_class=OneNameHelpFormatter,
    )
    parser.add_argument("base", help="the starting model: a folder or Hub id")
    parser.add_argument("finetuned", help="its fine-tune: a folder (a LoRA adapter folder is merged first) or Hub id")
    group = parser.add_mutually_exclusive_group(required=True)
    add_flag(group, "alpha", type=float, help="one weight of the fine-tune: writes one model to --output_dir")
    add_flag(group, "alphas", type=parse_alphas, help="comma-separated weights: writes --output_dir/alpha-<a>/ each")
    add_flag(parser, "output_dir", deprecated=["output"], required=True,
             help="the folder written (with --alphas, it holds alpha-<a>/ per weight); written beside and moved into "
             "place when complete; never one of the input folders (old name --output)")
    add_flag(parser, "overwrite", action="store_true",
             help="replace a non-empty --output_dir whole (by default it is refused)")
    add_flag(parser, "benchmarks", default=None,
             help="score every model written on these benchmarks (names as for hf-finegrained-eval); the sweep's "
             "table goes to --output_dir/sweep.json and sweep.md")
    add_flag(parser, "benchmark_data_root", deprecated=["data_root"], default="data",
             help="benchmark files (as for hf-finegrained-eval; old name --data-root)")
    add_flag(parser, "batch_size", type=int, default=64, help="images or texts encoded at once when scoring")
    add_flag(parser, "device", default=None, help="where the models are mixed and scored (default: cpu)")
    add_flag(parser, "disable_tqdm", action="store_true", help="no progress bar over the weights")
    add_flag(parser, "license", default=None,
             help="the card's licence, a Hub licence id (default: the fine-tuned model's card's, else the base's)")
    warn_deprecated(argv, DEPRECATED_FLAGS, "hf-finegrained-interpolate")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """`hf-finegrained-interpolate BASE FINETUNED (--alpha A | --alphas A,B,...) --output_dir DIR
    [--benchmarks ...]`."""
    from .progress import bar

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    names: list[str] = []
    if args.benchmarks:
        from .evaluation.runner import UnknownBenchmarkError, benchmark_names

        try:
            names = benchmark_names(args.benchmarks)
        except UnknownBenchmarkError as error:
            raise SystemExit(f"hf-finegrained-interpolate: {error}") from None
    inputs = {"base model": args.base, "fine-tuned model": args.finetuned}
    try:  # before anything is loaded; checked again when the finished folder is moved into place
        check_output_folder(args.output_dir, args.overwrite, inputs, overwrite_hint="--overwrite")
    except OutputFolderError as error:
        raise SystemExit(f"hf-finegrained-interpolate: {error}") from None
    base, _ = _load(args.base, args.device)
    finetuned, processor = _load(args.finetuned, args.device)
    problem = _first_difference(base, finetuned)
    if problem:
        raise SystemExit(f"hf-finegrained-interpolate: cannot interpolate {args.base} and {args.finetuned}: {problem}.")
    single = args.alpha is not None
    alphas = [args.alpha] if single else args.alphas
    sweep: dict[str, Any] = {"base": args.base, "finetuned": args.finetuned, "points": []}
    failed = False
    # The whole output (one model, or every alpha-<a>/ and the sweep table) is written into a scratch folder
    # and moved into place at the end; messages name the final folders.
    with staged_folder(args.output_dir, args.overwrite, inputs, overwrite_hint="--overwrite") as staged:
        def log(message: str) -> None:
            print(message.replace(str(staged), args.output_dir))

        for alpha in bar(alphas, "interpolation sweep", args.disable_tqdm or single):
            relative = "" if single else f"alpha-{alpha:g}"
            folder = os.path.join(args.output_dir, relative) if relative else args.output_dir
            written = os.path.join(staged, relative) if relative else str(staged)
            mixed = interpolate_weights(base, finetuned, alpha)
            _write_interpolated(mixed, processor, written, args.base, args.finetuned, alpha, args.license)
            logger.info("alpha %g: saved for %s", alpha, folder)
            point: dict[str, Any] = {"alpha": alpha, "folder": folder}
            if names:
                from .evaluation.runner import run_benchmarks

                document = run_benchmarks(mixed, names, data_root=args.benchmark_data_root, processor=processor,
                                          output_dir=written, batch_size=args.batch_size, device=args.device,
                                          progress=False, log=log)
                point["benchmarks"] = {name: {key: entry.get(key) for key in ("status", "headline", "metrics",
                                                                                "reason") if entry.get(key) is not None}
                                       for name, entry in document["benchmarks"].items()}
                failed = failed or bool(document["errors"])
            sweep["points"].append(point)
            del mixed
        if names:
            with open(os.path.join(staged, "sweep.json"), "w", encoding="utf-8") as handle:
                json.dump(sweep, handle, indent=2)
            with open(os.path.join(staged, "sweep.md"), "w", encoding="utf-8") as handle:
                handle.write(sweep_table(sweep) + "\n")
    logger.info("wrote %s", args.output_dir)
    if names:
        print(sweep_table(sweep))
    return 1 if failed else 0


def sweep_table(sweep: dict[str, Any]) -> str:
    """A Markdown table: one row per alpha, one column per benchmark (its headline metric, in %)."""
    columns = list(dict.fromkeys((name, entry["headline"]) for point in sweep["points"]
                                 for name, entry in point.get("benchmarks", {}).items() if entry.get("headline")))
    lines = ["| alpha | " + " | ".join(f"{name} {headline}" for name, headline in columns) + " |",
             "|---:|" + "---:|" * len(columns)]
    for point in sweep["points"]:
        cells = []
        for name, headline in columns:
            value = point.get("benchmarks", {}).get(name, {}).get("metrics", {}).get(headline)
            cells.append("-" if not isinstance(value, (int, float)) else f"{100 * value:.1f}")
        lines.append(f"| {point['alpha']:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
