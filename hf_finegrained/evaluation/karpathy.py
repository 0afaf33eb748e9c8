"""The one reader of Karpathy split files, for the dataset builder and for the benchmarks.

Karpathy's layout (`dataset_coco.json`, `dataset_flickr30k.json`): `{"images": [{"filepath"?, "filename",
"split", "sentences": [{"raw"}], "cocoid"/"imgid"?}]}`. `read_karpathy_images` reads it, every split or
some; `builders.KarpathyCaptionsBuilder` builds its datasets from it. The benchmarks read the test splits
(COCO 5k, Flickr30k 1k) through `load_karpathy_test`, which also takes BLIP/ARO's list layout
`[{"image": "<relative path>", "caption": [...]}]`. Errors are `AnnotationError`s naming the file and entry.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .annotations import AnnotationError, describe, expect, field, read_json, texts

_SOURCE = "BLIP's Karpathy test split, storage.googleapis.com/sfr-vision-language-research/datasets/"
_TEST_SPLITS = {
    "coco": (("coco/coco_karpathy_test.json", f"coco_karpathy_test.json ({_SOURCE})"),
             ("coco", "the COCO folder holding val2014/ (cocodataset.org)")),
    "flickr": (("flickr30k/flickr30k_test.json", f"flickr30k_test.json ({_SOURCE})"),
               ("flickr30k", "the Flickr30k folder holding flickr30k-images/ (forms.illinois.edu/sec/229675)")),
}


@dataclass(frozen=True)
class KarpathyImage:
    """One entry of a Karpathy file's `images`: its position `number`, `path` ("<filepath>/<filename>",
    relative to the image root), Karpathy's `split`, `captions` (each sentence's "raw"; None for a sentence
    without text when read with `strict_captions=False`) and the `entry` itself (for ids such as "cocoid")."""

    number: int
    path: str
    split: str
    captions: list[str | None]
    entry: Mapping[str, Any]

    @property
    def where(self) -> str:
        """How messages name the entry: "images[3]"."""
        return f"images[{self.number}]"


def _expect_images(data: Any, annotation_file: str | os.PathLike, expected: str) -> None:
    if not isinstance(data, Mapping) or "images" not in data:
        keys = f" with keys {sorted(data)[:5]}" if isinstance(data, Mapping) else ""
        raise AnnotationError(f"{annotation_file}: expected {expected}, got {describe(data)}{keys}")


def _karpathy_images(
    data: Mapping[str, Any], annotation_file: str | os.PathLike, splits: Collection[str] | None, strict_captions: bool
) -> list[KarpathyImage]:
    wanted = None if splits is None else tuple(splits)
    out = []
    for n, entry in enumerate(field(data, "images", annotation_file, "the top level", list)):
        where = f"images[{n}]"
        if wanted is not None and expect(entry, dict, annotation_file, f"as {where}").get("split") not in wanted:
            continue  # another split: not read further
        split = field(entry, "split", annotation_file, where)
        filename = field(entry, "filename", annotation_file, where)
        filepath = field(entry, "filepath", annotation_file, where) if entry.get("filepath") else ""
        sentences = field(entry, "sentences", annotation_file, where, list)
        if strict_captions:
            captions = [field(s, "raw", annotation_file, f"{where} sentence {i}") for i, s in enumerate(sentences)]
        else:
            captions = [s.get("raw") if isinstance(s, Mapping) and isinstance(s.get("raw"), str) else None
                        for s in sentences]
        out.append(KarpathyImage(n, os.path.join(filepath, filename) if filepath else filename, split, captions,
                                 entry))
    return out


def read_karpathy_images(
    annotation_file: str | os.PathLike, splits: Collection[str] | None = None, strict_captions: bool = True
) -> list[KarpathyImage]:
    """The `images` entries of a file in Karpathy's layout, in file order: all of them, or those whose split is
    in `splits` (the others are only checked to be objects). A sentence without text raises, or with
    `strict_captions=False` is kept as a None caption. `AnnotationError` naming the file and entry when the file
    or an entry is not in the layout."""
    data = read_json(annotation_file)
    _expect_images(data, annotation_file, 'a Karpathy split (an object with "images")')
    return _karpathy_images(data, annotation_file, splits, strict_captions)


def load_karpathy_test(annotation_file: str | os.PathLike) -> list[tuple[str, list[str]]]:
    """(image path relative to the image root, its captions) for each test image, in file order, from BLIP's
    list layout or Karpathy's (only `split == "test"` is kept); `AnnotationError` naming the file and entry
    when it is in neither layout or an entry is malformed."""
    data = read_json(annotation_file)
    if isinstance(data, list):
        out = []
        for n, entry in enumerate(data):
            captions = field(entry, "caption", annotation_file, f"entry {n}", (list, str))
            if isinstance(captions, str):  # BLIP's train files hold one caption per entry
                captions = [captions]
            out.append((field(entry, "image", annotation_file, f"entry {n}"),
                        list(texts(captions, annotation_file, f"entry {n} 'caption'"))))
        return out
    _expect_images(data, annotation_file, 'a Karpathy test split (a JSON list of {"image", "caption"} entries or an '
                                          'object with "images")')
    return [(image.path, list(image.captions)) for image in _karpathy_images(data, annotation_file, ("test",), True)]


def karpathy_test_paths(dataset: str) -> dict[str, tuple[str, str]]:
    """The `BenchmarkSpec.paths` of a benchmark on the Karpathy test split of `dataset` ("coco" or "flickr"):
    the annotation file and the image folder, with where to get them."""
    annotations, images = _TEST_SPLITS[dataset]
    return {"annotations": annotations, "images": images}


def check_karpathy_test(annotations: str, images: str) -> list[tuple[str, list[str]]]:
    """`BenchmarkSpec.check` of a Karpathy test-split benchmark: reads the annotation file (images unopened)."""
    return load_karpathy_test(annotations)
