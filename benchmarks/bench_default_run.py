"""The default run's (`hf-finegrained-train`, no model) cheaper paths against the ones they replaced, same process.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_default_run.py [--rows 6400] [--rounds 3]

- stream rows: the world's training stream as it is (drawn PIL images passed on) against the same rows through
  an `Image()` feature (each image PNG-encoded, then decoded when read), as the stream was before; rows are read
  and their images loaded, as the collator does. The pre-training reads 128,000 such rows, each fine-tune 25,600,
  the relation probe 8,000.
- scorer images: `ModelScorer.encode_images` of the world's test images on the fast pixel path against
  `image_pipeline="processor"`, with the default run's base model when it is cached (else a base of the same
  shape, untrained): the preparation and the image tower together, as scoring pays them; the embeddings must be
  equal.

Each pair runs alternately `--rounds` times; the medians and their ratio (new / old) are printed. Wall-clock
figures of the whole run are in the README (they depend on the machine's state); these ratios do not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import datasets
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hf_finegrained.synthetic.recipe import default_world  # noqa: E402
from hf_finegrained.synthetic.world import CaptionMix, _stream_rows, _StreamSource  # noqa: E402


def read(stream: datasets.IterableDataset) -> int:
    """Reads every row and loads its image (decoding a PNG where the row holds one)."""
    count = 0
    for row in stream:
        row["image"].load()
        count += 1
    return count


def image_column_stream(world, rows: int) -> datasets.IterableDataset:
    """The training stream as it was: the same rows through the world's `Image()` features."""
    source = _StreamSource(world, "finetune-0", rows, max(1, min(32, (rows + 1) // 2)), CaptionMix(), False)
    shards = {"shards": list(range(source.num_shards)), "source": source}
    return datasets.IterableDataset.from_generator(_stream_rows, features=world.features(), gen_kwargs=shards)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def compare(name: str, new, old, rounds: int) -> None:
    new_times, old_times = [], []
    for _ in range(rounds):
        old_times.append(timed(old))
        new_times.append(timed(new))
    a, b = statistics.median(new_times), statistics.median(old_times)
    print(f"{name}: {a:.2f} s against {b:.2f} s, ratio {a / b:.3f} (median of {rounds})")


def scorer_models():
    """(model, processor): the default run's cached base if present, else an untrained one of its shape."""
    from hf_finegrained.families import load_model
    from hf_finegrained.synthetic.recipe import BaseModelSettings, _cache_folder, base_cache_key
    from hf_finegrained.synthetic.tiny_clip import build_clip_model, build_processor, train_clip_tokenizer

    world = default_world()
    settings = BaseModelSettings()
    folder, _ = _cache_folder("base", base_cache_key(world, settings), None)
    if (Path(folder) / "model.safetensors").is_file():
        model, processor, _ = load_model(folder)
        return model, processor, "the cached base"
    tokenizer = train_clip_tokenizer([world.example("test_seen", i)["caption"] for i in range(500)], vocab_size=300)
    model = build_clip_model(tokenizer, image_size=world.image_size, patch_size=settings.patch_size,
                             hidden_size=settings.hidden_size, num_layers=settings.num_layers,
                             num_heads=settings.num_heads, projection_dim=settings.projection_dim)
    return model, build_processor(tokenizer, image_size=world.image_size), "an untrained base of its shape"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=6400)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"torch threads {torch.get_num_threads()}")
    world = default_world()
    compare(f"stream rows ({args.rows}, images loaded)",
            lambda: read(world.train_stream(args.rows, name="finetune-0", negatives=None)),
            lambda: read(image_column_stream(world, args.rows)), args.rounds)

    from hf_finegrained.evaluation.scorer import ModelScorer

    model, processor, which = scorer_models()
    images = [world.example("test_seen", i)["image"] for i in range(args.images)]
    fast, reference = ModelScorer(model, processor), ModelScorer(model, processor, image_pipeline="processor")

    def encode(scorer):
        return torch.cat([scorer.encode_images(images[i:i + 64]) for i in range(0, len(images), 64)])

    assert torch.equal(encode(fast), encode(reference)), "the fast path must give the processor's embeddings"
    compare(f"scorer images ({args.images}, batches of 64, {which})", lambda: encode(fast), lambda: encode(reference),
            args.rounds)


if __name__ == "__main__":
    main()
