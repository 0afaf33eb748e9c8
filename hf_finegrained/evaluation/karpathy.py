"""Karpathy test splits (COCO 5k, Flickr30k 1k) in either published layout: the BLIP/ARO list
`[{"image": "<relative path>", "caption": [...]}]` or Karpathy's `{"images": [{"filepath"?, "filename", "split",
"sentences": [{"raw"}]}]}` (only `split == "test"` is kept)."""

from __future__ import annotations

import json
import os


def load_karpathy_test(annotation_file: str | os.PathLike) -> list[tuple[str, list[str]]]:
    """(image path relative to the image root, its captions) for each test image, in file order."""
    with open(annotation_file, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, list):
        return [(entry["image"], list(entry["caption"])) for entry in data]
    out = []
    for entry in data["images"]:
        if entry.get("split") != "test":
            continue
        path = os.path.join(entry["filepath"], entry["filename"]) if entry.get("filepath") else entry["filename"]
        out.append((path, [s["raw"] for s in entry["sentences"]]))
    return out
