"""The paper's ablation (Table 4, Figure 4) on the synthetic world, beside the plain fine-tune, on a CPU.

    python examples/ablation.py                    # the study: 7 variants x 3 seeds on the test splits (<= 60 min)
    python examples/ablation.py --eval_split validation --variants plain,ce_clip --seeds 0   # choosing settings
    python examples/ablation.py --quick            # a tiny world and a few steps: checks the pipeline (CI)

(`examples/ablation.py` calls `main` here; `python -m hf_finegrained.synthetic.ablation` is the same.) Flags take
`--a_b` or `--a-b` and use the training command's names (`--base_max_steps`, `--per_device_train_batch_size`,
`--synthetic_seed`, `--synthetic_distractors`, `--tradeoff_alphas`); the old names still work, with a warning.

Every variant fine-tunes the same cached pre-trained base (hf_finegrained.synthetic.recipe) on the same
stream of new images, for the same steps, with the same seeds; only the loss changes:

    plain          plain CLIP loss, no hard negatives (the baseline every table shows)
    itc_hn         ITC with hard negatives (every image also sees every negative of the batch)
    itc_hn+imc     + intra-modal contrastive loss (--imc_weight, default 0.3 as in the paper)
    itc_hn+cmr     + cross-modal rank loss with adaptive thresholds (--cmr_weight, default 0.2)
    ce_clip        all three: the paper's method
    ce_clip_fixed  all three, CMR thresholds fixed at --fixed_threshold instead of adaptive
    ce_clip_gt     all three on the ground-truth negatives of the edited scenes instead of spaCy's (a control:
                   what better negatives would buy)

Any variant with hard negatives takes two suffixes: `+distill<weight>` (the distillation term) and
`~<kind><share>`, bad negatives in a controlled share (`hf_finegrained.synthetic.NegativeNoise`): e.g.
`ce_clip~not_false0.25` (a quarter of the negatives replaced by captions true of the image),
`ce_clip~disfluent0.5` (half made ungrammatical), `ce_clip~dropped0.9` (coverage 10% a type).

A seed sets the fine-tuning stream ("finetune-<seed>": which new images, in which order) and the trainer's
seed. Each run is scored (hf_finegrained.synthetic.evaluation) on new images of seen combinations (`<split>_seen`,
the headline), on held-out combinations (`<split>`), on zero-shot classification and on retrieval. Choose
settings with `--eval_split validation`, never on test. The output folder gets `results.json` (every run, written after
each one: an interrupted study resumes where it stopped; runs of other variants and seeds made earlier in the folder
with the same settings are kept), `table.md` (mean +- sample standard deviation over
seeds, then the protocol's comparisons: `compare`) and `threshold_curves.png`. Run again on a finished
folder, it only rewrites the tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

from ..command_line import OneNameRawHelpFormatter, add_flag, warn_deprecated
from ..families import FAMILIES, load_model
from ..losses import THRESHOLD_UNITS, default_threshold_bound
from .evaluation import CATEGORIES, GROUPS, score_world
from .recipe import (
    FINETUNE_DEFAULTS,
    WORLD_DISTRACTORS,
    WORLD_NEGATIVES_VOCABULARY,
    BaseModelSettings,
    default_world,
    finetune,
    finetune_arguments,
    prepare_base_model,
)
from .tradeoff import GENERAL, keeps_general, plot_tradeoff, tradeoff_table
from .tradeoff import tradeoff_points as curve_points
from .world import NEGATIVES_VOCABULARIES, NOISE_KINDS, NegativeNoise

@dataclass(frozen=True)
class Variant:
    """Which terms a variant switches on."""

    hard_negatives: bool  # hard negatives in ITC
    imc: bool
    cmr: bool
    fixed: bool = False  # CMR thresholds fixed instead of adaptive
    negatives: str = "spacy"  # where the negatives come from: "spacy" or "ground_truth"
    distill: float = 0.0  # weight of the distillation term (0: off)
    noise: NegativeNoise | None = None  # bad negatives in a controlled share (None: the generator's own)


VARIANTS: dict[str, Variant] = {
    "plain": Variant(False, False, False),
    "itc_hn": Variant(True, False, False),
    "itc_hn+imc": Variant(True, True, False),
    "itc_hn+cmr": Variant(True, False, True),
    "ce_clip": Variant(True, True, True),
    "ce_clip_fixed": Variant(True, True, True, fixed=True),
    "ce_clip_gt": Variant(True, True, True, negatives="ground_truth"),
}
DISTILLED = "+distill"  # `<variant>+distill<weight>`: that variant plus the distillation term, e.g. ce_clip+distill2


NOISY = "~"  # `<variant>~<kind><share>`: that variant with a share of bad negatives, e.g. ce_clip~not_false0.25


def variant_of(name: str) -> Variant:
    """The `Variant` of a name of `VARIANTS`, optionally followed by `+distill<weight>` and/or `~<kind><share>`
    (kind one of `NOISE_KINDS`, share in (0, 1]); a ValueError for anything else."""
    known = (f"unknown variant {name!r}; known: {', '.join(VARIANTS)}, optionally followed by {DISTILLED}<weight> "
             f"and/or {NOISY}<kind><share> (kind one of {', '.join(NOISE_KINDS)})")
    rest, tilde, noisy = name.partition(NOISY)
    head, sep, weight = rest.partition(DISTILLED)
    if head not in VARIANTS or (sep and not _is_positive_number(weight)):
        raise ValueError(known)
    variant = dataclasses.replace(VARIANTS[head], distill=float(weight)) if sep else VARIANTS[head]
    if not tilde:
        return variant
    kind = next((k for k in NOISE_KINDS if noisy.startswith(k)), None)
    share = noisy[len(kind):] if kind else ""
    if kind is None or not _is_positive_number(share) or float(share) > 1 or not variant.hard_negatives:
        raise ValueError(known + "; noise needs a variant with hard negatives")
    return dataclasses.replace(variant, noise=NegativeNoise(kind, float(share)))


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1")


def _is_positive_number(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and float(text) > 0
    except ValueError:
        return False
TITLES = {"seen": "{split}_seen (new images of seen combinations)",
          "held_out": "{split} (held-out combinations)",
          "general": "general ability ({split}-independent splits)"}


@dataclass
class StudySettings:
    """Everything a run depends on; results.json is reused only when these are unchanged."""

    world_seed: int = 0
    distractors: float = WORLD_DISTRACTORS  # SyntheticWorld.distractors: unnamed objects (0.25: in a quarter of scenes)
    confusable_distractors: bool = False  # SyntheticWorld.confusable_distractors: the first one a swapped binding
    negatives_vocabulary: str = WORLD_NEGATIVES_VOCABULARY  # SyntheticWorld.negatives_vocabulary: "lexicon" or "world"
    num_seen: int = 1000
    num_held_out: int = 500
    num_zeroshot: int = 960
    num_retrieval: int = 500
    base_steps: int = BaseModelSettings.max_steps
    max_steps: int = FINETUNE_DEFAULTS["max_steps"]
    batch_size: int = FINETUNE_DEFAULTS["per_device_train_batch_size"]
    learning_rate: float = FINETUNE_DEFAULTS["learning_rate"]
    warmup_steps: int = FINETUNE_DEFAULTS["warmup_steps"]
    imc_weight: float = 0.3
    cmr_weight: float = 0.2
    threshold_units: str = "cosine"  # "cosine" or "logit" (docs/LOSS.md); the next two are in these units
    threshold_upper_bound: float | None = None  # None: the paper's bound in the units (0.1 cosine, 10 logit)
    fixed_threshold: float | None = None  # None: half the bound (0.05 cosine, 5 logit)
    eval_split: str = "test"  # "validation", "test", or "both" (test scores plus validation ones to choose on)
    logging_steps: int = 25
    alphas: str = ""  # comma-separated weights at which fine-tunes are also interpolated with the base
    interpolate: str = "plain,ce_clip"  # the variants that are interpolated (at `alphas`)
    distill_teacher: str = "frozen"
    ema_decay: float = 0.999
    model_family: str = "clip"  # the base's family: "clip", "siglip" or "siglip2" (sigmoid losses for SigLIP)


QUICK = dict(num_seen=32, num_held_out=32, num_zeroshot=64, num_retrieval=32, base_steps=20, max_steps=6,
             batch_size=16, warmup_steps=1, logging_steps=2)


# The command line's name of each study setting where the training command has one (`hf-finegrained-train`);
# the settings keep their names (results.json records them, and a study resumes only on equal settings).
FLAG_NAMES = {"base_steps": "base_max_steps", "batch_size": "per_device_train_batch_size",
              "world_seed": "synthetic_seed", "distractors": "synthetic_distractors",
              "negatives_vocabulary": "synthetic_negatives_vocabulary", "alphas": "tradeoff_alphas"}
# Old flag names, still read (with a FutureWarning): old name -> the name to use.
DEPRECATED_FLAGS = {name: flag for name, flag in FLAG_NAMES.items() if name != "negatives_vocabulary"}


def parse(argv: list[str]) -> tuple[StudySettings, argparse.Namespace]:
    argv = list(argv)
    parser = argparse.ArgumentParser(prog="examples/ablation.py", description=__doc__,
                                     formatter_class=OneNameRawHelpFormatter)
    add_flag(parser, "quick", action="store_true", help="tiny world and few steps (CI; <= 3 min)")
    add_flag(parser, "variants", default=",".join(VARIANTS), help="comma-separated subset of the variants")
    add_flag(parser, "seeds", default="0,1,2", help="comma-separated fine-tuning seeds")
    add_flag(parser, "output_dir", default="outputs/ablation")
    add_flag(parser, "base_cache_dir", default=None, help="where the base is cached (default ~/.cache/...)")
    add_flag(parser, "disable_tqdm", action="store_true", help="no bar while the base pre-trains")
    for name, default in asdict(StudySettings()).items():
        kind = float if default is None else _boolean if isinstance(default, bool) else type(default)
        old = [name] if name in DEPRECATED_FLAGS else []
        add_flag(parser, FLAG_NAMES.get(name, name), deprecated=old, dest=name, type=kind, default=None,
                 help=f"default {default}")
    warn_deprecated(argv, DEPRECATED_FLAGS, "examples/ablation.py")
    args = parser.parse_args(argv)
    values = asdict(StudySettings())
    if args.quick:
        values.update(QUICK)
    values.update({k: getattr(args, k) for k in values if getattr(args, k) is not None})
    settings = StudySettings(**values)
    if settings.model_family not in FAMILIES:
        parser.error(f"--model_family must be one of {', '.join(FAMILIES)}")
    if settings.threshold_units not in THRESHOLD_UNITS:
        parser.error(f"--threshold_units must be one of {', '.join(THRESHOLD_UNITS)}")
    if settings.negatives_vocabulary not in NEGATIVES_VOCABULARIES:
        parser.error(f"--synthetic_negatives_vocabulary must be one of {', '.join(NEGATIVES_VOCABULARIES)}")
    if settings.eval_split not in ("validation", "test", "both"):
        parser.error("--eval_split must be validation, test or both")
    for name in args.variants.split(","):
        try:
            variant_of(name)
        except ValueError as error:
            parser.error(str(error))
    try:
        alphas(settings)
    except ValueError:
        parser.error(f"--tradeoff_alphas: expected comma-separated numbers, got {settings.alphas!r}")
    return settings, args


def alphas(settings: StudySettings) -> list[float]:
    """The interpolation weights of the study (none by default)."""
    return [float(a) for a in settings.alphas.split(",") if a.strip()]


def fixed_threshold(settings: StudySettings) -> float:
    """The fixed threshold of `ce_clip_fixed`, in the study's units: given, or half the bound."""
    if settings.fixed_threshold is not None:
        return settings.fixed_threshold
    bound = settings.threshold_upper_bound
    return (default_threshold_bound(settings.threshold_units) if bound is None else bound) / 2


def training_arguments(settings: StudySettings, variant: str, seed: int, output_dir: str):
    terms = variant_of(variant)
    overrides = dict(max_steps=settings.max_steps, per_device_train_batch_size=settings.batch_size,
                     learning_rate=settings.learning_rate, warmup_steps=settings.warmup_steps,
                     logging_steps=settings.logging_steps)
    return finetune_arguments(output_dir, seed, terms.hard_negatives, overrides,
                              imc_weight=settings.imc_weight if terms.imc else 0.0,
                              cmr_weight=settings.cmr_weight if terms.cmr else 0.0,
                              threshold_units=settings.threshold_units,
                              threshold_upper_bound=settings.threshold_upper_bound,
                              fixed_threshold=fixed_threshold(settings) if terms.fixed else None,
                              distill_weight=terms.distill, distill_teacher=settings.distill_teacher,
                              ema_decay=settings.ema_decay)


def curves(log_history: list[dict[str, float]]) -> dict[str, list[list[float]]]:
    """{"threshold/<type>": [[step, value], ...], "loss": [...], ...} from a trainer's log history."""
    out: dict[str, list[list[float]]] = {}
    for entry in log_history:
        for key, value in entry.items():
            if key.startswith("threshold/") or key in ("loss", "itc_loss", "imc_loss", "cmr_loss", "distill_loss"):
                out.setdefault(key, []).append([entry["step"], value])
    return out


def evaluation_sets(world, splits, settings: StudySettings) -> dict[str, dict[str, Any]]:
    """The splits each model is scored on, by name: "scores" (on `eval_split`; test with "both") and, with
    "both", "validation_scores". The world has one zero-shot and one retrieval split; their validation copies
    are the next rows of the same streams (new images, `SyntheticWorld.build_split(start=...)`)."""
    def named(split: str, general: dict[str, Any]) -> dict[str, Any]:
        return {"splits": {**general, f"{split}_seen": splits[f"{split}_seen"], split: splits[split]},
                "seen": f"{split}_seen", "held_out": split}

    test_general = {name: splits[name] for name in ("zeroshot", "retrieval") if name in splits}
    if settings.eval_split != "both":
        return {"scores": named(settings.eval_split, test_general)}
    validation_general = {name: world.build_split(name, start=len(data)) for name, data in test_general.items()}
    return {"scores": named("test", test_general), "validation_scores": named("validation", validation_general)}


def score_all(model, processor, sets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """{"scores": ..., ["validation_scores": ...]} of one model (see `evaluation_sets`)."""
    return {key: score_world(model, spec["splits"], processor=processor, seen=spec["seen"], held_out=spec["held_out"])
            for key, spec in sets.items()}


def run_one(settings: StudySettings, variant: str, seed: int, base: str, base_model, world, sets,
            scratch: str) -> dict[str, Any]:
    """Fine-tunes the base with one variant and seed, then scores it (and its interpolations with the base,
    `--alphas`) and keeps its curves."""
    from hf_finegrained import interpolate_weights

    args = training_arguments(settings, variant, seed, os.path.join(scratch, f"{variant}-{seed}"))
    start = time.perf_counter()
    terms = variant_of(variant)
    world.noisy_negatives = {}
    trainer = finetune(base, world, args, negatives=terms.negatives, noise=terms.noise)
    seconds = time.perf_counter() - start
    model, processor = trainer.model.eval(), trainer.processing_class
    run = {"variant": variant, "seed": seed, **score_all(model, processor, sets), "train_seconds": round(seconds, 1),
           "curves": curves(trainer.state.log_history)}
    if terms.noise is not None:
        run["noisy_negatives"] = dict(world.noisy_negatives)  # per type, over the rows this run read
    if alphas(settings) and variant in settings.interpolate.split(","):
        run["interpolated"] = {f"{alpha:g}": score_all(interpolate_weights(base_model, model, alpha), processor, sets)
                               for alpha in alphas(settings)}
    return run


def reported_split(document: dict[str, Any]) -> str:
    """The split of the runs' "scores": `eval_split`, or test when validation scores are kept beside them."""
    return document["settings"]["eval_split"].replace("both", "test")


def aggregate(runs: list[dict[str, Any]], variant: str, group: str,
              key: str = "scores") -> dict[str, tuple[float, float, int]]:
    """column -> (mean, sample std (0 with one seed), number of seeds), in %, for one score group of the runs'
    `key` ("scores", or "validation_scores" with `--eval_split both`)."""
    mine = [r[key][group] for r in runs if r["variant"] == variant]
    out = {}
    for column in GROUPS[group]:
        values = [100 * s[column] for s in mine]
        out[column] = (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values))
    return out


def markdown_table(document: dict[str, Any], group: str = "seen", key: str = "scores") -> str:
    """One row per variant (and the base): `mean ± std` over seeds of each column of `group`, in %."""
    runs, base, columns = document["runs"], document[f"base_{key}"][group], GROUPS[group]
    title = TITLES[group].format(split="validation" if key == "validation_scores" else reported_split(document))
    lines = [f"| variant: {title}, % | seeds | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    lines.append("| base, no fine-tuning | - | " + " | ".join(f"{100 * base[c]:.1f}" for c in columns) + " |")
    for variant in document["variants"]:
        if not any(r["variant"] == variant for r in runs):
            continue
        stats = aggregate(runs, variant, group, key)
        seeds = stats[columns[0]][2]
        cells = [f"{mean:.1f} ± {std:.1f}" for mean, std, _ in (stats[c] for c in columns)]
        lines.append(f"| {variant} | {seeds} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# The protocol's questions (docs/RESULTS.md): each hard-negative variant against the plain fine-tune, then
# what each component, the curriculum and better negatives add.
COMPARISONS: tuple[tuple[str, str], ...] = (
    ("ce_clip", "plain"), ("itc_hn", "plain"), ("itc_hn+imc", "plain"), ("itc_hn+cmr", "plain"),
    ("ce_clip_fixed", "plain"), ("ce_clip_gt", "plain"), ("itc_hn+imc", "itc_hn"), ("itc_hn+cmr", "itc_hn"),
    ("ce_clip", "itc_hn"), ("ce_clip", "ce_clip_fixed"), ("ce_clip_gt", "ce_clip"),
)


def compare(runs: list[dict[str, Any]], a: str, b: str, group: str, column: str,
            key: str = "scores") -> tuple[float, float, str]:
    """(mean of A - mean of B in points, the bound, verdict) under the protocol's rule: A wins when the
    difference of means exceeds twice its standard error, 2 * sqrt(s_A^2 / n_A + s_B^2 / n_B); B wins
    symmetrically; otherwise "tie". Needs >= 2 seeds per variant."""
    values = [[100 * r[key][group][column] for r in runs if r["variant"] == v] for v in (a, b)]
    if min(map(len, values)) < 2:
        raise ValueError(f"comparing {a} and {b} needs >= 2 seeds each; got {[len(v) for v in values]}")
    diff = statistics.fmean(values[0]) - statistics.fmean(values[1])
    bound = 2 * math.sqrt(sum(statistics.variance(v) / len(v) for v in values))
    return diff, bound, a if diff > bound else b if -diff > bound else "tie"


def wins_table(document: dict[str, Any], group: str = "seen", key: str = "scores") -> str:
    """The protocol's comparisons on `group`: difference of means (points) and the verdict per column. Each
    variant with bad negatives (`~<kind><share>`) is compared with clean `ce_clip` (its cost) and with `plain`."""
    runs, columns = document["runs"], list(GROUPS[group])
    seeds = {v: sum(r["variant"] == v for r in runs) for v in document["variants"]}
    noisy = [(a, b) for v in document["variants"] if NOISY in v for a, b in (("ce_clip", v), (v, "plain"))]
    pairs = [(a, b) for a, b in COMPARISONS + tuple(noisy) if seeds.get(a, 0) >= 2 and seeds.get(b, 0) >= 2]
    if not pairs:
        return ""
    title = TITLES[group].format(split="validation" if key == "validation_scores" else reported_split(document))
    lines = [f"| A vs B: {title} | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for a, b in pairs:
        cells = []
        for column in columns:
            diff, bound, verdict = compare(runs, a, b, group, column, key)
            cells.append(f"{diff:+.2f} " + ("tie" if verdict == "tie" else f"**{verdict}**") + f" (2 SE {bound:.2f})")
        lines.append(f"| {a} vs {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_thresholds(runs: list[dict[str, Any]], path: str, units: str = "logit") -> str | None:
    """Mean over seeds of each type's threshold per step (in `units`): adaptive (ce_clip, solid) vs fixed
    (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    drawn = False
    for variant, style in (("ce_clip", "-"), ("ce_clip_fixed", "--")):
        mine = [r["curves"] for r in runs if r["variant"] == variant]
        keys = sorted({k for c in mine for k in c if k.startswith("threshold/")})
        for n, key in enumerate(keys):
            series = [dict(map(tuple, c[key])) for c in mine if key in c]
            steps = sorted(set.intersection(*(set(s) for s in series)))
            means = [statistics.fmean(s[step] for s in series) for step in steps]
            label = key.split("/", 1)[1] + (" (fixed)" if variant.endswith("fixed") else "")
            ax.plot(steps, means, style, color=f"C{n}", label=label)
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("step")
    ax.set_ylabel(f"CMR threshold ({units} units)")
    ax.set_title("Per-type CMR thresholds, mean over seeds: adaptive (ce_clip) vs fixed")
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# The trade-off study (docs/RESULTS.md): compositional scores against general ability.
def tradeoff_points(document: dict[str, Any], key: str = "scores") -> list[dict[str, Any]]:
    """Every model of the study as a `synthetic.tradeoff` point (`tradeoff.tradeoff_points`), the base first; `key`:
    "scores" or "validation_scores". The base is alpha 0 of every curve; a fine-tune is alpha 1."""
    curves = {}
    for variant in document["variants"]:
        runs = [r for r in document["runs"] if r["variant"] == variant and key in r]
        if not runs:
            continue
        by_alpha = {1.0: [r[key] for r in runs]}
        for alpha in sorted({float(a) for r in runs for a in r.get("interpolated", {})} - {1.0}):
            by_alpha[alpha] = [r["interpolated"][f"{alpha:g}"][key] for r in runs
                               if f"{alpha:g}" in r.get("interpolated", {})]
        curves[variant] = by_alpha
    return curve_points(document[f"base_{key}"], curves)


def choose_setting(document: dict[str, Any], share: float = 0.95) -> dict[str, Any] | None:
    """The protocol's choice, on validation scores only: among the fine-tuned points (alpha > 0) that keep
    >= `share` of the base's general ability, the one with the highest seen average; None if none does."""
    points = tradeoff_points(document, "validation_scores")
    keeping = [p for p in points[1:] if keeps_general(p, points[0], share)]
    return max(keeping, key=lambda p: statistics.fmean(p["values"][("seen", "average")]), default=None)


def goal_report(document: dict[str, Any], share: float = 0.95, kept_gain: float = 0.8) -> str:
    """The chosen setting (validation) and, on the reported split, whether it meets the goal: general ability
    >= `share` of the base's and a seen average >= plain + `kept_gain` x (ce_clip - plain)."""
    if not any("validation_scores" in r for r in document["runs"]):
        return ""
    chosen = choose_setting(document, share)
    if chosen is None:
        return (f"No fine-tuned setting keeps {share:.0%} of the base's general ability on the validation probes: "
                "the goal is not reached; the tables above show the frontier.\n")
    points = {p["name"]: p for p in tradeoff_points(document)}
    point, base = points[chosen["name"]], points["base"]
    lines = [f"Chosen on validation: **{chosen['name']}** (the highest validation seen average among the settings "
             f"keeping {share:.0%} of the base's general ability on every probe)."]
    if "plain" in points and "ce_clip" in points:
        plain, ce_clip = (statistics.fmean(points[n]["values"][("seen", "average")]) for n in ("plain", "ce_clip"))
        target = plain + kept_gain * (ce_clip - plain)
        seen = statistics.fmean(point["values"][("seen", "average")])
        base_seen = base["values"][("seen", "average")][0]
        general = {c: statistics.fmean(point["values"][("general", c)]) / base["values"][("general", c)][0]
                   for c in GENERAL}
        met = seen >= target and min(general.values()) >= share
        lines.append(f"On the reported split it keeps {', '.join(f'{v:.1%} of the base {c}' for c, v in general.items())}; "
                     f"its seen average is {100 * seen:.1f} against the goal's {100 * target:.1f} (plain "
                     f"{100 * plain:.1f} + {kept_gain:.0%} of CE-CLIP's gain of {100 * (ce_clip - plain):.2f} points), "
                     f"and it keeps {(seen - base_seen) / (ce_clip - base_seen):.0%} of CE-CLIP's gain over the base: "
                     + ("**goal met**." if met else "**goal not met**."))
    return "\n".join(lines) + "\n"


def load_previous(path: str, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs of an earlier, interrupted study with the same settings (nothing already computed is redone)."""
    if not os.path.isfile(path):
        return []
    with open(path) as handle:
        previous = json.load(handle)
    if previous.get("settings") != settings:
        backup = path + ".previous"
        os.replace(path, backup)
        print(f"{path} was written with other settings; moved to {backup}")
        return []
    return previous.get("runs", [])


def write_document(output_dir: str, document: dict[str, Any]) -> None:
    path = os.path.join(output_dir, "results.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(document, handle, indent=1)
    os.replace(path + ".tmp", path)  # a crash mid-write never loses the runs already done


def main(argv: list[str] | None = None) -> dict[str, Any]:
    settings, args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    variants = args.variants.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.quick and args.seeds == "0,1,2":
        seeds = [0, 1]
    os.makedirs(args.output_dir, exist_ok=True)
    started = time.perf_counter()

    world = default_world(seed=settings.world_seed, num_seen=settings.num_seen, num_validation=settings.num_held_out,
                          num_test=settings.num_held_out, num_zeroshot=settings.num_zeroshot,
                          num_retrieval=settings.num_retrieval, distractors=settings.distractors,
                          confusable_distractors=settings.confusable_distractors,
                          negatives_vocabulary=settings.negatives_vocabulary)
    splits = world.build()
    base = prepare_base_model(world, BaseModelSettings(max_steps=settings.base_steps, family=settings.model_family),
                              cache_dir=args.base_cache_dir, progress=not args.disable_tqdm)
    base_model, processor, _ = load_model(base)
    sets = evaluation_sets(world, splits, settings)
    base_scores = score_all(base_model.eval(), processor, sets)
    document = {
        "settings": asdict(settings), "variants": variants, "seeds": seeds,
        "thresholds": {"units": settings.threshold_units, "fixed": fixed_threshold(settings),
                       "upper_bound": settings.threshold_upper_bound
                       if settings.threshold_upper_bound is not None else default_threshold_bound(settings.threshold_units)},
        **{f"base_{key}": value for key, value in base_scores.items()},
        "runs": load_previous(os.path.join(args.output_dir, "results.json"), asdict(settings)),
    }
    done = {(r["variant"], r["seed"]) for r in document["runs"]}
    with tempfile.TemporaryDirectory() as scratch:  # the trainers' output_dir; no checkpoint is kept
        for variant in variants:
            for seed in seeds:
                if (variant, seed) in done:
                    continue
                run = run_one(settings, variant, seed, base, base_model, world, sets, scratch)
                document["runs"].append(run)
                document["masked_negatives"] = dict(world.masked_negatives)
                write_document(args.output_dir, document)
                # with validation scores beside the test ones, the progress line shows validation: choices are
                # made there, and a study's test numbers should not be on screen before its decision
                key = "validation_scores" if "validation_scores" in run else "scores"
                split = "validation" if key == "validation_scores" else settings.eval_split
                shown = ", ".join(f"{c} {100 * run[key]['seen'][c]:.1f}" for c in CATEGORIES + ("average",))
                print(f"[{variant} seed {seed}] {run['train_seconds']:.0f} s training; {split}_seen: {shown}",
                      flush=True)
    document["total_minutes"] = round((time.perf_counter() - started) / 60, 2)
    write_document(args.output_dir, document)  # every run of these settings, this invocation's and earlier ones
    # the tables and plots show this invocation's variants and seeds
    document = {**document, "runs": [r for r in document["runs"] if r["variant"] in variants and r["seed"] in seeds]}
    keys = ("scores", "validation_scores") if settings.eval_split == "both" else ("scores",)
    table = "\n".join(markdown_table(document, group, key) for key in keys for group in GROUPS)
    wins = "\n".join(filter(None, (wins_table(document, group, key) for key in keys for group in GROUPS)))
    table += ("\nDifferences of means in points; a verdict names the winner when the difference exceeds twice its "
              "standard error (docs/RESULTS.md, protocol).\n\n" + wins) if wins else ""
    with open(os.path.join(args.output_dir, "table.md"), "w") as handle:
        handle.write(table)
    plot = plot_thresholds(document["runs"], os.path.join(args.output_dir, "threshold_curves.png"),
                           document["settings"].get("threshold_units", "logit"))
    if alphas(settings) or settings.eval_split == "both" or any(DISTILLED in v for v in variants):
        tradeoff = tradeoff_table(tradeoff_points(document), f"{reported_split(document)} splits")
        if settings.eval_split == "both":
            tradeoff += ("\n" + tradeoff_table(tradeoff_points(document, "validation_scores"), "validation splits")
                         + "\n" + goal_report(document))
        with open(os.path.join(args.output_dir, "tradeoff.md"), "w") as handle:
            handle.write(tradeoff)
        plot_tradeoff(tradeoff_points(document), os.path.join(args.output_dir, "tradeoff.png"))
        print("\n" + tradeoff)
    print("\n" + table)
    print(f"wrote {args.output_dir}/results.json, table.md" + (", threshold_curves.png" if plot else "")
          + f" in {document['total_minutes']:.1f} min (this invocation)")
    return document


if __name__ == "__main__":
    main()
