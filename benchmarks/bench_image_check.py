"""Cost of the full image decode in `validate_dataset` against the header-only read it replaced, same process.

Writes `--files` images of each kind into a temporary folder (64 px PNGs, 640x480 JPEGs of photo-like
smooth content, 640x480 PNGs of noise: the worst case for PNG), then times per kind:

- header: `Image.open(path).size` (what validation read before: it missed truncated files);
- decode: `hf_finegrained.validation._image_problem(path)` (the whole file decoded; JPEGs in draft mode).

Prints milliseconds per file and the ratio decode / header for each kind, best of `--repeats`.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_image_check.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from hf_finegrained.validation import _image_problem


def write_images(folder: Path, count: int, rng: np.random.Generator) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"64 px PNG": [], "640x480 JPEG": [], "640x480 PNG (noise)": []}
    y, x = np.mgrid[0:480, 0:640]
    for n in range(count):
        small = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        path = folder / f"small-{n}.png"
        Image.fromarray(small).save(path)
        kinds["64 px PNG"].append(str(path))
        phase = rng.uniform(0, 6.3, 3)
        smooth = np.stack([127 + 120 * np.sin(x / (40 + 10 * c) + y / 60 + phase[c]) for c in range(3)], -1)
        path = folder / f"photo-{n}.jpg"
        Image.fromarray(smooth.astype(np.uint8)).save(path, quality=90)
        kinds["640x480 JPEG"].append(str(path))
        path = folder / f"noise-{n}.png"
        Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(path)
        kinds["640x480 PNG (noise)"].append(str(path))
    return kinds


def best_time(function: Callable[[str], object], paths: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for path in paths:
            function(path)
        best = min(best, time.perf_counter() - start)
    return best / len(paths)


def header(path: str) -> None:
    with Image.open(path) as image:
        image.size  # noqa: B018 - the header parse


def decode(path: str) -> None:
    assert _image_problem(path) is None, path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        kinds = write_images(Path(folder), args.files, np.random.default_rng(0))
        print(f"| images ({args.files} files each) | header, ms/file | full decode, ms/file | decode / header |")
        print("|---|---:|---:|---:|")
        for kind, paths in kinds.items():
            cheap, full = best_time(header, paths, args.repeats), best_time(decode, paths, args.repeats)
            print(f"| {kind} | {1000 * cheap:.3f} | {1000 * full:.3f} | {full / cheap:.1f} |")


if __name__ == "__main__":
    main()
