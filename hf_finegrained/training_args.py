"""`FineGrainedTrainingArguments`: the CE-CLIP settings on top of `transformers.TrainingArguments`."""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from transformers import TrainingArguments

from .losses import (
    DEFAULT_GATHER_ACROSS_DEVICES,
    DEFAULT_THRESHOLD_UNITS,
    PAPER_CMR_WEIGHT,
    PAPER_IMC_WEIGHT,
    THRESHOLD_UNITS,
    default_threshold_bound,
    loss_setting_problems,
)
from .negatives.types import DEFAULT_NEGATIVE_TYPES  # owned by negatives/types.py; exported from here too
from .teacher import TEACHER_KINDS

logger = logging.getLogger(__name__)

# The paper's fine-tuning hyperparameters (CE-CLIP on COCO, ViT-B/32), as `TrainingArguments` values:
# hf-finegrained-train's defaults with --model_name_or_path, and the base the embedded default's settings start from
# (`synthetic.recipe.FINETUNE_DEFAULTS`). The loss settings' defaults and checks are the loss's (`losses.py`).
PAPER_HYPERPARAMETERS: dict[str, Any] = dict(
    learning_rate=5e-6,
    lr_scheduler_type="cosine",
    warmup_steps=50,
    adam_beta1=0.9,
    adam_beta2=0.98,
    adam_epsilon=1e-6,
    weight_decay=0.1,
    num_train_epochs=5,
    per_device_train_batch_size=256,
)


@dataclass
class FineGrainedTrainingArguments(TrainingArguments):
    """`TrainingArguments` plus the loss settings of CE-CLIP (Zhang, Awal, Agrawal).

    Defaults of the loss follow the paper (IMC 0.3, CMR 0.2, threshold bound 10 at CLIP's scale 100, i.e. 0.1 in
    the default cosine threshold units). With
    ``remove_unused_columns=True`` (the default) the Trainer keeps the columns `FineGrainedCollator` reads
    (``image``, ``caption``, ``hard_negatives`` and the row-id columns its errors quote) and drops the rest.

    Tokens are never pickled: ``Trainer`` writes these arguments with ``torch.save`` as ``training_args.bin``
    in every checkpoint, in the final save and in the folder it pushes, and every such copy holds None in
    each ``*_token`` field (``hub_token``). ``copy.copy`` and ``copy.deepcopy`` keep the token in memory.
    """

    negative_types: list[str] = field(
        default_factory=lambda: list(DEFAULT_NEGATIVE_TYPES),
        metadata={
            "help": "Names of the hard-negative types, in the order of the `hard_negatives` column. "
            "Thresholds are logged and saved under these names."
        },
    )
    imc_weight: float = field(default=PAPER_IMC_WEIGHT, metadata={"help": "Weight of the intra-modal contrastive loss (IMC)."})
    cmr_weight: float = field(default=PAPER_CMR_WEIGHT, metadata={"help": "Weight of the cross-modal rank loss (CMR)."})
    threshold_units: str = field(
        default=DEFAULT_THRESHOLD_UNITS,
        metadata={
            "help": "Units of the CMR thresholds, their bound and --fixed_threshold; thresholds are logged and saved "
            "in them. 'cosine' (default): cosine-similarity margins, the same at any logit scale (bound 0.1 is the "
            "paper's 10 at CLIP's scale 100). 'logit': the paper's and the reference code's units (scale x cosine), "
            "which reproduce the reference exactly; at scale 100 both are the same run. docs/LOSS.md says why "
            "cosine is the default.",
            "choices": list(THRESHOLD_UNITS),
        },
    )
    threshold_upper_bound: float | None = field(
        default=None,
        metadata={
            "help": "Ceiling of the adaptive per-type CMR thresholds, in --threshold_units. Default: the paper's "
            "bound in those units (10 in logit units, 0.1 in cosine units)."
        },
    )
    fixed_threshold: float | None = field(
        default=None,
        metadata={
            "help": "None (default): the paper's adaptive per-type CMR thresholds. A number >= 0 fixes every "
            "threshold at that value (in --threshold_units) for the whole run, the paper's fixed-threshold ablation."
        },
    )
    use_hard_negatives: bool = field(
        default=True,
        metadata={"help": "False trains with the plain CLIP loss (no negatives encoded, IMC and CMR off)."},
    )
    gather_across_devices: bool = field(
        default=DEFAULT_GATHER_ACROSS_DEVICES,
        metadata={
            "help": "With several processes, gather embeddings of all ranks (with gradient) so every image "
            "sees every caption and negative of the global batch. No effect on a single process. Either way "
            "the CMR threshold statistics are pooled over ranks, so every rank holds the same thresholds."
        },
    )
    logit_scale_max: float = field(
        default=math.log(100.0),
        metadata={"help": "Clamp CLIP's `logit_scale` (a log value) to [0, this] after every optimizer step."},
    )
    validate_data: bool = field(
        default=True,
        metadata={
            "help": "Check every row of the train/eval datasets (columns, captions, negatives, full image decode) "
            "before training and list every bad row."
        },
    )
    max_text_length: int | None = field(
        default=None,
        metadata={"help": "Truncate texts to this many tokens; default: the text model's position embeddings (and "
                  "the tokenizer's limit). On the command line also --max_seq_length, run_clip.py's name.",
                  "aliases": ["--max_seq_length", "--max-seq-length"]},
    )
    image_pipeline: str = field(
        default="fast",
        metadata={
            "help": "How the collator built by the trainer makes pixels. 'fast' (default): JPEGs decoded at reduced "
            "scale when larger than needed, resized and cropped as the model's image processor does, handed over "
            "in uint8 and normalised on the device with the processor's mean and std (CLIP, SigLIP; SigLIP 2 "
            "always uses its processor). Other images (PNGs, in-memory images) give the processor's pixels "
            "exactly; reduced-scale JPEGs differ slightly (docs/PERFORMANCE.md). 'processor': every image "
            "decoded in full and run through the image processor, the reference."
        },
    )
    resume_without_loss_state: bool = field(
        default=False,
        metadata={
            "help": "Resuming from a checkpoint without `finegrained_state.json` is an error by default: its CMR "
            "thresholds would restart from their initial value and the run would diverge from an uninterrupted "
            "one. True resumes anyway (with a warning)."
        },
    )
    skip_non_finite_steps: bool = field(
        default=False,
        metadata={
            "help": "A non-finite (NaN/inf) training loss stops training with an error naming the step, before "
            "anything is saved. True skips such optimizer steps instead (no parameter, optimizer-moment or "
            "threshold update; the step counter and the learning-rate schedule still advance) and counts them in "
            "the logs as `non_finite_steps_skipped`. Not available with DeepSpeed."
        },
    )
    max_consecutive_non_finite_steps: int = field(
        default=10,
        metadata={
            "help": "With skip_non_finite_steps: training stops with an error once this many optimizer steps in a "
            "row were skipped, naming the step and the first non-finite parameter (skipping cannot repair a NaN "
            "weight, and the run would otherwise skip to its end and save it). An integer >= 1."
        },
    )
    distill_weight: float = field(
        default=0.0,
        metadata={
            "help": "Weight of the distillation term (0: off): KL divergence from a teacher's to the model's "
            "in-batch image->text and text->image similarity distributions (docs/LOSS.md). Keeps more of what "
            "the starting model knew, at the cost of one teacher forward per step and one copy of the weights."
        },
    )
    distill_teacher: str = field(
        default="frozen",
        metadata={
            "help": "The teacher: 'frozen' (the weights the trainer starts from) or 'ema' (their moving average, "
            "updated after every optimizer step with `ema_decay` and saved in checkpoints)."
        },
    )
    ema_decay: float = field(
        default=0.999, metadata={"help": "Decay of the EMA teacher (distill_teacher='ema'), in (0, 1)."}
    )
    max_bad_row_rate: float = field(
        default=0.01,
        metadata={
            "help": "Streaming training data (an `IterableDataset`) is checked row by row as it is read: a bad row "
            "(missing column, empty caption, malformed `hard_negatives`, unreadable image) is skipped, counted and "
            "named (the first 5) in the log and the model card. Training stops, naming rows, once the share of "
            "skipped rows among those a process has read passes this rate (judged from the 100th row on, so one "
            "early bad row does not stop a run). 0 stops at the 100th row read if any was bad; 1 never stops."
        },
    )
    generate_negatives: bool = field(
        default=False,
        metadata={
            "help": "Streaming training data only: rows without `hard_negatives` (no such column, or None) get "
            "them from `HardNegativeGenerator(seed=seed, types=negative_types)` as they are read, inside the "
            "dataloader workers (spaCy is loaded once per worker)."
        },
    )
    license: str | None = field(
        default=None,
        metadata={
            "help": "The licence of the trained model, as a Hub licence id (`mit`, `apache-2.0`, `other`, ...), "
            "written to the model card's `license`. Default: the base model's, read from the base's own card (its "
            "folder, or the Hugging Face cache for a Hub id) where that card names one; else the card has none. "
            "Check that the base's licence allows what you release."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        problems = []
        if isinstance(self.negative_types, str):
            self.negative_types = [self.negative_types]
        names = list(self.negative_types)
        if self.use_hard_negatives and not names:
            problems.append("negative_types is empty but use_hard_negatives=True; name at least one type.")
        if any(not isinstance(n, str) or not n.strip() for n in names):
            problems.append(f"negative_types must be non-empty strings; got {names}.")
        if len(set(names)) != len(names):
            problems.append(f"negative_types has duplicates: {names}.")
        problems += loss_setting_problems(
            len(names), self.imc_weight, self.cmr_weight, self.threshold_upper_bound, self.fixed_threshold,
            self.distill_weight, None, self.threshold_units)  # the form comes from the model's family
        if self.threshold_upper_bound is None and self.threshold_units in THRESHOLD_UNITS:
            self.threshold_upper_bound = default_threshold_bound(self.threshold_units)
        if not (math.isfinite(self.logit_scale_max) and self.logit_scale_max >= 0):
            problems.append(f"logit_scale_max must be a finite number >= 0; got {self.logit_scale_max}.")
        accelerator = self.accelerator_config
        for name in ("dispatch_batches", "split_batches"):
            if getattr(accelerator, name, None):
                problems.append(f"accelerator_config.{name}=True slices every batch tensor along its first axis, "
                                "but a batch holds B captions plus a varying number of negatives; leave it unset.")
        if accelerator is not None and not isinstance(accelerator, dict):
            # accelerate dispatches batches of an IterableDataset by default, which would cut the negatives
            # off `input_ids`; each process reads its own shards instead (datasets' `IterableDataset.shard`).
            accelerator.dispatch_batches = False
        for name in ("resume_without_loss_state", "skip_non_finite_steps"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be True or False; got {getattr(self, name)!r}.")
        steps = self.max_consecutive_non_finite_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            problems.append(f"max_consecutive_non_finite_steps must be an integer >= 1; got {steps!r}.")
        if self.distill_teacher not in TEACHER_KINDS:
            problems.append(f"distill_teacher must be one of {TEACHER_KINDS}; got {self.distill_teacher!r}.")
        if not (isinstance(self.max_bad_row_rate, (int, float)) and 0 <= self.max_bad_row_rate <= 1):
            problems.append(f"max_bad_row_rate must be a number in [0, 1]; got {self.max_bad_row_rate!r}.")
        if self.image_pipeline not in ("fast", "processor"):
            problems.append(f"image_pipeline must be 'fast' or 'processor'; got {self.image_pipeline!r}.")
        if self.license is not None and (not isinstance(self.license, str) or not self.license
                                         or any(c.isspace() for c in self.license)):
            problems.append(f"license must be a Hub licence id without spaces (mit, apache-2.0, other, ...); got "
                            f"{self.license!r}.")
        if not isinstance(self.generate_negatives, bool):
            problems.append(f"generate_negatives must be True or False; got {self.generate_negatives!r}.")
        if not 0 < self.ema_decay < 1:
            problems.append(f"ema_decay must be in (0, 1); got {self.ema_decay}.")
        if self.max_text_length is not None and self.max_text_length < 2:
            problems.append(f"max_text_length must be >= 2 (start and end tokens); got {self.max_text_length}.")
        if problems:
            raise ValueError("Invalid FineGrainedTrainingArguments:\n- " + "\n- ".join(problems))

    def __getstate__(self) -> dict[str, Any]:
        """What pickle (and so ``torch.save`` of ``training_args.bin``) stores: every ``*_token`` field as None."""
        state = dict(self.__dict__)
        for key in state:
            if key.endswith("_token"):
                state[key] = None
        return state

    def __copy__(self) -> FineGrainedTrainingArguments:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> FineGrainedTrainingArguments:
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return clone
