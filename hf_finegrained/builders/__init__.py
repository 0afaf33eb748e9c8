"""Dataset builders emitting `image`, `caption` and `hard_negatives` (a struct keyed by type name)."""

from .add_negatives import add_hard_negatives
from .annotations import AnnotationFileError
from .coco import CocoCaptionsBuilder
from .export import dataset_card, export_parquet
from .features import caption_features, negative_types_of, negatives_feature
from .image_files import check_image_files
from .karpathy import KarpathyCaptionsBuilder
from .report import negatives_report
from .synthetic_drawing import Scene, draw_scene
from .synthetic_world import (
    CATEGORY_NAMES,
    HELD_OUT_ARRANGEMENTS,
    HELD_OUT_BINDINGS,
    NegativeNoise,
    SyntheticWorld,
    build_synthetic_world,
    ground_truth_negatives,
    held_out_in_caption,
    render,
)

__all__ = [
    "AnnotationFileError",
    "CATEGORY_NAMES",
    "CocoCaptionsBuilder",
    "HELD_OUT_ARRANGEMENTS",
    "HELD_OUT_BINDINGS",
    "KarpathyCaptionsBuilder",
    "NegativeNoise",
    "Scene",
    "SyntheticWorld",
    "add_hard_negatives",
    "build_synthetic_world",
    "caption_features",
    "check_image_files",
    "dataset_card",
    "draw_scene",
    "export_parquet",
    "ground_truth_negatives",
    "held_out_in_caption",
    "negative_types_of",
    "negatives_feature",
    "negatives_report",
    "render",
]
