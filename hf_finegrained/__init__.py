"""hf_finegrained: CE-CLIP hard-negative fine-tuning of `CLIPModel` for the Hugging Face stack."""

from .collator import FineGrainedCollator
from .interpolation import IncompatibleModelsError, interpolate_weights
from .losses import FineGrainedLoss
from .trainer import FineGrainedTrainer
from .training_args import DEFAULT_NEGATIVE_TYPES, FineGrainedTrainingArguments
from .validation import DataValidationError, validate_dataset

from .version import __version__  # noqa: F401  (the package version, `hf_finegrained.__version__`)

# Heavier pieces (spaCy, evaluate) load on first use: `from hf_finegrained import HardNegativeGenerator`.
_LAZY = {
    "HardNegativeGenerator": "hf_finegrained.negatives",
    "add_hard_negatives": "hf_finegrained.builders",
    "build_synthetic_world": "hf_finegrained.synthetic",
    "export_parquet": "hf_finegrained.builders",
    "evaluate_choice": "hf_finegrained.evaluation",
    "run_benchmarks": "hf_finegrained.evaluation",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hf_finegrained' has no attribute {name!r}")

__all__ = [
    "DEFAULT_NEGATIVE_TYPES",
    "DataValidationError",
    "FineGrainedCollator",
    "FineGrainedLoss",
    "FineGrainedTrainer",
    "FineGrainedTrainingArguments",
    "IncompatibleModelsError",
    "interpolate_weights",
    "validate_dataset",
    *_LAZY,
]
