"""`FineGrainedTrainer`: a `transformers.Trainer` whose loss is CE-CLIP's ITC-hn + IMC + CMR.

The trainer only orchestrates: the data is made ready and checked once by `training_data.prepare_training_data`,
the loss is built once by `losses.FineGrainedLoss.from_args`, what is collected around the steps (curves, a stream's
rows, the card's data) and done after them (clamp, EMA teacher, skipped steps) lives in `callbacks`, checkpoint
choice and the loss state file in `checkpoints`, the card in `model_card`.

What a failure never loses or hides (kills during saves, partial checkpoints, resumes, non-finite losses and
weights, bad stream rows, a full disk, local paths in published files) is in docs/FAILURES.md, with the module
that holds each rule (`checkpoints`, `output_checks`, `health`, `streaming`, `lora`).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from typing import Any

import torch
from torch import nn
from transformers import Trainer
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .callbacks import (
    CardDataCallback,
    LogitScaleClampCallback,
    LossCurves,
    SkipNonFiniteStepCallback,
    StreamRowsCallback,
    TeacherUpdateCallback,
)
from .card_plots import LOSS_PLOT, THRESHOLD_PLOT
from .checkpoints import JIT_SENTINEL, STATE_NAME, checkpoint_to_resume, loss_state_to_resume, write_loss_state
from .collator import ROW_KEYS, FineGrainedCollator
from .distributed import all_ranks_all, prepare_sharding
from .families import ModelFamily, family_of, unwrap
from .health import check_finite_before_save
from .lora import LOCAL_BASE_NAME, publish_adapter_config
from .losses import FineGrainedLoss
from .model_card import CARD_NAME, CardInfo, base_license, public_name, write_model_card
from .pixels import normalize_batch
from .output_checks import (
    check_output_before_training,
    ensure_output_folder,
    remove_older_run_files,
    reporting_save_failure,
)
from .rows import CAPTION_COLUMN, IMAGE_COLUMN, NEGATIVES_COLUMN, ROW_ID_COLUMNS
from .streaming import STREAM_KEY, StreamCollator
from .teacher import TEACHER_NAME, DistillationTeacher
from .training_args import FineGrainedTrainingArguments
from .training_data import prepare_training_data, stream_loader, with_row_indices

logger = logging.getLogger(__name__)
# What this package writes beside the weights.
OWN_FILES = (STATE_NAME, TEACHER_NAME, CARD_NAME, LOSS_PLOT, THRESHOLD_PLOT, LOCAL_BASE_NAME)


def encode_batch(model: nn.Module, inputs: dict[str, torch.Tensor],
                 family: ModelFamily | None = None) -> dict[str, torch.Tensor | None]:
    """`ModelFamily.encode_batch` of the model's family (see `families`), ready for `FineGrainedLoss(**...)`:
    image, caption and negative embeddings, the negative mask, the exponentiated scale and, for SigLIP,
    `logit_bias` (absent for CLIP)."""
    encoded = (family or family_of(model)).encode_batch(model, inputs)
    for key in ("logit_bias", "negative_positions"):
        if encoded[key] is None:
            del encoded[key]
    return encoded


class FineGrainedTrainer(Trainer):
    """Fine-tunes a `CLIPModel` with the CE-CLIP loss on rows of `image`, `caption`, `hard_negatives`.

    Without a `data_collator` one is built from `processing_class` (a `CLIPProcessor`). Datasets are
    validated at construction when `args.validate_data` is True. Every loss component, the logit scale and
    each threshold (`threshold/<type name>`) are logged, for training and (prefixed `eval_`) evaluation.
    The thresholds are written to `finegrained_state.json` beside every saved model and checkpoint and are
    restored by `train(resume_from_checkpoint=...)`. Checkpoints are plain `CLIPModel` weights. docs/FAILURES.md
    says what happens on kills, partial checkpoints and non-finite losses.
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
        family = family_of(model)  # an unsupported model fails here, listing the supported ones
        data = prepare_training_data(args, model, family, processing_class, data_collator, train_dataset,
                                     eval_dataset)
        if args.should_save:  # the Trainer creates it too, with a bare error when a file is in the way
            ensure_output_folder(args.output_dir)
        super().__init__(model=model, args=args, data_collator=data.collator, train_dataset=data.train_dataset,
                         eval_dataset=data.eval_dataset, processing_class=processing_class, **kwargs)
        self.family = family
        self.negative_types = list(args.negative_types) if args.use_hard_negatives else []
        self.loss_fn = loss_fn or FineGrainedLoss.from_args(args, family)
        if self.loss_fn.num_negative_types != len(self.negative_types):
            raise ValueError(f"loss_fn has {self.loss_fn.num_negative_types} types but args name "
                             f"{len(self.negative_types)}.")
        self.loss_fn.to(args.device)
        self._loss_takes_positions = "negative_positions" in inspect.signature(self.loss_fn.forward).parameters
        fsdp = self.accelerator.state.fsdp_plugin.fsdp_version if self.is_fsdp_enabled else None
        prepare_sharding(unwrap(self.model), fsdp, self.is_deepspeed_enabled, distill=self.loss_fn.distill_weight > 0,
                         skip_non_finite=args.skip_non_finite_steps)
        # The loss is already a batch mean: the Trainer must divide it by gradient accumulation itself.
        self.model_accepts_loss_kwargs = False
        if family.clamps_scale:
            self.add_callback(LogitScaleClampCallback(args.logit_scale_max))
        self.teacher = None
        if self.loss_fn.distill_weight > 0:
            self.teacher = DistillationTeacher(unwrap(self.model), args.distill_teacher, args.ema_decay, family)
            self.add_callback(TeacherUpdateCallback(self.teacher))
        self._skip_step = SkipNonFiniteStepCallback(args.max_consecutive_non_finite_steps, args.output_dir,
                                                    skip=args.skip_non_finite_steps)
        self.add_callback(self._skip_step)
        self.curves = LossCurves(self.negative_types, self.teacher is not None, family.contrastive,
                                 args.world_size if args.gather_across_devices else 1)
        self.stream_rows = StreamRowsCallback(args.max_bad_row_rate) if data.stream else None
        if self.stream_rows is not None:
            self.add_callback(self.stream_rows)
        report = data.train_report
        base_path = getattr(unwrap(model).config, "_name_or_path", None)
        self.card_data = CardDataCallback(CardInfo(
            model_name=os.path.basename(os.path.normpath(args.output_dir)),
            base_model=public_name(base_path), license=getattr(args, "license", None) or base_license(base_path),
            repo_id=args.hub_model_id, num_train_rows=data.num_train_rows, negative_coverage=data.negative_coverage,
            data_checks=report.card_entries() if report is not None else {},
            architecture=family.model_class, contrastive=family.contrastive,
        ), self.negative_types)
        self.add_callback(self.card_data)
        self._saved_folders: set[str] = set()  # folders this trainer has saved into (`save_model`)

    @property
    def card_info(self) -> CardInfo:
        """What the card says beyond the arguments and the logs; fill it (dataset name, results) before saving."""
        return self.card_data.info

    @card_info.setter
    def card_info(self, info: CardInfo) -> None:
        self.card_data.info = info

    @property
    def non_finite_steps_skipped(self) -> int:
        """Optimizer steps skipped for a non-finite loss (`skip_non_finite_steps`), restored on resume."""
        return self._skip_step.skipped

    @non_finite_steps_skipped.setter
    def non_finite_steps_skipped(self, count: int) -> None:
        self._skip_step.skipped = count

    def _set_signature_columns_if_needed(self) -> None:
        """The columns the Trainer keeps (`remove_unused_columns=True`): those `FineGrainedCollator` reads,
        not `CLIPModel.forward`'s arguments. Another collator keeps the Trainer's rule."""
        if self._signature_columns is None and isinstance(self.data_collator, FineGrainedCollator):
            self._signature_columns = [IMAGE_COLUMN, CAPTION_COLUMN, NEGATIVES_COLUMN, *ROW_ID_COLUMNS, *ROW_KEYS]
        super()._set_signature_columns_if_needed()

    def _get_dataloader(self, dataset: Any, description: str, *args: Any, **kwargs: Any) -> Any:
        """The Trainer's loader; a map-style dataset read by `FineGrainedCollator` is read with its row indices
        (`training_data.with_row_indices`), so that the collator's errors name the row and the user's columns."""
        if isinstance(self.data_collator, FineGrainedCollator):
            dataset = with_row_indices(dataset, lambda data: self._remove_unused_columns(data, description=description))
        return super()._get_dataloader(dataset, description, *args, **kwargs)

    def get_train_dataloader(self) -> Any:
        """The Trainer's loader, except for a stream: each process batches its own part (`training_data.stream_loader`)."""
        if self.stream_rows is None:
            return super().get_train_dataloader()
        collate = StreamCollator(self._get_collator_with_removed_columns(self.data_collator, description="training"))
        return stream_loader(self.train_dataset, collate, self._train_batch_size, self.args, self.accelerator)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ):
        info = inputs.pop(STREAM_KEY, None)
        if self.stream_rows is not None:
            self.stream_rows.add(info, self.state.global_step + 1)
        # the collator's fast path hands over uint8 pixels: normalised here, on the device
        inputs = normalize_batch(inputs, getattr(self.data_collator, "pixel_rule", None))
        encoded = encode_batch(model, inputs, self.family)
        if not self._loss_takes_positions:  # a loss_fn of its own, with FineGrainedLoss's older signature
            encoded.pop("negative_positions", None)
        if self.teacher is not None:
            teacher = self.teacher.encode(inputs, batch=encoded["image_embeds"].shape[0])
            encoded["teacher_image_embeds"], encoded["teacher_text_embeds"] = teacher
        self.loss_fn.train(model.training)  # the thresholds move in training steps only
        before = self.loss_fn.snapshot_thresholds()
        out = self.loss_fn(**encoded)
        loss = out["loss"]
        shapes = {"images": encoded["image_embeds"].shape[0], "texts": inputs["input_ids"].shape[0]}
        if not model.training:
            self.curves.record(out, encoded["logit_scale"], self.loss_fn.thresholds, False, **shapes)
            return (loss, out) if return_outputs else loss
        # No host sync here: whether the loss is finite (on every process) stays on the device; a micro-batch
        # whose loss is not counts nowhere and moves no threshold, and the flags are read once before the
        # optimizer step (`SkipNonFiniteStepCallback.check`), which stops or skips that step.
        finite = all_ranks_all(torch.isfinite(loss.detach()))
        self.loss_fn.restore_thresholds(torch.where(finite, self.loss_fn.thresholds, before))
        self._skip_step.record(finite, out, encoded["logit_scale"], self.state.global_step + 1)
        if self.is_deepspeed_enabled:  # its engine steps inside the backward pass: check before it, here
            self._skip_step.check()
        self.curves.record(out, encoded["logit_scale"], self.loss_fn.thresholds, True, counted=finite, **shapes)
        self.card_data.add_trained(inputs.get("negative_mask"), counted=finite)
        return (loss, out) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """Returns the CE-CLIP loss of an eval batch (CLIPModel cannot compute it itself)."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), self.compute_loss_context_manager():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None

    def evaluation_loop(self, dataloader, description, prediction_loss_only=None, ignore_keys=None,
                        metric_key_prefix: str = "eval"):
        """The usual loop; its metrics also hold the mean of every loss component, e.g. `eval_itc_loss`."""
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        for key, value in self.curves.averaged("eval", self.accelerator, self.args.device).items():
            output.metrics[f"{metric_key_prefix}_{key}"] = value
        return output

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:  # a training log: add the components averaged since the last one
            logs = {**logs, **self.curves.averaged("train", self.accelerator, self.args.device)}
            self.loss_fn.report_skipped_statistics(self.negative_types)
            if self.args.skip_non_finite_steps:
                logs["non_finite_steps_skipped"] = self.non_finite_steps_skipped
            warning = self.curves.divergence.check(logs, self.state.global_step)
            if warning and self.is_world_process_zero():
                logger.warning(warning)
        super().log(logs, start_time)

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Saves the weights, then the thresholds, an EMA teacher and the model card beside them, then pushes if asked.

        Over an existing save, the files a save writes are removed before the weights are written
        (`output_checks.remove_older_run_files`), so a kill never leaves new weights beside an old file; non-finite
        weights or thresholds raise before anything is written; a failed write raises `SaveFailedError` naming the
        newest complete checkpoint (docs/FAILURES.md). A LoRA adapter's config names its base publicly.
        """
        output_dir = output_dir or self.args.output_dir
        check_finite_before_save(unwrap(self.model), self.args.device, output_dir, self.args.output_dir,
                                 self.state.global_step)
        self.loss_fn.threshold_values(self.negative_types)  # non-finite thresholds: nothing is saved
        if self.stream_rows is not None:
            self.stream_rows.gather(self.args.world_size)
        if self.args.should_save:
            folder = os.path.realpath(output_dir)
            remove_older_run_files(output_dir, OWN_FILES, first_save=folder not in self._saved_folders)
            self._saved_folders.add(folder)
        with reporting_save_failure(output_dir, self.args.output_dir):
            super().save_model(output_dir, _internal_call=True)
        if self.args.should_save:
            publish_adapter_config(output_dir)
            self.save_loss_state(output_dir)
            if self.teacher is not None:
                self.teacher.save(output_dir)
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

        The arguments of `Trainer.create_model_card` that the card can hold (`model_name`, `finetuned_from`,
        `tags`, `language`, `license`, `dataset`) go into `trainer.card_info`; others are logged as unused. Fill
        `trainer.card_info` (dataset name, benchmark results) before saving to have them in the card. A stream gets
        the coverage of the rows trained on (this process) and the rows read and skipped by all processes (as of
        the last `save_model`, which gathers them), the first bad rows named.
        """
        self.card_info.update(model_name=model_name, base_model=public_name(finetuned_from), dataset_name=dataset,
                              tags=tags, language=language, license=license)
        unused = sorted(key for key, value in kwargs.items() if value is not None)
        if unused:
            logger.warning("create_model_card: %s not used by the CE-CLIP card.", ", ".join(unused))
        stream = self.stream_rows and (self.stream_rows.card_counts or self.stream_rows.counts)
        thresholds = dict(zip(self.negative_types, self.loss_fn.thresholds.tolist()))
        write_model_card(output_dir or self.args.output_dir, self.args, self.state.log_history, self.negative_types,
                         thresholds, self.card_data.complete(stream))

    def save_loss_state(self, output_dir: str) -> None:
        """Writes the per-type thresholds (by name) and the count of skipped non-finite steps to
        `output_dir/finegrained_state.json`, atomically and as strict JSON (`checkpoints.write_loss_state`)."""
        write_loss_state(output_dir, {**self.loss_fn.threshold_state(self.negative_types),
                                      "non_finite_steps_skipped": self.non_finite_steps_skipped})

    def load_loss_state(self, checkpoint_dir: str) -> None:
        """Restores what `save_loss_state` wrote, and an EMA teacher; type names and units must match the run. A
        missing file is an error unless `args.resume_without_loss_state` (`checkpoints.loss_state_to_resume`)."""
        path = os.path.join(checkpoint_dir, STATE_NAME)
        state = loss_state_to_resume(checkpoint_dir, self.args.resume_without_loss_state, self.loss_fn.thresholds)
        if state is None:
            return
        self.loss_fn.load_threshold_state(state, self.negative_types, path)
        self.non_finite_steps_skipped = int(state.get("non_finite_steps_skipped", 0))
        if self.teacher is not None:
            self.teacher.resume(checkpoint_dir, allow_missing=self.args.resume_without_loss_state)

    def train(self, resume_from_checkpoint: str | bool | None = None, *args: Any, **kwargs: Any):
        """`Trainer.train`, resuming only from a complete checkpoint and restoring the CMR thresholds too
        (any backend, DeepSpeed included). With `skip_non_finite_steps`, the returned metrics hold
        `non_finite_steps_skipped`. A training stream's skipped rows are summed up in the log at the end."""
        data = self.train_dataset
        rows = len(data) if data is not None and not isinstance(data, dict) and hasattr(data, "__len__") else None
        check_output_before_training(self.args, self.model, rows, self._train_batch_size,
                                     self.teacher.checkpoint_bytes() if self.teacher is not None else 0)
        if resume_from_checkpoint:
            resume_from_checkpoint = checkpoint_to_resume(self.args.output_dir, resume_from_checkpoint)
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
        with reporting_save_failure(folder, self._get_output_dir(trial=trial)):
            super()._save_checkpoint(model, trial)
        if self.args.should_save:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, JIT_SENTINEL))

