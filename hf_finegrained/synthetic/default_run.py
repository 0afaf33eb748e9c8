"""The embedded default run, the synthetic wing's one entry point: `hf-finegrained-train` with no model.

`default_run_trainer(run_args, args, load_model)` builds the world, takes the cached base and plain fine-tune
(training them when absent, `recipe.py`), and returns the CE-CLIP trainer on the fine-tuning stream with the
function that scores the three models afterwards: the table (printed, in `results.json` and the card), whether it
is the README's, the base's relation probe and the trade-off curve (each fine-tune interpolated with the base).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .recipe import FINETUNE_DEFAULTS, PROBE_FIT_ROWS, WORLD_DISTRACTORS, WORLD_NEGATIVES_VOCABULARY, BaseModelSettings
from .world import NEGATIVES_VOCABULARIES

logger = logging.getLogger(__name__)

# What the embedded default changes in the training arguments for any flag not given (`FINETUNE_DEFAULTS`: the
# paper's optimiser with a learning rate, warm-up, batch and step count sized for the small base).
SYNTHETIC_DEFAULTS: dict[str, Any] = dict(
    FINETUNE_DEFAULTS,
    output_dir="outputs/synthetic-ce-clip",
    save_strategy="no",
    logging_steps=10,
)
TRADEOFF_PLOT = "tradeoff.png"
# The committed results of the default run, whose table the README shows (in a clone of the repository).
DEFAULT_RUN_RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                   "model_cards", "synthetic-ce-clip", "results.json")


@dataclass
class SyntheticRunArguments:
    """The embedded default's own settings (no --model_name_or_path): its world, base and trade-off curve."""

    _argument_group_name = "embedded default (no --model_name_or_path): the synthetic world"

    model_family: str = field(
        default="clip",
        metadata={"help": "The family of the small base: 'clip', 'siglip' or 'siglip2' (a model given with "
                  "--model_name_or_path brings its own)."},
    )
    base_max_steps: int = field(
        default=BaseModelSettings.max_steps, metadata={"help": "Pre-training steps of the small base."}
    )
    base_cache_dir: str | None = field(
        default=None,
        metadata={"help": "Where the base and the plain fine-tune are cached (default $HF_FINEGRAINED_CACHE, else "
                  "hf_finegrained in $HF_HOME, else in $XDG_CACHE_HOME, else ~/.cache/hf_finegrained)."},
    )
    synthetic_test: int = field(
        default=1000,
        metadata={"help": "Images of the world's test_seen and zero-shot splits (half as many for the held-out test "
                  "and retrieval splits)."},
    )
    synthetic_probe_rows: int = field(
        default=PROBE_FIT_ROWS, metadata={"help": "Images the base's relation probe is fitted on (0: no probe)."}
    )
    synthetic_seed: int = field(default=0, metadata={"help": "Seed of the synthetic world."})
    synthetic_distractors: float = field(
        default=WORLD_DISTRACTORS,
        metadata={"help": "Objects the caption does not name in the two-object scenes (the replace negatives then "
                  "name a distractor's colour or shape): 1 adds one to every scene, a fraction adds one to that "
                  "share of the scenes (0.25: the world with headroom); 0: the first worlds. See "
                  "SyntheticWorld.distractors and docs/RESULTS.md."},
    )
    synthetic_negatives_vocabulary: str = field(
        default=WORLD_NEGATIVES_VOCABULARY,
        metadata={"help": "The words the world's training negatives may write: 'world' (only the words of its captions; "
                  "the replacement is a colour, shape or relation the world shows) or 'lexicon' (any word of the "
                  "generator's lists, e.g. a shape the world never draws). See SyntheticWorld.negatives_vocabulary "
                  "and docs/RESULTS.md.", "choices": list(NEGATIVES_VOCABULARIES)},
    )
    tradeoff_alphas: str = field(
        default="0.5",
        metadata={"help": "Weights at which the plain fine-tune and CE-CLIP are also interpolated with the base and "
                  "scored, for the card's composition vs general-ability plot ('' for none). Each weight costs two "
                  "scorings, about 10 s on a 2-core CPU, so the default keeps one (the run's time bar); the README's "
                  "trade-off study draws the curve at 0.25, 0.5 and 0.75 over 3 seeds."},
    )


def default_run_trainer(run_args: SyntheticRunArguments, args: Any,
                        load_model: Callable[[str], tuple[Any, Any]]) -> tuple[Any, Any, Callable[[], None]]:
    """(trainer, processor, score): the embedded default's CE-CLIP trainer (module docstring) on the model
    `load_model(base folder)` returns (with LoRA adapters when the command asked), and the function that scores it
    beside the base and the plain fine-tune once trained."""
    from ..progress import bar, quiet_console
    from ..trainer import FineGrainedTrainer
    from .tradeoff import plot_tradeoff, tradeoff_table
    from .evaluation import relation_probe, score_world
    from .recipe import (
        comparison_table, default_world, finetune_overrides, finetune_stream, prepare_base_model, prepare_plain_finetune,
    )

    n = run_args.synthetic_test
    world = default_world(seed=run_args.synthetic_seed, num_seen=n, num_validation=0, num_test=n // 2,
                          num_zeroshot=n, num_retrieval=n // 2, negative_types=tuple(args.negative_types),
                          distractors=run_args.synthetic_distractors,
                          negatives_vocabulary=run_args.synthetic_negatives_vocabulary)
    overrides = finetune_overrides(args)
    single = args.world_size == 1
    progress = not args.disable_tqdm
    with args.main_process_first(desc="synthetic world, base and plain fine-tune"):
        splits = world.build()
        base = prepare_base_model(world, BaseModelSettings(max_steps=run_args.base_max_steps,
                                                           family=run_args.model_family),
                                  cache_dir=run_args.base_cache_dir, allow_training=single, progress=progress)
        plain = prepare_plain_finetune(world, base, args.seed, overrides, cache_dir=run_args.base_cache_dir,
                                       allow_training=single, progress=progress)

    rows = args.max_steps * args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    columns = ["image", "caption"] + (["hard_negatives"] if args.use_hard_negatives else [])
    stream = finetune_stream(world, args.seed, rows, "spacy" if args.use_hard_negatives else None).select_columns(columns)
    model, processor = load_model(base)
    trainer = quiet_console(FineGrainedTrainer(model=model, args=args, train_dataset=stream,
                                               processing_class=processor),
                            "CE-CLIP fine-tune" if args.use_hard_negatives else "plain fine-tune")
    trainer.card_info.dataset_name = f"synthetic world, new images drawn on demand, seed {args.seed}"
    trainer.card_info.base_model = "pre-trained synthetic-world base (built by hf-finegrained-train)"

    def score() -> None:
        models = (("base", base), ("plain_finetune", plain), ("ce_clip", trainer.model))
        scores = {name: score_world(model, splits, processor=processor)
                  for name, model in bar(models, "scoring on the synthetic world", not progress)}
        document = {"world": {"seed": world.seed, "image_size": world.image_size, "split_sizes": world.split_sizes(),
                              **({"distractors": world.distractors} if world.distractors else {}),
                              "negatives_vocabulary": world.negatives_vocabulary},
                    "finetune": {"rows": rows, "seed": args.seed, **overrides}, **scores,
                    "masked_negatives": dict(world.masked_negatives),
                    "loss": {"threshold_units": args.threshold_units,
                             "threshold_upper_bound": args.threshold_upper_bound},
                    "base_cache_key": read_cache_key(base), "torch_threads": torch.get_num_threads()}
        if run_args.synthetic_probe_rows:
            fit = world.train_stream(run_args.synthetic_probe_rows, name="probe", negatives=None)
            document["base_relation_probe"] = relation_probe(base, fit, splits["test_seen"])
        print("\n" + comparison_table(scores))
        print(readme_agreement(document))
        alphas = [float(a) for a in run_args.tradeoff_alphas.split(",") if a.strip()]
        if alphas and _is_peft(trainer.model):
            logger.info("No trade-off curve with --use_lora: interpolate the merged weights with "
                        "hf-finegrained-interpolate instead.")
        elif alphas:
            document["tradeoff"] = tradeoff_scores(base, {"plain_finetune": plain, "ce_clip": trainer.model}, alphas,
                                                   splits, processor, progress)
            points = default_run_tradeoff_points(scores, document["tradeoff"])
            trainer.card_info.tradeoff_table = tradeoff_table(points, "synthetic world, seed "
                                                              f"{args.seed}, test splits")
            trainer.card_info.tradeoff_plot = os.path.basename(
                plot_tradeoff(points, os.path.join(args.output_dir, TRADEOFF_PLOT)))
            print("\n" + trainer.card_info.tradeoff_table)
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


def _is_peft(model: Any) -> bool:
    return hasattr(model, "peft_config")


def read_cache_key(folder: str) -> dict[str, Any]:
    """The key a cached synthetic model was stored under (settings, data fingerprints, library versions)."""
    with open(os.path.join(folder, "cache_key.json"), encoding="utf-8") as handle:
        return json.load(handle)


def readme_agreement(document: dict[str, Any]) -> str:
    """A line saying whether this run is the one whose table the README shows, and if so whether it printed the
    same table; when it did not, what differs (data fingerprints or library versions) and what to do."""
    from .recipe import comparison_table

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


def tradeoff_scores(base: str, finetuned: dict[str, Any], alphas: list[float], splits: Any, processor: Any,
                    progress: bool = True) -> dict[str, Any]:
    """{model key: {alpha: scores}}: each fine-tune interpolated with the base at each alpha, scored."""
    from transformers import AutoModel

    from ..interpolation import interpolate_weights
    from ..progress import bar
    from .evaluation import score_world

    base_model = AutoModel.from_pretrained(base)
    loaded = {key: AutoModel.from_pretrained(model) if isinstance(model, str) else model
              for key, model in finetuned.items()}
    out: dict[str, Any] = {key: {} for key in loaded}
    sweep = [(key, alpha) for key in loaded for alpha in alphas]
    for key, alpha in bar(sweep, "trade-off sweep (interpolations scored)", not progress):
        out[key][f"{alpha:g}"] = score_world(interpolate_weights(base_model, loaded[key], alpha), splits,
                                             processor=processor)
    return out


def default_run_tradeoff_points(scores: dict[str, Any], interpolated: dict[str, Any]) -> list[dict[str, Any]]:
    """The default run's trade-off points (`tradeoff.tradeoff_points`): the base, then each fine-tune's
    interpolations and itself."""
    from .tradeoff import tradeoff_points

    labels = {"plain_finetune": "plain fine-tune", "ce_clip": "CE-CLIP"}
    return tradeoff_points(scores["base"], {
        label: {**{float(alpha): [values] for alpha, values in interpolated.get(key, {}).items()},
                1.0: [scores[key]]} for key, label in labels.items()})
