"""Dataset builders emitting `image`, `caption` and `hard_negatives` (a struct keyed by type name).

The synthetic world's builder is in `hf_finegrained.synthetic`."""

from .add_negatives import add_hard_negatives
from .annotations import AnnotationFileError
from .coco import CocoCaptionsBuilder
from .export import dataset_card, export_parquet
from .features import caption_features, negative_types_of, negatives_feature
from .image_files import check_image_files
from .karpathy import KarpathyCaptionsBuilder
from .report import negatives_report
from .resize import ImageResize, resize_images

__all__ = [
    "AnnotationFileError",
    "CocoCaptionsBuilder",
    "ImageResize",
    "KarpathyCaptionsBuilder",
    "add_hard_negatives",
    "caption_features",
    "check_image_files",
    "dataset_card",
    "export_parquet",
    "negative_types_of",
    "negatives_feature",
    "negatives_report",
    "resize_images",
]
