"""Karpathy test splits (COCO 5k, Flickr30k 1k) in either published layout: the BLIP/ARO list
`[{"image": "<relative path>", "caption": [...]}]` or Karpathy's `{"images": [{"filepath"?, "filename", "split",
"sentences": [{"raw"}]}]}` (only `split == "test"` is kept)."""

from __future__ import annotations

import os

from .annotations import AnnotationError, describe, expect, field, read_json, texts


def load_karpathy_test(annotation_file: str | os.PathLike) -> list[tuple[str, list[str]]]:
    """(image path relative to the image root, its captions) for each test image, in file order;
    `AnnotationError` naming the file and entry when it is in neither layout or an entry is malformed."""
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
    if not isinstance(data, dict) or "images" not in data:
        keys = f" with keys {sorted(data)[:5]}" if isinstance(data, dict) else ""
        raise AnnotationError(
            f'{annotation_file}: expected a Karpathy test split (a JSON list of {{"image", "caption"}} entries or an '
            f'object with "images"), got {describe(data)}{keys}'
        )
    out = []
    for n, entry in enumerate(field(data, "images", annotation_file, "the top level", list)):
        where = f"images[{n}]"
        if expect(entry, dict, annotation_file, f"as {where}").get("split") != "test":
            continue
        filename = field(entry, "filename", annotation_file, where)
        path = os.path.join(entry["filepath"], filename) if entry.get("filepath") else filename
        sentences = field(entry, "sentences", annotation_file, where, list)
        out.append((path, [field(s, "raw", annotation_file, f"{where} sentence {i}") for i, s in enumerate(sentences)]))
    return out
