"""Training-step cost of the CE-CLIP loss, as ratios measured in one process.

(a) our step (one forward of B images and B + B*K texts, FineGrainedLoss, backward, AdamW step) over a
    plain CLIP step on the very same inputs (same forward, CLIP's symmetric loss on the B pairs).
    Goal <= 1.05: the loss itself must cost next to nothing beside the encoders.
(b) our step with texts padded to the longest in the batch (what FineGrainedCollator does) over the
    same step with every text padded to 77 tokens. Goal <= 0.5.
(c) our step plus the distillation term from a frozen teacher (one more no-gradient forward of the B images
    and B captions, `distill_weight`) over our step. The teacher's forward is the whole extra cost.

The model is a randomly initialised CLIPModel shaped like ViT-B/32 (224 px, 12+12 layers, 512-d text,
768-d vision, 49,408 tokens); captions are COCO-length (8 to 16 words). Steps of the variants are
interleaved and the ratio of medians is printed, so machine noise hits both sides alike.

    python benchmarks/bench_step.py            # full size (a few minutes on 2 cores)
    python benchmarks/bench_step.py --tiny     # smoke run
    python benchmarks/bench_step.py --ratios c # only the distillation ratio
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch
import torch.nn.functional as F
from transformers import CLIPConfig, CLIPModel

from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.losses import FineGrainedLoss
from hf_finegrained.teacher import DistillationTeacher
from hf_finegrained.synthetic.tiny_clip import build_processor, train_clip_tokenizer
from hf_finegrained.trainer import encode_batch

WORDS = (
    "a an the man woman dog cat horse people group street table plate food pizza train bus sitting standing "
    "riding holding next to on in of with near under while white red black large small young two some "
    "kitchen room field water grass tennis player ball bike bench sign clock giraffe elephant zebra"
).split()


def coco_like_rows(count: int, num_types: int, seed: int = 0) -> list[dict]:
    from PIL import Image

    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        caption = " ".join(words)
        negatives = []
        for _ in range(num_types):
            shuffled = words[:]
            rng.shuffle(shuffled)
            negatives.append(" ".join(shuffled))
        image = Image.new("RGB", (256, 256), tuple(rng.randrange(256) for _ in range(3)))
        rows.append({"image": image, "caption": caption, "hard_negatives": negatives})
    return rows


def build(tiny: bool) -> tuple[CLIPModel, object]:
    # Large enough that every word is one token, as most COCO words are in CLIP's 49k BPE vocabulary.
    tokenizer = train_clip_tokenizer([" ".join(WORDS)] * 20, vocab_size=1000)
    if tiny:
        text = {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 2}
        vision = {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 2,
                  "image_size": 64, "patch_size": 16}
        projection, image_size = 32, 64
    else:
        text = {"hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12, "num_attention_heads": 8}
        vision = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
                  "image_size": 224, "patch_size": 32}
        projection, image_size = 512, 224
    text.update(vocab_size=49408, max_position_embeddings=77, bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection))
    return model, build_processor(tokenizer, image_size=image_size)


def plain_clip_loss(encoded: dict) -> torch.Tensor:
    image = F.normalize(encoded["image_embeds"], dim=-1)
    text = F.normalize(encoded["text_embeds"], dim=-1)
    logits = encoded["logit_scale"] * image @ text.T
    targets = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def make_step(model, optimizer, batch, loss_fn, teacher=None):
    def step() -> float:
        start = time.perf_counter()
        encoded = encode_batch(model, batch)
        if teacher is not None:
            encoded["teacher_image_embeds"], encoded["teacher_text_embeds"] = teacher.encode(
                batch, encoded["image_embeds"].shape[0])
        loss = loss_fn(**encoded)["loss"] if loss_fn is not None else plain_clip_loss(encoded)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - start

    return step


def interleaved_ratio(numerator, denominator, repeats: int) -> tuple[float, float, float]:
    """Ratio of the fastest runs (the least disturbed by other load; medians are printed too)."""
    numerator(), denominator()  # warm-up
    top, bottom = [], []
    for _ in range(repeats):
        top.append(numerator())
        bottom.append(denominator())
    print(f"    medians: {statistics.median(top):.3f}s / {statistics.median(bottom):.3f}s")
    a, b = min(top), min(bottom)
    return a / b, a, b


def loss_only_seconds(model, batch, loss_fn, repeats: int) -> float:
    """Forward + backward of the loss alone on fixed embeddings: the cost ratio (a) adds to a step."""
    with torch.no_grad():
        encoded = encode_batch(model, batch)
    times = []
    for _ in range(repeats + 1):
        leaves = {k: (v.detach().requires_grad_() if torch.is_floating_point(v) else v) if torch.is_tensor(v) else v
                  for k, v in encoded.items()}
        start = time.perf_counter()
        loss_fn(**leaves)["loss"].backward()
        times.append(time.perf_counter() - start)
    return min(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-types", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--tiny", action="store_true", help="a tiny model, to check the script runs")
    parser.add_argument("--ratios", default="a,b,c", help="which ratios to measure (comma-separated)")
    args = parser.parse_args()

    model, processor = build(args.tiny)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    types = [f"type{k}" for k in range(args.num_types)]
    rows = coco_like_rows(args.batch_size, args.num_types)
    longest = FineGrainedCollator(processor, types, max_length=77)(rows)
    tokens = processor.tokenizer(
        [r["caption"] for r in rows] + [n for r in rows for n in r["hard_negatives"]],
        padding="max_length", max_length=77, truncation=True, return_tensors="pt",
    )
    full = {**longest, "input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
    loss_fn = FineGrainedLoss(args.num_types).train()

    print(f"threads={torch.get_num_threads()} B={args.batch_size} K={args.num_types} "
          f"texts={longest['input_ids'].shape[0]} longest={longest['input_ids'].shape[1]} tokens "
          f"mean={longest['attention_mask'].sum(1).float().mean():.1f} tokens "
          f"model={'tiny' if args.tiny else 'ViT-B/32-shaped'}")
    ratios = args.ratios.split(",")
    if "a" in ratios:
        ratio_a, ours, plain = interleaved_ratio(
            make_step(model, optimizer, longest, loss_fn), make_step(model, optimizer, longest, None), args.repeats
        )
        print(f"(a) CE-CLIP step / plain CLIP step, same texts: {ratio_a:.3f}  ({ours:.3f}s vs {plain:.3f}s; goal <= 1.05)")
        loss_seconds = loss_only_seconds(model, longest, loss_fn, args.repeats)
        print(f"    the loss alone (forward + backward): {loss_seconds * 1000:.2f} ms = {loss_seconds / plain:.4f} of a plain step")
    if "b" in ratios:
        ratio_b, ours, padded77 = interleaved_ratio(
            make_step(model, optimizer, longest, loss_fn), make_step(model, optimizer, full, loss_fn), args.repeats
        )
        print(f"(b) longest-in-batch padding / padding to 77: {ratio_b:.3f}  ({ours:.3f}s vs {padded77:.3f}s; goal <= 0.5)")
    if "c" in ratios:
        teacher = DistillationTeacher(model, "frozen")
        distill_fn = FineGrainedLoss(args.num_types, distill_weight=1.0).train()
        ratio_c, distilled, ours = interleaved_ratio(
            make_step(model, optimizer, longest, distill_fn, teacher), make_step(model, optimizer, longest, loss_fn),
            args.repeats,
        )
        print(f"(c) CE-CLIP + distillation (frozen teacher) / CE-CLIP step: {ratio_c:.3f}  ({distilled:.3f}s vs {ours:.3f}s)")


if __name__ == "__main__":
    main()
