"""The synthetic base's relation probe on any rows of a split, with a bootstrap standard error over images.

The default run reads the probe (`hf_finegrained.synthetic.evaluation.relation_probe`) on `test_seen`'s 1,000
images, about +-0.8 point. This fits the same probes (one logistic regression per colour on `--fit_rows` frozen
image embeddings of the "probe" stream, L2 1e-4) and scores them on `--count` rows of `--split` from `--start`
(rows past a split's size are new images of its distribution), reporting accuracy, its bootstrap standard error
(images resampled, 500 draws) and the accuracy per relation and per pair of sizes:

    .venv/bin/python benchmarks/probe_precision.py --base CACHE/synthetic-base-59113c52f372 \\
        --split test_seen --start 5000 --count 10000
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from hf_finegrained.evaluation.engine import make_engine  # noqa: E402
from hf_finegrained.families import load_model  # noqa: E402
from hf_finegrained.synthetic import evaluation  # noqa: E402
from hf_finegrained.synthetic.drawing import COLORS  # noqa: E402
from hf_finegrained.synthetic.recipe import PROBE_FIT_ROWS, default_world  # noqa: E402


def probe_outcomes(model: Any, processor: Any, split: str, start: int, count: int, fit_rows: int,
                   seed: int = 0) -> list[dict]:
    """One record per (image, colour) pair scored: image index, relation label, sizes, right or wrong."""
    world = default_world(seed=seed)
    engine = make_engine(model, processor=processor, progress=False)
    fit = list(world.train_stream(fit_rows, name="probe", negatives=None))
    fit_x = evaluation.image_embeddings(engine, [row["image"] for row in fit], "probe-fit")
    rows = list(world.build_split(split, start=start, count=count))
    test_x = evaluation.image_embeddings(engine, [row["image"] for row in rows], "probe-test")
    outcomes = []
    for color in COLORS:
        fit_index = [n for n, row in enumerate(fit) if color in row["colors"]]
        labels = torch.tensor([evaluation.RELATIONS.index(evaluation.object_relation(fit[n]["colors"], fit[n]["relation"],
                                                                                    color)) for n in fit_index])
        mean, std, weight, bias = evaluation.fit_linear_probe(fit_x[fit_index], labels, len(evaluation.RELATIONS), l2=1e-4)
        for n, row in enumerate(rows):
            if color in row["colors"]:
                label = evaluation.object_relation(row["colors"], row["relation"], color)
                predicted = evaluation.RELATIONS[int((((test_x[n] - mean) / std) @ weight + bias).argmax())]
                outcomes.append({"image": n, "relation": label, "sizes": "-".join(row["sizes"]),
                                 "right": predicted == label})
    return outcomes


def bootstrap_error(outcomes: list[dict], draws: int = 500, seed: int = 0) -> float:
    """Standard error of the pair accuracy with images (not pairs) resampled."""
    per_image = collections.defaultdict(list)
    for outcome in outcomes:
        per_image[outcome["image"]].append(outcome["right"])
    images, rng, accuracies = list(per_image), random.Random(seed), []
    for _ in range(draws):
        drawn = [value for image in rng.choices(images, k=len(images)) for value in per_image[image]]
        accuracies.append(sum(drawn) / len(drawn))
    return statistics.stdev(accuracies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="folder of the cached synthetic base")
    parser.add_argument("--split", default="test_seen", help="split whose distribution is scored (default test_seen)")
    parser.add_argument("--start", type=int, default=0, help="first row scored (default 0)")
    parser.add_argument("--count", type=int, default=1000, help="rows scored (default 1000)")
    parser.add_argument("--fit_rows", type=int, default=PROBE_FIT_ROWS, help="probe-stream images fitted on")
    parser.add_argument("--out", help="also write the summary as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, processor, _ = load_model(args.base)
    outcomes = probe_outcomes(model, processor, args.split, args.start, args.count, args.fit_rows)
    accuracy = statistics.fmean(o["right"] for o in outcomes)
    summary = {"split": args.split, "rows": [args.start, args.start + args.count], "pairs": len(outcomes),
               "accuracy": accuracy, "bootstrap_se": bootstrap_error(outcomes),
               "by_relation": {}, "by_sizes": {}}
    for key, group in (("relation", "by_relation"), ("sizes", "by_sizes")):
        for value in sorted({o[key] for o in outcomes}):
            chosen = [o["right"] for o in outcomes if o[key] == value]
            summary[group][value] = {"pairs": len(chosen), "accuracy": statistics.fmean(chosen)}
    print(f"{args.split} rows {args.start}-{args.start + args.count - 1}: probe accuracy "
          f"{100 * accuracy:.1f}% (bootstrap standard error {100 * summary['bootstrap_se']:.2f}), {len(outcomes)} pairs")
    for group in ("by_relation", "by_sizes"):
        print("  " + ", ".join(f"{k} {100 * v['accuracy']:.1f}" for k, v in summary[group].items()))
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
