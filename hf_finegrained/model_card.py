"""Model cards rendered from a template plus data collected during training, with two training plots.

The card holds the base model, the data and its per-type negative coverage, the loss weights, the
final thresholds, the hyperparameters that differ from the defaults, benchmark results (also as
`model-index` entries) and the paper's citation. It never holds tokens or absolute local paths.
Every file is written atomically (`files.atomic_write`); the plots are drawn by `card_plots`, and a run too
short for them says why (`curves_note`).

- Metadata: `base_model` only when the base is a Hub id (`hub_id`); `license` from the training argument, else
  the base's own card's (`base_license`, read offline), else none; tags the family's (`clip`, or `siglip` and
  `siglip2`) before the package's. A folder holding a PEFT adapter (adapter_config.json) gets an adapter card:
  `library_name: peft`, `base_model_relation: adapter` beside a Hub base (a local base is named in the text, never
  by path), the LoRA settings, loading through `PeftModel`. An interpolation's card lists its Hub parents as
  `base_model` with `base_model_relation: merge`.

Benchmark results in the `model-index` metadata (`eval_results`) are described by the benchmarks themselves:
each `BenchmarkSpec` (`evaluation/spec.py`) carries its `dataset` entry and the type of each metric it emits
(`metric_types`), and the card reads them; the synthetic world of `examples/train.py` (`synthetic_<group>`, not a
registered benchmark) has its entry here.

- Scale: fractions in [0, 1], the values of `results.json` unchanged; only the human table of the card is in %.
- Metric type (`MetricType`): `recall_at_<k>` for a recall at k (as MTEB's cards type retrieval; `mean_recall` for
  the mean of the six retrieval recalls), `text_score` / `image_score` / `group_score` for the scores of
  Winoground and of the other two-images x two-captions benchmarks, `pair_accuracy` / `set_accuracy` for MMVP's
  and What'sUp's pair (and set) rules, `accuracy` for the caption-choice accuracies and zero-shot top-k
  (`metric_args: {top_k: ...}`). `metric_name` is the metric's key in `results.json`. A metric its spec does not
  know is left out of `model-index` with a warning naming it; a benchmark whose spec declares no types has its
  metrics typed as caption-choice accuracies, with a warning (every registered benchmark declares them).
- Task: `image-text-matching` for choosing among candidate captions or images (the Hub has no task id for it:
  it is not classifying an image into labels), `zero-shot-image-classification` for zero-shot classification,
  `image-text-retrieval` for retrieval (no Hub task id either), `sentence-similarity` for SugarCrepe++'s
  text-only task (`tot/...`).
- Order-blind ceilings (`bow_ceiling/<metric>`, `evaluation/bow.PREFIX`: the best score a scorer blind to word
  order could reach, a property of the benchmark's captions, not of the model) are left out of `model-index`; the
  card's table shows them in a column beside the scores they bound.
- Dataset (`BenchmarkSpec.dataset`): `dataset.type` is a Hub dataset id where the benchmark's authors publish it
  there and the runner reads those files (`facebook/winoground`), otherwise the benchmark's own short name, never
  a made-up Hub id; a benchmark without one (`zeroshot`, whose dataset is chosen at run time, or a name of your
  own) keeps its name as `dataset.type` and `dataset.name`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .card_plots import PLOT_TITLES, plot_training_curves
from .files import atomic_write

if TYPE_CHECKING:
    from .evaluation.spec import BenchmarkDataset, MetricType

logger = logging.getLogger(__name__)
TEMPLATE = Path(__file__).parent / "templates" / "model_card.md"
INTERPOLATION_TEMPLATE = Path(__file__).parent / "templates" / "interpolation_card.md"
CARD_NAME = "README.md"
PACKAGE_TAGS = ("ce-clip", "hard-negatives", "hf_finegrained", "compositionality")
# The family's own tags, first among the card's (`ModelFamily.model_class` -> tags): a SigLIP card is not a CLIP one.
FAMILY_TAGS = {"CLIPModel": ("clip",), "SiglipModel": ("siglip",), "Siglip2Model": ("siglip", "siglip2")}
ADAPTER_CONFIG = "adapter_config.json"  # what PEFT writes beside an adapter (`lora.ADAPTER_CONFIG`)
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")  # only a Hub id may go into the card's `base_model` metadata
_PRIVATE_ARGS = {"output_dir", "logging_dir", "hub_token", "hub_model_id", "push_to_hub", "run_name",
                 "resume_from_checkpoint", "deepspeed", "accelerator_config",
                 "dataloader_pin_memory",  # switched off by TrainingArguments on CPU
                 "license"}  # the card's metadata, not a hyperparameter


@dataclass
class CardInfo:
    """What a card says beyond the training arguments and the log history.

    `results` maps a benchmark name to its metrics (name -> fraction in [0, 1], as in results.json), e.g.
    `{"sugarcrepe": {"swap_obj": 0.61, "mean": 0.80}}`. `baselines` maps a model's label (e.g. "base",
    "plain fine-tune") to results of the same layout, shown as columns beside this model's (the card's
    metadata holds this model's results only).
    """

    model_name: str = "ce-clip"
    base_model: str | None = None
    repo_id: str | None = None
    dataset_name: str | None = None
    num_train_rows: int | None = None
    negative_coverage: dict[str, int] = field(default_factory=dict)
    data_checks: dict[str, int] = field(default_factory=dict)  # `ValidationReport.card_entries()` of the train set
    data_checks_when: str = "before training"  # a stream's rows are checked "as the stream was read"
    skipped_rows: list[str] = field(default_factory=list)  # a stream's first bad rows, named, with their reason
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    baselines: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # beside the package's own tags (`PACKAGE_TAGS`)
    language: str | list[str] | None = None
    license: str | None = None
    # The trade-off between composition and general ability (`hf_finegrained.synthetic.tradeoff`): a Markdown table and
    # the file name of its plot in the card's folder.
    tradeoff_table: str | None = None
    tradeoff_plot: str | None = None
    architecture: str = "CLIPModel"  # the model class (`ModelFamily.model_class`)
    contrastive: str = "softmax"  # the loss form (`ModelFamily.contrastive`)

    def update(self, model_name: str | None = None, base_model: str | None = None, dataset_name: str | None = None,
               tags: str | list[str] | None = None, language: str | list[str] | None = None,
               license: str | None = None) -> None:
        """Sets the fields given (not None); `tags` are added to the card's own."""
        self.model_name = model_name or self.model_name
        self.base_model = base_model or self.base_model
        self.dataset_name = dataset_name or self.dataset_name
        self.tags = list(dict.fromkeys(self.tags + ([tags] if isinstance(tags, str) else list(tags or []))))
        self.language = language or self.language
        self.license = license or self.license


# A snapshot folder of the Hugging Face cache: `.../models--<org>--<name>/snapshots/<revision>`.
_HUB_CACHE_SNAPSHOT = re.compile(r"(?:^|[/\\])models--(?P<repo>[^/\\]+)[/\\]snapshots[/\\][^/\\]+[/\\]?$")


def public_name(name_or_path: str | os.PathLike | None) -> str | None:
    """A Hub id stays as is; a local folder becomes the Hub id it is a cached snapshot of (a folder of the Hugging
    Face cache, `models--<org>--<name>/snapshots/<revision>`), else its last component, so no local path is
    published."""
    if not name_or_path:
        return None
    name_or_path = os.fspath(name_or_path)
    if os.path.isabs(name_or_path) or os.path.exists(name_or_path):
        cached = _HUB_CACHE_SNAPSHOT.search(name_or_path)
        if cached:  # the cache writes `/` of the id as `--`, which Hub ids cannot hold themselves
            return cached["repo"].replace("--", "/")
        return Path(name_or_path).name or None
    return name_or_path


def hub_id(name: str | None) -> str | None:
    """`name` when it is a Hub model id (`org/name`, `huggingface_hub.utils.validate_repo_id`'s rules) and not a
    local path, else None."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if not name or not _HUB_ID.fullmatch(name) or os.path.exists(name):
        return None
    try:
        validate_repo_id(name)
    except HFValidationError:
        return None
    return name


def base_license(name_or_path: str | os.PathLike | None) -> str | None:
    """The licence of a base model where it is known without the network: the `license` of its own card, read from
    its folder (a local model, or a snapshot of the Hugging Face cache) or from the cache for a Hub id whose
    README.md is cached; None when none of those holds one (never guessed from the name)."""
    if not name_or_path:
        return None
    name_or_path = os.fspath(name_or_path)
    card_path = os.path.join(name_or_path, CARD_NAME) if os.path.isdir(name_or_path) else None
    if card_path is None and hub_id(name_or_path):
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name_or_path, CARD_NAME)
        card_path = cached if isinstance(cached, str) else None
    if not card_path or not os.path.isfile(card_path):
        return None
    try:
        license = ModelCard.load(card_path).data.license
    except Exception as error:  # an unreadable card of the base must not stop training
        logger.warning("model card: could not read the licence of the base's card %s: %s", card_path, error)
        return None
    return license if isinstance(license, str) and license else None


def adapter_settings(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The LoRA settings of the PEFT adapter saved in `folder` (its adapter_config.json), None when it holds none."""
    import json

    path = os.path.join(folder, ADAPTER_CONFIG)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    targets = config.get("target_modules")
    return {
        "peft_type": config.get("peft_type", "LORA"),
        "r": config.get("r"),
        "lora_alpha": config.get("lora_alpha"),
        "lora_dropout": config.get("lora_dropout"),
        "target_modules": sorted(targets) if isinstance(targets, (list, set, tuple)) else targets,
        "bias": config.get("bias"),
        "base_model_name_or_path": config.get("base_model_name_or_path"),
    }


def curves_note(log_history: list[dict[str, float]], plots: list[str], args: Any) -> str | None:
    """Why the card shows no training curves (nothing logged yet), or that they hold one point each; None when
    they show a trend."""
    losses = [entry["step"] for entry in log_history if "loss" in entry and "step" in entry]
    steps = max((entry.get("step", 0) for entry in log_history), default=0)
    every = getattr(args, "logging_steps", None)
    if isinstance(every, (int, float)) and every >= 1:
        every_text = f"every {every:g} steps"
    else:  # TrainingArguments reads a value below 1 as a share of the run's steps
        every_text = f"every {every} of the run's steps"
    if not plots:
        return (f"No training curves: the run logged no loss ({steps} optimizer steps logged, losses logged "
                f"{every_text}); a run longer than one logging interval, or a smaller `--logging_steps`, draws them.")
    if len(losses) < 2:
        return (f"The curves hold {len(losses)} logged point (losses logged {every_text}): too few to show a trend; "
                "a smaller `--logging_steps` draws more.")
    return None


def _field_defaults(cls: type) -> dict[str, Any]:
    defaults = {}
    for item in dataclasses.fields(cls):
        if item.default is not dataclasses.MISSING:
            defaults[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            defaults[item.name] = item.default_factory()
    return defaults


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def changed_hyperparameters(args: Any) -> dict[str, Any]:
    """Arguments whose value differs from the dataclass default, minus paths, tokens and Hub settings.

    Defaults are read from the dataclass fields: building a second `TrainingArguments` mid-training would
    reset accelerate's global state.
    """
    defaults = {key: _plain(value) for key, value in _field_defaults(type(args)).items()}
    changed = {}
    for key, value in args.to_dict().items():
        if key in _PRIVATE_ARGS or key.startswith("_") or "token" in key or key not in defaults:
            continue
        empty = ([], None, "", False, "none", ["none"])
        if value == defaults[key] or (value in empty and defaults[key] in empty):
            continue
        if isinstance(value, str) and os.path.isabs(value):
            continue
        changed[key] = value
    return changed


# `examples/train.py` scores its synthetic world as "synthetic_<group>" (groups of `synthetic.evaluation.score_world`):
# not a registered benchmark, so its dataset entry and the types of its metrics are here.
_SYNTHETIC = {"synthetic": (None, ""), "synthetic_seen": ("seen", ", seen combinations"),
              "synthetic_held_out": ("held_out", ", held-out combinations"),
              "synthetic_general": ("general", ", general probes")}


def _synthetic_metric_type(metric: str) -> MetricType:
    """The synthetic world's general probes (`zeroshot_top1`, `i2t_R@1`, `t2i_R@1`); every other metric of it is a
    caption-choice accuracy."""
    from .evaluation.spec import ZERO_SHOT_TASK, MetricType, recall_at

    if metric == "zeroshot_top1":
        return MetricType(task=ZERO_SHOT_TASK, args={"top_k": 1})
    if metric in ("i2t_R@1", "t2i_R@1"):
        return recall_at(1)
    return MetricType()


def _spec(benchmark: str) -> Any:
    from .evaluation.runner import BENCHMARKS  # lazily: the evaluation package is large

    return BENCHMARKS.get(benchmark)


def benchmark_dataset(benchmark: str) -> BenchmarkDataset:
    """The `model-index` dataset of a benchmark name (a key of `CardInfo.results`): its spec's `dataset`, the
    synthetic world's entry, else the name itself."""
    from .evaluation.spec import BenchmarkDataset

    spec = _spec(benchmark)
    if spec is not None and spec.dataset is not None:
        return spec.dataset
    if benchmark in _SYNTHETIC:
        group, label = _SYNTHETIC[benchmark]
        return BenchmarkDataset("hf_finegrained-synthetic-world", f"hf_finegrained synthetic compositional world{label}",
                                group, None)
    return BenchmarkDataset(benchmark, benchmark, None, None)


def _metric_types(benchmark: str) -> Callable[[str], MetricType]:
    """How `benchmark` types its metrics: its spec's `metric_types`, the synthetic world's, or (a benchmark that
    declares none, or a name of your own) caption-choice accuracy, with a warning."""
    from .evaluation.spec import choice_accuracy

    spec = _spec(benchmark)
    if spec is not None and spec.metric_types is not None:
        return spec.metric_types
    if benchmark in _SYNTHETIC:
        return _synthetic_metric_type
    logger.warning("model card: %r declares no metric types (BenchmarkSpec.metric_types): its metrics are typed as "
                   "caption-choice accuracies in model-index.", benchmark)
    return choice_accuracy


def eval_results(results: dict[str, dict[str, float]]) -> list[EvalResult]:
    """One `EvalResult` per (benchmark, metric) of `results` (fractions), typed by the benchmark's spec (module
    docstring); order-blind ceilings (`bow_ceiling/...`) are not the model's scores and are left out, and so is a
    metric its spec does not know (with a warning naming it)."""
    from .evaluation.bow import PREFIX as CEILING

    out = []
    for benchmark, metrics in results.items():
        dataset, typed = benchmark_dataset(benchmark), _metric_types(benchmark)
        for metric, value in metrics.items():
            if metric.startswith(CEILING):
                continue
            try:
                kind = typed(metric)
            except ValueError as error:
                logger.warning("model card: %s/%s left out of model-index: %s", benchmark, metric, error)
                continue
            out.append(EvalResult(
                task_type=kind.task[0], task_name=kind.task[1], dataset_type=dataset.type, dataset_name=dataset.name,
                dataset_config=dataset.config, dataset_split=dataset.split, metric_type=kind.type,
                metric_name=metric, metric_args=dict(kind.args) if kind.args else None,
                metric_value=round(float(value), 6),
            ))
    return out


def results_markdown(results: dict[str, dict[str, float]],
                     baselines: dict[str, dict[str, dict[str, float]]] | None = None) -> str:
    """One row per (benchmark, metric), values in percent (the card's metadata holds fractions): one column per
    baseline, then this model's. Where the results hold order-blind ceilings (`bow_ceiling/<metric>`), they
    fill a last column beside the metric they bound (a property of the captions: the same for every model)."""
    from .evaluation.bow import PREFIX as CEILING  # lazily: the evaluation package is large

    baselines = baselines or {}
    columns = [results, *baselines.values()]
    with_ceilings = any(key.startswith(CEILING) for metrics in columns for m in metrics.values() for key in m)
    header = "| benchmark | metric | " + "".join(f"{label} | " for label in baselines) + ("this model |" if baselines else "score |")
    header += " order-blind ceiling |" if with_ceilings else ""
    rows = [header, "|---|---|" + "---|" * (len(baselines) + 1 + with_ceilings)]
    for benchmark, metrics in results.items():
        for metric, value in metrics.items():
            if metric.startswith(CEILING):
                continue
            others = [baseline.get(benchmark, {}).get(metric) for baseline in baselines.values()]
            cells = "".join("- | " if v is None else f"{100 * v:.1f} | " for v in others)
            row = f"| {benchmark} | {metric} | {cells}{100 * value:.1f} |"
            if with_ceilings:
                ceiling = next((m[benchmark][CEILING + metric] for m in columns
                                if CEILING + metric in m.get(benchmark, {})), None)
                row += " - |" if ceiling is None else f" {100 * ceiling:.1f} |"
            rows.append(row)
    if len(rows) == 2:
        return ""
    if with_ceilings:
        rows += ["", "Order-blind ceiling: the best score a scorer blind to word order could reach on the same "
                     "items (a negative with the same words as its right caption is a tie for it, counted as the "
                     "benchmark counts ties); far below 100 where the negatives are word swaps."]
    return "\n".join(rows)


def card_tags(architecture: str, extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The family's tags (`FAMILY_TAGS`), the package's, then `extra`, without repeats."""
    return list(dict.fromkeys(FAMILY_TAGS.get(architecture, ()) + PACKAGE_TAGS + tuple(extra)))


def render_model_card(args: Any, negative_types: list[str], thresholds: dict[str, float], info: CardInfo,
                      plots: list[str], adapter: dict[str, Any] | None = None,
                      curves: str | None = None) -> ModelCard:
    """Fills the package template; `model-index` gets one `EvalResult` per benchmark metric (`eval_results`).

    `adapter`: the LoRA settings of a PEFT adapter folder (`adapter_settings`), which makes it an adapter card
    (`library_name: peft`, `base_model_relation: adapter` when the base is a Hub id, loading through
    `PeftModel`). `curves`: why the card shows no (or too few) training curves (`curves_note`)."""
    repo_id = info.repo_id or info.model_name
    base = hub_id(info.base_model)
    license = info.license or getattr(args, "license", None)
    card_data = ModelCardData(
        model_name=info.model_name,
        base_model=base,
        base_model_relation="adapter" if adapter and base else None,
        library_name="peft" if adapter else "transformers",
        pipeline_tag="zero-shot-image-classification",
        tags=card_tags(info.architecture, (("lora", "peft") if adapter else ()) + tuple(info.tags)),
        language=info.language,
        license=license,
        eval_results=eval_results(info.results) or None,
    )
    total = info.num_train_rows or 0
    coverage = [
        {"name": name, "count": info.negative_coverage.get(name, "n/a"),
         "share": f"{100 * info.negative_coverage[name] / total:.1f}%" if total and name in info.negative_coverage
         else "n/a"}
        for name in negative_types
    ]
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        model_name=info.model_name,
        repo_id=repo_id,
        base_model=info.base_model,
        results_table=results_markdown(info.results, info.baselines),
        dataset_name=info.dataset_name,
        num_train_rows=info.num_train_rows,
        coverage=coverage,
        data_checks=info.data_checks,
        data_checks_when=info.data_checks_when,
        skipped_rows=info.skipped_rows,
        imc_weight=args.imc_weight,
        cmr_weight=args.cmr_weight,
        distill_weight=getattr(args, "distill_weight", 0.0),
        distill_teacher=getattr(args, "distill_teacher", None),
        architecture=info.architecture,
        contrastive=info.contrastive,
        tradeoff_table=info.tradeoff_table,
        tradeoff_plot=info.tradeoff_plot,
        threshold_upper_bound=args.threshold_upper_bound,
        threshold_units=getattr(args, "threshold_units", "logit"),
        final_thresholds=thresholds,
        plots=[{"file": plot, "title": PLOT_TITLES.get(plot, plot)} for plot in plots],
        curves_note=curves,
        hyperparameters=changed_hyperparameters(args),
        adapter=adapter,
        base_is_hub_id=base is not None,
    )


def interpolation_card(base: str, finetuned: str, alpha: float, architecture: str = "CLIPModel",
                       license: str | None = None) -> ModelCard:
    """The card of a weight-space interpolation: both parents (Hub ids as the `base_model` list with
    `base_model_relation: merge`, a local folder by its name only, in the text) and alpha. `license`: default the
    fine-tuned parent's card's, else the base's (`base_license`), else none."""
    parents = [public_name(base), public_name(finetuned)]
    name = f"interpolation-alpha-{alpha:g}"
    hub_parents = [p for p in map(hub_id, parents) if p]
    card_data = ModelCardData(
        model_name=name,
        base_model=hub_parents or None,
        base_model_relation="merge" if hub_parents else None,  # a relation needs a base_model to relate to
        library_name="transformers",
        pipeline_tag="zero-shot-image-classification",
        tags=card_tags(architecture, ("weight-interpolation", "wise-ft")),
        license=license or base_license(finetuned) or base_license(base),
    )
    return ModelCard.from_template(card_data, template_path=str(INTERPOLATION_TEMPLATE), model_name=name,
                                   repo_id=name, architecture=architecture, alpha=f"{alpha:g}",
                                   base=parents[0], finetuned=parents[1])


def write_model_card(output_dir: str, args: Any, log_history: list[dict[str, float]], negative_types: list[str],
                     thresholds: dict[str, float], info: CardInfo) -> bool:
    """Renders README.md and the plots into `output_dir`; logs and returns False on any failure (never raises).

    A folder holding a PEFT adapter (adapter_config.json: a LoRA run's output and checkpoints) gets an adapter card;
    a folder of plain weights (a LoRA run's `merged/`, a full fine-tune) the model card.
    """
    try:
        plots = plot_training_curves(log_history, negative_types, output_dir, getattr(args, "threshold_units", "logit"))
        card = render_model_card(args, negative_types, thresholds, info, plots, adapter_settings(output_dir),
                                 curves_note(log_history, plots, args))
        atomic_write(os.path.join(output_dir, CARD_NAME), lambda handle: handle.write(str(card)))
        return True
    except Exception as error:  # a card must never break a save
        logger.warning("Could not write the model card in %s: %s: %s", output_dir, type(error).__name__, error)
        return False


def results_from_report(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """`CardInfo.results` from a results JSON of `hf_finegrained.evaluation.run_benchmarks` (skipped ones left out)."""
    return {
        name: dict(entry["metrics"])
        for name, entry in report.get("benchmarks", {}).items()
        if entry.get("status") == "ok" and entry.get("metrics")
    }
