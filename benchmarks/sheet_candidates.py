"""Which labelled negatives of the audit sheets a version of the rules still makes (development material only).

    .venv/bin/python benchmarks/sheet_candidates.py made --out after.json                       # this tree's rules
    .venv/bin/python benchmarks/sheet_candidates.py made --rules base/ --out before.json        # another version's
    .venv/bin/python benchmarks/sheet_candidates.py compare before.json after.json              # the table

`made` reads every labelled row of one type (default replace_relation) in the TSV sheets under
docs/negatives_audit/ (all of them are development material once unblinded: the audit lists' own captions are
never read here), one row per distinct (caption, negative) with its first label, and records for each whether the
negative is among the strict profile's candidates of that type for its caption (`HardNegativeGenerator(seed=0)`,
as `audit_negatives.py` draws them): a negative that is no candidate can never be drawn. `--rules FOLDER` reads
another version's package (a folder holding `hf_finegrained/`, e.g. `git archive HEAD hf_finegrained | tar -x -C
FOLDER`). `compare` counts, per label, the rows the first version makes and the second no longer makes, and the
reverse. The counts are in-sample when rules were developed on these sheets: an upper bound for unseen captions.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_RULES = sys.argv[sys.argv.index("--rules") + 1] if "--rules" in sys.argv[:-1] else None
sys.path.insert(0, _RULES or str(ROOT))

from hf_finegrained.negatives import HardNegativeGenerator  # noqa: E402
from hf_finegrained.negatives.phrases import parse_caption  # noqa: E402
from hf_finegrained.negatives.rules import candidate_text  # noqa: E402

SHEETS = ROOT / "docs" / "negatives_audit"
LABELS = ("VALID", "NOT_FALSE", "WRONG_KIND", "DISFLUENT")


def labelled_rows(kind: str, folder: Path = SHEETS) -> list[dict[str, str]]:
    """Distinct (caption, negative) rows of type `kind` with a label, in sheet-name order (first label kept)."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for path in sorted(folder.rglob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row.get("type") == kind and row.get("label") in LABELS:
                    found.setdefault((row["caption"], row["negative"]), {
                        "caption": row["caption"], "negative": row["negative"], "label": row["label"],
                        "sheet": str(path.relative_to(folder))})
    return list(found.values())


def made(kind: str, out: Path) -> None:
    rows = labelled_rows(kind)
    generator = HardNegativeGenerator(seed=0)
    captions = list(dict.fromkeys(row["caption"] for row in rows if generator.screen(row["caption"]) is None))
    texts: dict[str, set[str]] = {}
    for caption, doc in zip(captions, generator.nlp.pipe(captions)):
        parsed = parse_caption(doc, generator.lexicon, caption)
        texts[caption] = {candidate_text(parsed, c) for c in generator._candidates(parsed, kind)}
    for row in rows:
        row["made"] = row["negative"] in texts.get(row["caption"], ())
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{out}: {sum(row['made'] for row in rows)} of {len(rows)} labelled {kind} rows made")


def compare(before: Path, after: Path) -> str:
    old = {(row["caption"], row["negative"]): row for row in json.loads(before.read_text())}
    new = {(row["caption"], row["negative"]): row for row in json.loads(after.read_text())}
    lines = ["| label | made before | no longer made | newly made | made after |", "|---|---:|---:|---:|---:|"]
    counts: dict[str, Counter] = {label: Counter() for label in LABELS}
    for key, row in old.items():
        count = counts[row["label"]]
        count["before"] += row["made"]
        count["after"] += new[key]["made"]
        count["lost"] += row["made"] and not new[key]["made"]
        count["gained"] += new[key]["made"] and not row["made"]
    for label, count in counts.items():
        lines.append(f"| {label} | {count['before']} | {count['lost']} | {count['gained']} | {count['after']} |")
    invalid = [counts[label] for label in LABELS if label != "VALID"]
    lines.append(f"| invalid | {sum(c['before'] for c in invalid)} | {sum(c['lost'] for c in invalid)} | "
                 f"{sum(c['gained'] for c in invalid)} | {sum(c['after'] for c in invalid)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("made")
    making.add_argument("--out", type=Path, required=True)
    making.add_argument("--type", default="replace_relation")
    making.add_argument("--rules", help="a folder holding another version's hf_finegrained/ (read first)")
    comparing = commands.add_parser("compare")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "made":
        made(args.type, args.out)
    else:
        print(compare(args.before, args.after))


if __name__ == "__main__":
    main()
