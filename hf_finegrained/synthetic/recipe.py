"""The embedded default run on the synthetic world: a cached pre-trained base, its fine-tuning stream, and a
cached plain fine-tune to compare CE-CLIP against.

It mirrors the paper's setting at CPU size. The base `CLIPModel` (built from a config, tokenizer trained on
the world's words) is pre-trained with the plain CLIP loss on its own "web-like" stream, much longer than
any fine-tune: layout captions of two objects and single shapes ("a red square on the left and a blue bar
on the right", "a pink pillar at the top"), the two-object ones in twin pairs that differ only in where the
objects are. That data makes the image encoder see which object is where, without ever showing a relation
caption ("a red square left of a blue bar"); its scenes are uncluttered and it starts at the temperature scale
a web-trained CLIP ends at (100). Fine-tuning then runs on an unbounded "COCO-like" stream of
relation captions, new images every step, with or without hard negatives. Base and plain fine-tune are
cached on disk, keyed by their settings, so later runs (and the ablation) start from the very same weights.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import datasets

from .world import ZEROSHOT_CLASSES, CaptionMix, NegativeNoise, SyntheticWorld
from .evaluation import CATEGORIES
from .tiny_clip import build_clip_model, build_processor, build_siglip_model, build_siglip_processor, train_clip_tokenizer
from ..training_args import PAPER_HYPERPARAMETERS

RECIPE_VERSION = 3  # 3: pre-training stream, 12 colours x 4 shapes, 48 px images, sine-cosine positions
FINGERPRINT_ROWS = 64  # rows of a stream whose images and captions key a cached model (`data_fingerprint`)
# Libraries whose version changes the numbers of a trained base (a cached base records them).
KEYED_LIBRARIES = ("torch", "transformers", "tokenizers", "spacy", "datasets", "numpy", "PIL")


def default_cache_dir() -> str:
    """Where the synthetic base and plain fine-tunes are cached: `$HF_FINEGRAINED_CACHE`; else `hf_finegrained` in
    `$HF_HOME` (where the Hugging Face libraries keep theirs, as `datasets` does); else in `$XDG_CACHE_HOME`; else
    `~/.cache/hf_finegrained`. Read when called, so a variable set after import counts."""
    if os.environ.get("HF_FINEGRAINED_CACHE"):
        return os.path.expanduser(os.environ["HF_FINEGRAINED_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hf_finegrained")
    return os.path.join(os.path.expanduser(os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")),
                        "hf_finegrained")


# Fine-tuning settings of the embedded default (hf-finegrained-train and the ablation): the paper's
# optimiser and schedule, with a learning rate, warm-up and batch sized for the small base and a step count
# in place of epochs (the world is a stream). Any other field keeps its usual default.
FINETUNE_DEFAULTS: dict[str, Any] = dict(
    {key: value for key, value in PAPER_HYPERPARAMETERS.items() if key != "num_train_epochs"},
    learning_rate=2e-4,
    warmup_steps=20,
    max_steps=400,
    per_device_train_batch_size=64,
)
# Sizes of the evaluation splits of the default world (see SyntheticWorld).
EVAL_SIZES: dict[str, int] = dict(num_seen=1000, num_validation=500, num_test=500, num_zeroshot=960, num_retrieval=500)
PROBE_FIT_ROWS = 8000  # training-distribution images the relation probe is fitted on ("probe" stream)
# One unnamed object in a quarter of the two-object scenes: the world with headroom of issue 25, chosen on validation
# among 0, 0.25, 0.5 and 1 (docs/RESULTS.md, "A world with headroom").
WORLD_DISTRACTORS = 0.25
# The words the world's training negatives may write (`SyntheticWorld.negatives_vocabulary`), chosen on validation
# (docs/RESULTS.md, "Negatives in the world's own words").
WORLD_NEGATIVES_VOCABULARY = "world"


@dataclass(frozen=True)
class BaseModelSettings:
    """Size and plain-contrastive pre-training of the small base `CLIPModel` (the world sets the image size).

    `logit_scale`: the CLIP base's initial temperature scale (SigLIP bases keep SigLIP's own). 100, the value a
    web-trained CLIP ends at (its clamp), rather than CLIP's starting 1 / 0.07: a base pre-trained at about 20
    spreads its cosines five times wider than CLIP's, so a threshold bound given as a cosine margin (the paper's
    0.1) is reached within a few dozen fine-tuning steps (docs/RESULTS.md, issue 25). `pretrain_distractors`: the
    share of the pre-training stream's two-object scenes holding an unnamed object (the world's `distractors` hold
    for fine-tuning and evaluation); 0: the base pre-trains on uncluttered layouts and so learns where each
    object is (relation probe about 90% against 77% with the world's clutter). `sincos_positions`: the image
    position embeddings start as this multiple of a 2-D sine-cosine table (1.0: probe 92% against 88.5% at 0.5).
    The three were chosen on validation splits (docs/RESULTS.md, "A base that knows where things are").
    """

    patch_size: int = 8
    hidden_size: int = 128
    num_layers: int = 3
    num_heads: int = 4
    projection_dim: int = 64
    sincos_positions: float = 1.0
    logit_scale: float = 100.0
    pretrain_distractors: float = 0.0
    vocab_size: int = 800
    max_steps: int = 2000
    batch_size: int = 64
    learning_rate: float = 5e-4
    warmup_steps: int = 100
    mix: CaptionMix = CaptionMix(layout_twins=0.6, single=0.4)
    seed: int = 0
    family: str = "clip"  # "clip" (CLIPModel), "siglip" (SiglipModel) or "siglip2" (Siglip2Model), same sizes

    def cache_key(self) -> dict[str, Any]:
        """What a cached base depends on (the family only when not CLIP, so CLIP bases cached before it
        existed are still found)."""
        key = asdict(self)
        if self.family == "clip":
            del key["family"]
        return key


def default_world(seed: int = 0, **settings: Any) -> SyntheticWorld:
    """The world of the default run and the ablation: no fixed train split (training reads streams), the
    evaluation splits of `EVAL_SIZES`, `WORLD_DISTRACTORS` and `WORLD_NEGATIVES_VOCABULARY` (any of them overridden
    by `settings`)."""
    return SyntheticWorld(num_train=0, seed=seed, **{**EVAL_SIZES, "distractors": WORLD_DISTRACTORS,
                                                     "negatives_vocabulary": WORLD_NEGATIVES_VOCABULARY, **settings})


def world_settings(world: SyntheticWorld) -> dict[str, Any]:
    """What of a world a cached model depends on (the held-out lists are part of `RECIPE_VERSION`)."""
    settings = {"image_size": world.image_size, "seed": world.seed, "negative_types": list(world.negative_types),
                "exclude_held_out_negatives": world.exclude_held_out_negatives}
    if world.distractors:  # absent for the first worlds, so their keys are unchanged
        settings["distractors"] = int(world.distractors) if world.distractors == int(world.distractors) else world.distractors
    if world.confusable_distractors:
        settings["confusable_distractors"] = True
    return settings


def data_fingerprint(rows: Iterable[dict[str, Any]]) -> str:
    """A short SHA-256 of rows' contents: image pixels (anything with `tobytes`), captions and other values.
    Part of a cached model's key, so a change of the code that draws the world or makes its negatives (which the
    base's tokenizer is trained on) is never served a model trained on the old data."""
    digest = hashlib.sha256()
    for row in rows:
        for name in sorted(row):
            value = row[name]
            digest.update(name.encode())
            digest.update(value.tobytes() if hasattr(value, "tobytes") else json.dumps(value, sort_keys=True,
                                                                                       default=str).encode())
    return digest.hexdigest()[:16]


def library_versions() -> dict[str, str]:
    """Versions of `KEYED_LIBRARIES` (those installed)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in KEYED_LIBRARIES:
        try:
            found[name] = version("pillow" if name == "PIL" else name)
        except PackageNotFoundError:
            continue
    return found


def _cache_folder(kind: str, key: dict[str, Any], cache_dir: str | None) -> tuple[str, str]:
    text = json.dumps({"recipe": RECIPE_VERSION, **key}, sort_keys=True)
    folder = os.path.join(cache_dir or default_cache_dir(), f"synthetic-{kind}-" + hashlib.sha1(text.encode()).hexdigest()[:12])
    return folder, text


@contextlib.contextmanager
def _exclusive(folder: str, log: Callable[[str], None]):
    """Held while a cache entry is looked up and, when missing, built and saved: a second process (or thread) asking
    for the same entry waits (saying so), then finds it built; different entries do not wait for each other. A
    `filelock` lock file beside the entry (`<entry>.lock`), released by the OS if the holder dies."""
    from filelock import FileLock, Timeout

    os.makedirs(os.path.dirname(folder) or ".", exist_ok=True)
    lock = FileLock(folder + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"Another process is building {folder}; waiting for it to finish.")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _save_atomically(folder: str, key_text: str, write: Callable[[str], None]) -> None:
    """Writes into a scratch folder beside `folder`, then renames: a crash never leaves a half-written entry."""
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(folder)) as scratch:
        staged = os.path.join(scratch, "entry")
        write(staged)
        with open(os.path.join(staged, "cache_key.json"), "w") as handle:
            handle.write(key_text)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staged, folder)


def pretraining_stream(world: SyntheticWorld, settings: BaseModelSettings,
                       num_examples: int | None = None) -> datasets.IterableDataset:
    """The base's own stream ("pretrain"): layout twins and single objects, no relation caption, no negatives,
    `settings.pretrain_distractors` in place of the world's distractors; `num_examples` rows (default: the
    pre-training's steps x batch)."""
    world = replace(world, distractors=settings.pretrain_distractors, generator=None)
    rows = settings.max_steps * settings.batch_size if num_examples is None else num_examples
    return world.train_stream(rows, name="pretrain", negatives=None, mix=settings.mix)


def finetune_stream(world: SyntheticWorld, seed: int, num_examples: int, negatives: str | None = "spacy",
                    noise: NegativeNoise | None = None) -> datasets.IterableDataset:
    """The fine-tuning stream of `seed` ("finetune-<seed>"): relation captions with `negatives` ("spacy",
    "ground_truth" or None), a share of them spoiled by `noise`. The plain fine-tune and CE-CLIP of one seed read
    the very same images and captions.
    """
    return world.train_stream(num_examples, name=f"finetune-{seed}", negatives=negatives, noise=noise)


def tokenizer_texts(world: SyntheticWorld, settings: BaseModelSettings) -> list[str]:
    """What the base's BPE is trained on: captions of both streams' kinds and their spaCy negatives (their words
    would be in a real tokenizer's vocabulary too; the lexicon's, whatever the world's `negatives_vocabulary`, so
    the base does not depend on it), drawn from "tokenizer" streams of their own. The negatives
    make the base depend on the negative generator's rules: `base_cache_key` fingerprints these texts."""
    from ..negatives import HardNegativeGenerator

    sample = 2000
    web = world.train_stream(sample, name="tokenizer-web", negatives=None, mix=settings.mix)
    coco = world.train_stream(sample, name="tokenizer-coco", negatives=None)
    captions = [row["caption"] for row in itertools.chain(web, coco)]
    negatives = HardNegativeGenerator(types=world.negative_types, seed=world.seed).generate(captions[sample:])
    return captions + [text for row in negatives for text in row.values() if text]


def train_tokenizer(world: SyntheticWorld, settings: BaseModelSettings, texts: list[str] | None = None) -> Any:
    """A BPE over `texts` (default `tokenizer_texts(world, settings)`)."""
    return train_clip_tokenizer(texts if texts is not None else tokenizer_texts(world, settings),
                                vocab_size=settings.vocab_size)


def base_cache_key(world: SyntheticWorld, settings: BaseModelSettings,
                   texts: list[str] | None = None) -> dict[str, Any]:
    """What a cached base depends on: the world's and the base's settings, fingerprints of the data it is made
    from (the tokenizer's texts, the first `FINGERPRINT_ROWS` rows of its pre-training stream) and the library
    versions. Settings alone missed code changes: a base cached before the negative rules changed was reused with a
    tokenizer that a fresh machine no longer trains (issue 25). torch's thread count changes a trained base too (by
    2 points of the test_seen average between 1 and 2 threads, docs/RESULTS.md) but is not part of the key: a
    multi-process launch runs each process on fewer threads and must find the base its single-process warm-up
    trained; the default run (`synthetic.default_run`) records the count beside its results instead."""
    texts = tokenizer_texts(world, settings) if texts is None else texts
    rows = pretraining_stream(world, settings, FINGERPRINT_ROWS)
    data = {"tokenizer_texts": data_fingerprint({"text": text} for text in texts),
            "pretrain_rows": data_fingerprint(rows)}
    return {"world": world_settings(world), "base": settings.cache_key(), "data": data,
            "versions": library_versions()}


def prepare_base_model(
    world: SyntheticWorld,
    settings: BaseModelSettings = BaseModelSettings(),
    cache_dir: str | None = None,
    log: Callable[[str], None] = print,
    allow_training: bool = True,
    progress: bool = False,
) -> str:
    """The folder of the pre-trained base for `world`, trained on `pretraining_stream` unless cached.

    `allow_training=False` (e.g. inside a multi-process launch) raises instead of training a missing base.
    `progress`: a bar while it trains (with the loss beside it) instead of nothing.
    """
    from transformers import PrinterCallback

    from ..progress import quiet_console
    from ..trainer import FineGrainedTrainer
    from ..training_args import FineGrainedTrainingArguments

    texts = tokenizer_texts(world, settings)
    folder, key = _cache_folder("base", base_cache_key(world, settings, texts), cache_dir)
    with _exclusive(folder, log):
        if os.path.isfile(os.path.join(folder, "model.safetensors")):
            log(f"Reusing the cached pre-trained base model: {folder}")
            return folder
        _refuse_unless(allow_training, "base model", folder)

        log(f"Pre-training the {settings.family} base model ({settings.max_steps} plain-contrastive steps); cached in "
            f"{folder}")
        tokenizer = train_tokenizer(world, settings, texts)
        sizes = dict(image_size=world.image_size, patch_size=settings.patch_size, hidden_size=settings.hidden_size,
                     num_layers=settings.num_layers, num_heads=settings.num_heads, seed=settings.seed,
                     sincos_positions=settings.sincos_positions)
        if settings.family == "clip":
            model = build_clip_model(tokenizer, projection_dim=settings.projection_dim, logit_scale=settings.logit_scale,
                                     **sizes)
            processor = build_processor(tokenizer, image_size=world.image_size)
        else:  # SigLIP has no projection: its embeddings have hidden_size dimensions
            version = {"siglip": 1, "siglip2": 2}[settings.family]
            model = build_siglip_model(tokenizer, version=version, **sizes)
            processor = build_siglip_processor(tokenizer, image_size=world.image_size, version=version,
                                               patch_size=settings.patch_size)
        with tempfile.TemporaryDirectory() as scratch:
            args = FineGrainedTrainingArguments(
                output_dir=scratch, use_hard_negatives=False, max_steps=settings.max_steps,
                per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate,
                lr_scheduler_type="cosine", warmup_steps=settings.warmup_steps, weight_decay=0.1, adam_beta2=0.98,
                adam_epsilon=1e-6, save_strategy="no", report_to="none", logging_steps=max(1, settings.max_steps // 10),
                seed=settings.seed, disable_tqdm=not progress, dataloader_num_workers=0,
            )
            stream = pretraining_stream(world, settings).select_columns(["image", "caption"])
            trainer = FineGrainedTrainer(model=model, args=args, train_dataset=stream, processing_class=processor)
            if not progress:
                trainer.remove_callback(PrinterCallback)
            quiet_console(trainer, f"pre-training the {settings.family} base").train()

        def write(staged: str) -> None:
            model.save_pretrained(staged)
            processor.save_pretrained(staged)

        _save_atomically(folder, key, write)
        return folder


def finetune_arguments(output_dir: str, seed: int, hard_negatives: bool, overrides: dict[str, Any] | None = None,
                       **loss: Any) -> Any:
    """`FineGrainedTrainingArguments` of a synthetic fine-tune: `FINETUNE_DEFAULTS`, then `overrides`."""
    from ..training_args import FineGrainedTrainingArguments

    values = dict(FINETUNE_DEFAULTS, output_dir=output_dir, seed=seed, data_seed=seed, use_hard_negatives=hard_negatives,
                  save_strategy="no", report_to="none", disable_tqdm=True, dataloader_num_workers=0, logging_steps=25)
    values.update(overrides or {})
    values.update(loss)
    return FineGrainedTrainingArguments(**values)


def finetune(base: str, world: SyntheticWorld, args: Any, negatives: str = "spacy", quiet: bool = True,
             noise: NegativeNoise | None = None) -> Any:
    """Fine-tunes a copy of `base` on `finetune_stream(world, args.seed, ...)`; returns the trainer.

    The stream holds exactly the rows the run reads: max_steps x per-device batch x processes x accumulation.
    `negatives` ("spacy" or "ground_truth") and `noise` (bad negatives in a controlled share) apply when
    `args.use_hard_negatives`. `quiet`: no log lines (with `args.disable_tqdm`, nothing at all); the bar, when
    there is one, never writes the raw logs.
    """
    from transformers import PrinterCallback, set_seed

    from ..families import load_model
    from ..progress import quiet_console
    from ..trainer import FineGrainedTrainer

    set_seed(args.seed)
    model, processor, _ = load_model(base)
    rows = args.max_steps * args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    columns = ["image", "caption"] + (["hard_negatives"] if args.use_hard_negatives else [])
    hard = args.use_hard_negatives
    stream = finetune_stream(world, args.seed, rows, negatives if hard else None, noise if hard else None)
    trainer = FineGrainedTrainer(model=model, args=args, train_dataset=stream.select_columns(columns),
                                 processing_class=processor)
    if quiet:
        trainer.remove_callback(PrinterCallback)
    quiet_console(trainer, "plain fine-tune" if not hard else "fine-tune").train()
    return trainer


def prepare_plain_finetune(
    world: SyntheticWorld,
    base: str,
    seed: int,
    overrides: dict[str, Any] | None = None,
    cache_dir: str | None = None,
    log: Callable[[str], None] = print,
    allow_training: bool = True,
    progress: bool = False,
) -> str:
    """The folder of the plain fine-tune (`use_hard_negatives=False`) of `base`: the same stream, steps, seed
    and hyperparameters as a CE-CLIP run with these `overrides`; trained unless cached (see
    `prepare_base_model` for `allow_training` and `progress`)."""
    with tempfile.TemporaryDirectory() as scratch:
        args = finetune_arguments(scratch, seed, hard_negatives=False, overrides=overrides, disable_tqdm=not progress)
        with open(os.path.join(base, "cache_key.json")) as handle:
            base_key = json.load(handle)
        rows = finetune_stream(world, seed, FINGERPRINT_ROWS, negatives=None)
        folder, key = _cache_folder("plain", {"base": base_key, "seed": seed, "args": finetune_overrides(args),
                                              "data": {"finetune_rows": data_fingerprint(rows)}}, cache_dir)
        with _exclusive(folder, log):
            if os.path.isfile(os.path.join(folder, "model.safetensors")):
                log(f"Reusing the cached plain fine-tune: {folder}")
                return folder
            _refuse_unless(allow_training, "plain fine-tune", folder)
            log(f"Plain fine-tune of the base ({args.max_steps} steps, no hard negatives); cached in {folder}")
            trainer = finetune(base, world, args)

            def write(staged: str) -> None:
                trainer.model.save_pretrained(staged)
                trainer.processing_class.save_pretrained(staged)

            _save_atomically(folder, key, write)
    return folder


def _refuse_unless(allowed: bool, what: str, folder: str) -> None:
    if not allowed:
        raise RuntimeError(f"The synthetic {what} is not cached ({folder}) and is not trained inside a multi-process "
                           "launch: run `hf-finegrained-train --max_steps 1` once with a single process first.")


def finetune_overrides(args: Any) -> dict[str, Any]:
    """The fine-tuning hyperparameters of `args` that a plain fine-tune must share with it (those of
    `FINETUNE_DEFAULTS`, plus gradient accumulation)."""
    names = sorted(set(FINETUNE_DEFAULTS) | {"gradient_accumulation_steps"})
    return _jsonable({name: getattr(args, name) for name in names})


# The rows of the default run's table: (score group, column, label).
TABLE_ROWS: tuple[tuple[str, str, str], ...] = (
    *(("seen", name, f"test_seen {name}") for name in CATEGORIES),
    ("seen", "average", "**test_seen average**"),
    ("held_out", "average", "held-out test average"),
    ("general", "zeroshot_top1", f"zero-shot top-1 ({len(ZEROSHOT_CLASSES)} classes)"),
    ("general", "i2t_R@1", "retrieval image->text R@1"),
    ("general", "t2i_R@1", "retrieval text->image R@1"),
)
COLUMNS = (("base", "base"), ("plain_finetune", "plain fine-tune"), ("ce_clip", "CE-CLIP"))


def comparison_table(scores: dict[str, dict[str, dict[str, float]]]) -> str:
    """The Markdown table of the default run: one row per `TABLE_ROWS` entry, one column per model, in %."""
    present = [(key, label) for key, label in COLUMNS if key in scores]
    lines = ["| synthetic world, % | " + " | ".join(label for _, label in present) + " |",
             "|---|" + "---|" * len(present)]
    for group, column, label in TABLE_ROWS:
        cells = [scores[key].get(group, {}).get(column) for key, _ in present]
        if all(cell is None for cell in cells):
            continue
        lines.append(f"| {label} | " + " | ".join("-" if c is None else f"{100 * c:.1f}" for c in cells) + " |")
    return "\n".join(lines)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in values.items()}
