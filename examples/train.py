"""Fine-tune a CLIPModel, SiglipModel or Siglip2Model with the CE-CLIP loss (ITC with hard negatives + IMC + CMR).

    python examples/train.py                         # embedded default: CPU, minutes, nothing downloaded
    accelerate launch examples/train.py [flags | config.yaml [flags]]
    accelerate launch examples/train.py --model_name_or_path openai/clip-vit-base-patch32 \\
        --coco_annotations captions_train2014.json --coco_images train2014/ \\
        --eval_benchmarks sugarcrepe,valse --benchmark_data_root data/ --output_dir ce-clip

Embedded default (no --model_name_or_path): the synthetic compositional world (procedural images of two
shapes in a spatial relation), mirroring the paper's setting at CPU size. A small CLIPModel (or, with
--model_family siglip / siglip2, a SiglipModel / Siglip2Model of the same sizes, trained with the sigmoid
form of the losses) built from a
config is pre-trained with the plain CLIP loss on the world's own "web-like" stream (cached, so later runs
reuse it); it is then fine-tuned on an unbounded stream of new relation-captioned images with spaCy hard
negatives made on the fly (CE-CLIP), and, for comparison, on the very same stream, steps and seed without
hard negatives (the plain fine-tune, cached too). The three models are scored on new images of seen
combinations (the headline), on held-out combinations, on zero-shot classification and on retrieval, and
the table is printed, written to results.json and put in the model card.

Flag defaults are the paper's fine-tuning hyperparameters (lr 5e-6 cosine, 50 warm-up steps, AdamW
betas (0.9, 0.98), eps 1e-6, weight decay 0.1, 5 epochs, IMC 0.3, CMR 0.2, threshold bound 10 at scale 100, i.e.
0.1 in the default cosine threshold units). The
embedded default swaps in settings sized for its small model (FINETUNE_DEFAULTS of
hf_finegrained.synthetic.recipe: the paper's, with another learning rate, warm-up, batch and a step count)
for any flag not given on the command line.

A YAML config holds one `flag_name: value` per line and is read exactly as those flags (so the defaults
above apply, and a value gets its flag's type: `learning_rate: 1e-3` is a float); flags after it override it.
Benchmarks (--eval_benchmarks sugarcrepe,valse or sugarcrepe valse) are checked before training: an unknown
name or a malformed annotation file stops the run before anything is trained, absent data is announced and
skipped. The model is saved before it is scored, and a benchmark that fails while scoring is reported (and
recorded under "errors" in results.json) while the others are scored and the run completes.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import datasets
import torch
from transformers import AutoModel, HfArgumentParser, set_seed

from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments, families
from hf_finegrained.distributed import end_process_group
from hf_finegrained.training_args import PAPER_HYPERPARAMETERS
from hf_finegrained.evaluation import UnknownBenchmarkError, benchmark_names, check_benchmarks
from hf_finegrained.hub import push_folder, require_token
from hf_finegrained.lora import DEFAULT_LORA_TARGETS, add_lora, merge_lora
from hf_finegrained.model_card import results_from_report
from hf_finegrained.synthetic.recipe import FINETUNE_DEFAULTS, PROBE_FIT_ROWS, WORLD_DISTRACTORS, BaseModelSettings
from hf_finegrained.synthetic.tradeoff import plot_tradeoff, tradeoff_table

logger = logging.getLogger("train")

PAPER_DEFAULTS = dict(
    PAPER_HYPERPARAMETERS,
    output_dir="outputs/ce-clip",
    save_strategy="epoch",
    logging_steps=10,
    report_to="none",
)
SYNTHETIC_DEFAULTS = dict(
    FINETUNE_DEFAULTS,
    output_dir="outputs/synthetic-ce-clip",
    save_strategy="no",
    logging_steps=10,
)


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "A CLIP Hub id or local folder. Default: the embedded small model on the synthetic world."},
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
    base_cache_dir: str | None = field(
        default=None,
        metadata={"help": "Where the embedded default caches its plain-contrastive base "
                  "(default $HF_FINEGRAINED_CACHE or ~/.cache/hf_finegrained)."},
    )
    model_family: str = field(
        default="clip",
        metadata={"help": "Embedded default only: the family of its small base, 'clip', 'siglip' or 'siglip2' "
                  "(a model given with --model_name_or_path brings its own)."},
    )
    base_max_steps: int = field(
        default=BaseModelSettings.max_steps, metadata={"help": "Pre-training steps of the embedded default's base."}
    )


@dataclass
class DataArguments:
    dataset_path: str | None = field(
        default=None,
        metadata={"help": "A folder `datasets.load_dataset` reads (e.g. exported by hf_finegrained.builders), or "
                  "data files (a parquet, json/jsonl, csv or arrow file, or a glob such as 'data/*.parquet'), with "
                  "image, caption and hard_negatives columns."},
    )
    streaming: bool = field(
        default=False,
        metadata={"help": "Read --dataset_path as a stream (`load_dataset(..., streaming=True)`): nothing is "
                  "downloaded or converted ahead, rows are checked as they are read (bad ones skipped and "
                  "counted, see --max_bad_row_rate), each process reads its own shards; needs --max_steps. "
                  "With --generate_negatives, rows without hard_negatives get them as they are read."},
    )
    coco_annotations: str | None = field(
        default=None, metadata={"help": "A COCO captions JSON (captions_train2014.json layout); needs --coco_images."}
    )
    coco_images: str | None = field(default=None, metadata={"help": "The image folder of --coco_annotations."})
    synthetic_test: int = field(
        default=1000,
        metadata={"help": "Images of the synthetic world's test_seen and zero-shot splits (half as many for the "
                  "held-out test and retrieval splits)."},
    )
    synthetic_probe_rows: int = field(
        default=PROBE_FIT_ROWS, metadata={"help": "Images the base's relation probe is fitted on (0: no probe)."}
    )
    synthetic_seed: int = field(default=0, metadata={"help": "Seed of the synthetic world."})
    synthetic_distractors: float = field(
        default=WORLD_DISTRACTORS,
        metadata={"help": "Objects the caption does not name in the synthetic world's two-object scenes (its replace "
                  "negatives then name a distractor's colour or shape): 1 adds one to every scene, a fraction adds "
                  "one to that share of the scenes (default 0.25, the world with headroom); 0: the first worlds. "
                  "See SyntheticWorld.distractors and docs/RESULTS.md."},
    )
    tradeoff_alphas: str = field(
        default="0.25,0.5,0.75",
        metadata={"help": "Embedded default: weights at which the plain fine-tune and CE-CLIP are also interpolated "
                  "with the base and scored, for the card's composition vs general-ability plot ('' for none)."},
    )
    eval_benchmarks: list[str] = field(
        default_factory=list,
        metadata={"help": "Benchmarks scored after training (names of hf_finegrained.evaluation.BENCHMARKS, "
                  "comma- or space-separated, or 'all'); checked before training."},
    )
    benchmark_data_root: str | None = field(
        default=None, metadata={"help": "Root of the benchmark files (layout: docs/BENCHMARKS.md)."}
    )


def parse(argv: list[str]) -> tuple[ModelArguments, DataArguments, FineGrainedTrainingArguments]:
    """The three argument groups from flags, or from a YAML config (first) read as the same flags."""
    parser = HfArgumentParser((ModelArguments, DataArguments, FineGrainedTrainingArguments))
    parser.set_defaults(**PAPER_DEFAULTS)
    config = argv[0] if argv and argv[0].endswith((".yaml", ".yml")) else None
    if config:
        argv = yaml_flags(config, parser) + list(argv[1:])
    try:
        model_args, data_args, _ = parser.parse_args_into_dataclasses(args=argv)
        if model_args.model_name_or_path is None:  # the embedded default: small-model settings for unset flags
            given = {arg.split("=")[0].lstrip("-") for arg in argv if arg.startswith("--")}
            parser.set_defaults(**{k: v for k, v in SYNTHETIC_DEFAULTS.items() if k not in given})
        model_args, data_args, args = parser.parse_args_into_dataclasses(args=argv)
    except SystemExit as error:  # argparse has printed which flag and value; say that they came from the file
        if config is None or not error.code:
            raise
        raise SystemExit(f"{config}: a value above is not valid for its flag (each `key: value` of the file is "
                         "read as `--key value`).") from None
    except ValueError as error:
        if config is None:
            raise
        raise SystemExit(f"{config}: {error}") from None
    if model_args.model_family not in families.FAMILIES:
        raise SystemExit(f"--model_family {model_args.model_family!r}: choose one of {', '.join(families.FAMILIES)}.")
    data_args.eval_benchmarks = benchmark_names(data_args.eval_benchmarks) if data_args.eval_benchmarks else []
    return model_args, data_args, args


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
    usage = "write one `flag_name: value` per line, with the flags of `python examples/train.py --help`"
    if config is None:
        raise SystemExit(f"{path} is empty; {usage}.")
    if not isinstance(config, dict):
        raise SystemExit(f"{path}: expected `flag_name: value` lines, got a YAML {type(config).__name__}; {usage}.")
    known = [f.name for dtype in parser.dataclass_types for f in dataclasses.fields(dtype) if f.init]
    unknown = [key for key in config if key not in known]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), known, n=1)
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
    try:
        checks = check_benchmarks(data_args.eval_benchmarks, data_root=data_args.benchmark_data_root)
    except UnknownBenchmarkError as error:
        raise SystemExit(f"--eval_benchmarks: {error}. Nothing has been trained yet.") from None
    broken = [f"- {name}: {message}" for name, (status, message) in checks.items() if status == "error"]
    if broken:
        raise SystemExit("--eval_benchmarks: files of these benchmarks cannot be used; nothing has been trained "
                         "yet.\n" + "\n".join(broken) + "\nFix or download them again (layout: docs/BENCHMARKS.md), "
                         "or leave those benchmarks out.")
    for name, (status, message) in checks.items():
        if status == "absent":
            logger.warning("[%s] will be skipped after training: %s", name, message)


def synthetic_trainer(model_args: ModelArguments, data_args: DataArguments, args: FineGrainedTrainingArguments):
    """The embedded default's trainer (module docstring), and the function that scores it afterwards."""
    from hf_finegrained.synthetic.evaluation import relation_probe, score_world
    from hf_finegrained.synthetic.recipe import (
        comparison_table, default_world, finetune_overrides, finetune_stream, prepare_base_model, prepare_plain_finetune,
    )

    n = data_args.synthetic_test
    world = default_world(seed=data_args.synthetic_seed, num_seen=n, num_validation=0, num_test=n // 2,
                          num_zeroshot=n, num_retrieval=n // 2, negative_types=tuple(args.negative_types),
                          distractors=data_args.synthetic_distractors)
    overrides = finetune_overrides(args)
    single = args.world_size == 1
    with args.main_process_first(desc="synthetic world, base and plain fine-tune"):
        splits = world.build()
        base = prepare_base_model(world, BaseModelSettings(max_steps=model_args.base_max_steps,
                                                           family=model_args.model_family),
                                  cache_dir=model_args.base_cache_dir, allow_training=single)
        plain = prepare_plain_finetune(world, base, args.seed, overrides, cache_dir=model_args.base_cache_dir,
                                       allow_training=single)

    rows = args.max_steps * args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    columns = ["image", "caption"] + (["hard_negatives"] if args.use_hard_negatives else [])
    stream = finetune_stream(world, args.seed, rows, "spacy" if args.use_hard_negatives else None).select_columns(columns)
    model, processor = load_model(base, model_args)
    trainer = FineGrainedTrainer(model=model, args=args, train_dataset=stream, processing_class=processor)
    trainer.card_info.dataset_name = f"synthetic world, new images drawn on demand, seed {args.seed}"
    trainer.card_info.base_model = "pre-trained synthetic-world base (built by examples/train.py)"

    def score() -> None:
        scores = {name: score_world(model, splits, processor=processor) for name, model in
                  (("base", base), ("plain_finetune", plain), ("ce_clip", trainer.model))}
        document = {"world": {"seed": world.seed, "image_size": world.image_size, "split_sizes": world.split_sizes(),
                              **({"distractors": world.distractors} if world.distractors else {})},
                    "finetune": {"rows": rows, "seed": args.seed, **overrides}, **scores,
                    "masked_negatives": dict(world.masked_negatives),
                    "loss": {"threshold_units": args.threshold_units,
                             "threshold_upper_bound": args.threshold_upper_bound},
                    "base_cache_key": read_cache_key(base), "torch_threads": torch.get_num_threads()}
        if data_args.synthetic_probe_rows:
            fit = world.train_stream(data_args.synthetic_probe_rows, name="probe", negatives=None)
            document["base_relation_probe"] = relation_probe(base, fit, splits["test_seen"])
        print("\n" + comparison_table(scores))
        print(readme_agreement(document))
        alphas = [float(a) for a in data_args.tradeoff_alphas.split(",") if a.strip()]
        if alphas and not model_args.use_lora:
            document["tradeoff"] = tradeoff_scores(base, {"plain_finetune": plain, "ce_clip": trainer.model}, alphas,
                                                   splits, processor)
            points = tradeoff_points(scores, document["tradeoff"])
            trainer.card_info.tradeoff_table = tradeoff_table(points, "synthetic world, seed "
                                                              f"{args.seed}, test splits")
            trainer.card_info.tradeoff_plot = os.path.basename(
                plot_tradeoff(points, os.path.join(args.output_dir, TRADEOFF_PLOT)))
            print("\n" + trainer.card_info.tradeoff_table)
        elif alphas:
            logger.info("No trade-off curve with --use_lora: interpolate the merged weights with "
                        "hf-finegrained-interpolate instead.")
        if "base_relation_probe" in document:
            probe = document["base_relation_probe"]
            print(f"\nBase relation probe (where is each object, from frozen image embeddings) on test_seen: "
                  f"{100 * probe['accuracy']:.1f}% (chance {100 * probe['chance']:.1f}%)")
        with open(os.path.join(args.output_dir, "results.json"), "w") as handle:
            json.dump(document, handle, indent=2)
        trainer.card_info.results = {f"synthetic_{group}": values for group, values in scores["ce_clip"].items()}
        trainer.card_info.baselines = {
            label: {f"synthetic_{group}": values for group, values in scores[key].items()}
            for key, label in (("base", "base"), ("plain_finetune", "plain fine-tune"))
        }

    return trainer, processor, score


TRADEOFF_PLOT = "tradeoff.png"
# The committed results of the default run, whose table the README shows (in a clone of the repository).
DEFAULT_RUN_RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model_cards",
                                   "synthetic-ce-clip", "results.json")


def read_cache_key(folder: str) -> dict[str, Any]:
    """The key a cached synthetic model was stored under (settings, data fingerprints, library versions)."""
    with open(os.path.join(folder, "cache_key.json"), encoding="utf-8") as handle:
        return json.load(handle)


def readme_agreement(document: dict[str, Any]) -> str:
    """A line saying whether this run is the one whose table the README shows, and if so whether it printed the
    same table; when it did not, what differs (data fingerprints or library versions) and what to do."""
    from hf_finegrained.synthetic.recipe import comparison_table

    if not os.path.isfile(DEFAULT_RUN_RESULTS):
        return ""
    with open(DEFAULT_RUN_RESULTS, encoding="utf-8") as handle:
        committed = json.load(handle)
    same_run = all(committed.get(key) == document.get(key) for key in ("world", "finetune", "loss"))
    if not same_run:
        return "(Other settings than the README's default run: its table is not expected here.)"
    keys = ("base", "plain_finetune", "ce_clip")
    if comparison_table({k: document[k] for k in keys}) == comparison_table({k: committed[k] for k in keys}):
        return "This table is the README's (model_cards/synthetic-ce-clip/results.json): reproduced."
    then, now = committed.get("base_cache_key", {}), document["base_cache_key"]
    reasons = [f"{part} differs" for part in ("world", "base", "data") if then.get(part) != now.get(part)]
    versions = {name: (then.get("versions", {}).get(name), version)
                for name, version in now.get("versions", {}).items() if then.get("versions", {}).get(name) != version}
    reasons += [f"{name} {old} -> {new}" for name, (old, new) in versions.items()]
    if committed.get("torch_threads") != document["torch_threads"]:
        reasons.append(f"torch threads {committed.get('torch_threads')} -> {document['torch_threads']} (a base "
                       "trained on another thread count differs; a cached base keeps the count it was trained with)")
    return ("WARNING: this table differs from the README's (model_cards/synthetic-ce-clip/results.json); "
            + ("; ".join(reasons) or "same base key: the fine-tuning code or the machine's arithmetic changed")
            + ". Install with `-c constraints.txt` (README, command 1) for the README's versions.")


def tradeoff_scores(base: str, finetuned: dict[str, Any], alphas: list[float], splits, processor) -> dict[str, Any]:
    """{model key: {alpha: scores}}: each fine-tune interpolated with the base at each alpha, scored."""
    from hf_finegrained import interpolate_weights
    from hf_finegrained.synthetic.evaluation import score_world

    base_model = AutoModel.from_pretrained(base)
    out = {}
    for key, model in finetuned.items():
        model = AutoModel.from_pretrained(model) if isinstance(model, str) else model
        out[key] = {f"{alpha:g}": score_world(interpolate_weights(base_model, model, alpha), splits,
                                              processor=processor) for alpha in alphas}
    return out


def tradeoff_points(scores: dict[str, Any], interpolated: dict[str, Any]) -> list[dict[str, Any]]:
    """The default run's trade-off points: the base, then each fine-tune's interpolations and itself."""
    from hf_finegrained.synthetic.tradeoff import tradeoff_point

    labels = {"plain_finetune": "plain fine-tune", "ce_clip": "CE-CLIP"}
    points = [tradeoff_point("base", "base", 0.0, [scores["base"]])]
    for key, label in labels.items():
        for alpha, values in interpolated.get(key, {}).items():
            points.append(tradeoff_point(f"{label} alpha {alpha}", label, float(alpha), [values]))
        points.append(tradeoff_point(label, label, 1.0, [scores[key]]))
    return points


def real_trainer(model_args: ModelArguments, data_args: DataArguments, args: FineGrainedTrainingArguments):
    """The trainer on a model folder or Hub id and a dataset folder or COCO files, and its benchmark scoring."""
    if data_args.dataset_path:
        if data_args.streaming and args.max_steps <= 0:
            raise SystemExit("--streaming: a stream's length is unknown, so give the number of training steps with "
                             "--max_steps N (--num_train_epochs is not used for streams).")
        loaded = load_user_dataset(data_args.dataset_path, data_args.streaming)
        if "train" not in loaded:
            raise SystemExit(f"--dataset_path {data_args.dataset_path}: no 'train' split (splits: {list(loaded)}).")
        train_data, eval_data = loaded["train"], loaded.get("validation")
        data_name = os.path.basename(os.path.normpath(data_args.dataset_path))
    elif data_args.coco_annotations and data_args.coco_images:
        from hf_finegrained.builders import CocoCaptionsBuilder

        if data_args.streaming:
            raise SystemExit("--streaming reads --dataset_path as a stream; the COCO builder makes an in-memory "
                             "dataset. Export it (hf_finegrained.builders) and stream the files instead.")
        with args.main_process_first(desc="COCO hard negatives"):
            train_data = CocoCaptionsBuilder(data_args.coco_annotations, data_args.coco_images).build(
                negative_types=args.negative_types, seed=args.seed)
        eval_data, data_name = None, "COCO captions"
    else:
        raise SystemExit("With --model_name_or_path, give --dataset_path or --coco_annotations + --coco_images.")
    model, processor = load_model(model_args.model_name_or_path, model_args)
    trainer = FineGrainedTrainer(model=model, args=args, train_dataset=train_data, eval_dataset=eval_data,
                                 processing_class=processor)
    trainer.card_info.dataset_name = data_name

    def score() -> None:
        """Each benchmark fails alone inside run_benchmarks; anything else is reported, since the model is saved."""
        if data_args.eval_benchmarks:
            from hf_finegrained.evaluation import run_benchmarks

            try:
                report = run_benchmarks(trainer.model, data_args.eval_benchmarks,
                                        data_root=data_args.benchmark_data_root, output_dir=args.output_dir,
                                        processor=processor)
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
    try:
        model, processor, _ = families.load_model(name_or_path)
    except families.UnsupportedModelError as error:
        raise SystemExit(f"--model_name_or_path {name_or_path}: {error}") from None
    if model_args.use_lora:
        model = add_lora(model, model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout,
                         model_args.lora_target_modules)
    return model, processor


def main(argv: list[str] | None = None) -> None:
    train_and_publish(argv)
    # Once the trainer is freed, every rank ends the process group: left to the interpreter's exit, a rank can abort
    # there ("terminate called without an active exception", docs/FAILURES.md). No barrier first: saving was the last
    # collective, and the other ranks would wait, maybe past the group's timeout, while rank 0 scores.
    end_process_group(barrier=False)


def train_and_publish(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    model_args, data_args, args = parse(argv)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING, format="%(message)s")
    push = args.push_to_hub
    if push:
        if not args.hub_model_id:
            raise SystemExit("--push_to_hub needs --hub_model_id <user>/<name>.")
        token = require_token(args.hub_token)  # fails here, before any training, when not logged in
        args.push_to_hub = False  # the finished folder is pushed once, below, with an explicit file list
    if data_args.eval_benchmarks:
        if model_args.model_name_or_path is None:
            raise SystemExit("--eval_benchmarks scores a model given with --model_name_or_path; the embedded default "
                             "scores the synthetic world instead. Drop --eval_benchmarks or give a model.")
        check_benchmarks_before_training(data_args)
    set_seed(args.seed)

    build = synthetic_trainer if model_args.model_name_or_path is None else real_trainer
    trainer, processor, score = build(model_args, data_args, args)
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
