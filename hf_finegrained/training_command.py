"""`hf-finegrained-train`: the training command (also `python examples/train.py`, and both under `accelerate launch`).

Its flags are four dataclasses read by `HfArgumentParser` (`--a_b` and `--a-b` both): `ModelArguments`,
`DataArguments`, the embedded default's `synthetic.default_run.SyntheticRunArguments`, and
`FineGrainedTrainingArguments`. `--config FILE.yaml` (anywhere on the line, or a YAML file as the first argument)
stands for the flags it holds, in its place.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from transformers import HfArgumentParser

from .command_line import OneNameRawHelpFormatter, flag_key, warn_deprecated
from .lora import DEFAULT_LORA_TARGETS
from .synthetic.default_run import SYNTHETIC_DEFAULTS, SyntheticRunArguments
from .training_args import PAPER_HYPERPARAMETERS, FineGrainedTrainingArguments

logger = logging.getLogger(__name__)
PROG = "hf-finegrained-train"

# The flag defaults with --model_name_or_path: the paper's fine-tuning hyperparameters.
PAPER_DEFAULTS: dict[str, Any] = dict(
    PAPER_HYPERPARAMETERS,
    output_dir="outputs/ce-clip",
    save_strategy="epoch",
    logging_steps=10,
    report_to="none",
)
# Old flag names, still read (with a FutureWarning): old name -> the name to use.
DEPRECATED_FLAGS = {"eval_benchmarks": "benchmarks"}


@dataclass
class ModelArguments:
    """Which model is fine-tuned, and how (all weights or LoRA adapters)."""

    _argument_group_name = "model"

    model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "A CLIP, SigLIP or SigLIP 2 model (CLIPModel, SiglipModel, Siglip2Model): a Hub id or a "
                  "local folder. Not given: the embedded default, a small model on the synthetic world."},
    )
    use_lora: bool = field(default=False, metadata={"help": "Train LoRA adapters (PEFT) instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha (scaling = alpha / r)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: list(DEFAULT_LORA_TARGETS),
        metadata={"help": "Module names that get adapters (both encoders' attention projections by default)."},
    )
    merge_lora: bool = field(
        default=False,
        metadata={"help": "After training, also write plain model weights (no PEFT) with the adapter merged, to "
                  "<output_dir>/merged (what gets pushed)."},
    )


@dataclass
class DataArguments:
    """Your data (with --model_name_or_path) and the benchmarks scored after training."""

    _argument_group_name = "data (with --model_name_or_path) and benchmarks"

    dataset_path: str | None = field(
        default=None,
        metadata={"help": "A folder `datasets.load_dataset` reads (e.g. written by hf-finegrained-build), or data "
                  "files (a parquet, json/jsonl, csv or arrow file, or a glob such as 'data/*.parquet'), with an "
                  "image, a caption and a hard-negatives column (named by the next three flags)."},
    )
    caption_column: str = field(
        default="caption", metadata={"help": "The column of --dataset_path holding the captions."}
    )
    image_column: str = field(default="image", metadata={"help": "The column of --dataset_path holding the images."})
    negatives_column: str = field(
        default="hard_negatives",
        metadata={"help": "The column of --dataset_path holding the hard negatives ({type: caption or None})."},
    )
    streaming: bool = field(
        default=False,
        metadata={"help": "Read --dataset_path as a stream (`load_dataset(..., streaming=True)`): nothing is "
                  "downloaded or converted ahead, rows are checked as they are read (bad ones skipped and "
                  "counted, see --max_bad_row_rate), each process reads its own shards; needs --max_steps. "
                  "With --generate_negatives, rows without hard negatives get them as they are read."},
    )
    coco_annotations: str | None = field(
        default=None, metadata={"help": "A COCO captions JSON (captions_train2014.json layout); needs --coco_images."}
    )
    coco_images: str | None = field(default=None, metadata={"help": "The image folder of --coco_annotations."})
    benchmarks: list[str] = field(
        default_factory=list,
        metadata={"help": "Benchmarks scored after training (names as for hf-finegrained-eval, comma- or "
                  "space-separated, or 'all'); checked before training. Old name: --eval_benchmarks.",
                  "aliases": ["--eval_benchmarks", "--eval-benchmarks"]},
    )
    benchmark_data_root: str | None = field(
        default=None, metadata={"help": "Root of the benchmark files (layout: docs/BENCHMARKS.md)."}
    )


ARGUMENT_TYPES = (ModelArguments, DataArguments, SyntheticRunArguments, FineGrainedTrainingArguments)


def _defaults_table() -> str:
    """The settings whose defaults differ between the two modes, as the parser really applies them."""
    plain = {f.name: f.default for f in dataclasses.fields(FineGrainedTrainingArguments)}
    embedded, paper = {**plain, **SYNTHETIC_DEFAULTS}, {**plain, **PAPER_DEFAULTS}
    rows = [("--max_steps / --num_train_epochs", f"{embedded['max_steps']} steps",
             f"{paper['num_train_epochs']} epochs")]
    rows += [(f"--{key}", str(embedded[key]), str(paper[key]))
             for key in dict.fromkeys([*SYNTHETIC_DEFAULTS, *PAPER_DEFAULTS])
             if key not in ("max_steps", "num_train_epochs") and str(embedded[key]) != str(paper[key])]
    width = max(len(flag) for flag, _, _ in rows) + 3
    lines = [f"  {'flag':<{width}}{'embedded default':<28}with --model_name_or_path"]
    lines += [f"  {flag:<{width}}{mine:<28}{theirs}" for flag, mine, theirs in rows]
    return "\n".join(lines)


DESCRIPTION = f"""Fine-tune a CLIP, SigLIP or SigLIP 2 model with the CE-CLIP loss (Zhang, Awal and Agrawal, CVPR 2024):
image-text contrastive loss with hard-negative captions (ITC-hn), an intra-modal contrastive loss (IMC) and a
cross-modal rank loss with per-type adaptive thresholds (CMR).

Two modes:
  embedded default (no --model_name_or_path; CPU, minutes, nothing downloaded):
      {PROG}
    a synthetic compositional world; a small CLIP (--model_family siglip / siglip2: SigLIP) built from a config
    and pre-trained with the plain loss (cached), then a plain fine-tune and a CE-CLIP fine-tune on the same new
    images, all three scored side by side (table printed, results.json, model card).
  your model and data:
      accelerate launch -m hf_finegrained.training_command --model_name_or_path openai/clip-vit-base-patch32 \\
          --dataset_path data/ --caption_column text --benchmarks sugarcrepe --output_dir ce-clip
    the paper's hyperparameters by default (lr 5e-6 cosine, 50 warm-up steps, AdamW (0.9, 0.98), eps 1e-6, weight
    decay 0.1, 5 epochs, batch 256; IMC 0.3, CMR 0.2, threshold bound 0.1 in cosine units).

Defaults that differ between the modes (a flag given always wins):
{_defaults_table()}

--config FILE.yaml (anywhere on the line; or a .yaml file as the first argument) holds one `flag_name: value` per
line and stands for those flags in its place. Flags take --a_b or --a-b. The library's flags come first below,
then transformers' TrainingArguments."""


class _HelpFormatter(OneNameRawHelpFormatter):
    """Each flag once (`--a_b VALUE`; `--a-b` is read too, as the description says) with its default as the mode
    applies it (both when the modes differ)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=40, width=min(120, shutil.get_terminal_size().columns))

    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        return "VALUE"

    def _get_help_string(self, action: argparse.Action) -> str:
        text = (action.help or "").replace("%", "%%")
        if action.default is argparse.SUPPRESS or not action.option_strings or action.dest in ("help", "config"):
            return text
        if action.dest in SYNTHETIC_DEFAULTS and SYNTHETIC_DEFAULTS[action.dest] != action.default:
            embedded = str(SYNTHETIC_DEFAULTS[action.dest]).replace("%", "%%")
            return f"{text} (default: {embedded} on the embedded default, %(default)s with --model_name_or_path)"
        return f"{text} (default: %(default)s)"


def build_parser() -> HfArgumentParser:
    """The command's parser: the four argument groups, the paper's defaults, the library's flags first in help."""
    parser = HfArgumentParser(ARGUMENT_TYPES, prog=PROG, usage=f"{PROG} [--config FILE.yaml] [--flag value ...]",
                              description=DESCRIPTION, formatter_class=_HelpFormatter)
    parser.set_defaults(**PAPER_DEFAULTS)
    # shown in help; `expand_configs` takes it off the line before parsing, so it never reaches the dataclasses
    parser.add_argument("--config", metavar="FILE.yaml", default=argparse.SUPPRESS,
                        help="flags from a YAML file, read in its place on the line")
    own = {f.name for f in dataclasses.fields(FineGrainedTrainingArguments)} - {
        f.name for f in dataclasses.fields(FineGrainedTrainingArguments.__mro__[1])}
    options = next(group for group in parser._action_groups if group.title in ("options", "optional arguments"))
    library = parser.add_argument_group("CE-CLIP loss and data checks (FineGrainedTrainingArguments)")
    inherited = parser.add_argument_group("transformers TrainingArguments")
    for action in list(options._group_actions):
        if action.dest in ("help", "config"):
            continue
        options._group_actions.remove(action)
        (library if action.dest in own else inherited)._group_actions.append(action)
    # help first, then model, data, embedded default, the loss's flags, then TrainingArguments
    groups = parser._action_groups
    groups.remove(options)
    groups.insert(0, options)
    groups.remove(inherited)
    groups.append(inherited)
    return parser


def parse(argv: Sequence[str]) -> tuple[ModelArguments, DataArguments, SyntheticRunArguments,
                                         FineGrainedTrainingArguments]:
    """The four argument groups from the command line (`--config` files expanded in place); with no
    --model_name_or_path, `SYNTHETIC_DEFAULTS` for every training flag not given."""
    from .evaluation import benchmark_names
    from .families import FAMILIES

    parser = build_parser()
    argv, configs = expand_configs(list(argv), parser)
    warn_deprecated(argv, DEPRECATED_FLAGS, PROG)
    try:
        model_args, *_ = parser.parse_args_into_dataclasses(args=argv)
        if model_args.model_name_or_path is None:  # the embedded default: small-model settings for unset flags
            given = {flag_key(arg) for arg in argv}
            parser.set_defaults(**{k: v for k, v in SYNTHETIC_DEFAULTS.items() if k not in given})
        model_args, data_args, run_args, args = parser.parse_args_into_dataclasses(args=argv)
    except SystemExit as error:  # argparse has printed which flag and value; say that they came from the file
        if not configs or not error.code:
            raise
        raise SystemExit(f"{', '.join(configs)}: a value above is not valid for its flag (each `key: value` of the "
                         "file is read as `--key value`).") from None
    except ValueError as error:
        if not configs:
            raise
        raise SystemExit(f"{', '.join(configs)}: {error}") from None
    if run_args.model_family not in FAMILIES:
        raise SystemExit(f"--model_family {run_args.model_family!r}: choose one of {', '.join(FAMILIES)}.")
    data_args.benchmarks = benchmark_names(data_args.benchmarks) if data_args.benchmarks else []
    return model_args, data_args, run_args, args


def expand_configs(argv: list[str], parser: HfArgumentParser) -> tuple[list[str], list[str]]:
    """(`argv` with each `--config FILE` / `--config=FILE`, and a YAML file given as the first argument, replaced
    by the flags the file holds, the files read)."""
    out: list[str] = []
    configs: list[str] = []
    position = 0
    while position < len(argv):
        argument = argv[position]
        if flag_key(argument) == "config":
            if "=" in argument:
                path, position = argument.split("=", 1)[1], position + 1
            elif position + 1 < len(argv) and not argv[position + 1].startswith("--"):
                path, position = argv[position + 1], position + 2
            else:
                raise SystemExit(f"{PROG}: --config needs a file: --config FILE.yaml")
        elif position == 0 and argument.endswith((".yaml", ".yml")) and not argument.startswith("-"):
            path, position = argument, position + 1
        else:
            out.append(argument)
            position += 1
            continue
        configs.append(path)
        out += yaml_flags(path, parser)
    return out, configs


def yaml_flags(path: str, parser: HfArgumentParser) -> list[str]:
    """The flags a YAML config stands for (`key: value` becomes `--key value`, a list `--key a b`), so a config
    and the same flags give equal arguments; clear errors naming the file for an empty, unreadable or
    unknown-key config."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except OSError as error:
        raise SystemExit(f"{path}: the config file cannot be read ({error.strerror or error}).") from None
    except yaml.YAMLError as error:
        raise SystemExit(f"{path}: not valid YAML ({error}).") from None
    usage = f"write one `flag_name: value` per line, with the flags of `{PROG} --help`"
    if config is None:
        raise SystemExit(f"{path} is empty; {usage}.")
    if not isinstance(config, dict):
        raise SystemExit(f"{path}: expected `flag_name: value` lines, got a YAML {type(config).__name__}; {usage}.")
    known = [f.name for dtype in parser.dataclass_types for f in dataclasses.fields(dtype) if f.init]
    known += list(DEPRECATED_FLAGS)
    unknown = [key for key in config if str(key).replace("-", "_") not in known]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key).replace("-", "_"), known, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise SystemExit(f"{path}: unknown keys {', '.join(hints)}; {usage}.")
    flags = []
    for key, value in config.items():
        values = value if isinstance(value, list) else [value]
        if value is None or not values:
            raise SystemExit(f"{path}: {key!r} has no value; give one, or leave the key out for its default.")
        flags += [f"--{key}", *(_flag_value(v) for v in values)]
    return flags


def _flag_value(value: Any) -> str:
    """A YAML value as the command line writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def check_benchmarks_before_training(data_args: DataArguments) -> None:
    """Stops the run before anything is trained when a benchmark name is unknown or an annotation file is
    malformed; announces the benchmarks whose data is absent (skipped after training)."""
    from .evaluation import UnknownBenchmarkError, check_benchmarks

    try:
        checks = check_benchmarks(data_args.benchmarks, data_root=data_args.benchmark_data_root)
    except UnknownBenchmarkError as error:
        raise SystemExit(f"--benchmarks: {error}. Nothing has been trained yet.") from None
    broken = [f"- {name}: {message}" for name, (status, message) in checks.items() if status == "error"]
    if broken:
        raise SystemExit("--benchmarks: files of these benchmarks cannot be used; nothing has been trained "
                         "yet.\n" + "\n".join(broken) + "\nFix or download them again (layout: docs/BENCHMARKS.md), "
                         "or leave those benchmarks out.")
    for name, (status, message) in checks.items():
        if status == "absent":
            logger.warning("[%s] will be skipped after training: %s", name, message)


def real_trainer(model_args: ModelArguments, data_args: DataArguments, args: FineGrainedTrainingArguments):
    """The trainer on a model folder or Hub id and a dataset folder or COCO files, and its benchmark scoring."""
    from .model_card import results_from_report
    from .progress import quiet_console
    from .rows import CAPTION_COLUMN, IMAGE_COLUMN, NEGATIVES_COLUMN, rename_to_row_columns
    from .trainer import FineGrainedTrainer

    if data_args.dataset_path:
        if data_args.streaming and args.max_steps <= 0:
            raise SystemExit("--streaming: a stream's length is unknown, so give the number of training steps with "
                             "--max_steps N (--num_train_epochs is not used for streams).")
        loaded = load_user_dataset(data_args.dataset_path, data_args.streaming)
        if "train" not in loaded:
            raise SystemExit(f"--dataset_path {data_args.dataset_path}: no 'train' split (splits: {list(loaded)}).")
        columns = {CAPTION_COLUMN: data_args.caption_column, IMAGE_COLUMN: data_args.image_column,
                   NEGATIVES_COLUMN: data_args.negatives_column}
        flags = {CAPTION_COLUMN: "--caption_column", IMAGE_COLUMN: "--image_column",
                 NEGATIVES_COLUMN: "--negatives_column"}
        try:
            train_data = rename_to_row_columns(loaded["train"], columns, f"--dataset_path {data_args.dataset_path}",
                                               flags)
            eval_data = loaded.get("validation")
            if eval_data is not None:
                eval_data = rename_to_row_columns(eval_data, columns, f"--dataset_path {data_args.dataset_path} "
                                                  "(validation)", flags)
        except ValueError as error:
            raise SystemExit(str(error)) from None
        data_name = os.path.basename(os.path.normpath(data_args.dataset_path))
    elif data_args.coco_annotations and data_args.coco_images:
        from .builders import CocoCaptionsBuilder

        if data_args.streaming:
            raise SystemExit("--streaming reads --dataset_path as a stream; the COCO builder makes an in-memory "
                             "dataset. Export it (hf-finegrained-build) and stream the files instead.")
        with args.main_process_first(desc="COCO hard negatives"):
            train_data = CocoCaptionsBuilder(data_args.coco_annotations, data_args.coco_images).build(
                negative_types=args.negative_types, seed=args.seed)
        eval_data, data_name = None, "COCO captions"
    else:
        raise SystemExit("With --model_name_or_path, give --dataset_path or --coco_annotations + --coco_images.")
    model, processor = load_model(model_args.model_name_or_path, model_args)
    trainer = quiet_console(FineGrainedTrainer(model=model, args=args, train_dataset=train_data,
                                               eval_dataset=eval_data, processing_class=processor),
                            "CE-CLIP fine-tune" if args.use_hard_negatives else "plain fine-tune")
    trainer.card_info.dataset_name = data_name

    def score() -> None:
        """Each benchmark fails alone inside run_benchmarks; anything else is reported, since the model is saved."""
        if data_args.benchmarks:
            from .evaluation import run_benchmarks

            try:
                report = run_benchmarks(trainer.model, data_args.benchmarks, data_root=data_args.benchmark_data_root,
                                        output_dir=args.output_dir, processor=processor,
                                        progress=not args.disable_tqdm)
            except Exception as error:
                logger.error("Scoring the benchmarks failed (%s: %s); the trained model is saved in %s, score it "
                             "with hf-finegrained-eval.", type(error).__name__, error, args.output_dir, exc_info=True)
                return
            trainer.card_info.results = results_from_report(report)

    return trainer, processor, score


DATA_FILE_BUILDERS = {"parquet": "parquet", "json": "json", "jsonl": "json", "csv": "csv", "arrow": "arrow"}


def load_user_dataset(path: str, streaming: bool = False) -> Any:
    """The splits of --dataset_path: a folder (or Hub id) `load_dataset` reads, or data files (a file or a glob,
    as the `train` split) read by the builder of their extension; `streaming` reads them lazily."""
    import datasets

    if os.path.isfile(path) or any(char in path for char in "*?["):
        extension = path.rsplit(".", 1)[-1].lower()
        if extension not in DATA_FILE_BUILDERS:
            raise SystemExit(f"--dataset_path {path}: cannot tell how to read '.{extension}' files; give a folder or "
                             f"files ending in {', '.join('.' + name for name in DATA_FILE_BUILDERS)}.")
        return datasets.load_dataset(DATA_FILE_BUILDERS[extension], data_files={"train": path}, streaming=streaming)
    return datasets.load_dataset(path, streaming=streaming)


def load_model(name_or_path: str, model_args: ModelArguments):
    """A supported model (`families`: CLIP, SigLIP, SigLIP 2; with LoRA adapters when asked) and its processor
    from a folder or Hub id; any other model stops here, naming the supported ones."""
    from . import families
    from .lora import add_lora

    try:
        model, processor, _ = families.load_model(name_or_path)
    except families.UnsupportedModelError as error:
        raise SystemExit(f"--model_name_or_path {name_or_path}: {error}") from None
    if model_args.use_lora:
        model = add_lora(model, model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout,
                         model_args.lora_target_modules)
    return model, processor


def main(argv: Sequence[str] | None = None) -> None:
    """The console command: trains, saves, scores and (with --push_to_hub) publishes; then ends the process group."""
    from .distributed import end_process_group

    train_and_publish(argv)
    # Once the trainer is freed, every rank ends the process group: left to the interpreter's exit, a rank can abort
    # there ("terminate called without an active exception", docs/FAILURES.md). No barrier first: saving was the last
    # collective, and the other ranks would wait, maybe past the group's timeout, while rank 0 scores.
    end_process_group(barrier=False)


def train_and_publish(argv: Sequence[str] | None = None) -> None:
    from transformers import AutoModel, set_seed

    from .hub import check_repo_id, push_folder, require_token
    from .lora import merge_lora
    from .synthetic.default_run import default_run_trainer

    argv = sys.argv[1:] if argv is None else list(argv)
    model_args, data_args, run_args, args = parse(argv)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING, format="%(message)s")
    if args.disable_tqdm:  # the libraries' own bars too (loading and writing weights, dataset passes)
        import datasets
        from transformers.utils import logging as transformers_logging

        datasets.disable_progress_bars()
        transformers_logging.disable_progress_bar()
    push = args.push_to_hub
    if push:
        if not args.hub_model_id:
            raise SystemExit("--push_to_hub needs --hub_model_id <user>/<name>.")
        try:
            check_repo_id(args.hub_model_id)  # a name the Hub would refuse fails before training, not after
        except ValueError as error:
            raise SystemExit(str(error)) from None
        token = require_token(args.hub_token)  # fails here, before any training, when not logged in
        args.push_to_hub = False  # the finished folder is pushed once, below, with an explicit file list
    if data_args.benchmarks:
        if model_args.model_name_or_path is None:
            raise SystemExit("--benchmarks scores a model given with --model_name_or_path; the embedded default "
                             "scores the synthetic world instead. Drop --benchmarks or give a model.")
        check_benchmarks_before_training(data_args)
    set_seed(args.seed)

    if model_args.model_name_or_path is None:
        trainer, processor, score = default_run_trainer(run_args, args, lambda base: load_model(base, model_args))
    else:
        trainer, processor, score = real_trainer(model_args, data_args, args)
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    trainer.save_model()  # weights (or adapter), thresholds, card and plots, before anything is scored
    if not trainer.is_world_process_zero():
        return
    processor.save_pretrained(args.output_dir)
    if trainer.is_fsdp_enabled and not model_args.use_lora:
        # Under FSDP the trained model is sharded over the processes: score the full copy just saved.
        trainer.model = AutoModel.from_pretrained(args.output_dir).to(args.device)
    score()
    trainer.create_model_card()  # again, now with the scores
    publish_dir = args.output_dir
    if model_args.use_lora and model_args.merge_lora:
        publish_dir = os.path.join(args.output_dir, "merged")
        merge_lora(trainer.model).save_pretrained(publish_dir)  # after the adapter was saved above
        processor.save_pretrained(publish_dir)
        trainer.create_model_card(output_dir=publish_dir)
    print(f"model saved to {publish_dir}")
    if push:
        files = push_folder(publish_dir, args.hub_model_id, token=token, private=args.hub_private_repo)
        print(f"pushed {len(files)} files to https://huggingface.co/{args.hub_model_id}")


if __name__ == "__main__":
    main()
