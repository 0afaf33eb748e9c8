"""Fine-tune a CLIPModel with the CE-CLIP loss.

    accelerate launch examples/train.py [flags | config.yaml]
    python examples/train.py                      # the embedded default: CPU, a few minutes, no downloads

With no `--model_name_or_path`, a small CLIPModel is built from a config with a tokenizer trained on
the generated captions, and trained on generated coloured-shape images with hand-made hard negatives.
Before and after training it prints, per negative type, how often the true caption outscores the
negative on the held-out rows.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field

import datasets
import torch
from transformers import CLIPModel, CLIPProcessor, HfArgumentParser, set_seed

from hf_finegrained import FineGrainedCollator, FineGrainedTrainer, FineGrainedTrainingArguments
from hf_finegrained.hub import push_folder, require_token
from hf_finegrained.lora import DEFAULT_LORA_TARGETS, add_lora, merge_lora
from hf_finegrained.demo_data import NEGATIVE_TYPES, all_captions, make_dataset
from hf_finegrained.tiny_clip import build_clip_model, build_processor, train_clip_tokenizer
from hf_finegrained.trainer import encode_batch

logger = logging.getLogger("train")


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "A CLIP Hub id or local folder. Default: a small CLIPModel built from a config."},
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


@dataclass
class DataArguments:
    dataset_path: str | None = field(
        default=None,
        metadata={"help": "A folder `datasets.load_dataset` reads (parquet with image/caption/hard_negatives). "
                  "Default: generated coloured shapes."},
    )
    train_rows: int = field(default=512, metadata={"help": "Rows of generated training data (default data only)."})
    eval_rows: int = field(default=128, metadata={"help": "Rows of generated held-out data (default data only)."})


DEMO_DEFAULTS = dict(
    output_dir="outputs/demo",
    per_device_train_batch_size=32,
    per_device_eval_batch_size=64,
    num_train_epochs=6,
    learning_rate=5e-4,
    warmup_steps=10,
    logging_steps=10,
    save_strategy="no",
    eval_strategy="no",
    report_to="none",
    negative_types=NEGATIVE_TYPES,
)


@torch.no_grad()
def choice_accuracy(model, collator, dataset, types: list[str]) -> dict[str, float]:
    """Share of rows where s(image, caption) > s(image, negative of type k), strictly, per type."""
    model.eval()
    wins = torch.zeros(len(types))
    counts = torch.zeros(len(types))
    for start in range(0, len(dataset), 64):
        batch = collator([dataset[i] for i in range(start, min(start + 64, len(dataset)))])
        batch = {key: value.to(model.device) for key, value in batch.items()}
        encoded = encode_batch(model, batch)
        image = torch.nn.functional.normalize(encoded["image_embeds"], dim=-1)
        pos = (image * torch.nn.functional.normalize(encoded["text_embeds"], dim=-1)).sum(-1)
        neg = torch.einsum("bd,bkd->bk", image, torch.nn.functional.normalize(encoded["negative_embeds"], dim=-1))
        mask = encoded["negative_mask"]
        wins += ((pos[:, None] > neg) & mask).sum(0).cpu()
        counts += mask.sum(0).cpu()
    return {name: (w / c).item() if c else float("nan") for name, w, c in zip(types, wins, counts)}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = HfArgumentParser((ModelArguments, DataArguments, FineGrainedTrainingArguments))
    parser.set_defaults(**DEMO_DEFAULTS)
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml")):
        model_args, data_args, args = parser.parse_yaml_file(os.path.abspath(argv[0]))
    else:
        model_args, data_args, args = parser.parse_args_into_dataclasses(args=argv)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING, format="%(message)s")
    push = args.push_to_hub
    if push:
        if not args.hub_model_id:
            raise SystemExit("--push_to_hub needs --hub_model_id <user>/<name>.")
        token = require_token(args.hub_token)  # fails here, before any training, when not logged in
        args.push_to_hub = False  # the finished folder is pushed once, below, with an explicit file list
    set_seed(args.seed)

    if model_args.model_name_or_path:
        model = CLIPModel.from_pretrained(model_args.model_name_or_path)
        processor = CLIPProcessor.from_pretrained(model_args.model_name_or_path)
    else:
        tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
        model = build_clip_model(tokenizer, image_size=32, patch_size=8, hidden_size=64, num_layers=2,
                                 num_heads=4, projection_dim=32, seed=args.seed)
        processor = build_processor(tokenizer, image_size=32)

    if model_args.use_lora:
        model = add_lora(model, model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout,
                         model_args.lora_target_modules)

    if data_args.dataset_path:
        loaded = datasets.load_dataset(data_args.dataset_path)
        train_data, eval_data = loaded["train"], loaded.get("validation", loaded.get("test"))
    else:
        train_data = make_dataset(data_args.train_rows, seed=args.seed)
        eval_data = make_dataset(data_args.eval_rows, seed=args.seed + 1, invalid_rate=0.0)

    trainer = FineGrainedTrainer(model=model, args=args, train_dataset=train_data, eval_dataset=eval_data,
                                 processing_class=processor)
    scorer = FineGrainedCollator(processor, args.negative_types)
    before = choice_accuracy(trainer.model, scorer, eval_data, args.negative_types) if eval_data else {}
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    trainer.save_model()
    if trainer.is_world_process_zero():
        processor.save_pretrained(args.output_dir)
    if eval_data is not None:
        metrics = trainer.evaluate()
        after = choice_accuracy(trainer.model, scorer, eval_data, args.negative_types)
        if trainer.is_world_process_zero():
            print(f"\neval loss after training: {metrics['eval_loss']:.4f}")
            print("| negative type | caption beats negative, before | after |\n|---|---|---|")
            for name in args.negative_types:
                print(f"| {name} | {before[name]:.3f} | {after[name]:.3f} |")
    publish_dir = args.output_dir
    if model_args.use_lora and model_args.merge_lora and trainer.is_world_process_zero():
        publish_dir = os.path.join(args.output_dir, "merged")
        merge_lora(trainer.model).save_pretrained(publish_dir)
        processor.save_pretrained(publish_dir)
        trainer.create_model_card(output_dir=publish_dir)
    print(f"model saved to {publish_dir}")
    if push and trainer.is_world_process_zero():
        files = push_folder(publish_dir, args.hub_model_id, token=token, private=args.hub_private_repo)
        print(f"pushed {len(files)} files to https://huggingface.co/{args.hub_model_id}")


if __name__ == "__main__":
    main()
