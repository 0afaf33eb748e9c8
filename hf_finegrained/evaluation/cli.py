"""`hf-finegrained-eval`: run benchmarks on a model folder or Hub id, write results.json and results.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..command_line import OneNameHelpFormatter, add_flag, warn_deprecated
from .runner import BENCHMARKS, PRESETS, UnknownBenchmarkError, benchmark_names, run_benchmarks


# Old flag names, still read (with a FutureWarning): old name -> the name to use.
DEPRECATED_FLAGS = {"data_root": "benchmark_data_root", "no_progress": "disable_tqdm"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command's arguments; every flag as `--a_b` or `--a-b` (`command_line`), old names with a warning."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="hf-finegrained-eval",
        description="Score a CLIP, SigLIP or SigLIP 2 model (CLIPModel, SiglipModel, Siglip2Model) on "
                    "compositionality, retrieval and zero-shot benchmarks. Flags take --a_b or --a-b.",
        epilog="Benchmarks: " + ", ".join(BENCHMARKS) + ". Presets: " + ", ".join(
            f"{name} ({', '.join(names) if name != 'compositional' else 'all but retrieval and zero-shot'})"
            for name, names in PRESETS.items()) + ". Default paths live under --benchmark_data_root; see "
               "docs/BENCHMARKS.md for the layout.",
        formatter_class=OneNameHelpFormatter,
    )
    parser.add_argument("model", help="model folder or Hub id of a CLIP, SigLIP or SigLIP 2 model (loaded with "
                        "AutoModel / AutoProcessor; the family is read from its config)")
    add_flag(parser, "benchmarks", default="all", help="comma-separated names, 'all' (default), or a preset: "
             "'compositional' (every compositional benchmark; those whose files are absent are skipped, each "
             "saying what to download), 'readclip' (READ-CLIP's table)")
    add_flag(parser, "benchmark_data_root", deprecated=["data_root"], default="data",
             help="folder holding each benchmark's files (default: data; old name --data-root)")
    add_flag(parser, "set", action="append", default=[], metavar="NAME.KEY=VALUE", dest="overrides",
             help="override a path or set a setting, e.g. sugarcrepe.images=/coco/val2017, zeroshot.dataset=cifar10 "
                  "or aro_coco_order.strict_ties=true (ties counted wrong instead of as ARO's code counts them)")
    add_flag(parser, "output_dir", default="eval_results", help="where results.json and results.md go")
    add_flag(parser, "batch_size", type=int, default=64, help="images or texts encoded at once (default: 64)")
    add_flag(parser, "device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda if available)")
    add_flag(parser, "disable_tqdm", deprecated=["no_progress"], action="store_true",
             help="hide progress bars (old name --no-progress)")
    warn_deprecated(argv, DEPRECATED_FLAGS, "hf-finegrained-eval")
    return parser.parse_args(argv)


def _overrides(items: Sequence[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, field = key.partition(".")
        if not sep or not dot:
            raise SystemExit(f"--set expects NAME.KEY=VALUE, got {item!r}")
        out.setdefault(name, {})[field] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; exit status 0 when every benchmark asked for was scored or skipped for absent data and
    at least one was scored, 1 otherwise (a benchmark failed, or none could be scored). Results are written
    in every case."""
    args = parse_args(argv)
    try:
        document = run_benchmarks(
            args.model, benchmark_names(args.benchmarks), data_root=args.benchmark_data_root,
            paths=_overrides(args.overrides), output_dir=args.output_dir, batch_size=args.batch_size,
            device=args.device, progress=not args.disable_tqdm,
        )
    except UnknownBenchmarkError as error:
        raise SystemExit(f"hf-finegrained-eval: {error}") from None
    scored = any(entry["status"] == "ok" for entry in document["benchmarks"].values())
    return 0 if scored and not document["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
