"""`hf-finegrained-build`: build a captions dataset with hard negatives and export it as parquet.

    hf-finegrained-build coco --annotations captions_train2014.json --images train2014/ --output_dir coco_negatives/
    hf-finegrained-build karpathy --annotations dataset_coco.json --images coco/ --output_dir karpathy_negatives/
    hf-finegrained-build negatives --dataset_path my_parquet_folder/ --caption_column text --output_dir with_negatives/

The written dataset has the columns the trainer reads, whatever the input's names: `image`, `caption`,
`hard_negatives` (`negatives` renames `--caption_column` and `--image_column` to them). `--output_dir` is written
beside itself and moved into place when complete; a non-empty `--output_dir` is refused unless `--overwrite` (which
replaces it whole). Flags take underscores or hyphens (`--negatives_scorer` = `--negatives-scorer`); the old names
`--data` and `--out` still work, with a warning. The negatives pass shows a bar (off with `--disable_tqdm`).
`--negatives_scorer MODEL` (a masked LM id or folder, e.g. distilroberta-base) picks each negative among its
rule's candidates by pseudo-log-likelihood (`negatives.MaskedLMScorer`) instead of the built-in choice; it runs
in one process (`--num_proc` is then ignored) and is much slower than the rules alone.
`--negatives_vocabulary corpus` lets negatives write only words the captions being built use (all splits together;
`--negatives_vocabulary_min_count N`: words used at least N times), so no negative names a word the corpus never shows
(docs/NEGATIVES.md, "Negatives in the corpus's own words"). `--negatives_profile permissive` keeps every candidate edit that passes only the type's invariants (the CE-CLIP
reference's coverage, many invalid negatives; default `strict`: the audited filters). `--negatives_proposer MODEL`
(a causal LM id or folder) writes negatives from a few-shot prompt per type (`negatives.CausalLMProposer`); each
passes the profile's gate, the rules' draw is kept where none does; one process. Its quality was not measured
(docs/NEGATIVES.md says how to audit it).
`--image_shortest_side 256` stores every image resized (shortest side 256 px, JPEG `--image_quality`, optionally
`--image_center_crop`), with its original size in `original_width` / `original_height`; the dataset card says so.
Training then decodes and resizes small JPEGs (docs/PERFORMANCE.md: input pipeline).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from ..command_line import OneNameHelpFormatter, OneNameRawHelpFormatter, add_flag, warn_deprecated
from ..negatives import CausalLMProposer, HardNegativeGenerator, MaskedLMScorer
from ..negatives.generator import PROFILES
from ..negatives.text import corpus_vocabulary
from ..negatives.types import DEFAULT_NEGATIVE_TYPES
from ..output_folder import OutputFolderError, check_output_folder
from ..rows import CAPTION_COLUMN, IMAGE_COLUMN, rename_to_row_columns
from ..validation import DataValidationError

logger = logging.getLogger(__name__)
DATA_FILE_BUILDERS = {"parquet": "parquet", "json": "json", "jsonl": "json", "csv": "csv", "arrow": "arrow"}


def _generator(args: argparse.Namespace) -> HardNegativeGenerator:
    if args.negatives_scorer and args.negatives_proposer:
        raise SystemExit(f"hf-finegrained-build {args.command}: give --negatives_scorer (it ranks the rules' "
                         "candidates) or --negatives_proposer (it writes negatives), not both.")
    scorer = MaskedLMScorer(args.negatives_scorer) if args.negatives_scorer else None
    proposer = (CausalLMProposer(args.negatives_proposer, seed=args.negatives_seed)
                if args.negatives_proposer else None)
    return HardNegativeGenerator(types=args.negative_types, seed=args.negatives_seed, scorer=scorer,
                                 scorer_candidates=args.scorer_candidates, profile=args.negatives_profile,
                                 proposer=proposer)


# Old flag names, still read (with a FutureWarning): old name -> the name to use.
DEPRECATED_FLAGS = {"data": "dataset_path", "out": "output_dir"}


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="hf-finegrained-build", description=__doc__,
                                   formatter_class=OneNameRawHelpFormatter)
    commands = main.add_subparsers(dest="command", required=True)
    for name, help_text in (("coco", "a COCO captions JSON and its image folder"),
                            ("karpathy", "a Karpathy-split JSON (dataset_coco.json) and the COCO image root"),
                            ("negatives", "add hard negatives to a dataset folder that load_dataset reads")):
        command = commands.add_parser(name, help=help_text, formatter_class=OneNameHelpFormatter,
                                      description=f"{help_text}. Flags take --a_b or --a-b.")
        if name == "negatives":
            add_flag(command, "dataset_path", deprecated=["data"], required=True,
                     help="a folder load_dataset reads, or data files (a file or a glob) ending in "
                     + ", ".join("." + extension for extension in DATA_FILE_BUILDERS) + " (old name --data)")
            add_flag(command, "caption_column", default=CAPTION_COLUMN,
                     help=f"the column holding the captions; written as {CAPTION_COLUMN!r}")
            add_flag(command, "image_column", default=None,
                     help=f"the column holding the images; written as {IMAGE_COLUMN!r} (default: {IMAGE_COLUMN!r} "
                     "if there is one)")
        else:
            add_flag(command, "annotations", required=True, type=Path)
            add_flag(command, "images", required=True, type=Path)
            add_flag(command, "no_check_images", action="store_true", help="do not decode every image before building")
        add_flag(command, "output_dir", deprecated=["out"], required=True, type=Path,
                 help="the parquet folder to write (old name --out)")
        add_flag(command, "overwrite", action="store_true",
                 help="replace a non-empty --output_dir whole (by default it is refused)")
        add_flag(command, "negative_types", nargs="+", default=list(DEFAULT_NEGATIVE_TYPES))
        add_flag(command, "negatives_seed", type=int, default=0)
        add_flag(command, "negatives_scorer", default=None,
                 help="a masked LM (Hub id or folder) that ranks each rule's candidates")
        add_flag(command, "scorer_candidates", type=int, default=8,
                 help="candidates the scorer rates per caption and type")
        add_flag(command, "negatives_profile", choices=sorted(PROFILES), default="strict",
                 help="strict: the audited filters (default); permissive: every edit that keeps the type's "
                 "invariants (the CE-CLIP reference's coverage)")
        add_flag(command, "negatives_vocabulary", choices=("lexicon", "corpus"), default="lexicon",
                 help="lexicon: a negative may write any word of the word lists (default); corpus: only words the "
                 "captions being built use (over all splits), so no negative names a word the corpus never shows")
        add_flag(command, "negatives_vocabulary_min_count", type=int, default=1,
                 help="with --negatives_vocabulary corpus: the times a word must occur in the captions")
        add_flag(command, "negatives_proposer", default=None,
                 help="a causal LM (Hub id or folder) that proposes negatives, gated by the profile")
        add_flag(command, "num_proc", type=int, default=None)
        add_flag(command, "license", default=None,
                 help="the dataset card's licence, a Hub licence id (e.g. cc-by-4.0); default none: the images and "
                 "captions keep their sources' licences, which you should name")
        add_flag(command, "disable_tqdm", action="store_true", help="no progress bars (the negatives pass has one)")
        add_flag(command, "image_shortest_side", type=int, default=None,
                 help="store each image resized to this shortest side in px (e.g. 256 for 224 px models; JPEG; "
                 "smaller images kept), its original size in original_width/original_height; default: as they are")
        add_flag(command, "image_center_crop", action="store_true",
                 help="with --image_shortest_side N: also crop the centre N x N square")
        add_flag(command, "image_quality", type=int, default=90, help="with --image_shortest_side: the JPEG quality")
    return main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command's arguments; every flag as `--a_b` or `--a-b` (`command_line`), old names with a warning."""
    argv = list(sys.argv[1:] if argv is None else argv)
    warn_deprecated(argv, DEPRECATED_FLAGS, "hf-finegrained-build")
    return parser().parse_args(argv)


def _load_data(path: str) -> Any:
    """The splits of `--data`: a folder `load_dataset` reads, or data files read by their extension's builder."""
    import datasets

    if Path(path).is_dir():
        return datasets.load_dataset(path)
    extension = path.rsplit(".", 1)[-1].lower()
    if extension not in DATA_FILE_BUILDERS:
        raise SystemExit(f"hf-finegrained-build negatives: --dataset_path {path}: cannot tell how to read '.{extension}' "
                         f"files; give a folder or files ending in "
                         f"{', '.join('.' + name for name in DATA_FILE_BUILDERS)}.")
    return datasets.load_dataset(DATA_FILE_BUILDERS[extension], data_files=path)


def _trainer_columns(data: Any, caption_column: str, image_column: str | None, source: str) -> Any:
    """`data` with `caption_column` and `image_column` renamed to the names the trainer reads
    (`rows.rename_to_row_columns`), checked on every split before any negative is made: an absent caption column,
    an absent image column that was named (`image_column` not None), or a name clash (the input has both `text`
    and `caption`) stops with the columns named."""
    for split, part in data.items():
        for column, flag in ((caption_column, "--caption_column"), (image_column, "--image_column")):
            if column is not None and column not in part.column_names:
                raise SystemExit(f"hf-finegrained-build negatives: {source} (split {split!r}) has no column "
                                 f"{column!r} ({flag}); its columns are {part.column_names}.")
    given = {CAPTION_COLUMN: caption_column, **({IMAGE_COLUMN: image_column} if image_column else {})}
    try:
        return rename_to_row_columns(data, given, source, {CAPTION_COLUMN: "--caption_column",
                                                           IMAGE_COLUMN: "--image_column"})
    except ValueError as error:
        raise SystemExit(f"hf-finegrained-build negatives: {error}") from None


def _image_resize(args: argparse.Namespace) -> Any:
    """The `builders.ImageResize` of `--image_shortest_side` (None: images stored as they are)."""
    from .resize import ImageResize

    if args.image_shortest_side is None:
        if args.image_center_crop:
            raise SystemExit(f"hf-finegrained-build {args.command}: --image_center_crop needs --image_shortest_side N.")
        return None
    try:
        return ImageResize(args.image_shortest_side, center_crop=args.image_center_crop, quality=args.image_quality)
    except ValueError as error:
        raise SystemExit(f"hf-finegrained-build {args.command}: --image_shortest_side/--image_quality: {error}") from None


def _missing_images(error: DataValidationError, args: argparse.Namespace) -> str:
    """What `hf-finegrained-build coco|karpathy` says when image files are missing or unreadable."""
    return (f"hf-finegrained-build {args.command}: {len(error.problems)} image file(s) named in {args.annotations} "
            "are missing or unreadable:\n" + "\n".join(error.lines)
            + f"\nNothing was written. Put the missing files under --images {args.images} (or point --images at the "
            "folder that holds them), replace the unreadable ones, or remove their entries from the annotation file. "
            "--no_check_images skips this check and keeps unreadable files (the trainer lists their rows before "
            "training), but a missing file still stops the build: the export copies every image into the parquet "
            "files.")


def main(argv: list[str] | None = None) -> None:
    from . import CocoCaptionsBuilder, KarpathyCaptionsBuilder, add_hard_negatives, export_parquet

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    if args.disable_tqdm:
        import datasets

        datasets.disable_progress_bars()
    inputs = ({"input data": args.dataset_path} if args.command == "negatives"
              else {"annotation file": args.annotations, "image folder": args.images})
    try:  # before anything is built; checked again when the finished folder is moved into place
        check_output_folder(args.output_dir, args.overwrite, inputs, overwrite_hint="--overwrite")
    except OutputFolderError as error:
        raise SystemExit(f"hf-finegrained-build {args.command}: {error}") from None
    image_resize = _image_resize(args)  # a bad value stops here, before any negative is made
    if args.negatives_vocabulary_min_count < 1:
        raise SystemExit(f"hf-finegrained-build {args.command}: --negatives_vocabulary_min_count must be >= 1, got "
                         f"{args.negatives_vocabulary_min_count}.")
    generator = _generator(args)
    num_proc = None if generator.scorer is not None or generator.proposer is not None else args.num_proc
    builders = {"coco": CocoCaptionsBuilder, "karpathy": KarpathyCaptionsBuilder}
    if args.command in builders:
        builder = builders[args.command](args.annotations, args.images, check_images=not args.no_check_images)
        try:
            data = builder.build(add_negatives=False)
        except DataValidationError as error:
            raise SystemExit(_missing_images(error, args)) from None
    else:
        data = _trainer_columns(_load_data(args.dataset_path), args.caption_column, args.image_column,
                                args.dataset_path)
    parts = data if isinstance(data, dict) else {None: data}
    if args.negatives_vocabulary == "corpus":
        generator = generator.with_vocabulary(corpus_vocabulary(
            (caption for part in parts.values() for caption in part[CAPTION_COLUMN]),
            args.negatives_vocabulary_min_count))
        logger.info("negatives write only the captions' own words: %d distinct", len(generator.vocabulary))
    parts = {split: add_hard_negatives(part, args.negative_types, generator=generator, num_proc=num_proc)
             for split, part in parts.items()}
    data = parts[None] if None in parts else type(data)(parts)
    try:
        export_parquet(data, args.output_dir, negative_types=args.negative_types, overwrite=args.overwrite,
                       generator=generator, license=args.license, image_resize=image_resize,
                       num_proc=args.num_proc)
    except OutputFolderError as error:
        raise SystemExit(f"hf-finegrained-build {args.command}: {error}") from None
    logger.info("wrote %s; %s", args.output_dir, _stats_line(generator.stats.as_dict(generator.types)))


def _stats_line(stats: dict[str, Any]) -> str:
    """The generator's counts as one readable line (not a dict): captions, negatives and coverage per type, and
    the captions skipped or held back, by reason."""
    per_type = ", ".join(f"{name} {count} ({100 * stats['coverage'][name]:.1f}%)"
                         for name, count in stats["negatives"].items())
    line = f"{stats['captions']} captions; negatives per type (coverage): {per_type}"
    for key, label in (("skipped", "skipped"), ("held_back", "held back")):
        counts = ", ".join(f"{reason} {count}" for reason, count in stats.get(key, {}).items() if count)
        line += f"; {label}: {counts or 'none'}"
    return line


if __name__ == "__main__":
    main()
