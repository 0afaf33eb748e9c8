"""COCO captions (`captions_train2014.json` layout) plus an image folder -> a hard-negative dataset."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import datasets

from ..negatives import HardNegativeGenerator
from .annotations import read_json, require, require_int
from .image_files import check_image_files, rows_to_dataset

LAYOUT = "COCO captions: {'images': [{'id', 'file_name'}], 'annotations': [{'image_id', 'caption'}]}"


class CocoCaptionsBuilder:
    """One row per caption annotation: `image` (the file), `caption`, `image_id`, `caption_id`, negatives.

    Args:
        annotation_file: e.g. `annotations/captions_train2014.json`.
        image_dir: the folder holding the `file_name`s (e.g. `train2014/`).
        check_images: decode every image file in full before building and list every bad file in one error.

    A caption that is not a string is stored as None and gets no negatives (counted in the report). Ids must
    be integers (or strings of digits); any other id raises `AnnotationFileError` naming the entry and key.
    """

    def __init__(self, annotation_file: str | os.PathLike, image_dir: str | os.PathLike, check_images: bool = True):
        self.annotation_file = Path(annotation_file)
        self.image_dir = Path(image_dir)
        self.check_images = check_images

    def read(self) -> dict[str, list]:
        """The columns read from the annotation file (no images opened)."""
        path = self.annotation_file
        data = read_json(path, LAYOUT)
        require(isinstance(data, dict) and isinstance(data.get("images"), list)
                and isinstance(data.get("annotations"), list), path, f"expected {LAYOUT}")
        files = {}
        for number, image in enumerate(data["images"]):
            require(isinstance(image, dict) and "id" in image and "file_name" in image, path,
                    f"image entry without 'id'/'file_name': {image!r}")
            files[require_int(image["id"], path, f"images[{number}]", "id")] = str(self.image_dir / image["file_name"])
        columns: dict[str, list] = {"image": [], "caption": [], "image_id": [], "caption_id": []}
        unknown = []
        for number, note in enumerate(data["annotations"]):
            require(isinstance(note, dict) and "image_id" in note, path, f"annotation without 'image_id': {note!r}")
            image_id = require_int(note["image_id"], path, f"annotations[{number}]", "image_id")
            caption_id = require_int(note.get("id", number), path, f"annotations[{number}]", "id")
            if image_id not in files:
                unknown.append(image_id)
                continue
            caption = note.get("caption")
            columns["image"].append(files[image_id])
            columns["caption"].append(caption if isinstance(caption, str) else None)
            columns["image_id"].append(image_id)
            columns["caption_id"].append(caption_id)
        require(not unknown, path, f"{len(unknown)} annotation(s) name image ids missing from 'images' "
                                   f"(first: {unknown[:5]})")
        return columns

    def build(
        self,
        add_negatives: bool = True,
        negative_types: Sequence[str] | None = None,
        seed: int = 0,
        generator: HardNegativeGenerator | None = None,
        num_proc: int | None = None,
        batch_size: int = 1000,
    ) -> datasets.Dataset:
        """Reads the annotations, checks the image files, and adds `hard_negatives` (unless told not to)."""
        columns = self.read()
        if self.check_images:
            check_image_files(columns["image"], f"COCO images of {self.annotation_file}")
        extra = {"image_id": datasets.Value("int64"), "caption_id": datasets.Value("int64")}
        return rows_to_dataset(columns, extra, add_negatives, negative_types, seed, generator, num_proc, batch_size)
