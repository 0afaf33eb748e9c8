"""What one dataloader worker (one CPU core) feeds: rows/s through the processor, the fast path and pre-resized images.

Stages, each timed on the same batches of rows in one thread, interleaved round by round:

- decode: `rows.open_image` on each row's undecoded `{"bytes", "path"}` 640x480 JPEG (what `FineGrainedTrainer`
  hands the collator from a `datasets.Image` column): the baseline of the ratios;
- (a) processor path (`image_pipeline="processor"`, the reference and the old default): decode + `CLIPImageProcessorPil`
  at 224 px (resize, centre crop, normalise in float); `FineGrainedCollator` (decode, preprocess, tokenise the B
  captions and their valid negatives, padded to the longest); the same with the negatives made on the fly;
- (b) fast path (`image_pipeline="fast"`, `pixels.PixelRule`): the reduced-scale decode alone (draft mode to
  320x240 for 224 px, then the bicubic resize to 298x224); decode + resize + crop to uint8; the collator; the
  collator with the negatives made on the fly;
- (b) profile: where the fast path's time goes: the reduced-scale decode alone, the bicubic resize alone;
- (c) the same images stored at build time with a 256 px shortest side (`builders.ImageResize(256)`, JPEG q90:
  341x256) through the fast path: decode + pixels; the collator; with the negatives on the fly;
- (d) stored at the model's size (`ImageResize(224, center_crop=True)`: 224x224, CLIP's crop baked in, so only
  for CLIP-like processors): the collator, with and without the negatives on the fly;
- tokenise: the tokenizer alone on the batch's captions and negatives (as the collator calls it);
- negatives: `HardNegativeGenerator(seed=0).generate(captions)` on the batch's captions (the five types).

Images are COCO-sized JPEGs written by the script (640x480, quality 90, gradients, shapes and sensor-like noise, so
that they cost what photos cost to decode; the mean file size is printed). Captions are SugarCrepe's (COCO
captions) from ../shared/benchmarks/sugarcrepe/*.json when present, else synthetic ones. The normalisation of the
fast path runs on the training device, not in the worker, and is not timed here.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_input.py          # ~5 minutes
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_input.py --tiny             # seconds: checks that it runs
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_input.py --memory           # a worker's peak memory vs rows

`--memory`: does a worker's memory grow with the data set? A `datasets` folder of N distinct 640x480 JPEGs
(`Image(decode=False)`, memory-mapped, as the Trainer reads it) is collated on the fast path with the negatives
made on the fly, in a fresh process per size, and the process's anonymous resident memory (`RssAnon`: the heap, not
the mapped file pages the kernel can drop) is sampled after every batch; its peak is printed for each N.

Workers needed to feed N GPUs = N x (images/s of one GPU, e.g. from benchmarks/bench_gpu.py) / (images/s of one
worker, from a "collate" line).
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
from hf_finegrained.builders.resize import ImageResize, resize_image
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


def _rss_anon_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("RssAnon:"))


def memory_child(folder: str, rows: int, batch_size: int) -> None:
    """One worker's pass over the first `rows` rows of the folder: prints the peak RssAnon (KiB) over its batches."""
    import datasets

    torch.set_num_threads(1)
    data = datasets.load_from_disk(folder).select(range(rows))
    processor = build_processor(train_clip_tokenizer(data["caption"][:256] * 4, vocab_size=4000), image_size=224)
    fast = FineGrainedCollator(processor, TYPES, max_length=77, image_pipeline="fast")
    generator = HardNegativeGenerator(seed=0)
    start, peak = _rss_anon_kib(), 0
    for first in range(0, rows, batch_size):
        batch = [data[i] for i in range(first, min(first + batch_size, rows))]
        made = generator.generate([row["caption"] for row in batch], progress=False)
        fast([{**row, "hard_negatives": [m[name] for name in TYPES]} for row, m in zip(batch, made)])
        peak = max(peak, _rss_anon_kib())
    print(json.dumps({"rows": rows, "start_kib": start, "peak_kib": peak}))


def memory(sizes: list[int], batch_size: int) -> None:
    """Peak anonymous memory of one worker collating each size of the same on-disk data set, one process each."""
    import subprocess
    import sys
    import tempfile

    import datasets

    rng = np.random.default_rng(1)
    captions, _ = load_captions(max(sizes))
    with tempfile.TemporaryDirectory() as folder:
        features = datasets.Features({"image": datasets.Image(decode=False), "caption": datasets.Value("string")})
        rows = {"image": [{"bytes": photo_like_jpeg(rng), "path": None} for _ in range(max(sizes))],
                "caption": captions}
        datasets.Dataset.from_dict(rows, features=features).save_to_disk(folder)
        print(f"{'rows collated':>14} {'RssAnon at start MiB':>21} {'peak MiB':>9} {'growth MiB':>11}")
        for size in sizes:
            out = subprocess.run([sys.executable, __file__, "--memory-child", folder, str(size),
                                  "--batch-size", str(batch_size)], check=True, capture_output=True, text=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{size:>14} {result['start_kib'] / 1024:>21.1f} {result['peak_kib'] / 1024:>9.1f} "
                  f"{(result['peak_kib'] - result['start_kib']) / 1024:>11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=512, help="distinct images (and captions)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the fastest is reported")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--tiny", action="store_true", help="8 images, 1 round: checks that the script runs")
    parser.add_argument("--memory", action="store_true", help="a worker's peak memory for 256 and 2,048 rows")
    parser.add_argument("--memory-child", nargs=2, metavar=("FOLDER", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]), args.batch_size)
        return
    if args.memory:
        memory([64, 256, 2048] if not args.tiny else [8, 16], args.batch_size if not args.tiny else 4)
        return
    if args.tiny:
        args.images, args.batch_size, args.rounds = 8, 4, 1
    torch.set_num_threads(1)  # one worker = one core

    rng = np.random.default_rng(0)
    blobs = [photo_like_jpeg(rng) for _ in range(args.images)]
    captions, source = load_captions(args.images)
    generator = HardNegativeGenerator(seed=0)
    generated = generator.generate(captions)  # the collator's negatives (and spaCy loaded before timing)
    small = [resize_image({"bytes": blob, "path": None}, ImageResize(256))[0]["bytes"] for blob in blobs]
    square = [resize_image({"bytes": blob, "path": None}, ImageResize(224, center_crop=True))[0]["bytes"]
              for blob in blobs]
    negatives_of = [[negatives[name] for name in TYPES] for negatives in generated]
    rows = [{"image": {"bytes": blob, "path": None}, "caption": caption, "hard_negatives": made}
            for blob, caption, made in zip(blobs, captions, negatives_of)]
    small_rows = [{**row, "image": {"bytes": blob, "path": None}} for row, blob in zip(rows, small)]
    square_rows = [{**row, "image": {"bytes": blob, "path": None}} for row, blob in zip(rows, square)]
    cut = lambda data: [data[i : i + args.batch_size] for i in range(0, len(data) - args.batch_size + 1,  # noqa: E731
                                                                     args.batch_size)]
    batches, small_batches, square_batches = cut(rows), cut(small_rows), cut(square_rows)
    # A vocabulary where COCO words are single tokens, as in CLIP's 49k BPE; tokenising cost is the fast
    # tokenizer's either way.
    processor = build_processor(train_clip_tokenizer(captions * 4, vocab_size=4000), image_size=args.image_size)
    collator = FineGrainedCollator(processor, TYPES, max_length=77)
    fast = FineGrainedCollator(processor, TYPES, max_length=77, image_pipeline="fast")
    rule = fast.pixel_rule
    produced = sum(generator.stats.produced.values()) / len(captions)
    same = {id(b): s for b, s in zip(batches, small_batches)}
    same_square = {id(b): s for b, s in zip(batches, square_batches)}
    halves = [Image.open(io.BytesIO(blob)) for blob in blobs[:1]]
    halves[0].draft("RGB", (298, 224))
    half = halves[0].convert("RGB")  # 320 x 240: what draft mode decodes for 224 px

    def decode(batch: list[dict]) -> None:
        for row in batch:
            open_image(row["image"])

    def preprocess(batch: list[dict]) -> None:
        processor.image_processor(images=[open_image(row["image"]) for row in batch], return_tensors="pt")

    def fast_decode(batch: list[dict]) -> None:
        for row in batch:
            rule.decode(row["image"])

    def fast_pixels(batch: list[dict]) -> None:
        rule([rule.decode(row["image"]) for row in batch])

    def on_the_fly(collate: Callable[[list[dict]], object]) -> Callable[[list[dict]], None]:
        def run(batch: list[dict]) -> None:
            made = generator.generate([row["caption"] for row in batch], progress=False)
            collate([{**row, "hard_negatives": [m[name] for name in TYPES]} for row, m in zip(batch, made)])
        return run

    def tokenise(batch: list[dict]) -> None:
        texts = [row["caption"] for row in batch] + [n for row in batch for n in row["hard_negatives"] if n]
        processor.tokenizer(texts, return_tensors="pt", padding="longest", truncation=True, max_length=77)

    def negatives(batch: list[dict]) -> None:
        generator.generate([row["caption"] for row in batch], progress=False)

    def pre_resized(function: Callable[[list[dict]], object], rows_of: dict) -> Callable[[list[dict]], None]:
        def run(batch: list[dict]) -> None:
            function(rows_of[id(batch)])
        return run

    def draft_only(batch: list[dict]) -> None:  # where the time goes: the reduced-scale decode alone
        for row in batch:
            image = Image.open(io.BytesIO(row["image"]["bytes"]))
            image.draft("RGB", (298, 224))
            image.load()

    def resize_only(batch: list[dict]) -> None:  # ... and the processor's resize of the drafted image alone
        for _ in batch:
            half.resize((298, 224), resample=rule.resample)

    stages = {
        "decode (baseline)": decode,
        "(a) processor: decode + preprocess 224 px": preprocess,
        "(a) processor: collate": collator,
        "(a) processor: collate + negatives on the fly": on_the_fly(collator),
        "(b) fast: reduced-scale decode + resize": fast_decode,
        "(b) profile: reduced-scale decode (320x240) alone": draft_only,
        "(b) profile: bicubic resize 320x240 -> 298x224 alone": resize_only,
        "(b) fast: decode + uint8 pixels 224 px": fast_pixels,
        "(b) fast: collate": fast,
        "(b) fast: collate + negatives on the fly": on_the_fly(fast),
        "(c) 256 px at build: decode + uint8 pixels": pre_resized(fast_pixels, same),
        "(c) 256 px at build: collate": pre_resized(fast, same),
        "(c) 256 px at build: collate + negatives on the fly": pre_resized(on_the_fly(fast), same),
        "(d) 224 px cropped at build: collate": pre_resized(fast, same_square),
        "(d) 224 px cropped at build: collate + negatives": pre_resized(on_the_fly(fast), same_square),
        "tokenise (captions + negatives)": tokenise,
        "hard negatives (5 types), captions/s": negatives,
    }
    for function in stages.values():  # warm-up
        function(batches[0])
    seconds: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(args.rounds):
        for name, function in stages.items():
            seconds[name].append(timed(function, batches))
    count = len(batches) * args.batch_size
    texts = [collator(batch)["input_ids"].shape[0] for batch in batches]
    mean_kb = sum(map(len, blobs)) / len(blobs) / 1024
    small_kb = sum(map(len, small)) / len(small) / 1024
    print(f"threads={torch.get_num_threads()} images={count} ({len(batches)} batches of {args.batch_size}) "
          f"640x480 JPEG q90 mean {mean_kb:.0f} KB (256 px at build: 341x256 q90 mean {small_kb:.0f} KB), to "
          f"{args.image_size} px; texts per batch {statistics.mean(texts):.0f} (captions + valid negatives); "
          f"captions: {source}; rounds={args.rounds}")
    # The fastest round is the one least slowed by other load on the machine; the median is printed beside it.
    base = min(seconds["decode (baseline)"])
    print(f"{'stage (one core)':<52} {'rows/s':>8} {'ms/row':>7} {'time / decode':>14} {'median rows/s':>14}")
    for name, values in seconds.items():
        print(f"{name:<52} {count / min(values):>8.1f} {1000 * min(values) / count:>7.2f} "
              f"{min(values) / base:>14.2f} {count / statistics.median(values):>14.1f}")
    rate = {name: count / min(values) for name, values in seconds.items()}
    for path in ("(b) fast", "(c) 256 px at build", "(d) 224 px cropped at build"):
        alone = rate[f"{path}: collate"]
        fly = rate.get(f"{path}: collate + negatives on the fly") or rate[f"{path}: collate + negatives"]
        print(f"{path}: collate {alone / rate['(a) processor: collate']:.2f}x the processor path's rows/s; "
              f"negatives on the fly take {100 * (1 - fly / alone):.1f}% of the worker's time")
    print(f"negatives per caption: {produced:.2f} of {len(TYPES)} types")


if __name__ == "__main__":
    main()
