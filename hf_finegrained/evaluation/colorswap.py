"""ColorSwap (Burapacheep et al., Findings of ACL 2024): 1,000 examples (700 train, 300 test) of two images and
two captions with the same words, the colour words moved to other objects. Layout as in the README of
Top34051/colorswap (@4f2c9e40): `test.json` (and `train.json`), a list of `{"id", "caption_1", "caption_2",
"image_1", "image_2", "image_source", "caption_source"}`, image paths relative to the data folder
(`images/img_0_1.png`, from `images.zip`).

Rule: the image-text matching scores of Winoground (the paper follows the Winoground schema and reports text,
image and group scores), every comparison strict. The repository holds no image-text matching code (its README
points to a Colab notebook, not part of the repository), so how its code treats ties could not be checked here.
Every caption pair has the same words, so the order-blind ceiling is 0 on every example."""

from __future__ import annotations

import os

from .annotations import expect, field, read_json
from .engine import ScoringEngine
from .images import FileImage, find_image
from .pairs import PairExample, score_pair_examples
from .results import BenchmarkResult
from .spec import BenchmarkDataset, BenchmarkSpec, pair_scores

SOURCE = "github.com/Top34051/colorswap (Google Drive archive linked from its README)"


def read_colorswap(annotation_file: str) -> list[dict]:
    """The examples of a ColorSwap file; `AnnotationError` naming the file and example when one is malformed."""
    data = expect(read_json(annotation_file), list, annotation_file, "of examples (ColorSwap's layout)")
    out = []
    for n, entry in enumerate(data):
        where = f"example {n}"
        out.append({"images": [field(entry, f"image_{i}", annotation_file, where) for i in (1, 2)],
                    "captions": [field(entry, f"caption_{i}", annotation_file, where) for i in (1, 2)],
                    "source": str(entry.get("image_source", ""))})
    return out


def evaluate_colorswap(engine: ScoringEngine, annotations: str, images: str) -> BenchmarkResult:
    """`text`, `image`, `group` (headline) over the examples whose two images exist."""
    rows = read_colorswap(annotations)
    examples, missing = [], 0
    for row in rows:
        paths = [find_image(name, [images]) or find_image(os.path.basename(name), [images]) for name in row["images"]]
        if None in paths:
            missing += 1
            continue
        examples.append(PairExample(images=(FileImage(paths[0]), FileImage(paths[1])),
                                    captions=(row["captions"][0], row["captions"][1])))
    return score_pair_examples(engine, "colorswap", examples, total=len(rows), missing_images=missing,
                               notes={"annotation_file": os.path.basename(annotations)})


SPEC = BenchmarkSpec("colorswap", {
    "annotations": ("colorswap/test.json", f"ColorSwap's test.json ({SOURCE})"),
    "images": ("colorswap", f"the folder holding ColorSwap's images/ (from images.zip; {SOURCE})"),
}, evaluate_colorswap, lambda annotations, images: read_colorswap(annotations),
    # not a Hub copy: the runner reads the layout of the authors' Google Drive archive (test.json, images/)
    dataset=BenchmarkDataset("colorswap", "ColorSwap (Burapacheep et al., Findings of ACL 2024)"),
    metric_types=pair_scores())
