"""CE-CLIP for sentence-transformers users: `CEClipLoss`, a sentence-transformers loss around `FineGrainedLoss`.

`SentenceTransformer("a CLIP or SigLIP folder")` wraps the transformers model in one `Transformer` module whose text
embeddings are `get_text_features` and whose image embeddings are `get_image_features`. A folder trained by
`FineGrainedTrainer` loads that way as it is, with exactly those embeddings for CLIP; SigLIP's texts need
`pad_as_trained(model)` first (SigLIP pads to `max_length`; sentence-transformers pads to the longest text). With
this loss, `SentenceTransformerTrainer` trains it with CE-CLIP:

    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from hf_finegrained.sentence_transformers_loss import CEClipLoss, sentence_transformers_columns

    model = SentenceTransformer("openai/clip-vit-base-patch32")
    train = sentence_transformers_columns(rows, negative_types)  # image, caption, one column per type, label
    loss = CEClipLoss(model, negative_types)
    SentenceTransformerTrainer(model=model, train_dataset=train, loss=loss, callbacks=loss.callbacks()).train()

The dataset's columns, in this order (sentence-transformers passes columns by position): an image column, a caption
column, one text column per negative type, and optionally a `label` column: the negative mask, a list of K booleans
per row (True: the negative is used). sentence-transformers encodes every cell, so a row without a negative of some
type still needs a text there (`sentence_transformers_columns` puts the caption) and False in its mask. Without a
`label` column every negative is used.

What is the same as `FineGrainedTrainer` and what is not (tests/test_sentence_transformers.py holds both):
one step on the same rows gives the same loss and the same updated weights up to float rounding (the texts are
encoded in other batch shapes: masked negatives are encoded too, then left out of every term). The thresholds go
into every checkpoint through `loss.callbacks()`; a resume needs `loss.load_state(checkpoint)` first. Not carried
over: the trainer's data validation, stream handling, non-finite step skipping, logged components and CE-CLIP model
card are `FineGrainedTrainer`'s only.
sentence-transformers is optional: this module imports it only when a loss is built
(`pip install "hf_finegrained[sentence-transformers]"`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .callbacks import LogitScaleClampCallback
from .checkpoints import STATE_NAME, read_loss_state, write_loss_state
from .families import FAMILIES, ModelFamily, family_of, unwrap
from .losses import (
    DEFAULT_GATHER_ACROSS_DEVICES,
    DEFAULT_THRESHOLD_UNITS,
    PAPER_CMR_WEIGHT,
    PAPER_IMC_WEIGHT,
    FineGrainedLoss,
)
from .rows import CAPTION_COLUMN, IMAGE_COLUMN, NEGATIVES_COLUMN, usable_negatives

MASK_COLUMN = "label"  # the column sentence-transformers' collator hands a loss as `labels` (not encoded)
_MODEL_CLASSES = {family.model_class for family in FAMILIES.values()}


def _embed_columns() -> Any:
    try:
        from sentence_transformers.base.losses.merged_forward import embed_columns
    except ImportError as error:
        raise ImportError("CEClipLoss needs sentence-transformers >= 6.3 "
                          '(`pip install "hf_finegrained[sentence-transformers]" -c constraints.txt`).') from error
    return embed_columns


def dual_encoder(model: nn.Module) -> PreTrainedModel:
    """The `CLIPModel` / `SiglipModel` / `Siglip2Model` inside a sentence-transformers model (or under DDP/PEFT
    wrappers, or the model itself): the module holding `logit_scale` (and SigLIP's `logit_bias`)."""
    for module in unwrap(model).modules():
        if type(module).__name__ in _MODEL_CLASSES:
            return module
    raise TypeError(f"{type(unwrap(model)).__name__} holds no supported dual encoder "
                    f"({', '.join(sorted(_MODEL_CLASSES))}); load one with SentenceTransformer('<a CLIP or SigLIP "
                    "folder or Hub id>').")


def pad_as_trained(model: nn.Module) -> nn.Module:
    """Makes a `SentenceTransformer` pad and truncate texts as the model's family was trained (`families.ModelFamily`:
    SigLIP pads to `max_length` and pools the last position, where sentence-transformers pads to the longest text of
    the batch and would give other text embeddings); CLIP is left as it is (longest padding is its own). Returns
    `model`, changed in place: its `Transformer` module's `processing_kwargs["text"]`."""
    encoder = dual_encoder(model)
    family = family_of(encoder)
    if family.text_padding == "longest":
        return model
    for module in unwrap(model).modules():
        if hasattr(module, "processing_kwargs") and hasattr(module, "processor"):
            tokenizer = getattr(module.processor, "tokenizer", module.processor)
            kwargs = dict(module.processing_kwargs or {})
            padding = family.text_kwargs(family.max_text_length(tokenizer, encoder))
            kwargs["text"] = {**kwargs.get("text", {}), **padding}
            module.processing_kwargs = kwargs
            return model
    raise TypeError(f"{type(unwrap(model)).__name__} has no sentence-transformers Transformer module to set the "
                    "padding of.")


class DualEncoderScaleClampCallback(LogitScaleClampCallback):
    """`LogitScaleClampCallback` for a model that holds the dual encoder inside it (a `SentenceTransformer`)."""

    def on_optimizer_step(self, args, state, control, model=None, **kwargs) -> None:
        if model is not None:
            super().on_optimizer_step(args, state, control, model=dual_encoder(model), **kwargs)


class LossStateCallback(TrainerCallback):
    """The thresholds across sentence-transformers checkpoints: written into every checkpoint folder after its save
    (`finegrained_state.json`, as `FineGrainedTrainer` writes it), and a resumed run (one that starts past step 0)
    refused until `CEClipLoss.load_state(checkpoint)` has restored them: restarted thresholds would make it diverge
    from an uninterrupted run. Unlike `FineGrainedTrainer`, the file is written after sentence-transformers' own
    files, so a kill in between leaves a checkpoint without it (then `load_state` says so)."""

    def __init__(self, loss: CEClipLoss) -> None:
        self.loss = loss

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        if state.global_step > 0 and self.loss.resumed_from is None:
            raise ValueError(
                f"Resuming at step {state.global_step} without the CMR thresholds of that checkpoint: call "
                "loss.load_state(<the checkpoint folder>) before trainer.train(resume_from_checkpoint=...)."
            )

    def on_save(self, args, state, control, **kwargs) -> None:
        folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
        if args.should_save and os.path.isdir(folder):
            self.loss.save_state(folder)


class CEClipLoss(nn.Module):
    """CE-CLIP's ITC-hn + IMC + CMR (`FineGrainedLoss`) as a sentence-transformers loss.

    Inputs (the dataset's columns, by position): image, caption, then one column of negatives per type in
    `negative_types` order; `labels` (a `label` column), when given, is the negative mask [B, K] (bool or 0/1).
    The model's image embeddings [B, D], caption embeddings [B, D] and negative embeddings [B, K, D] go to
    `FineGrainedLoss` with the dual encoder's exponentiated `logit_scale` (and `logit_bias` for SigLIP); its ITC
    form is the model family's (softmax for CLIP, sigmoid for SigLIP). The thresholds move in training mode only
    (the mode of `model`), as in `FineGrainedTrainer`. Returns the total loss (a 0-d tensor); the last call's
    components are in `last_components` (detached), and the thresholds in `fine_grained.thresholds`.

    Args:
        model: a `SentenceTransformer` around a supported dual encoder; its texts are padded as the family was
            trained from here on (`pad_as_trained`).
        negative_types: the type names, one per negative column (their order).
        imc_weight, cmr_weight, threshold_upper_bound, fixed_threshold, threshold_units, gather_across_devices,
        use_hard_negatives: as `FineGrainedLoss` (the paper's defaults). Distillation is not offered here.
    """

    def __init__(
        self,
        model: nn.Module,
        negative_types: Sequence[str],
        imc_weight: float = PAPER_IMC_WEIGHT,
        cmr_weight: float = PAPER_CMR_WEIGHT,
        threshold_upper_bound: float | None = None,
        fixed_threshold: float | None = None,
        threshold_units: str = DEFAULT_THRESHOLD_UNITS,
        gather_across_devices: bool = DEFAULT_GATHER_ACROSS_DEVICES,
        use_hard_negatives: bool = True,
    ) -> None:
        super().__init__()
        self._embed = _embed_columns()
        self.model = pad_as_trained(model)
        self.family: ModelFamily = family_of(dual_encoder(model))
        self.negative_types = list(negative_types) if use_hard_negatives else []
        self.fine_grained = FineGrainedLoss(
            num_negative_types=len(self.negative_types), imc_weight=imc_weight, cmr_weight=cmr_weight,
            threshold_upper_bound=threshold_upper_bound, use_hard_negatives=use_hard_negatives,
            gather_across_devices=gather_across_devices, fixed_threshold=fixed_threshold,
            contrastive=self.family.contrastive, threshold_units=threshold_units,
        )
        self.last_components: dict[str, torch.Tensor] = {}
        self.resumed_from: str | None = None  # the checkpoint `load_state` read

    @classmethod
    def from_args(cls, model: nn.Module, args: Any) -> CEClipLoss:
        """The loss a `FineGrainedTrainingArguments` describes (the settings `FineGrainedLoss.from_args` reads;
        distillation is refused: it needs `FineGrainedTrainer`'s teacher)."""
        if args.distill_weight > 0:
            raise ValueError("CEClipLoss has no distillation teacher; train with FineGrainedTrainer for "
                             "distill_weight > 0.")
        return cls(model, args.negative_types, imc_weight=args.imc_weight, cmr_weight=args.cmr_weight,
                   threshold_upper_bound=args.threshold_upper_bound, fixed_threshold=args.fixed_threshold,
                   threshold_units=args.threshold_units, gather_across_devices=args.gather_across_devices,
                   use_hard_negatives=args.use_hard_negatives)

    def callbacks(self, logit_scale_max: float = math.log(100.0)) -> list[Any]:
        """Pass them to the trainer: the thresholds saved in every checkpoint (`LossStateCallback`) and, as
        `FineGrainedTrainer` does for CLIP, the clamp of `logit_scale` to [0, `logit_scale_max`] after every
        optimizer step (none for SigLIP)."""
        clamp = [DualEncoderScaleClampCallback(logit_scale_max)] if self.family.clamps_scale else []
        return [LossStateCallback(self), *clamp]

    def save_state(self, folder: str) -> None:
        """Writes the thresholds to `folder/finegrained_state.json` (atomically, strict JSON)."""
        write_loss_state(folder, self.fine_grained.threshold_state(self.negative_types))

    def load_state(self, folder: str) -> None:
        """Restores the thresholds `save_state` wrote in `folder` (a checkpoint to resume from); the negative types
        and threshold units must be this loss's. A folder without the file is an error."""
        state = read_loss_state(folder)
        path = os.path.join(folder, STATE_NAME)
        if state is None:
            raise ValueError(f"{path} is missing, so the CMR thresholds of this checkpoint are unknown; resume from a "
                             "checkpoint saved with CEClipLoss.callbacks() (or save_state).")
        self.fine_grained.load_threshold_state(state, self.negative_types, path)
        self.resumed_from = folder

    def forward(self, sentence_features: Iterable[dict[str, torch.Tensor]], labels: torch.Tensor | None = None
                ) -> torch.Tensor:
        features = list(sentence_features)
        expected = 2 + len(self.negative_types)
        if len(features) != expected:
            raise ValueError(
                f"CEClipLoss expects {expected} input columns (image, caption, then one per negative type "
                f"{self.negative_types}) and a `{MASK_COLUMN}` column for the mask; got {len(features)}. "
                "Order the dataset's columns so (dataset.select_columns([...]) or sentence_transformers_columns)."
            )
        image, caption, *negatives = self._embed(self.model, features)
        encoder = dual_encoder(self.model)
        bias = getattr(encoder, "logit_bias", None)
        inputs: dict[str, Any] = {"image_embeds": image, "text_embeds": caption,
                                  "logit_scale": encoder.logit_scale.exp().reshape(())}
        if bias is not None:
            inputs["logit_bias"] = bias.reshape(())
        if negatives:
            batch, count = image.shape[0], len(negatives)
            if labels is None:
                mask = torch.ones(batch, count, dtype=torch.bool, device=image.device)
            else:
                mask = torch.as_tensor(labels, device=image.device).bool()
                if tuple(mask.shape) != (batch, count):
                    raise ValueError(f"the `{MASK_COLUMN}` column must hold {count} booleans per row (one per "
                                     f"negative type); got a batch of shape {tuple(mask.shape)}.")
            inputs["negative_embeds"] = torch.stack(negatives, dim=1)  # [B, K, D]
            inputs["negative_mask"] = mask
        self.fine_grained.train(self.model.training)  # the thresholds move in training steps only
        out = self.fine_grained(**inputs)
        self.last_components = {key: value.detach() for key, value in out.items() if key != "loss"}
        return out["loss"]

    def get_config_dict(self) -> dict[str, Any]:
        """The settings sentence-transformers writes into its model card."""
        loss = self.fine_grained
        return {"negative_types": self.negative_types, "imc_weight": loss.imc_weight,
                "cmr_weight": loss.cmr_weight,
                "threshold_upper_bound": loss.threshold_upper_bound, "fixed_threshold": loss.fixed_threshold,
                "threshold_units": loss.threshold_units, "contrastive": loss.contrastive}

    @property
    def citation(self) -> str:
        return """@inproceedings{zhang2024contrasting,
    title={Contrasting Intra-Modal and Ranking Cross-Modal Hard Negatives to Enhance Visio-Linguistic Compositional Understanding},
    author={Zhang, Le and Awal, Rabiul and Agrawal, Aishwarya},
    booktitle={CVPR},
    year={2024}
}"""


def sentence_transformers_columns(dataset: Any, negative_types: Sequence[str], image_column: str = IMAGE_COLUMN,
                                  caption_column: str = CAPTION_COLUMN, negatives_column: str = NEGATIVES_COLUMN,
                                  ) -> Any:
    """A `datasets.Dataset` of this package's rows (image, caption, `hard_negatives`: one per type or None) in the
    columns `CEClipLoss` reads, in its order: `image`, `caption`, `negative_<type>` for each type, `label` (the mask).

    A negative is used where the collator would use it (`rows.usable_negatives`: present, not blank, not equal to
    its caption); elsewhere the cell holds the caption (sentence-transformers encodes every cell) and the mask False.
    """
    names = [f"negative_{name}" for name in negative_types]

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        caption = row[caption_column]
        values, _ = usable_negatives(row[negatives_column], negative_types, caption)
        out = {name: value if value is not None else caption for name, value in zip(names, values)}
        out[MASK_COLUMN] = [value is not None for value in values]
        return out

    converted = dataset.map(convert, desc="sentence-transformers columns")
    if image_column != IMAGE_COLUMN or caption_column != CAPTION_COLUMN:
        converted = converted.rename_columns({image_column: IMAGE_COLUMN, caption_column: CAPTION_COLUMN})
    return converted.select_columns([IMAGE_COLUMN, CAPTION_COLUMN, *names, MASK_COLUMN])
