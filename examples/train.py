"""Fine-tune a CLIPModel with the CE-CLIP loss (ITC with hard negatives + IMC + CMR).

    python examples/train.py                         # embedded default: CPU, minutes, nothing downloaded
    accelerate launch examples/train.py [flags | config.yaml]
    accelerate launch examples/train.py --model_name_or_path openai/clip-vit-base-patch32 \\
        --coco_annotations captions_train2014.json --coco_images train2014/ \\
        --eval_benchmarks sugarcrepe,valse --benchmark_data_root data/ --output_dir ce-clip

Embedded default (no --model_name_or_path): the synthetic compositional world (procedural images of
shapes in spatial relations, spaCy hard negatives on its training captions), a small CLIPModel built
from a config with a tokenizer trained on the world's captions, first trained with the plain CLIP loss
(cached, so later runs reuse it), then fine-tuned with CE-CLIP. The synthetic benchmark (held-out
attribute/relation combinations) is scored before and after, and the table printed.

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
from hf_finegrained.synthetic_recipe import FINETUNE_DEFAULTS

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
    base_max_steps: int = field(default=600, metadata={"help": "Plain-contrastive steps of the embedded base."})


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
    synthetic_train: int = field(default=2000, metadata={"help": "Training images of the synthetic world."})
    synthetic_test: int = field(default=500, metadata={"help": "Test images of the synthetic world."})
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


def print_table(before: dict[str, float], after: dict[str, float]) -> None:
    print("\n| synthetic benchmark (held-out test split) | before | after |\n|---|---|---|")
    for name in after:
        print(f"| {name} | {100 * before.get(name, float('nan')):.1f} | {100 * after[name]:.1f} |")


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

    synthetic = model_args.model_name_or_path is None
    test_split = None
    if synthetic:
        from hf_finegrained.builders import SyntheticWorld
        from hf_finegrained.synthetic_recipe import BaseModelSettings, evaluate_synthetic, prepare_base_model

        world = SyntheticWorld(num_train=data_args.synthetic_train, num_test=data_args.synthetic_test,
                               seed=data_args.synthetic_seed, negative_types=args.negative_types)
        with args.main_process_first(desc="synthetic world and base model"):
            splits = world.build()
            if args.world_size > 1 and args.process_index == 0:
                logger.info("Several processes: build the base once with one process if it is not cached yet.")
            base = prepare_base_model(world, splits["train"], BaseModelSettings(max_steps=model_args.base_max_steps),
                                      cache_dir=model_args.base_cache_dir)
        model_path, train_data, eval_data, test_split = base, splits["train"], None, splits["test"]
        data_name = f"synthetic world ({data_args.synthetic_train} train / {data_args.synthetic_test} test images)"
    else:
        model_path = model_args.model_name_or_path
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

    model = CLIPModel.from_pretrained(model_path)
    processor = CLIPProcessor.from_pretrained(model_path)
    before = evaluate_synthetic(model, processor, test_split).metrics if synthetic else {}
    if model_args.use_lora:
        model = add_lora(model, model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout,
                         model_args.lora_target_modules)

    trainer = FineGrainedTrainer(model=model, args=args, train_dataset=train_data, eval_dataset=eval_data,
                                 processing_class=processor)
    trainer.card_info.dataset_name = data_name
    if synthetic:
        trainer.card_info.base_model = "plain-contrastive synthetic-world base (built by examples/train.py)"
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)

    if trainer.is_world_process_zero():
        if synthetic:
            after = evaluate_synthetic(trainer.model, processor, test_split).metrics
            print_table(before, after)
            trainer.card_info.results = {"synthetic": after}
            with open(os.path.join(args.output_dir, "results.json"), "w") as handle:
                json.dump({"before": {"synthetic": before}, "after": {"synthetic": after}}, handle, indent=2)
        elif data_args.eval_benchmarks:
            from hf_finegrained.evaluation import run_benchmarks

            report = run_benchmarks(trainer.model, data_args.eval_benchmarks, data_root=data_args.benchmark_data_root,
                                    output_dir=args.output_dir, processor=processor)
            trainer.card_info.results = results_from_report(report)
    trainer.save_model()  # weights (or adapter), thresholds, card and plots
    publish_dir = args.output_dir
    if trainer.is_world_process_zero():
        processor.save_pretrained(args.output_dir)
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
