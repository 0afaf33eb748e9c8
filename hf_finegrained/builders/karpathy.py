"""The Karpathy-split JSON layout (`dataset_coco.json`, `dataset_flickr30k.json`) -> a `DatasetDict`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import datasets

from ..evaluation.annotations import AnnotationError
from ..evaluation.karpathy import read_karpathy_images
from ..negatives import HardNegativeGenerator
from .annotations import AnnotationFileError, require, require_int
from .image_files import check_image_files, rows_to_dataset

LAYOUT = ("Karpathy split: {'images': [{'filename', 'split', 'sentences': [{'raw'}], "
          "optional 'filepath', 'cocoid'/'imgid'}]}")
SPLIT_NAMES = {"train": "train", "restval": "train", "val": "validation", "test": "test"}


class KarpathyCaptionsBuilder:
    """One row per sentence: `image`, `caption`, `image_id`, negatives; splits train / validation / test.

    Args:
        annotation_file: the Karpathy JSON.
        image_root: the folder under which each image's `filepath/filename` lies (`filepath` may be absent).
        restval_to_train: put the `restval` images into train (the usual 113k-image COCO train split).
        check_images: decode every image file of the requested splits in full before building.
    """

    def __init__(
        self,
        annotation_file: str | os.PathLike,
        image_root: str | os.PathLike,
        restval_to_train: bool = True,
        check_images: bool = True,
    ) -> None:
        self.annotation_file = Path(annotation_file)
        self.image_root = Path(image_root)
        self.restval_to_train = restval_to_train
        self.check_images = check_images

    def read(self) -> dict[str, dict[str, list]]:
        """{split: columns} read from the annotation file (no images opened) by the one Karpathy reader,
        `evaluation.karpathy.read_karpathy_images`; a sentence without text becomes a None caption."""
        path = self.annotation_file
        try:
            images = read_karpathy_images(path, strict_captions=False)
        except AnnotationError as error:  # the reader names the file and entry; builders raise their own type
            raise AnnotationFileError(f"{error}; expected {LAYOUT}") from error
        splits: dict[str, dict[str, list]] = {}
        for image in images:
            if image.split == "restval" and not self.restval_to_train:
                split = "restval"
            else:
                require(image.split in SPLIT_NAMES, path,
                        f"image entry {image.number} has unknown split {image.split!r}")
                split = SPLIT_NAMES[image.split]
            file = self.image_root / image.path
            key = next((k for k in ("cocoid", "imgid") if k in image.entry), None)
            image_id = require_int(image.entry[key], path, image.where, key) if key else image.number
            columns = splits.setdefault(split, {"image": [], "caption": [], "image_id": []})
            for caption in image.captions:
                columns["image"].append(str(file))
                columns["caption"].append(caption)
                columns["image_id"].append(image_id)
        return splits

    def build(
        self,
        splits: Sequence[str] | None = None,
        add_negatives: bool = True,
        negative_types: Sequence[str] | None = None,
        seed: int = 0,
        generator: HardNegativeGenerator | None = None,
        num_proc: int | None = None,
        batch_size: int = 1000,
    ) -> datasets.DatasetDict:
        """The requested splits (default all found), images checked first, with `hard_negatives`."""
        found = self.read()
        wanted = list(splits) if splits is not None else list(found)
        missing = [name for name in wanted if name not in found]
        require(not missing, self.annotation_file, f"no images in split(s) {missing}; found {sorted(found)}")
        if self.check_images:
            check_image_files([f for name in wanted for f in found[name]["image"]],
                              f"Karpathy images of {self.annotation_file}")
        extra = {"image_id": datasets.Value("int64")}
        return datasets.DatasetDict({
            name: rows_to_dataset(found[name], extra, add_negatives, negative_types, seed, generator, num_proc,
                                  batch_size)
            for name in wanted
        })
