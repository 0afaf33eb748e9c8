"""`FineGrainedTrainer`: a `transformers.Trainer` whose loss is CE-CLIP's ITC-hn + IMC + CMR.

The trainer only orchestrates: the maths lives in `losses.FineGrainedLoss`, batching in
`collator.FineGrainedCollator`, the data checks in `validation`.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from typing import Any

import torch
from torch import nn
from transformers import Trainer, TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from .collator import FineGrainedCollator
from .losses import FineGrainedLoss
from .model_card import CardInfo, public_name, write_model_card
from .training_args import FineGrainedTrainingArguments
from .validation import negative_coverage, validate_dataset

logger = logging.getLogger(__name__)
STATE_NAME = "finegrained_state.json"


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


class FineGrainedTrainer(Trainer):
    """Fine-tunes a `CLIPModel` with the CE-CLIP loss on rows of `image`, `caption`, `hard_negatives`.

    Without a `data_collator` one is built from `processing_class` (a `CLIPProcessor`). Datasets are
    validated at construction when `args.validate_data` is True. Every loss component, the logit scale and
    each threshold (`threshold/<type name>`) are logged, for training and (prefixed `eval_`) evaluation.
    The thresholds are written to `finegrained_state.json` beside every saved model and checkpoint and are
    restored by `train(resume_from_checkpoint=...)`. Checkpoints are plain `CLIPModel` weights.
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
        if args.validate_data:
            for name, dataset in (("train_dataset", train_dataset), ("eval_dataset", eval_dataset)):
                for split, data in (dataset.items() if isinstance(dataset, dict) else [(None, dataset)]):
                    if data is not None:
                        label = f"{name}[{split!r}]" if split else name
                        rows = validate_dataset(data, types, include_negatives=args.use_hard_negatives, name=label)
                        if rows:  # 0: an iterable dataset, not read ahead (validate_dataset warned)
                            logger.info("%s: %d rows validated.", label, rows)
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
        self._metrics: dict[str, dict[str, list[float]]] = {"train": defaultdict(list), "eval": defaultdict(list)}
        single_train = train_dataset if not isinstance(train_dataset, dict) else None
        self.card_info = CardInfo(
            model_name=os.path.basename(os.path.normpath(args.output_dir)),
            base_model=public_name(getattr(unwrap(model).config, "_name_or_path", None)),
            repo_id=args.hub_model_id,
            num_train_rows=len(single_train) if hasattr(single_train, "__len__") else None,
            negative_coverage=(negative_coverage(single_train, types) or {}) if types else {},
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
        out = self.loss_fn(**encoded)
        self._record(out, encoded["logit_scale"], "train" if model.training else "eval")
        return (out["loss"], out) if return_outputs else out["loss"]

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
        super().log(logs, start_time)

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Saves the weights, then the thresholds and the model card beside them, then pushes if asked."""
        super().save_model(output_dir, _internal_call=True)
        if self.args.should_save:
            self.save_loss_state(output_dir or self.args.output_dir)
            self.create_model_card(output_dir=output_dir)
        if self.args.push_to_hub and not _internal_call:
            self.push_to_hub(commit_message="Model save", revision=self.args.hub_revision)

    def create_model_card(self, output_dir: str | None = None, **kwargs: Any) -> None:
        """Writes the CE-CLIP model card (README.md) and its two plots; `kwargs` of the base method are ignored.

        Fill `trainer.card_info` (dataset name, benchmark results) before saving to have them in the card.
        """
        write_model_card(
            output_dir or self.args.output_dir,
            self.args,
            self.state.log_history,
            self.negative_types,
            dict(zip(self.negative_types, self.loss_fn.thresholds.tolist())),
            self.card_info,
        )

    def save_loss_state(self, output_dir: str) -> None:
        """Writes the per-type thresholds (by name) to `output_dir/finegrained_state.json`."""
        os.makedirs(output_dir, exist_ok=True)
        state = {
            "negative_types": self.negative_types,
            "thresholds": dict(zip(self.negative_types, self.loss_fn.thresholds.tolist())),
        }
        with open(os.path.join(output_dir, STATE_NAME), "w") as handle:
            json.dump(state, handle, indent=2)

    def load_loss_state(self, checkpoint_dir: str) -> None:
        """Restores the thresholds saved by `save_loss_state`; type names must match the current run."""
        path = os.path.join(checkpoint_dir, STATE_NAME)
        if not os.path.isfile(path):
            logger.warning("%s not found: CMR thresholds restart from 0.", path)
            return
        with open(path) as handle:
            state = json.load(handle)
        if state["negative_types"] != self.negative_types:
            raise ValueError(
                f"{path} was written for negative types {state['negative_types']} but this run uses "
                f"{self.negative_types}; resume with the same --negative_types."
            )
        values = torch.tensor([state["thresholds"][name] for name in self.negative_types])
        self.loss_fn.thresholds.copy_(values)

    def train(self, resume_from_checkpoint: str | bool | None = None, *args: Any, **kwargs: Any):
        """`Trainer.train`, restoring the CMR thresholds too when resuming (any backend, DeepSpeed included)."""
        if resume_from_checkpoint:
            path = resume_from_checkpoint
            if resume_from_checkpoint is True:
                path = get_last_checkpoint(self.args.output_dir)
            if path:  # Trainer itself raises the error when no checkpoint exists
                self.load_loss_state(path)
        return super().train(resume_from_checkpoint, *args, **kwargs)
