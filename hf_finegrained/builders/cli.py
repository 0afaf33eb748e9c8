"""`hf-finegrained-build`: build a captions dataset with hard negatives and export it as parquet.

    hf-finegrained-build coco --annotations captions_train2014.json --images train2014/ --out coco_negatives/
    hf-finegrained-build karpathy --annotations dataset_coco.json --images coco/ --out karpathy_negatives/
    hf-finegrained-build negatives --data my_parquet_folder/ --caption-column text --out with_negatives/

Flags take hyphens or underscores (`--negatives-scorer` = `--negatives_scorer`).
`--negatives-scorer MODEL` (a masked LM id or folder, e.g. distilroberta-base) picks each negative among its
rule's candidates by pseudo-log-likelihood (`negatives.MaskedLMScorer`) instead of the built-in choice; it runs
in one process (`--num-proc` is then ignored) and is much slower than the rules alone.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..negatives import HardNegativeGenerator, MaskedLMScorer
from ..negatives.types import DEFAULT_NEGATIVE_TYPES

logger = logging.getLogger(__name__)


def _generator(args: argparse.Namespace) -> HardNegativeGenerator:
    scorer = MaskedLMScorer(args.negatives_scorer) if args.negatives_scorer else None
    return HardNegativeGenerator(types=args.negative_types, seed=args.negatives_seed, scorer=scorer,
                                 scorer_candidates=args.scorer_candidates)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="hf-finegrained-build", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main.add_subparsers(dest="command", required=True)
    for name, help_text in (("coco", "a COCO captions JSON and its image folder"),
                            ("karpathy", "a Karpathy-split JSON (dataset_coco.json) and the COCO image root"),
                            ("negatives", "add hard negatives to a dataset folder that load_dataset reads")):
        command = commands.add_parser(name, help=help_text)
        if name == "negatives":
            command.add_argument("--data", required=True, help="a folder or data files load_dataset reads")
            command.add_argument("--caption-column", "--caption_column", default="caption")
        else:
            command.add_argument("--annotations", required=True, type=Path)
            command.add_argument("--images", required=True, type=Path)
            command.add_argument("--no-check-images", "--no_check_images", action="store_true",
                                 help="do not decode every image before building")
        command.add_argument("--out", required=True, type=Path, help="the parquet folder to write")
        command.add_argument("--negative-types", "--negative_types", nargs="+", default=list(DEFAULT_NEGATIVE_TYPES))
        command.add_argument("--negatives-seed", "--negatives_seed", type=int, default=0)
        command.add_argument("--negatives-scorer", "--negatives_scorer", default=None,
                             help="a masked LM (Hub id or folder) that ranks each rule's candidates")
        command.add_argument("--scorer-candidates", "--scorer_candidates", type=int, default=8,
                             help="candidates the scorer rates per caption and type")
        command.add_argument("--num-proc", "--num_proc", type=int, default=None)
    return main


def main(argv: list[str] | None = None) -> None:
    import datasets

    from . import CocoCaptionsBuilder, KarpathyCaptionsBuilder, add_hard_negatives, export_parquet

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parser().parse_args(argv)
    generator = _generator(args)
    num_proc = None if generator.scorer is not None else args.num_proc
    if args.command == "coco":
        data = CocoCaptionsBuilder(args.annotations, args.images, check_images=not args.no_check_images).build(
            negative_types=args.negative_types, generator=generator, num_proc=num_proc)
    elif args.command == "karpathy":
        data = KarpathyCaptionsBuilder(args.annotations, args.images, check_images=not args.no_check_images).build(
            negative_types=args.negative_types, generator=generator, num_proc=num_proc)
    else:
        loaded = datasets.load_dataset(args.data) if Path(args.data).is_dir() else datasets.load_dataset(
            "parquet", data_files=args.data)
        data = datasets.DatasetDict({
            split: add_hard_negatives(part, args.negative_types, caption_column=args.caption_column,
                                      generator=generator, num_proc=num_proc)
            for split, part in loaded.items()})
    export_parquet(data, args.out, negative_types=args.negative_types)
    logger.info("wrote %s; negatives: %s", args.out, generator.stats.as_dict(generator.types))


if __name__ == "__main__":
    main()
