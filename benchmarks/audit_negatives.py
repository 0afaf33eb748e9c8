"""The negatives audit of docs/NEGATIVES.md: a fixed caption list, seeded samples to read, and the tables.

    .venv/bin/python benchmarks/audit_negatives.py sample --out audit/after.tsv     # sheet to label
    .venv/bin/python benchmarks/audit_negatives.py table audit/after.tsv            # tables from a labelled sheet
    .venv/bin/python benchmarks/audit_negatives.py dev --type swap_object -n 40     # outputs on the dev captions
    .venv/bin/python benchmarks/audit_negatives.py sample --development --out dev.tsv  # a dev sheet to read
    .venv/bin/python benchmarks/audit_negatives.py blind before.tsv after.tsv --out_dir reading/  # mixed sheets
    .venv/bin/python benchmarks/audit_negatives.py unblind reading/   # labels back to reading/before.tsv, ...
    .venv/bin/python benchmarks/audit_negatives.py oracle --out oracle.tsv   # what any generator could reach
    .venv/bin/python benchmarks/audit_negatives.py negatives --out today.json          # negatives of the text check
    .venv/bin/python benchmarks/audit_negatives.py negatives --rules old/ --out old.json  # of another version
    .venv/bin/python benchmarks/audit_negatives.py textcheck today.json old.json --sugarcrepe  # blind LM scores
    .venv/bin/python benchmarks/audit_negatives.py sample --profile permissive --out permissive.tsv  # a profile
    .venv/bin/python benchmarks/audit_negatives.py sample --proposer MODEL --out lm.tsv  # a causal-LM proposer

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
# `negatives --rules FOLDER` reads another version's package (a folder holding `hf_finegrained/`, e.g. from
# `git archive c696e4a hf_finegrained | tar -x -C FOLDER`): it must come first on the path, before any import.
_RULES = sys.argv[sys.argv.index("--rules") + 1] if "--rules" in sys.argv[:-1] else None
sys.path.insert(0, _RULES or str(ROOT))

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


def _generator_options(args: argparse.Namespace) -> dict:
    """The generator's profile and, with `--proposer MODEL`, a `CausalLMProposer` on that model (none for the
    default strict profile, so that `--rules` may name a version without profiles)."""
    options: dict = {} if args.profile == "strict" else {"profile": args.profile}
    if args.proposer:
        from hf_finegrained.negatives import CausalLMProposer

        options["proposer"] = CausalLMProposer(args.proposer, dtype=args.proposer_dtype, seed=SEED)
    return options


def sample(out: Path, development: bool = False, per_type: int = PER_TYPE, generator_options: dict | None = None) -> None:
    audit, rest = caption_lists()
    if development:  # the same draw on the development list, to read while changing the rules
        audit = rest
    generator = HardNegativeGenerator(seed=SEED, **(generator_options or {}))
    rows = generator.generate(audit, progress=False)
    if generator.stats.proposals is not None:
        print(json.dumps(generator.stats.as_dict(generator.types)["proposals"], indent=1))
    coverage = {name: sum(row[name] is not None for row in rows) / len(audit) for name in generator.types}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(FIELDS)
        for name in generator.types:
            produced = [index for index, row in enumerate(rows) if row[name] is not None]
            for index in sorted(random.Random(f"audit-{name}").sample(produced, min(per_type, len(produced)))):
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


def blind(sheets: list[Path], out_dir: Path, readers: int) -> None:
    """Mixes the rows of several sheets (say, before and after a change) into `readers` reading sheets with
    neutral ids, so a reader cannot tell which rules made an item; identical items (same type, caption and
    negative) are read once. `key.json` maps each neutral id back to its rows."""
    items: dict[tuple[str, str, str], list[list[str]]] = {}
    for sheet in sheets:
        with sheet.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                items.setdefault((row["type"], row["caption"], row["negative"]), []).append([str(sheet), row["id"]])
    order = list(items)
    random.Random("blind").shuffle(order)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = {}
    writers = []
    for number in range(readers):
        handle = (out_dir / f"reader_{number + 1}.tsv").open("w", newline="", encoding="utf-8")
        writers.append((handle, csv.writer(handle, delimiter="\t", lineterminator="\n")))
        writers[-1][1].writerow(FIELDS)
    for index, item in enumerate(order):
        neutral = f"item-{index + 1:04d}"
        key[neutral] = items[item]
        writers[index % readers][1].writerow((neutral, *item, "", ""))
    for handle, _ in writers:
        handle.close()
    (out_dir / "key.json").write_text(json.dumps(key, indent=1) + "\n")
    print(f"{len(order)} distinct items from {sum(map(len, items.values()))} rows -> {readers} sheets in {out_dir}")


def unblind(out_dir: Path) -> None:
    """Writes each labelled reading sheet's labels back to the rows of the sheets `blind` mixed: for a sheet
    X.tsv, `out_dir`/X.tsv with label, note and reader (the reading sheet's number) filled in."""
    key = json.loads((out_dir / "key.json").read_text())
    labels = {}
    for reading in sorted(out_dir.glob("reader_*.tsv")):
        for row in read_sheet(reading):
            labels[row["id"]] = (row["label"], row["note"], reading.stem.split("_")[1])
    missing = sorted(set(key) - set(labels))
    if missing:
        raise SystemExit(f"{len(missing)} items were not read, e.g. {missing[:5]}")
    by_row = {(sheet, row_id): labels[neutral] for neutral, rows in key.items() for sheet, row_id in rows}
    for sheet in sorted({sheet for rows in key.values() for sheet, _ in rows}):
        source = Path(sheet)
        with source.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        with (out_dir / source.name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow((*FIELDS, "reader"))
            for row in rows:
                label, note, reader = by_row[(sheet, row["id"])]
                writer.writerow((row["id"], row["type"], row["caption"], row["negative"], label, note, reader))
        coverage = source.with_suffix(".coverage.json")
        if coverage.exists():
            (out_dir / coverage.name).write_text(coverage.read_text())
        print(f"wrote {out_dir / source.name}")


ORACLE_TYPES = ("swap_object", "swap_attribute", "replace_relation")


def oracle_sheet(out: Path, count: int = 100) -> None:
    """A sheet of `count` development captions (drawn with `random.Random("oracle")`) on which a reader writes,
    per type of ORACLE_TYPES, the best valid negative they can find, or NONE: how many captions admit one at all
    bounds the coverage any generator can reach at the audit's bar."""
    _, development = caption_lists()
    picked = sorted(random.Random("oracle").sample(range(len(development)), count))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(("id", "caption", *ORACLE_TYPES))
        for index in picked:
            writer.writerow((f"dev-{index}", development[index], *("" for _ in ORACLE_TYPES)))
    print(f"wrote {out}: fill each type's column with a valid negative or NONE")


def oracle_table(sheets: list[Path]) -> str:
    """Per type, the share of captions for which each filled oracle sheet found a valid negative."""
    lines = ["| type | " + " | ".join(sheet.stem for sheet in sheets) + " |", "|---|" + "---:|" * len(sheets)]
    filled = []
    for sheet in sheets:
        with sheet.open(encoding="utf-8") as handle:
            filled.append(list(csv.DictReader(handle, delimiter="\t")))
    for name in ORACLE_TYPES:
        shares = [sum(row[name].strip() not in ("", "NONE") for row in rows) / len(rows) for rows in filled]
        lines.append(f"| {name} | " + " | ".join(f"{share:.0%}" for share in shares) + " |")
    return "\n".join(lines)


TEXT_CHECK_SEED = "text-only"


def text_check_split() -> tuple[list[str], list[str]]:
    """(captions the blind model is fit on, captions whose negatives it scores): the distinct SugarCrepe
    positives halved with `random.Random("text-only")`."""
    files = sorted(SUGARCREPE.glob("*.json"))
    if not files:
        raise SystemExit(f"the text check reads SugarCrepe's captions from {SUGARCREPE}, which is absent")
    distinct = list(dict.fromkeys(item["caption"].strip() for path in files
                                  for item in json.loads(path.read_text()).values()))
    random.Random(TEXT_CHECK_SEED).shuffle(distinct)
    half = len(distinct) // 2
    return distinct[:half], distinct[half:]


def write_negatives(out: Path, generator_options: dict) -> None:
    """The five types (seed 0) for the scored half of `text_check_split`, as {caption: {type: negative}}."""
    _, scored = text_check_split()
    generator = HardNegativeGenerator(seed=SEED, **generator_options)
    rows = generator.generate(scored, progress=False)
    out.write_text(json.dumps(dict(zip(scored, rows)), indent=0) + "\n")
    print(f"wrote {out}: {len(scored)} captions")


def text_check(files: list[Path], sugarcrepe: bool) -> str:
    """The blind model's preference for the caption over each file's negatives (and SugarCrepe's own), per
    type: 50% is no text-only shortcut."""
    from hf_finegrained.negatives.blind import BlindTextModel, text_only_score

    fit, scored = text_check_split()
    model = BlindTextModel(fit)
    wanted = set(scored)
    columns: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for path in files:
        rows = json.loads(path.read_text())
        columns[path.stem] = {name: [(caption, row[name]) for caption, row in rows.items()
                                     if caption in wanted and row.get(name)] for name in DEFAULT_NEGATIVE_TYPES}
    if sugarcrepe:  # SugarCrepe's files: add_*, replace_*, swap_* with `caption` and `negative_caption`
        own: dict[str, list[tuple[str, str]]] = {}
        for path in sorted(SUGARCREPE.glob("*.json")):
            for item in json.loads(path.read_text()).values():
                if item["caption"].strip() in wanted:
                    own.setdefault(path.stem, []).append((item["caption"].strip(), item["negative_caption"].strip()))
        columns["sugarcrepe"] = own
    lines = ["| negatives | type | pairs | blind model prefers the caption |", "|---|---|---:|---:|"]
    for column, by_type in columns.items():
        every: list[tuple[str, str]] = []
        for name, pairs in by_type.items():
            every += pairs
            result = text_only_score(pairs, model)
            lines.append(f"| {column} | {name} | {result['pairs']} | {result['prefers_caption']:.1%} |")
        result = text_only_score(every, model)
        lines.append(f"| {column} | **all** | {result['pairs']} | **{result['prefers_caption']:.1%}** |")
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
    sampling = commands.add_parser("sample")
    sampling.add_argument("--out", type=Path, required=True)
    sampling.add_argument("--development", action="store_true",
                          help="draw from the development list instead (to read while changing the rules)")
    sampling.add_argument("--per_type", type=int, default=PER_TYPE)
    negatives = commands.add_parser("negatives", help="negatives for the text check's scored captions")
    for command in (sampling, negatives):
        command.add_argument("--profile", choices=("strict", "permissive"), default="strict")
        command.add_argument("--proposer", default=None, help="a causal LM (Hub id or folder) proposing negatives")
        command.add_argument("--proposer_dtype", default=None, help="e.g. bfloat16")
    commands.add_parser("table").add_argument("sheet", type=Path)
    mixing = commands.add_parser("blind")
    mixing.add_argument("sheets", type=Path, nargs="+")
    mixing.add_argument("--out_dir", type=Path, required=True)
    mixing.add_argument("--readers", type=int, default=2)
    commands.add_parser("unblind").add_argument("out_dir", type=Path)
    commands.add_parser("oracle").add_argument("--out", type=Path, required=True)
    commands.add_parser("oracle_table").add_argument("sheets", type=Path, nargs="+")
    negatives.add_argument("--out", type=Path, required=True)
    negatives.add_argument("--rules", type=Path, default=None,
                           help="a folder holding another version's hf_finegrained/ package")
    checking = commands.add_parser("textcheck", help="blind language-model scores of negatives files")
    checking.add_argument("files", type=Path, nargs="*")
    checking.add_argument("--sugarcrepe", action="store_true", help="also SugarCrepe's own negatives")
    development = commands.add_parser("dev")
    development.add_argument("--type", choices=DEFAULT_NEGATIVE_TYPES, required=True)
    development.add_argument("-n", type=int, default=40)
    development.add_argument("--offset", type=int, default=0)
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.out, args.development, args.per_type, _generator_options(args))
    elif args.command == "table":
        print(table(args.sheet))
    elif args.command == "blind":
        blind(args.sheets, args.out_dir, args.readers)
    elif args.command == "unblind":
        unblind(args.out_dir)
    elif args.command == "oracle":
        oracle_sheet(args.out)
    elif args.command == "negatives":
        write_negatives(args.out, _generator_options(args))
    elif args.command == "textcheck":
        print(text_check(args.files, args.sugarcrepe))
    elif args.command == "oracle_table":
        print(oracle_table(args.sheets))
    else:
        dev(args.type, args.n, args.offset)


if __name__ == "__main__":
    main()
