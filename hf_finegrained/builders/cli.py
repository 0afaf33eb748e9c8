"""`hf-finegrained-build`: build a captions dataset with hard negatives and export it as parquet.

    hf-finegrained-build coco --annotations captions_train2014.json --images train2014/ --out coco_negatives/
    hf-finegrained-build karpathy --annotations dataset_coco.json --images coco/ --out karpathy_negatives/
    hf-finegrained-build negatives --data my_parquet_folder/ --caption-column text --out with_negatives/

The written dataset has the columns the trainer reads: `image`, `caption`, `hard_negatives` (`negatives`
renames `--caption-column` and `--image-column` to them). `--out` is written beside itself and moved into place
when complete; a non-empty `--out` is refused unless `--overwrite` (which replaces it whole).
Flags take hyphens or underscores (`--negatives-scorer` = `--negatives_scorer`).
`--negatives-scorer MODEL` (a masked LM id or folder, e.g. distilroberta-base) picks each negative among its
rule's candidates by pseudo-log-likelihood (`negatives.MaskedLMScorer`) instead of the built-in choice; it runs
in one process (`--num-proc` is then ignored) and is much slower than the rules alone.
`--negatives-profile permissive` keeps every candidate edit that passes only the type's invariants (the CE-CLIP
reference's coverage, many invalid negatives; default `strict`: the audited filters). `--negatives-proposer MODEL`
(a causal LM id or folder) writes negatives from a few-shot prompt per type (`negatives.CausalLMProposer`); each
passes the profile's gate, the rules' draw is kept where none does; one process. Its quality was not measured
(docs/NEGATIVES.md says how to audit it).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..negatives import CausalLMProposer, HardNegativeGenerator, MaskedLMScorer
from ..negatives.generator import PROFILES
from ..negatives.types import DEFAULT_NEGATIVE_TYPES
from ..output_folder import OutputFolderError, check_output_folder
from ..rows import CAPTION_COLUMN, IMAGE_COLUMN
from ..validation import DataValidationError

logger = logging.getLogger(__name__)
DATA_FILE_BUILDERS = {"parquet": "parquet", "json": "json", "jsonl": "json", "csv": "csv", "arrow": "arrow"}


def _generator(args: argparse.Namespace) -> HardNegativeGenerator:
    if args.negatives_scorer and args.negatives_proposer:
        raise SystemExit(f"hf-finegrained-build {args.command}: give --negatives-scorer (it ranks the rules' "
                         "candidates) or --negatives-proposer (it writes negatives), not both.")
    scorer = MaskedLMScorer(args.negatives_scorer) if args.negatives_scorer else None
    proposer = (CausalLMProposer(args.negatives_proposer, seed=args.negatives_seed)
                if args.negatives_proposer else None)
    return HardNegativeGenerator(types=args.negative_types, seed=args.negatives_seed, scorer=scorer,
                                 scorer_candidates=args.scorer_candidates, profile=args.negatives_profile,
                                 proposer=proposer)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="hf-finegrained-build", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main.add_subparsers(dest="command", required=True)
    for name, help_text in (("coco", "a COCO captions JSON and its image folder"),
                            ("karpathy", "a Karpathy-split JSON (dataset_coco.json) and the COCO image root"),
                            ("negatives", "add hard negatives to a dataset folder that load_dataset reads")):
        command = commands.add_parser(name, help=help_text)
        if name == "negatives":
            command.add_argument("--data", required=True,
                                 help="a folder load_dataset reads, or data files (a file or a glob) ending in "
                                 + ", ".join("." + extension for extension in DATA_FILE_BUILDERS))
            command.add_argument("--caption-column", "--caption_column", default=CAPTION_COLUMN,
                                 help=f"the column holding the captions; written as {CAPTION_COLUMN!r}")
            command.add_argument("--image-column", "--image_column", default=None,
                                 help=f"the column holding the images; written as {IMAGE_COLUMN!r} (default: "
                                 f"{IMAGE_COLUMN!r} if there is one)")
        else:
            command.add_argument("--annotations", required=True, type=Path)
            command.add_argument("--images", required=True, type=Path)
            command.add_argument("--no-check-images", "--no_check_images", action="store_true",
                                 help="do not decode every image before building")
        command.add_argument("--out", required=True, type=Path, help="the parquet folder to write")
        command.add_argument("--overwrite", action="store_true",
                             help="replace a non-empty --out whole (by default it is refused)")
        command.add_argument("--negative-types", "--negative_types", nargs="+", default=list(DEFAULT_NEGATIVE_TYPES))
        command.add_argument("--negatives-seed", "--negatives_seed", type=int, default=0)
        command.add_argument("--negatives-scorer", "--negatives_scorer", default=None,
                             help="a masked LM (Hub id or folder) that ranks each rule's candidates")
        command.add_argument("--scorer-candidates", "--scorer_candidates", type=int, default=8,
                             help="candidates the scorer rates per caption and type")
        command.add_argument("--negatives-profile", "--negatives_profile", choices=sorted(PROFILES),
                             default="strict", help="strict: the audited filters (default); permissive: every "
                             "edit that keeps the type's invariants (the CE-CLIP reference's coverage)")
        command.add_argument("--negatives-proposer", "--negatives_proposer", default=None,
                             help="a causal LM (Hub id or folder) that proposes negatives, gated by the profile")
        command.add_argument("--num-proc", "--num_proc", type=int, default=None)
    return main


def _load_data(path: str) -> Any:
    """The splits of `--data`: a folder `load_dataset` reads, or data files read by their extension's builder."""
    import datasets

    if Path(path).is_dir():
        return datasets.load_dataset(path)
    extension = path.rsplit(".", 1)[-1].lower()
    if extension not in DATA_FILE_BUILDERS:
        raise SystemExit(f"hf-finegrained-build negatives: --data {path}: cannot tell how to read '.{extension}' "
                         f"files; give a folder or files ending in "
                         f"{', '.join('.' + name for name in DATA_FILE_BUILDERS)}.")
    return datasets.load_dataset(DATA_FILE_BUILDERS[extension], data_files=path)


def _trainer_columns(data: Any, caption_column: str, image_column: str | None, source: str) -> Any:
    """`data` with `caption_column` and `image_column` renamed to the names the trainer reads (`rows.py`).

    Checked on every split before any negative is made: an absent caption column, an absent image column that
    was named (`image_column` not None), or a name clash (the input has both `text` and `caption`) stops with
    the columns named.
    """
    import datasets

    columns_to_write = ((caption_column, CAPTION_COLUMN, "--caption-column", True),
                        (image_column or IMAGE_COLUMN, IMAGE_COLUMN, "--image-column", image_column is not None))
    renamed = {}
    for split, part in data.items():
        columns = part.column_names
        for given, wanted, flag, required in columns_to_write:
            if given not in columns and required:
                raise SystemExit(f"hf-finegrained-build negatives: {source} (split {split!r}) has no column {given!r} "
                                 f"({flag}); its columns are {columns}.")
            if given != wanted and given in columns and wanted in columns:
                raise SystemExit(f"hf-finegrained-build negatives: {source} (split {split!r}) has both {given!r} "
                                 f"({flag}) and {wanted!r}, the name it is written under; drop or rename {wanted!r} "
                                 f"first. Its columns are {columns}.")
        renamed[split] = part.rename_columns({given: wanted for given, wanted, _, _ in columns_to_write
                                              if given != wanted and given in columns})
    return datasets.DatasetDict(renamed)


def _missing_images(error: DataValidationError, args: argparse.Namespace) -> str:
    """What `hf-finegrained-build coco|karpathy` says when image files are missing or unreadable."""
    return (f"hf-finegrained-build {args.command}: {len(error.problems)} image file(s) named in {args.annotations} "
            "are missing or unreadable:\n" + "\n".join(error.lines)
            + f"\nNothing was written. Put the missing files under --images {args.images} (or point --images at the "
            "folder that holds them), replace the unreadable ones, or remove their entries from the annotation file. "
            "--no-check-images skips this check and keeps unreadable files (the trainer lists their rows before "
            "training), but a missing file still stops the build: the export copies every image into the parquet "
            "files.")


def main(argv: list[str] | None = None) -> None:
    from . import CocoCaptionsBuilder, KarpathyCaptionsBuilder, add_hard_negatives, export_parquet

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parser().parse_args(argv)
    inputs = ({"input data": args.data} if args.command == "negatives"
              else {"annotation file": args.annotations, "image folder": args.images})
    try:  # before anything is built; checked again when the finished folder is moved into place
        check_output_folder(args.out, args.overwrite, inputs, overwrite_hint="--overwrite")
    except OutputFolderError as error:
        raise SystemExit(f"hf-finegrained-build {args.command}: {error}") from None
    generator = _generator(args)
    num_proc = None if generator.scorer is not None or generator.proposer is not None else args.num_proc
    builders = {"coco": CocoCaptionsBuilder, "karpathy": KarpathyCaptionsBuilder}
    if args.command in builders:
        builder = builders[args.command](args.annotations, args.images, check_images=not args.no_check_images)
        try:
            data = builder.build(negative_types=args.negative_types, generator=generator, num_proc=num_proc)
        except DataValidationError as error:
            raise SystemExit(_missing_images(error, args)) from None
    else:
        import datasets

        loaded = _trainer_columns(_load_data(args.data), args.caption_column, args.image_column, args.data)
        data = datasets.DatasetDict({
            split: add_hard_negatives(part, args.negative_types, generator=generator, num_proc=num_proc)
            for split, part in loaded.items()})
    try:
        export_parquet(data, args.out, negative_types=args.negative_types, overwrite=args.overwrite)
    except OutputFolderError as error:
        raise SystemExit(f"hf-finegrained-build {args.command}: {error}") from None
    logger.info("wrote %s; negatives: %s", args.out, generator.stats.as_dict(generator.types))


if __name__ == "__main__":
    main()
