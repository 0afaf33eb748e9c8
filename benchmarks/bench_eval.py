"""Scoring engine vs. the official per-pair loop on a SugarCrepe-shaped run, same model, same process.

The run takes every SugarCrepe item (all 7 category files) of `--images` randomly chosen COCO file names, so
images and captions repeat across items as in the real benchmark (7,511 items on 1,560 images); without
../shared/benchmarks it generates items with the same ratios. Images are generated 640x480 JPEGs.

- per pair (as RAIVNLab/sugar-crepe main_eval.py): open the image, encode it, encode the caption, encode the
  negative, compare; batch size 1, every item re-encodes its image.
- engine: `ScoringEngine.score_choices`, each unique image and caption encoded once, batches of 64.

Prints the work ratio (encodes done / unique images + captions; goal 1.0) of both and the time ratio
engine / per pair (goal <= 0.4), and checks both give the same scores.

`--suite` adds the shapes of the papers' suite (issue 31), each scored through the package's own code path for
that benchmark against a per-item loop that encodes every item's images and captions for that item alone (as each
upstream script does, item by item here; their scripts batch items, which saves time but not work):

- whatsup: Controlled-A, groups of 4 images (one object pair, 4 relations) sharing their 4 captions, the right one
  first (`ScoringEngine.score_choices`, as `whatsup.py`);
- crepe: productivity rows, 3 regions (crops) per Visual Genome image, a caption and 5 hard negatives each
  (`score_choices` on `FileImage(path, box)`, as `crepe.py`);
- pairs (BiVLC, VisMin, EqBen, ColorSwap, MMVP-VLM): two images x two captions, the positive image and caption
  shared by 2 instances as BiVLC's COCO images are (`pairs.score_matrices`);
- spec: groups of 3 images and 3 captions that differ in one concept, each image choosing among the 3 captions and
  each caption among the 3 images (`spec_benchmark._scores`).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_eval.py            # ViT-B/32-shaped, random init
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_eval.py --suite    # also the papers' suite
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_eval.py --images 20 --tiny  # quick look
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from transformers import CLIPConfig, CLIPModel

from hf_finegrained.evaluation import ChoiceItem, CLIPScorer, FileImage, ScoringEngine
from hf_finegrained.evaluation.sugarcrepe import CATEGORIES
from hf_finegrained.synthetic.tiny_clip import build_processor, train_clip_tokenizer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "sugarcrepe"


class Counting:
    """Wraps a scorer and counts the images and texts it is asked to encode."""

    def __init__(self, scorer: CLIPScorer) -> None:
        self.scorer, self.images, self.texts = scorer, 0, 0

    def encode_images(self, images):
        self.images += len(images)
        return self.scorer.encode_images(images)

    def encode_texts(self, texts):
        self.texts += len(texts)
        return self.scorer.encode_texts(texts)


def sugarcrepe_entries(num_images: int, seed: int) -> list[dict]:
    """All SugarCrepe entries of `num_images` random file names (or synthetic ones in the same ratios)."""
    rng = random.Random(seed)
    if SHARED.is_dir():
        entries = [e for c in CATEGORIES for e in json.loads((SHARED / f"{c}.json").read_text()).values()]
        chosen = set(rng.sample(sorted({e["filename"] for e in entries}), num_images))
        return [e for e in entries if e["filename"] in chosen]
    words = "man woman dog cat red blue table street ball car sits runs on under near holding big small".split()
    entries = []
    for i in range(round(num_images * 7511 / 1560)):
        caption = " ".join(rng.choices(words, k=9))
        entries.append({"filename": f"{rng.randrange(num_images):012d}.jpg",
                        "caption": caption if rng.random() < 0.6 else f"{caption} {i}",  # ~79% unique captions
                        "negative_caption": " ".join(rng.sample(caption.split(), 9)) + f" {i}"})
    return entries


def write_images(folder: Path, names: set[str], seed: int) -> None:
    rng = random.Random(seed)
    for name in names:
        base = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
        noise = Image.effect_noise((640, 480), 60).convert("RGB")
        Image.blend(base, noise, 0.3).save(folder / name, quality=90)


def vit_b32(tokenizer) -> CLIPModel:
    """CLIP ViT-B/32 shapes (openai/clip-vit-base-patch32 config), random weights; `tiny` for a quick look."""
    config = CLIPConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 512, "intermediate_size": 2048,
                     "num_hidden_layers": 12, "num_attention_heads": 8, "max_position_embeddings": 77,
                     "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
                     "pad_token_id": tokenizer.pad_token_id},
        vision_config={"image_size": 224, "patch_size": 32, "hidden_size": 768, "intermediate_size": 3072,
                       "num_hidden_layers": 12, "num_attention_heads": 12},
        projection_dim=512,
    )
    torch.manual_seed(0)
    return CLIPModel(config)


def tiny(tokenizer) -> CLIPModel:
    from hf_finegrained.synthetic.tiny_clip import build_clip_model

    return build_clip_model(tokenizer, image_size=224, patch_size=32, hidden_size=64, num_layers=2, num_heads=2)


def per_pair(scorer: Counting, items: list[ChoiceItem]) -> list[list[float]]:
    scores = []
    for item in items:
        image = scorer.encode_images([item.image.open()])[0]
        pos = scorer.encode_texts([item.captions[0]])[0]
        neg = scorer.encode_texts([item.captions[1]])[0]
        scores.append([float(pos @ image), float(neg @ image)])
    return scores


def suite_shapes(folder: Path, num_images: int, seed: int) -> dict[str, tuple[list[list[Any]], Callable, list]]:
    """Per shape of the papers' suite: (items as lists of image refs and captions for the per-item loop, the engine
    call through the benchmark's own code path, its inputs). Writes the images it names under `folder`."""
    from hf_finegrained.evaluation.pairs import PairExample, score_matrices
    from hf_finegrained.evaluation.spec_benchmark import _scores

    rng = random.Random(seed + 1)
    words = "mug plate knife cup book lamp dog cat chair table red blue big small left right on under".split()
    files = [f"suite_{i:05d}.jpg" for i in range(num_images)]
    write_images(folder, set(files), seed + 1)
    path = [str(folder / name) for name in files]

    def sentence(*extra: Any) -> str:
        return " ".join(rng.choices(words, k=7) + [str(e) for e in extra])

    shapes: dict[str, tuple[list[list[Any]], Callable, list]] = {}
    # What'sUp Controlled-A: 4 images per object pair, the 4 captions shared by the group
    choices = []
    for group in range(num_images // 4):
        captions = [sentence("group", group, relation) for relation in range(4)]
        for relation in range(4):
            options = [captions[relation]] + [c for c in captions if c != captions[relation]]
            choices.append(ChoiceItem(FileImage(path[4 * group + relation]), options))
    shapes["whatsup"] = ([[c.image, *c.captions] for c in choices], lambda e, x: e.score_choices(x), choices)
    # CREPE productivity: 3 regions per image, a caption and 5 hard negatives per row
    rows = [ChoiceItem(FileImage(path[i], (40.0 * r, 30.0 * r, 320.0, 240.0)),
                       [sentence("row", i, r)] + [sentence("neg", i, r, n) for n in range(5)])
            for i in range(num_images) for r in range(3)]
    shapes["crepe"] = ([[c.image, *c.captions] for c in rows], lambda e, x: e.score_choices(x), rows)
    # BiVLC-like pairs: positive image and caption shared by 2 instances, negative image and caption their own
    examples = []
    for i in range(num_images // 3):
        positive, caption = FileImage(path[i]), sentence("positive", i)
        for k in range(2):
            examples.append(PairExample(images=(positive, FileImage(path[num_images // 3 + 2 * i + k])),
                                        captions=(caption, sentence("negative", i, k))))
    shapes["pairs"] = ([[*x.images, *x.captions] for x in examples], score_matrices, examples)
    # SPEC: groups of 3 images and 3 captions, both directions
    i2t, t2i = [], []
    for group in range(num_images // 3):
        images = [FileImage(path[3 * group + k]) for k in range(3)]
        captions = [sentence("spec", group, k) for k in range(3)]
        i2t += [(image, captions) for image in images]
        t2i += [(caption, images) for caption in captions]
    shapes["spec"] = ([[image, *captions] for image, captions in i2t] + [[*images, caption] for caption, images in t2i],
                      lambda e, x: _scores(e, *x), [i2t, t2i])
    return shapes


def per_item(scorer: Counting, items: list[list[Any]]) -> None:
    """Each item's images and captions encoded for that item alone (one batch of each per item)."""
    for item in items:
        images = [part.open() for part in item if not isinstance(part, str)]
        scorer.encode_images(images)
        scorer.encode_texts([part for part in item if isinstance(part, str)])


def run_suite(scorer: CLIPScorer, folder: Path, args: argparse.Namespace) -> None:
    for name, (items, engine_call, inputs) in suite_shapes(folder, args.images, args.seed).items():
        unique = (len({p.key for item in items for p in item if not isinstance(p, str)})
                  + len({p for item in items for p in item if isinstance(p, str)}))
        baseline, counted = Counting(scorer), Counting(scorer)
        start = time.perf_counter()
        per_item(baseline, items)
        baseline_time = time.perf_counter() - start
        engine = ScoringEngine(counted, batch_size=args.batch_size, progress=False)
        start = time.perf_counter()
        engine_call(engine, inputs)
        engine_time = time.perf_counter() - start
        print(f"[{name}] {len(items)} items, {unique} unique images + captions | per item: {baseline_time:6.2f} s, "
              f"work ratio {(baseline.images + baseline.texts) / unique:.2f} | engine: {engine_time:6.2f} s, "
              f"work ratio {(counted.images + counted.texts) / unique:.2f} | "
              f"time ratio {engine_time / baseline_time:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=80, help="COCO file names to take (default 80)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model instead of ViT-B/32 shapes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--suite", action="store_true",
                        help="also the shapes of the papers' suite (What'sUp, CREPE, the pair benchmarks, SPEC), "
                        "with --images images each")
    args = parser.parse_args()

    entries = sugarcrepe_entries(args.images, args.seed)
    names = {e["filename"] for e in entries}
    captions = {t for e in entries for t in (e["caption"], e["negative_caption"])}
    tokenizer = train_clip_tokenizer(sorted(captions), vocab_size=2000)
    model = (tiny if args.tiny else vit_b32)(tokenizer)
    scorer = CLIPScorer(model, build_processor(tokenizer, image_size=224), device="cpu")
    print(f"model: {'tiny' if args.tiny else 'ViT-B/32-shaped'} "
          f"({sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters, random init), "
          f"torch threads: {torch.get_num_threads()}")
    print(f"run: {len(entries)} items, {len(names)} unique images, {len(captions)} unique captions "
          f"({'real SugarCrepe annotations' if SHARED.is_dir() else 'synthetic, SugarCrepe ratios'})")

    with tempfile.TemporaryDirectory() as folder:
        write_images(Path(folder), names, args.seed)
        items = [ChoiceItem(FileImage(str(Path(folder) / e["filename"])), [e["caption"], e["negative_caption"]])
                 for e in entries]
        per_pair(Counting(scorer), items[:2])  # warm-up
        ScoringEngine(scorer, batch_size=args.batch_size, progress=False).score_choices(items[:2])

        baseline = Counting(scorer)
        start = time.perf_counter()
        baseline_scores = per_pair(baseline, items)
        baseline_time = time.perf_counter() - start

        counted = Counting(scorer)
        start = time.perf_counter()
        engine_scores = ScoringEngine(counted, batch_size=args.batch_size, progress=False).score_choices(items)
        engine_time = time.perf_counter() - start

    unique = len(names) + len(captions)
    difference = max(abs(a - b) for x, y in zip(baseline_scores, engine_scores) for a, b in zip(x, y))
    print(f"per pair: {baseline_time:7.2f} s, {baseline.images} image + {baseline.texts} text encodes, "
          f"work ratio {(baseline.images + baseline.texts) / unique:.2f}")
    print(f"engine:   {engine_time:7.2f} s, {counted.images} image + {counted.texts} text encodes, "
          f"work ratio {(counted.images + counted.texts) / unique:.2f} (goal 1.0)")
    print(f"time ratio engine / per pair: {engine_time / baseline_time:.3f} (goal <= 0.4); "
          f"max score difference {difference:.2e}")
    if args.suite:
        with tempfile.TemporaryDirectory() as folder:
            run_suite(scorer, Path(folder), args)


if __name__ == "__main__":
    main()
