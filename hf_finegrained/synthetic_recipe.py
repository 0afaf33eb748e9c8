"""The embedded default run on the synthetic world: a cached plain-contrastive base and its benchmark.

Everything here runs on a CPU in minutes with nothing downloaded: the world is drawn procedurally, the
tokenizer is trained on the world's captions, and the base `CLIPModel` is built from a config and
trained with the plain CLIP loss (`use_hard_negatives=False`). The base is cached on disk, keyed by
its settings, so later runs (and the ablation) start from the very same weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import datasets

from .builders.synthetic_world import CATEGORY_NAMES, SyntheticWorld
from .tiny_clip import build_clip_model, build_processor, train_clip_tokenizer

logger = logging.getLogger(__name__)
RECIPE_VERSION = 2  # 2: deterministic tokenizer, held-out combinations masked in training negatives


def default_cache_dir() -> str:
    """`$HF_FINEGRAINED_CACHE`, else `~/.cache/hf_finegrained`."""
    return os.environ.get("HF_FINEGRAINED_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "hf_finegrained"))


# Fine-tuning settings of the embedded default, sized for the small base (examples/train.py and
# examples/ablation.py): any `FineGrainedTrainingArguments` field not given keeps its usual default.
FINETUNE_DEFAULTS: dict[str, Any] = dict(
    learning_rate=2e-4,
    lr_scheduler_type="cosine",
    warmup_steps=20,
    adam_beta1=0.9,
    adam_beta2=0.98,
    adam_epsilon=1e-6,
    weight_decay=0.1,
    max_steps=300,
    per_device_train_batch_size=64,
)


@dataclass(frozen=True)
class BaseModelSettings:
    """Size and plain-contrastive pre-training of the small base `CLIPModel`."""

    hidden_size: int = 128
    num_layers: int = 3
    num_heads: int = 4
    projection_dim: int = 64
    patch_size: int = 8
    vocab_size: int = 600
    max_steps: int = 600
    batch_size: int = 64
    learning_rate: float = 1e-3
    seed: int = 0


def world_settings(world: SyntheticWorld) -> dict[str, Any]:
    return {"num_train": world.num_train, "num_test": world.num_test, "image_size": world.image_size,
            "seed": world.seed, "negative_types": list(world.negative_types),
            "exclude_held_out_negatives": world.exclude_held_out_negatives}


def synthetic_choice_rows(test: datasets.Dataset) -> list[dict[str, Any]]:
    """Rows for `evaluate_choice`: image, caption and one ground-truth negative per benchmark category."""
    rows = []
    for row in test:
        negatives = {CATEGORY_NAMES.get(name, name): text for name, text in row["hard_negatives"].items()}
        rows.append({"image": row["image"], "caption": row["caption"], "negatives": negatives})
    return rows


def evaluate_synthetic(model: Any, processor: Any, test: datasets.Dataset, name: str = "synthetic"):
    """Per-category (swap_att, swap_obj, replace_att, replace_obj, replace_rel) accuracy, strict `>`."""
    from .evaluation import evaluate_choice

    return evaluate_choice(model, synthetic_choice_rows(test), name=name, processor=processor, progress=False)


def prepare_base_model(
    world: SyntheticWorld,
    train: datasets.Dataset,
    settings: BaseModelSettings = BaseModelSettings(),
    cache_dir: str | None = None,
    log: Callable[[str], None] = print,
) -> str:
    """The folder of the plain-contrastive base for `world`, trained on `train` unless already cached."""
    from .trainer import FineGrainedTrainer
    from .training_args import FineGrainedTrainingArguments

    key = json.dumps({"recipe": RECIPE_VERSION, "world": world_settings(world), "base": asdict(settings)},
                     sort_keys=True)
    folder = os.path.join(cache_dir or default_cache_dir(), "synthetic-base-" + hashlib.sha1(key.encode()).hexdigest()[:12])
    if os.path.isfile(os.path.join(folder, "model.safetensors")):
        log(f"Reusing the cached plain-contrastive base model: {folder}")
        return folder

    log(f"Training the plain-contrastive base model ({settings.max_steps} steps); cached in {folder}")
    texts = list(train["caption"]) + [t for negs in train["hard_negatives"] for t in negs.values() if t]
    tokenizer = train_clip_tokenizer(texts, vocab_size=settings.vocab_size)
    model = build_clip_model(tokenizer, image_size=world.image_size, patch_size=settings.patch_size,
                             hidden_size=settings.hidden_size, num_layers=settings.num_layers,
                             num_heads=settings.num_heads, projection_dim=settings.projection_dim,
                             seed=settings.seed)
    processor = build_processor(tokenizer, image_size=world.image_size)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(folder)) as scratch:
        args = FineGrainedTrainingArguments(
            output_dir=os.path.join(scratch, "run"), use_hard_negatives=False, max_steps=settings.max_steps,
            per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate,
            lr_scheduler_type="cosine", warmup_steps=min(50, settings.max_steps // 10), weight_decay=0.1,
            save_strategy="no", report_to="none", logging_steps=max(1, settings.max_steps // 10),
            seed=settings.seed, disable_tqdm=True, dataloader_num_workers=0,
        )
        trainer = FineGrainedTrainer(model=model, args=args, train_dataset=train.select_columns(["image", "caption"]),
                                     processing_class=processor)
        trainer.train()
        staged = os.path.join(scratch, "base")
        model.save_pretrained(staged)
        processor.save_pretrained(staged)
        with open(os.path.join(staged, "base_settings.json"), "w") as handle:
            handle.write(key)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staged, folder)  # atomic: a crash never leaves a half-written cache entry
    return folder
