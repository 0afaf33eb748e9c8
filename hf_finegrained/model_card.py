"""Model cards rendered from a template plus data collected during training, with two training plots.

The card holds the base model, the data and its per-type negative coverage, the loss weights, the
final thresholds, the hyperparameters that differ from the defaults, benchmark results (also as
`model-index` entries) and the paper's citation. It never holds tokens or absolute local paths.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

logger = logging.getLogger(__name__)
TEMPLATE = Path(__file__).parent / "templates" / "model_card.md"
LOSS_PLOT = "loss_curves.png"
THRESHOLD_PLOT = "threshold_curves.png"
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")  # only a Hub id may go into the card's `base_model` metadata
_PRIVATE_ARGS = {"output_dir", "logging_dir", "hub_token", "hub_model_id", "push_to_hub", "run_name",
                 "resume_from_checkpoint", "deepspeed", "accelerator_config",
                 "dataloader_pin_memory"}  # the last one is switched off by TrainingArguments on CPU


@dataclass
class CardInfo:
    """What a card says beyond the training arguments and the log history.

    `results` maps a benchmark name to its metrics (name -> value in [0, 1]), e.g.
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
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    baselines: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


def public_name(name_or_path: str | None) -> str | None:
    """A Hub id stays as is; a local folder becomes its last component, so no local path is published."""
    if not name_or_path:
        return None
    if os.path.isabs(name_or_path) or os.path.exists(name_or_path):
        return Path(name_or_path).name or None
    return name_or_path


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


def _series(log_history: list[dict[str, float]], key: str) -> tuple[list[int], list[float]]:
    points = [(entry["step"], entry[key]) for entry in log_history if key in entry and "step" in entry]
    return [p[0] for p in points], [p[1] for p in points]


def plot_training_curves(log_history: list[dict[str, float]], negative_types: list[str], output_dir: str) -> list[str]:
    """Writes the loss components and the per-type thresholds over steps; returns the file names written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    plots = [
        (LOSS_PLOT, "Loss components", [("loss", "total"), ("itc_loss", "ITC-hn"), ("imc_loss", "IMC"),
                                        ("cmr_loss", "CMR")]),
        (THRESHOLD_PLOT, "Adaptive CMR thresholds", [(f"threshold/{n}", n) for n in negative_types]),
    ]
    for filename, title, keys in plots:
        series = [(label, *_series(log_history, key)) for key, label in keys]
        series = [s for s in series if s[1]]
        if not series:
            continue
        figure, axis = plt.subplots(figsize=(6, 3.5))
        for label, steps, values in series:
            axis.plot(steps, values, label=label)
        axis.set_xlabel("step")
        axis.set_title(title)
        axis.legend(fontsize="small")
        figure.tight_layout()
        figure.savefig(os.path.join(output_dir, filename), dpi=100)
        plt.close(figure)
        written.append(filename)
    return written


def results_markdown(results: dict[str, dict[str, float]],
                     baselines: dict[str, dict[str, dict[str, float]]] | None = None) -> str:
    """One row per (benchmark, metric), values in percent: one column per baseline, then this model's."""
    baselines = baselines or {}
    header = "| benchmark | metric | " + "".join(f"{label} | " for label in baselines) + ("this model |" if baselines else "score |")
    rows = [header, "|---|---|" + "---|" * (len(baselines) + 1)]
    for benchmark, metrics in results.items():
        for metric, value in metrics.items():
            others = [baseline.get(benchmark, {}).get(metric) for baseline in baselines.values()]
            cells = "".join("- | " if v is None else f"{100 * v:.1f} | " for v in others)
            rows.append(f"| {benchmark} | {metric} | {cells}{100 * value:.1f} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def render_model_card(args: Any, log_history: list[dict[str, float]], negative_types: list[str],
                      thresholds: dict[str, float], info: CardInfo, plots: list[str]) -> ModelCard:
    """Fills the package template; `model-index` gets one `EvalResult` per benchmark metric."""
    repo_id = info.repo_id or info.model_name
    eval_results = [
        EvalResult(task_type="zero-shot-image-classification", dataset_type=benchmark, dataset_name=benchmark,
                   metric_type="accuracy", metric_name=metric, metric_value=round(100 * value, 2))
        for benchmark, metrics in info.results.items()
        for metric, value in metrics.items()
    ]
    card_data = ModelCardData(
        model_name=info.model_name,
        base_model=info.base_model if info.base_model and _HUB_ID.fullmatch(info.base_model) else None,
        library_name="transformers",
        pipeline_tag="zero-shot-image-classification",
        tags=["clip", "ce-clip", "hard-negatives", "hf_finegrained", "compositionality"],
        eval_results=eval_results or None,
    )
    total = info.num_train_rows or 0
    coverage = [
        {"name": name, "count": info.negative_coverage.get(name, "n/a"),
         "share": f"{100 * info.negative_coverage[name] / total:.1f}%" if total and name in info.negative_coverage
         else "n/a"}
        for name in negative_types
    ]
    titles = {LOSS_PLOT: "Loss components over steps", THRESHOLD_PLOT: "Per-type thresholds over steps"}
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
        imc_weight=args.imc_weight,
        cmr_weight=args.cmr_weight,
        threshold_upper_bound=args.threshold_upper_bound,
        final_thresholds=thresholds,
        plots=[{"file": plot, "title": titles.get(plot, plot)} for plot in plots],
        hyperparameters=changed_hyperparameters(args),
    )


def write_model_card(output_dir: str, args: Any, log_history: list[dict[str, float]], negative_types: list[str],
                     thresholds: dict[str, float], info: CardInfo) -> bool:
    """Renders README.md and the plots into `output_dir`; logs and returns False on any failure (never raises)."""
    try:
        plots = plot_training_curves(log_history, negative_types, output_dir)
        card = render_model_card(args, log_history, negative_types, thresholds, info, plots)
        card.save(os.path.join(output_dir, "README.md"))
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
