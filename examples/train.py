"""Fine-tune a CLIPModel with the CE-CLIP loss (ITC with hard negatives + IMC + CMR).

    python examples/train.py                         # embedded default: CPU, minutes, nothing downloaded
    accelerate launch examples/train.py [flags | config.yaml]
    accelerate launch examples/train.py --model_name_or_path openai/clip-vit-base-patch32 \\
        --coco_annotations captions_train2014.json --coco_images train2014/ \\
        --eval_benchmarks sugarcrepe,valse --benchmark_data_root data/ --output_dir ce-clip

Embedded default (no --model_name_or_path): the synthetic compositional world (procedural images of two
shapes in a spatial relation), mirroring the paper's setting at CPU size. A small CLIPModel built from a
config is pre-trained with the plain CLIP loss on the world's own "web-like" stream (cached, so later runs
reuse it); it is then fine-tuned on an unbounded stream of new relation-captioned images with spaCy hard
negatives made on the fly (CE-CLIP), and, for comparison, on the very same stream, steps and seed without
hard negatives (the plain fine-tune, cached too). The three models are scored on new images of seen
combinations (the headline), on held-out combinations, on zero-shot classification and on retrieval, and
the table is printed, written to results.json and put in the model card.

Flag defaults are the paper's fine-tuning hyperparameters (lr 5e-6 cosine, 50 warm-up steps, AdamW
betas (0.9, 0.98), eps 1e-6, weight decay 0.1, 5 epochs, IMC 0.3, CMR 0.2, threshold bound 10). The
embedded default swaps in settings sized for its small model (FINETUNE_DEFAULTS of
hf_finegrained.synthetic_recipe) for any flag not given on the command line.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field

import datasets
from transformers import CLIPModel, CLIPProcessor, HfArgumentParser, set_seed

from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments
from hf_finegrained.hub import push_folder, require_token
from hf_finegrained.lora import DEFAULT_LORA_TARGETS, add_lora, merge_lora
from hf_finegrained.model_card import results_from_report
from hf_finegrained.synthetic_recipe import FINETUNE_DEFAULTS, PROBE_FIT_ROWS, BaseModelSettings

logger = logging.getLogger("train")

PAPER_DEFAULTS = dict(
    output_dir="outputs/ce-clip",
    learning_rate=5e-6,
    lr_scheduler_type="cosine",
    warmup_steps=50,
    adam_beta1=0.9,
    adam_beta2=0.98,
    adam_epsilon=1e-6,
    weight_decay=0.1,
    num_train_epochs=5,
    per_device_train_batch_size=256,
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
        metadata={"help": "After training, also write plain CLIPModel weights with the adapter merged, to "
                  "<output_dir>/merged (what gets pushed)."},
    )
    base_cache_dir: str | None = field(
        default=None,
        metadata={"help": "Where the embedded default caches its plain-contrastive base "
                  "(default $HF_FINEGRAINED_CACHE or ~/.cache/hf_finegrained)."},
    )
    base_max_steps: int = field(
        default=BaseModelSettings.max_steps, metadata={"help": "Pre-training steps of the embedded default's base."}
    )


@dataclass
class DataArguments:
    dataset_path: str | None = field(
        default=None,
        metadata={"help": "A folder `datasets.load_dataset` reads (e.g. exported by hf_finegrained.builders) with "
                  "image, caption and hard_negatives columns."},
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
    eval_benchmarks: list[str] = field(
        default_factory=list,
        metadata={"help": "Benchmarks scored after training (names of hf_finegrained.evaluation.BENCHMARKS)."},
    )
    benchmark_data_root: str | None = field(
        default=None, metadata={"help": "Root of the benchmark files (layout: docs/BENCHMARKS.md)."}
    )


def parse(argv: list[str]) -> tuple[ModelArguments, DataArguments, FineGrainedTrainingArguments]:
    parser = HfArgumentParser((ModelArguments, DataArguments, FineGrainedTrainingArguments))
    parser.set_defaults(**PAPER_DEFAULTS)
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml")):
        return parser.parse_yaml_file(os.path.abspath(argv[0]))
    model_args, data_args, _ = parser.parse_args_into_dataclasses(args=argv)
    if model_args.model_name_or_path is None:  # the embedded default: small-model settings for unset flags
        given = {arg.split("=")[0].lstrip("-") for arg in argv if arg.startswith("--")}
        parser.set_defaults(**{k: v for k, v in SYNTHETIC_DEFAULTS.items() if k not in given})
    return parser.parse_args_into_dataclasses(args=argv)


def synthetic_trainer(model_args: ModelArguments, data_args: DataArguments, args: FineGrainedTrainingArguments):
    """The embedded default's trainer (module docstring), and the function that scores it afterwards."""
    from hf_finegrained.synthetic_eval import relation_probe, score_world
    from hf_finegrained.synthetic_recipe import (
        comparison_table, default_world, finetune_overrides, finetune_stream, prepare_base_model, prepare_plain_finetune,
    )

    n = data_args.synthetic_test
    world = default_world(seed=data_args.synthetic_seed, num_seen=n, num_validation=0, num_test=n // 2,
                          num_zeroshot=n, num_retrieval=n // 2, negative_types=tuple(args.negative_types))
    overrides = finetune_overrides(args)
    single = args.world_size == 1
    with args.main_process_first(desc="synthetic world, base and plain fine-tune"):
        splits = world.build()
        base = prepare_base_model(world, BaseModelSettings(max_steps=model_args.base_max_steps),
                                  cache_dir=model_args.base_cache_dir, allow_training=single)
        plain = prepare_plain_finetune(world, base, args.seed, overrides, cache_dir=model_args.base_cache_dir,
                                       allow_training=single)

    rows = args.max_steps * args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    columns = ["image", "caption"] + (["hard_negatives"] if args.use_hard_negatives else [])
    stream = finetune_stream(world, args.seed, rows, "spacy" if args.use_hard_negatives else None).select_columns(columns)
    model, processor = load_model(base, model_args)
    trainer = FineGrainedTrainer(model=model, args=args, train_dataset=stream, processing_class=processor)
    trainer.card_info.dataset_name = f"synthetic world, a stream of {rows} new images (seed {args.seed})"
    trainer.card_info.base_model = "pre-trained synthetic-world base (built by examples/train.py)"

    def score() -> None:
        scores = {name: score_world(model, splits, processor=processor) for name, model in
                  (("base", base), ("plain_finetune", plain), ("ce_clip", trainer.model))}
        document = {"world": {"seed": world.seed, "image_size": world.image_size, "split_sizes": world.split_sizes()},
                    "finetune": {"rows": rows, "seed": args.seed, **overrides}, **scores,
                    "masked_negatives": dict(world.masked_negatives)}
        if data_args.synthetic_probe_rows:
            fit = world.train_stream(data_args.synthetic_probe_rows, name="probe", negatives=None)
            document["base_relation_probe"] = relation_probe(base, fit, splits["test_seen"])
        print("\n" + comparison_table(scores))
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


def real_trainer(model_args: ModelArguments, data_args: DataArguments, args: FineGrainedTrainingArguments):
    """The trainer on a model folder or Hub id and a dataset folder or COCO files, and its benchmark scoring."""
    if data_args.dataset_path:
        loaded = datasets.load_dataset(data_args.dataset_path)
        train_data, eval_data = loaded["train"], loaded.get("validation")
        data_name = os.path.basename(os.path.normpath(data_args.dataset_path))
    elif data_args.coco_annotations and data_args.coco_images:
        from hf_finegrained.builders import CocoCaptionsBuilder

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
        if data_args.eval_benchmarks:
            from hf_finegrained.evaluation import run_benchmarks

            report = run_benchmarks(trainer.model, data_args.eval_benchmarks, data_root=data_args.benchmark_data_root,
                                    output_dir=args.output_dir, processor=processor)
            trainer.card_info.results = results_from_report(report)

    return trainer, processor, score


def load_model(name_or_path: str, model_args: ModelArguments):
    """`CLIPModel` (with LoRA adapters when asked) and `CLIPProcessor` from a folder or Hub id."""
    model = CLIPModel.from_pretrained(name_or_path)
    if model_args.use_lora:
        model = add_lora(model, model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout,
                         model_args.lora_target_modules)
    return model, CLIPProcessor.from_pretrained(name_or_path)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    model_args, data_args, args = parse(argv)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING, format="%(message)s")
    push = args.push_to_hub
    if push:
        if not args.hub_model_id:
            raise SystemExit("--push_to_hub needs --hub_model_id <user>/<name>.")
        token = require_token(args.hub_token)  # fails here, before any training, when not logged in
        args.push_to_hub = False  # the finished folder is pushed once, below, with an explicit file list
    set_seed(args.seed)

    build = synthetic_trainer if model_args.model_name_or_path is None else real_trainer
    trainer, processor, score = build(model_args, data_args, args)
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    trainer.save_model()  # weights (or adapter), thresholds, card and plots, before anything is scored
    if not trainer.is_world_process_zero():
        return
    processor.save_pretrained(args.output_dir)
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
