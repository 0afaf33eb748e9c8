"""Benchmark scoring for any `CLIPModel`: one engine (each unique image and caption encoded once), loaders for
the official annotation formats, scores through the shipped `evaluate` modules, a runner and a command.

    from hf_finegrained.evaluation import run_benchmarks, evaluate_choice
    run_benchmarks("openai/clip-vit-base-patch32", ["sugarcrepe", "valse"], data_root="data", output_dir="out")
    evaluate_choice(model_dir, rows, categories=["swap_att", "swap_obj", "replace_att", "replace_obj", "replace_rel"])
    check_benchmarks(["sugarcrepe", "valse"], data_root="data")  # before training: names, files present and readable
"""

from .annotations import AnnotationError
from .choice import ChoiceSet, choice_set_from_rows, evaluate_choice, score_choice_set
from .engine import ChoiceItem, EncodeStats, ScoringEngine, UnreadableImageError, rank_top_k
from .images import DatasetImage, FileImage, MemoryImage
from .results import BenchmarkResult, markdown_table, write_results
from .runner import (
    BENCHMARKS, UnknownBenchmarkError, benchmark_names, check_benchmarks, make_engine, run_benchmarks,
)
from .scorer import CLIPScorer, Scorer
from .spec import BenchmarkSpec

__all__ = [
    "AnnotationError",
    "BENCHMARKS",
    "BenchmarkResult",
    "BenchmarkSpec",
    "CLIPScorer",
    "ChoiceItem",
    "ChoiceSet",
    "DatasetImage",
    "EncodeStats",
    "FileImage",
    "MemoryImage",
    "Scorer",
    "ScoringEngine",
    "UnknownBenchmarkError",
    "UnreadableImageError",
    "benchmark_names",
    "check_benchmarks",
    "choice_set_from_rows",
    "evaluate_choice",
    "make_engine",
    "markdown_table",
    "rank_top_k",
    "run_benchmarks",
    "score_choice_set",
    "write_results",
]
