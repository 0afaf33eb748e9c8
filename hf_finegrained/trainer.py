"""`FineGrainedTrainer`: a `transformers.Trainer` whose loss is CE-CLIP's ITC-hn + IMC + CMR.

The trainer only orchestrates: the maths lives in `losses.FineGrainedLoss`, batching in
`collator.FineGrainedCollator`, the data checks in `validation`.

What a failure never loses or hides:

- A kill during a save leaves a partial checkpoint; `train(resume_from_checkpoint=True)` takes the newest
  *complete* one (`checkpoint_problems`) and logs every newer one it skips, with the reason. A partial folder
  named explicitly is refused.
- The package's own files (`finegrained_state.json`, the model card and its plots) are written atomically.
  A save over an existing one removes them before writing the weights and writes them after, so the
  thresholds and card beside a set of weights are always theirs or absent, never those of older weights.
- Resuming without `finegrained_state.json` is an error unless `resume_without_loss_state=True`.
- A non-finite training loss stops training before its backward pass (or, with `skip_non_finite_steps=True`,
  skips the optimizer step and counts it); thresholds are never non-finite and are saved as strict JSON.
- `training_args.bin` never holds the Hub token (see `FineGrainedTrainingArguments.__getstate__`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections import defaultdict
from typing import Any

import torch
from torch import nn
from transformers import Trainer, TrainerCallback
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .checkpoints import JIT_SENTINEL, checkpoint_problems, last_complete_checkpoint
from .collator import FineGrainedCollator, defer_image_decoding
from .distributed import all_ranks_true
from .losses import FineGrainedLoss
from .model_card import CARD_NAME, LOSS_PLOT, THRESHOLD_PLOT, CardInfo, atomic_write, public_name, write_model_card
from .training_args import FineGrainedTrainingArguments
from .validation import negative_coverage, validate_dataset

logger = logging.getLogger(__name__)
STATE_NAME = "finegrained_state.json"
OWN_FILES = (STATE_NAME, CARD_NAME, LOSS_PLOT, THRESHOLD_PLOT)  # what this package writes beside the weights


def _strict_json_constant(name: str) -> float:
    raise ValueError(f"non-finite value {name} (strict JSON has no NaN or Infinity)")


def unwrap(model: nn.Module) -> nn.Module:
    """The CLIP model under DDP/accelerate (`.module`) and PEFT (`.get_base_model()`) wrappers."""
    while hasattr(model, "module"):
        model = model.module
    if hasattr(model, "get_base_model"):
        model = model.get_base_model()
    return model


def encode_batch(model: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor | None]:
    """One forward of `model` (so DDP hooks fire) on the images and the B + M texts of a collated batch.

    Returns `image_embeds` [B,D], `text_embeds` [B,D], `negative_embeds` [B,K,D] (zeros where the mask is
    False; None without negatives), `negative_mask` [B,K] and `logit_scale` (exponentiated, 0-d).
    """
    outputs = model(
        input_ids=inputs["input_ids"],
        attention_mask=inputs["attention_mask"],
        pixel_values=inputs["pixel_values"],
    )
    image_embeds = outputs.image_embeds
    batch = image_embeds.shape[0]
    texts = outputs.text_embeds
    mask = inputs.get("negative_mask")
    negative_embeds = None
    if mask is not None:
        if texts.shape[0] != batch + int(mask.sum()):
            raise ValueError(
                f"got {texts.shape[0]} texts for {batch} captions and {int(mask.sum())} valid negatives; "
                "the batch was not built by FineGrainedCollator"
            )
        flat = texts.new_zeros(batch * mask.shape[1], texts.shape[1])
        positions = mask.reshape(-1).nonzero().squeeze(1)
        negative_embeds = flat.index_put((positions,), texts[batch:]).reshape(batch, mask.shape[1], -1)
    return {
        "image_embeds": image_embeds,
        "text_embeds": texts[:batch],
        "negative_embeds": negative_embeds,
        "negative_mask": mask,
        "logit_scale": unwrap(model).logit_scale.exp(),
    }


class LogitScaleClampCallback(TrainerCallback):
    """Clamps CLIP's `logit_scale` (log space) to [0, max] after every optimizer step, as CLIP does."""

    def __init__(self, maximum: float) -> None:
        self.maximum = maximum

    def on_optimizer_step(self, args, state, control, model=None, **kwargs) -> None:
        if model is not None:
            with torch.no_grad():
                unwrap(model).logit_scale.clamp_(0.0, self.maximum)


class SkipNonFiniteStepCallback(TrainerCallback):
    """Drops every gradient just before an optimizer step one of whose micro-batches had a non-finite loss.

    That micro-batch's backward still runs (under DDP every rank must take part) and leaves NaN gradients;
    parameters without a gradient are left alone by the optimizer, moments and weight decay included.
    """

    def __init__(self) -> None:
        self.pending = False

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs) -> None:
        if self.pending and model is not None:
            model.zero_grad(set_to_none=True)
        self.pending = False


class FineGrainedTrainer(Trainer):
    """Fine-tunes a `CLIPModel` with the CE-CLIP loss on rows of `image`, `caption`, `hard_negatives`.

    Without a `data_collator` one is built from `processing_class` (a `CLIPProcessor`). Datasets are
    validated at construction when `args.validate_data` is True. Every loss component, the logit scale and
    each threshold (`threshold/<type name>`) are logged, for training and (prefixed `eval_`) evaluation.
    The thresholds are written to `finegrained_state.json` beside every saved model and checkpoint and are
    restored by `train(resume_from_checkpoint=...)`. Checkpoints are plain `CLIPModel` weights. See the module
    docstring for what happens on kills, partial checkpoints and non-finite losses.
    """

    args: FineGrainedTrainingArguments

    def __init__(
        self,
        model: nn.Module,
        args: FineGrainedTrainingArguments,
        data_collator: Any = None,
        train_dataset: Any = None,
        eval_dataset: Any = None,
        processing_class: Any = None,
        loss_fn: FineGrainedLoss | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(args, FineGrainedTrainingArguments):
            raise TypeError("FineGrainedTrainer needs FineGrainedTrainingArguments (it holds the loss settings).")
        types = list(args.negative_types) if args.use_hard_negatives else []
        if data_collator is None:
            if processing_class is None:
                raise ValueError("Pass processing_class=CLIPProcessor(...) or a data_collator.")
            max_length = args.max_text_length or unwrap(model).config.text_config.max_position_embeddings
            data_collator = FineGrainedCollator(
                processing_class, types, max_length=max_length, include_negatives=args.use_hard_negatives
            )
        reports = {}
        if args.validate_data:
            for name, dataset in (("train_dataset", train_dataset), ("eval_dataset", eval_dataset)):
                for split, data in (dataset.items() if isinstance(dataset, dict) else [(None, dataset)]):
                    if data is not None:
                        label = f"{name}[{split!r}]" if split else name
                        reports[label] = validate_dataset(data, types, include_negatives=args.use_hard_negatives,
                                                          name=label, collator=data_collator)
                        if reports[label].rows:  # 0: an iterable dataset, not read ahead (validate_dataset warned)
                            logger.info("%s: %d rows validated.", label, reports[label].rows)
        if isinstance(data_collator, FineGrainedCollator):  # it decodes images itself, naming any unreadable file
            train_dataset, eval_dataset = defer_image_decoding(train_dataset), defer_image_decoding(eval_dataset)
        super().__init__(
            model=model,
            args=args,
            data_collator=data_collator,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processing_class,
            **kwargs,
        )
        self.loss_fn = loss_fn or FineGrainedLoss(
            num_negative_types=len(types),
            imc_weight=args.imc_weight,
            cmr_weight=args.cmr_weight,
            threshold_upper_bound=args.threshold_upper_bound,
            use_hard_negatives=args.use_hard_negatives,
            gather_across_devices=args.gather_across_devices,
            fixed_threshold=args.fixed_threshold,
        )
        if self.loss_fn.num_negative_types != len(types):
            raise ValueError(f"loss_fn has {self.loss_fn.num_negative_types} types but args name {len(types)}.")
        self.negative_types = types
        # The loss is already a batch mean: the Trainer must divide it by gradient accumulation itself.
        self.model_accepts_loss_kwargs = False
        self.add_callback(LogitScaleClampCallback(args.logit_scale_max))
        if args.skip_non_finite_steps and self.is_deepspeed_enabled:
            raise ValueError("skip_non_finite_steps=True cannot skip steps under DeepSpeed, whose engine applies "
                             "the gradients itself; leave it False (a non-finite loss then stops training).")
        self.non_finite_steps_skipped = 0
        self._trained_rows, self._trained_negatives = 0, torch.zeros(len(types or []), dtype=torch.long)
        self._skip_step = SkipNonFiniteStepCallback()
        self.add_callback(self._skip_step)
        self._metrics: dict[str, dict[str, list[float]]] = {"train": defaultdict(list), "eval": defaultdict(list)}
        single_train = train_dataset if not isinstance(train_dataset, dict) else None
        self.card_info = CardInfo(
            model_name=os.path.basename(os.path.normpath(args.output_dir)),
            base_model=public_name(getattr(unwrap(model).config, "_name_or_path", None)),
            repo_id=args.hub_model_id,
            num_train_rows=len(single_train) if hasattr(single_train, "__len__") else None,
            negative_coverage=(negative_coverage(single_train, types) or {}) if types else {},
            data_checks=reports["train_dataset"].card_entries() if "train_dataset" in reports else {},
        )

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ):
        encoded = encode_batch(model, inputs)
        self.loss_fn.to(encoded["image_embeds"].device)
        self.loss_fn.train(model.training)
        thresholds = self.loss_fn.thresholds.clone()
        out = self.loss_fn(**encoded)
        loss = out["loss"]
        if model.training and not all_ranks_true(bool(torch.isfinite(loss)), loss.device):
            self.loss_fn.thresholds.copy_(thresholds)  # a step that does not count moves no threshold
            self._non_finite_loss(out, encoded["logit_scale"])
        else:
            self._record(out, encoded["logit_scale"], "train" if model.training else "eval")
            if model.training and "negative_mask" in inputs:
                self._trained_rows += len(inputs["negative_mask"])
                self._trained_negatives += inputs["negative_mask"].sum(0).cpu()
        return (loss, out) if return_outputs else loss

    def _non_finite_loss(self, out: dict[str, torch.Tensor], logit_scale: torch.Tensor) -> None:
        """Raises, or (`skip_non_finite_steps`) marks the current optimizer step to be skipped and counts it."""
        step = self.state.global_step + 1
        value = out["loss"].item()
        where = " on another process" if math.isfinite(value) else ""
        details = ", ".join(f"{key}={out[key].item():.4g}" for key in ("itc_loss", "imc_loss", "cmr_loss"))
        details += f", logit_scale={logit_scale.item():.4g}"
        if not self.args.skip_non_finite_steps:
            raise FloatingPointError(
                f"non-finite loss ({value}){where} at step {step} ({details}). Training stopped before the "
                "backward pass of this step; nothing of it was applied or saved. Look for NaN/inf inputs or "
                "weights (a learning rate too high?), resume from the last checkpoint, or set "
                "skip_non_finite_steps=True (--skip_non_finite_steps) to skip such steps and count them."
            )
        self._skip_step.pending = True
        self.non_finite_steps_skipped += 1
        logger.warning("Non-finite loss (%s)%s at step %d (%s): the step is skipped (%d skipped so far).",
                       value, where, step, details, self.non_finite_steps_skipped)

    def _record(self, out: dict[str, torch.Tensor], logit_scale: torch.Tensor, mode: str) -> None:
        metrics = self._metrics[mode]
        for key in ("itc_loss", "imc_loss", "cmr_loss"):
            metrics[key].append(out[key].item())
        metrics["logit_scale"].append(logit_scale.item())
        for name, value in zip(self.negative_types, self.loss_fn.thresholds.tolist()):
            metrics[f"threshold/{name}"].append(value)

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """Returns the CE-CLIP loss of an eval batch (CLIPModel cannot compute it itself)."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), self.compute_loss_context_manager():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None

    def _averaged_metrics(self, mode: str) -> dict[str, float]:
        averaged = {key: sum(values) / len(values) for key, values in self._metrics[mode].items() if values}
        self._metrics[mode].clear()
        return averaged

    def evaluation_loop(self, dataloader, description, prediction_loss_only=None, ignore_keys=None,
                        metric_key_prefix: str = "eval"):
        """The usual loop; its metrics also hold the mean of every loss component, e.g. `eval_itc_loss`."""
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        for key, value in self._averaged_metrics("eval").items():
            output.metrics[f"{metric_key_prefix}_{key}"] = value
        return output

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:  # a training log: add the components averaged since the last one
            logs = {**logs, **self._averaged_metrics("train")}
            if self.args.skip_non_finite_steps:
                logs["non_finite_steps_skipped"] = self.non_finite_steps_skipped
        super().log(logs, start_time)

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Saves the weights, then the thresholds and the model card beside them, then pushes if asked.

        Over an existing save, the thresholds, card and plots are removed before the weights are written and
        written again after them: a kill in between leaves new weights without thresholds (resuming from
        them is then an error), never beside the thresholds and card of the old weights. Non-finite
        thresholds raise before anything is written.
        """
        output_dir = output_dir or self.args.output_dir
        self._threshold_values()
        if self.args.should_save:
            for name in OWN_FILES:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(output_dir, name))
        super().save_model(output_dir, _internal_call=True)
        if self.args.should_save:
            self.save_loss_state(output_dir)
            self.create_model_card(output_dir=output_dir)
        if self.args.push_to_hub and not _internal_call:
            self.push_to_hub(commit_message="Model save", revision=self.args.hub_revision)

    def create_model_card(
        self,
        output_dir: str | None = None,
        model_name: str | None = None,
        finetuned_from: str | None = None,
        tags: str | list[str] | None = None,
        language: str | list[str] | None = None,
        license: str | None = None,
        dataset: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Writes the CE-CLIP model card (README.md) and its two plots.

        The arguments of `Trainer.create_model_card` that the card can hold go into `trainer.card_info`:
        `model_name`, `finetuned_from` (the base model), `tags` (added to the package's), `language`, `license`
        and `dataset` (the data's name). Others (`tasks`, `dataset_tags`, `dataset_args`) are logged as unused.
        Fill `trainer.card_info` (dataset name, benchmark results) before saving to have them in the card. A
        dataset that could not be counted ahead (a stream) gets the coverage of the rows trained on (in this
        process), counted in `compute_loss`.
        """
        info = self.card_info
        info.model_name = model_name or info.model_name
        info.base_model = public_name(finetuned_from) or info.base_model
        info.dataset_name = dataset or info.dataset_name
        info.tags = list(dict.fromkeys(info.tags + ([tags] if isinstance(tags, str) else list(tags or []))))
        info.language = language or info.language
        info.license = license or info.license
        unused = sorted(key for key, value in kwargs.items() if value is not None)
        if unused:
            logger.warning("create_model_card: %s not used by the CE-CLIP card.", ", ".join(unused))
        if not self.card_info.negative_coverage and self._trained_rows:
            self.card_info.num_train_rows = self._trained_rows
            self.card_info.negative_coverage = dict(zip(self.negative_types, self._trained_negatives.tolist()))
        write_model_card(
            output_dir or self.args.output_dir,
            self.args,
            self.state.log_history,
            self.negative_types,
            dict(zip(self.negative_types, self.loss_fn.thresholds.tolist())),
            self.card_info,
        )

    def _threshold_values(self) -> dict[str, float]:
        """The thresholds by type name; a ValueError if one is not finite (the loss never makes one)."""
        values = dict(zip(self.negative_types, self.loss_fn.thresholds.tolist()))
        if not all(math.isfinite(value) for value in values.values()):
            raise ValueError(
                f"non-finite CMR thresholds {values}: nothing is saved. FineGrainedLoss never produces them; "
                "check the code that set `trainer.loss_fn.thresholds` or a custom loss_fn."
            )
        return values

    def save_loss_state(self, output_dir: str) -> None:
        """Writes the per-type thresholds (by name) and the count of skipped non-finite steps to
        `output_dir/finegrained_state.json`, atomically and as strict JSON."""
        state = {
            "negative_types": self.negative_types,
            "thresholds": self._threshold_values(),
            "non_finite_steps_skipped": self.non_finite_steps_skipped,
        }
        os.makedirs(output_dir, exist_ok=True)
        atomic_write(os.path.join(output_dir, STATE_NAME),
                     lambda handle: json.dump(state, handle, indent=2, allow_nan=False))

    def load_loss_state(self, checkpoint_dir: str) -> None:
        """Restores what `save_loss_state` wrote; type names must match the current run.

        A missing file is an error unless `args.resume_without_loss_state` (then a warning, and the thresholds
        keep their initial value).
        """
        path = os.path.join(checkpoint_dir, STATE_NAME)
        if not os.path.isfile(path):
            if not self.args.resume_without_loss_state:
                raise ValueError(
                    f"{path} is missing, so the CMR thresholds of this checkpoint are unknown; restarting them "
                    "would make the resumed run diverge from an uninterrupted one. Resume from a checkpoint "
                    "written by FineGrainedTrainer, or set resume_without_loss_state=True "
                    "(--resume_without_loss_state) to resume anyway with the thresholds restarting."
                )
            logger.warning(
                "%s is missing: resuming anyway (resume_without_loss_state=True); the CMR thresholds restart "
                "from %s, so this run diverges from an uninterrupted one.", path, self.loss_fn.thresholds.tolist()
            )
            return
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle, parse_constant=_strict_json_constant)
        except ValueError as error:
            raise ValueError(f"Cannot read {path}: {error}. Resume from another checkpoint.") from error
        if state["negative_types"] != self.negative_types:
            raise ValueError(
                f"{path} was written for negative types {state['negative_types']} but this run uses "
                f"{self.negative_types}; resume with the same --negative_types."
            )
        values = torch.tensor([state["thresholds"][name] for name in self.negative_types])
        self.loss_fn.thresholds.copy_(values)
        self.non_finite_steps_skipped = int(state.get("non_finite_steps_skipped", 0))

    def _checkpoint_to_resume(self, resume_from_checkpoint: str | bool) -> str:
        """The folder to resume from: the newest complete checkpoint for True, else the (complete) one named."""
        if resume_from_checkpoint is True:
            path, skipped = last_complete_checkpoint(self.args.output_dir)
            for name, problems in skipped.items():
                logger.warning("Not resuming from %s, left incomplete by an interrupted save: %s.",
                               os.path.join(self.args.output_dir, name), "; ".join(problems))
            if path is None:
                listed = "".join(f"\n- {name}: {'; '.join(problems)}" for name, problems in skipped.items())
                raise ValueError(
                    f"resume_from_checkpoint=True but there is no complete checkpoint in {self.args.output_dir}"
                    f"{listed}\nTrain without resume_from_checkpoint, or pass the folder of a complete checkpoint."
                )
            logger.info("Resuming from %s, the newest complete checkpoint.", path)
            return path
        path = str(resume_from_checkpoint)
        if not os.path.isdir(path):
            raise ValueError(f"resume_from_checkpoint={path!r} is not a folder.")
        problems = checkpoint_problems(path)
        if problems:
            newest, _ = last_complete_checkpoint(os.path.dirname(os.path.abspath(path)))
            hint = f" The newest complete checkpoint beside it is {newest}." if newest else ""
            raise ValueError(
                f"{path} is incomplete (an interrupted save?): {'; '.join(problems)}.{hint} Resume from a "
                "complete checkpoint, or with resume_from_checkpoint=True to take the newest complete one."
            )
        return path

    def train(self, resume_from_checkpoint: str | bool | None = None, *args: Any, **kwargs: Any):
        """`Trainer.train`, resuming only from a complete checkpoint and restoring the CMR thresholds too
        (any backend, DeepSpeed included). With `skip_non_finite_steps`, the returned metrics hold
        `non_finite_steps_skipped`."""
        if resume_from_checkpoint:
            resume_from_checkpoint = self._checkpoint_to_resume(resume_from_checkpoint)
            self.load_loss_state(resume_from_checkpoint)
        output = super().train(resume_from_checkpoint, *args, **kwargs)
        if self.args.skip_non_finite_steps:
            output.metrics["non_finite_steps_skipped"] = self.non_finite_steps_skipped
        return output

    def _save_checkpoint(self, model: nn.Module, trial: Any) -> None:
        """`Trainer._save_checkpoint`, first removing `trainer_state.json` (the file written last) when the
        folder already exists, so an overwrite cut short is never taken for a complete checkpoint; once the
        save is complete, the marker of an earlier interrupted just-in-time save of that step goes too."""
        folder = os.path.join(self._get_output_dir(trial=trial), f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
        if self.args.should_save:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, TRAINER_STATE_NAME))
        super()._save_checkpoint(model, trial)
        if self.args.should_save:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, JIT_SENTINEL))
