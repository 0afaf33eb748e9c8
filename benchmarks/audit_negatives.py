"""The negatives audit of docs/NEGATIVES.md: a fixed caption list, seeded samples to read, and the tables.

    .venv/bin/python benchmarks/audit_negatives.py sample --out audit/after.tsv     # sheet to label
    .venv/bin/python benchmarks/audit_negatives.py table audit/after.tsv            # tables from a labelled sheet
    .venv/bin/python benchmarks/audit_negatives.py dev --type swap_object -n 40     # outputs on the dev captions

Captions: the distinct SugarCrepe positives (../shared/benchmarks/sugarcrepe, files in name order, captions in
file order), split once with `random.Random(0)`: 3,000 form the audit list, the rest the development list.
Rules are developed by reading the development list only; the audit list is read only to label a sample.

`sample` generates the five types for the 3,000 audit captions (seed 0), records each type's coverage, and
draws 60 negatives per type with `random.Random("audit-<type>")` among the captions that got one. The sheet is
a TSV (id, type, caption, negative, label, note) whose label column a reader fills with one of LABELS.
Labels are judgements of truth and fluency: a script cannot make them, so `table` only counts them.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hf_finegrained.negatives import DEFAULT_NEGATIVE_TYPES, HardNegativeGenerator  # noqa: E402

SUGARCREPE = ROOT.parent / "shared" / "benchmarks" / "sugarcrepe"
AUDIT_SIZE, PER_TYPE, SEED = 3000, 60, 0
LABELS = ("VALID", "NOT_FALSE", "WRONG_KIND", "DISFLUENT")
FIELDS = ("id", "type", "caption", "negative", "label", "note")


def caption_lists() -> tuple[list[str], list[str]]:
    """(audit list, development list) of distinct SugarCrepe positives."""
    files = sorted(SUGARCREPE.glob("*.json"))
    if not files:
        raise SystemExit(f"the audit reads SugarCrepe's captions from {SUGARCREPE}, which is absent")
    captions = [item["caption"].strip() for path in files for item in json.loads(path.read_text()).values()]
    distinct = list(dict.fromkeys(captions))
    order = list(range(len(distinct)))
    random.Random(SEED).shuffle(order)
    audit = sorted(order[:AUDIT_SIZE])
    rest = sorted(order[AUDIT_SIZE:])
    return [distinct[i] for i in audit], [distinct[i] for i in rest]


def sample(out: Path) -> None:
    audit, _ = caption_lists()
    generator = HardNegativeGenerator(seed=SEED)
    rows = generator.generate(audit, progress=False)
    coverage = {name: sum(row[name] is not None for row in rows) / len(audit) for name in generator.types}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(FIELDS)
        for name in generator.types:
            produced = [index for index, row in enumerate(rows) if row[name] is not None]
            for index in sorted(random.Random(f"audit-{name}").sample(produced, min(PER_TYPE, len(produced)))):
                writer.writerow((f"{name}-{index}", name, audit[index], rows[index][name], "", ""))
    out.with_suffix(".coverage.json").write_text(json.dumps(coverage, indent=2) + "\n")
    print(f"wrote {out} and {out.with_suffix('.coverage.json')}")
    for name, share in coverage.items():
        print(f"{name:18s} coverage {share:.1%}")


def read_sheet(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    unlabelled = [row["id"] for row in rows if row["label"] not in LABELS]
    if unlabelled:
        raise SystemExit(f"{path}: {len(unlabelled)} rows without a label among {LABELS}, e.g. {unlabelled[:5]}")
    return rows


def table(path: Path) -> str:
    """The markdown table of a labelled sheet: coverage, label shares per type, VALID by volume."""
    rows = read_sheet(path)
    coverage = json.loads(path.with_suffix(".coverage.json").read_text())
    lines = ["| type | coverage | VALID | NOT_FALSE | WRONG_KIND | DISFLUENT | read |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    valid_volume = total_volume = 0.0
    for name in DEFAULT_NEGATIVE_TYPES:
        labels = Counter(row["label"] for row in rows if row["type"] == name)
        read = sum(labels.values())
        shares = {label: labels[label] / read if read else 0.0 for label in LABELS}
        lines.append(f"| {name} | {coverage[name]:.1%} | "
                     + " | ".join(f"{shares[label]:.0%}" for label in LABELS) + f" | {read} |")
        valid_volume += coverage[name] * shares["VALID"]
        total_volume += coverage[name]
    lines.append("")
    lines.append(f"VALID weighted by volume (coverage): {valid_volume / total_volume:.1%}")
    return "\n".join(lines)


def dev(kind: str, count: int, offset: int) -> None:
    _, development = caption_lists()
    chosen = development[offset:offset + count * 3]
    generator = HardNegativeGenerator(seed=SEED, types=[kind])
    shown = 0
    for caption, row in zip(chosen, generator.generate(chosen, progress=False)):
        if row[kind] is not None and shown < count:
            print(f"{caption}\n    -> {row[kind]}")
            shown += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sample").add_argument("--out", type=Path, required=True)
    commands.add_parser("table").add_argument("sheet", type=Path)
    development = commands.add_parser("dev")
    development.add_argument("--type", choices=DEFAULT_NEGATIVE_TYPES, required=True)
    development.add_argument("-n", type=int, default=40)
    development.add_argument("--offset", type=int, default=0)
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.out)
    elif args.command == "table":
        print(table(args.sheet))
    else:
        dev(args.type, args.n, args.offset)


if __name__ == "__main__":
    main()
