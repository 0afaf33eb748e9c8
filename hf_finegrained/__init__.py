"""hf_finegrained: CE-CLIP hard-negative fine-tuning of `CLIPModel` for the Hugging Face stack."""

from .collator import FineGrainedCollator
from .losses import FineGrainedLoss
from .trainer import FineGrainedTrainer
from .training_args import DEFAULT_NEGATIVE_TYPES, FineGrainedTrainingArguments
from .validation import DataValidationError, validate_dataset

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_NEGATIVE_TYPES",
    "DataValidationError",
    "FineGrainedCollator",
    "FineGrainedLoss",
    "FineGrainedTrainer",
    "FineGrainedTrainingArguments",
    "validate_dataset",
]
