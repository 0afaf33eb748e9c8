"""What one dataloader worker (one CPU core) feeds: images/s and hard negatives/s, measured in one process.

Stages, each timed on the same batches of rows in one thread, interleaved round by round:

- decode: `rows.open_image` on each row's undecoded `{"bytes", "path"}` (what `FineGrainedTrainer` hands the
  collator from a `datasets.Image` column): the baseline of the ratios;
- decode + preprocess: the same, then `CLIPImageProcessorPil` at 224 px (resize, centre crop, normalise; the PIL
  processor, as no torchvision is installed) on the batch;
- collate: `FineGrainedCollator` on the rows: decode, preprocess and tokenise the B captions and their valid
  negatives (up to 5 each, generated once ahead), padded to the longest;
- negatives: `HardNegativeGenerator(seed=0).generate(captions)` on the batch's captions (the five types);
- collate + negatives: both, as a worker that makes the negatives on the fly does.

Images are COCO-sized JPEGs written by the script (640x480, quality 90, gradients, shapes and sensor-like noise, so
that they cost what photos cost to decode; the mean file size is printed). Captions are SugarCrepe's (COCO
captions) from ../shared/benchmarks/sugarcrepe/*.json when present, else synthetic ones.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_input.py            # a few minutes
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_input.py --tiny     # seconds: checks that it runs

Workers needed to feed N GPUs = N x (images/s of one GPU, e.g. from benchmarks/bench_gpu.py) / (images/s of one
worker, from the "collate" or "collate + negatives" line).
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import random
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw

from bench_step import WORDS  # benchmarks/ is on the path when run as a script
from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.negatives import HardNegativeGenerator
from hf_finegrained.negatives.types import DEFAULT_NEGATIVE_TYPES as TYPES
from hf_finegrained.rows import open_image
from hf_finegrained.synthetic.tiny_clip import build_processor, train_clip_tokenizer

SUGARCREPE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "benchmarks", "sugarcrepe")


def photo_like_jpeg(rng: np.random.Generator, width: int = 640, height: int = 480, quality: int = 90) -> bytes:
    """A JPEG with what makes photos cost to decode: smooth gradients, edges of shapes, and fine noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 6.3, 3)
    image = np.stack([110 + 90 * np.sin(x / rng.uniform(30, 90) + y / rng.uniform(40, 120) + phase[c])
                      for c in range(3)], -1)
    canvas = Image.fromarray(image.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        box = (x0, y0, x0 + int(rng.integers(20, 240)), y0 + int(rng.integers(20, 180)))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=color)
    noisy = np.asarray(canvas, dtype=np.float32) + rng.normal(0, 18, (height, width, 3))  # ~150 KB files, as COCO
    buffer = io.BytesIO()
    Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def load_captions(count: int, seed: int = 0) -> tuple[list[str], str]:
    """`count` distinct captions: SugarCrepe's when its files are there, else synthetic COCO-length ones."""
    captions: list[str] = []
    for path in sorted(glob.glob(os.path.join(SUGARCREPE, "*.json"))):
        with open(path, encoding="utf-8") as handle:
            captions.extend(item["caption"] for item in json.load(handle).values())
    captions = list(dict.fromkeys(captions))
    source = f"SugarCrepe ({len(captions)} distinct COCO captions)"
    if len(captions) < count:
        rng = random.Random(seed)
        captions = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))) for _ in range(count)]
        source = "synthetic (SugarCrepe files not found)"
    random.Random(seed).shuffle(captions)
    return captions[:count], source


def timed(function: Callable[[list[dict]], object], batches: list[list[dict]]) -> float:
    start = time.perf_counter()
    for batch in batches:
        function(batch)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=512, help="distinct images (and captions)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the fastest is reported")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--tiny", action="store_true", help="8 images, 1 round: checks that the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.images, args.batch_size, args.rounds = 8, 4, 1
    torch.set_num_threads(1)  # one worker = one core

    rng = np.random.default_rng(0)
    blobs = [photo_like_jpeg(rng) for _ in range(args.images)]
    captions, source = load_captions(args.images)
    generator = HardNegativeGenerator(seed=0)
    generated = generator.generate(captions)  # the collator's negatives (and spaCy loaded before timing)
    rows = [{"image": {"bytes": blob, "path": None}, "caption": caption,
             "hard_negatives": [negatives[name] for name in TYPES]}
            for blob, caption, negatives in zip(blobs, captions, generated)]
    batches = [rows[i : i + args.batch_size] for i in range(0, len(rows), args.batch_size)]
    batches = [batch for batch in batches if len(batch) == args.batch_size]
    # A vocabulary where COCO words are single tokens, as in CLIP's 49k BPE; tokenising cost is the fast
    # tokenizer's either way.
    processor = build_processor(train_clip_tokenizer(captions * 4, vocab_size=4000), image_size=args.image_size)
    collator = FineGrainedCollator(processor, TYPES, max_length=77)
    produced = sum(generator.stats.produced.values()) / len(captions)

    def decode(batch: list[dict]) -> None:
        for row in batch:
            open_image(row["image"])

    def preprocess(batch: list[dict]) -> None:
        processor.image_processor(images=[open_image(row["image"]) for row in batch], return_tensors="pt")

    def negatives(batch: list[dict]) -> None:
        generator.generate([row["caption"] for row in batch], progress=False)

    def collate_with_negatives(batch: list[dict]) -> None:
        made = generator.generate([row["caption"] for row in batch], progress=False)
        collator([{**row, "hard_negatives": [m[name] for name in TYPES]} for row, m in zip(batch, made)])

    stages = {"decode": decode, "decode + preprocess 224 px": preprocess, "collate (decode + preprocess + tokenise)":
              collator, "hard negatives (5 types)": negatives, "collate + hard negatives on the fly":
              collate_with_negatives}
    for function in stages.values():  # warm-up
        function(batches[0])
    seconds: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(args.rounds):
        for name, function in stages.items():
            seconds[name].append(timed(function, batches))
    count = len(batches) * args.batch_size
    texts = [collator(batch)["input_ids"].shape[0] for batch in batches]
    mean_kb = sum(map(len, blobs)) / len(blobs) / 1024
    print(f"threads={torch.get_num_threads()} images={count} ({len(batches)} batches of {args.batch_size}) "
          f"640x480 JPEG q90 mean {mean_kb:.0f} KB, preprocess to {args.image_size} px; texts per batch "
          f"{statistics.mean(texts):.0f} (captions + valid negatives); captions: {source}; rounds={args.rounds}")
    # The fastest round is the one least slowed by other load on the machine; the median is printed beside it.
    base = min(seconds["decode"])
    print(f"{'stage (one core)':<42} {'rows/s':>8} {'ms/row':>7} {'time / decode':>14} {'median rows/s':>14}")
    for name, values in seconds.items():
        print(f"{name:<42} {count / min(values):>8.1f} {1000 * min(values) / count:>7.2f} {min(values) / base:>14.2f} "
              f"{count / statistics.median(values):>14.1f}")
    print(f"negatives per caption: {produced:.2f} of {len(TYPES)} types")


if __name__ == "__main__":
    main()
