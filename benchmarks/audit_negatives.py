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
    .venv/bin/python benchmarks/audit_negatives.py sample --captions scpp --rules old/ --out old.tsv  # unseen list
    .venv/bin/python benchmarks/audit_negatives.py textcheck --captions scpp today.json old.json  # on that list
    .venv/bin/python benchmarks/audit_negatives.py screen     # English captions the language screen skips

Captions: the distinct SugarCrepe positives (../shared/benchmarks/sugarcrepe, files in name order, captions in
file order), split once with `random.Random(0)`: 3,000 form the audit list, the rest the development list.
Rules are developed by reading the development list only; the audit list is read only to label a sample.

`sample` generates the five types for the 3,000 audit captions (seed 0), records each type's coverage, and
draws 60 negatives per type with `random.Random("audit-<type>")` among the captions that got one. The sheet is
a TSV (id, type, caption, negative, label, note) whose label column a reader fills with one of LABELS.
Labels are judgements of truth and fluency: a script cannot make them, so `table` only counts them.

`--captions scpp` (sample, negatives, textcheck) reads instead a list no rule was developed on: the distinct
SugarCrepe++ paraphrases (`caption2` of ../shared/benchmarks/sugarcrepe_pp, files in name order, items in file
order) of the items whose `caption` is not on the development list above, 3,000 of them drawn with
`random.Random("scpp-audit")` and kept in list order. The text check still fits its model on the SugarCrepe half.
`--captions valse_vlc` reads another style (VALSE's captions and VL-CheckList's terse Visual-Genome phrases, 1,500
distinct captions of each, `valse_vlc_captions`), for an audit after the scpp list has been read.
`--captions valse_vlc_2` draws 1,500 more of each from the same sets, none of the first list's (for the audit after
the valse_vlc sheets have been read and rules developed on them); `--captions valse_vlc_3` 1,500 more again, none of
either earlier list's (for the audit after the valse_vlc_2 sheets became development material), and
`--captions valse_vlc_4` 1,500 more again, none of the three earlier lists' (after valse_vlc_3's), and
`--captions valse_vlc_5` what VALSE has left (577 distinct captions) and 1,500 more VL-CheckList texts;
`--captions valse_vlc_6` 3,000 more VL-CheckList texts (VALSE has none left; `VLC_ONLY_FROM`), and
`--captions valse_vlc_7` 3,000 more again, none of the six earlier lists', `--captions valse_vlc_8` 3,000 more
again, and `--captions valse_vlc_9` 3,000 more again (nobody has read it: kept for the next audit, e.g. of a
language-model proposer).

`blind --double K` puts K of the mixed items (drawn with `random.Random("double")`) on every reader's sheet, so
that `unblind` can report how often the readers agree (`agreement.md`: raw agreement over the four labels, over
VALID against the rest, and Cohen's kappa); the tables count the label of each item's own reader (the sheet it
would be on without `--double`), so a double reading changes no table.
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
SUGARCREPE_PP = ROOT.parent / "shared" / "benchmarks" / "sugarcrepe_pp"
VALSE = ROOT.parent / "shared" / "benchmarks" / "valse"
VL_CHECKLIST = ROOT.parent / "shared" / "benchmarks" / "vl_checklist"
CAPTION_SOURCES = ("sugarcrepe", "scpp", "valse_vlc", "valse_vlc_2", "valse_vlc_3", "valse_vlc_4", "valse_vlc_5",
                   "valse_vlc_6", "valse_vlc_7", "valse_vlc_8",
                   "valse_vlc_9")
AUDIT_SIZE, PER_TYPE, SEED = 3000, 60, 0
VLC_ONLY_FROM = 6  # the first valse_vlc list drawn after VALSE ran out: it asks for twice the size, so that its
# VL-CheckList half alone holds AUDIT_SIZE texts
LABELS = ("VALID", "NOT_FALSE", "WRONG_KIND", "DISFLUENT")
CAPTION_DEFECT = "caption:"  # a note's opening when the negative's only defect is its caption's own (GUIDE.md)
FIELDS = ("id", "type", "caption", "negative", "label", "note")


def caption_lists(sugarcrepe: Path = SUGARCREPE) -> tuple[list[str], list[str]]:
    """(audit list, development list) of distinct SugarCrepe positives."""
    files = sorted(sugarcrepe.glob("*.json"))
    if not files:
        raise SystemExit(f"the audit reads SugarCrepe's captions from {sugarcrepe}, which is absent")
    captions = [item["caption"].strip() for path in files for item in json.loads(path.read_text()).values()]
    distinct = list(dict.fromkeys(captions))
    order = list(range(len(distinct)))
    random.Random(SEED).shuffle(order)
    audit = sorted(order[:AUDIT_SIZE])
    rest = sorted(order[AUDIT_SIZE:])
    return [distinct[i] for i in audit], [distinct[i] for i in rest]


def scpp_captions(scpp: Path = SUGARCREPE_PP, sugarcrepe: Path = SUGARCREPE, size: int = AUDIT_SIZE) -> list[str]:
    """An audit list no rule was developed on: distinct SugarCrepe++ paraphrases (`caption2`) of the items whose
    `caption` is not on SugarCrepe's development list, `size` of them drawn with `random.Random("scpp-audit")`
    (all when fewer), in list order."""
    files = sorted(scpp.glob("*.json"))
    if not files:
        raise SystemExit(f"--captions scpp reads SugarCrepe++'s files from {scpp}, which is absent")
    development = set(caption_lists(sugarcrepe)[1])
    paraphrases = list(dict.fromkeys(item["caption2"].strip() for path in files for item in json.loads(path.read_text())
                                     if item["caption"].strip() not in development))
    if len(paraphrases) <= size:
        return paraphrases
    return [paraphrases[i] for i in sorted(random.Random("scpp-audit").sample(range(len(paraphrases)), size))]


def valse_vlc_captions(valse: Path = VALSE, vl_checklist: Path = VL_CHECKLIST, size: int = AUDIT_SIZE,
                       draw: str = "valse-vlc-audit", exclude: frozenset[str] = frozenset()) -> list[str]:
    """An audit list of another style than COCO's, as in issue 29's own audit: `size // 2` distinct VALSE captions
    (every sample's `caption`, files in name order) and `size - size // 2` distinct VL-CheckList POS texts (the
    shared subset's files in path order), each half drawn with `random.Random("valse-vlc-audit")` and kept in list
    order, VALSE's first. No rule was developed by reading either set (the language screen was only measured on
    them: docs/NEGATIVES.md). `draw` names the random stream, `exclude` holds captions never drawn (a second list
    leaves out the first one's)."""
    valse_files, vlc_files = sorted(valse.glob("*.json")), sorted(vl_checklist.glob("data/**/*.json"))
    if not valse_files or not vlc_files:
        raise SystemExit(f"--captions valse_vlc reads {valse} and {vl_checklist}; one of them is absent")
    halves = (
        [item["caption"] for path in valse_files for item in json.loads(path.read_text()).values()],
        [text for path in vlc_files for _, texts in json.loads(path.read_text()) for text in texts["POS"]],
    )
    rng = random.Random(draw)
    chosen: list[str] = []
    for texts, count in zip(halves, (size // 2, size - size // 2)):
        distinct = [text for text in dict.fromkeys(text.strip() for text in texts)
                    if text not in chosen and text not in exclude]
        picked = sorted(rng.sample(range(len(distinct)), min(count, len(distinct))))
        chosen += [distinct[i] for i in picked]
    return chosen


def _valse_vlc_draw(number: int) -> str:
    """The random stream of the `number`-th VALSE / VL-CheckList list (1: `valse_vlc`, 2: `valse_vlc_2`, ...)."""
    return "valse-vlc-audit" if number == 1 else f"valse-vlc-audit-{number}"


def audit_captions(source: str) -> list[str]:
    """The audit list of a caption source of `CAPTION_SOURCES`."""
    if source == "scpp":
        return scpp_captions()
    if source.startswith("valse_vlc") and source in CAPTION_SOURCES:
        # list n draws from its own stream and leaves out every earlier list's captions
        number = int(source.rpartition("_")[2]) if source != "valse_vlc" else 1
        size = lambda n: AUDIT_SIZE if n < VLC_ONLY_FROM else 2 * AUDIT_SIZE  # noqa: E731
        earlier: set[str] = set()
        for n in range(1, number):  # each earlier list drawn as it was, at its own size
            earlier.update(valse_vlc_captions(size=size(n), draw=_valse_vlc_draw(n), exclude=frozenset(earlier)))
        return valse_vlc_captions(size=size(number), draw=_valse_vlc_draw(number), exclude=frozenset(earlier))
    if source == "sugarcrepe":
        return caption_lists()[0]
    raise SystemExit(f"unknown caption source {source!r}: choose one of {CAPTION_SOURCES}")


def _generator_options(args: argparse.Namespace) -> dict:
    """The generator's profile and, with `--proposer MODEL`, a `CausalLMProposer` on that model (none for the
    default strict profile, so that `--rules` may name a version without profiles)."""
    options: dict = {} if args.profile == "strict" else {"profile": args.profile}
    if args.proposer:
        from hf_finegrained.negatives import CausalLMProposer

        options["proposer"] = CausalLMProposer(args.proposer, dtype=args.proposer_dtype, seed=SEED)
    return options


def sample(out: Path, development: bool = False, per_type: int = PER_TYPE, generator_options: dict | None = None,
           captions: str = "sugarcrepe") -> None:
    if development:  # the same draw on the development list, to read while changing the rules
        audit = caption_lists()[1]
    else:
        audit = audit_captions(captions)
    generator = HardNegativeGenerator(seed=SEED, **(generator_options or {}))
    rows = generator.generate(audit, progress=False)
    if getattr(generator.stats, "proposals", None) is not None:  # versions before the proposer have none
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
    """The markdown table of a labelled sheet: coverage, label shares per type, the yield (valid and invalid
    negatives per 100 captions: coverage x share), and each label's share by volume (weighted by coverage)."""
    rows = read_sheet(path)
    coverage = json.loads(path.with_suffix(".coverage.json").read_text())
    lines = ["| type | coverage | VALID | NOT_FALSE | WRONG_KIND | DISFLUENT | read | valid /100 | invalid /100 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    volume = Counter()
    total_volume = 0.0
    read_per_type: dict[str, int] = {}
    for name in DEFAULT_NEGATIVE_TYPES:
        labels = Counter(row["label"] for row in rows if row["type"] == name)
        read = read_per_type[name] = sum(labels.values())
        shares = {label: labels[label] / read if read else 0.0 for label in LABELS}
        valid, invalid = 100 * coverage[name] * shares["VALID"], 100 * coverage[name] * (1 - shares["VALID"])
        lines.append(f"| {name} | {coverage[name]:.1%} | "
                     + " | ".join(f"{shares[label]:.0%}" for label in LABELS)
                     + f" | {read} | {valid:.1f} | {invalid:.1f} |")
        for label in LABELS:
            volume[label] += coverage[name] * shares[label]
        total_volume += coverage[name]
    lines.append("")
    lines.append(f"VALID weighted by volume (coverage): {volume['VALID'] / total_volume:.1%}")
    lines.append("By volume: " + ", ".join(f"{label} {volume[label] / total_volume:.1%}" for label in LABELS))
    lines.append(f"Yield per 100 captions: {100 * volume['VALID']:.1f} valid, "
                 f"{100 * (total_volume - volume['VALID']):.1f} invalid")
    inherited = [row for row in rows if is_caption_defect(row) and row["label"] != "DISFLUENT"]
    if inherited:  # the guide's rule since the fourth audit; the earlier reading, for comparison
        earlier = sum(coverage[row["type"]] / read_per_type[row["type"]]
                      for row in inherited if row["label"] == "VALID" and read_per_type[row["type"]])
        lines.append(f"Caption defects: {len(inherited)} rows noted `{CAPTION_DEFECT}`; read as DISFLUENT (the guide "
                     f"before 2026-12-07's fourth audit): VALID by volume {(volume['VALID'] - earlier) / total_volume:.1%}, "
                     f"{100 * (volume['VALID'] - earlier):.1f} valid per 100 captions")
    return "\n".join(lines)


def is_caption_defect(row: dict[str, str]) -> bool:
    """Whether a reader noted that a negative's only defect is its caption's own (GUIDE.md, "The caption's own
    defects"): the note starts with `CAPTION_DEFECT`."""
    return row.get("note", "").strip().lower().startswith(CAPTION_DEFECT)


def blind(sheets: list[Path], out_dir: Path, readers: int, double: int = 0) -> None:
    """Mixes the rows of several sheets (say, before and after a change) into `readers` reading sheets with
    neutral ids, so a reader cannot tell which rules made an item; identical items (same type, caption and
    negative) are read once. `key.json` maps each neutral id back to its rows. `double` items, drawn with
    `random.Random("double")`, go on every sheet (in their place in the mixed order), to measure agreement."""
    items: dict[tuple[str, str, str], list[list[str]]] = {}
    for sheet in sheets:
        with sheet.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                items.setdefault((row["type"], row["caption"], row["negative"]), []).append([str(sheet), row["id"]])
    order = list(items)
    random.Random("blind").shuffle(order)
    if not 0 <= double <= len(order) or double and readers < 2:
        raise SystemExit(f"--double {double}: choose 0 to {len(order)} items, with 2 readers or more")
    shared = set(random.Random("double").sample(range(len(order)), double))
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
        for number in range(readers) if index in shared else (index % readers,):
            writers[number][1].writerow((neutral, *item, "", ""))
    for handle, _ in writers:
        handle.close()
    (out_dir / "key.json").write_text(json.dumps(key, indent=1) + "\n")
    print(f"{len(order)} distinct items from {sum(map(len, items.values()))} rows -> {readers} sheets in {out_dir}"
          + (f", {double} of them on every sheet" if double else ""))


def _own_reader(neutral: str, readers: int) -> str:
    """The reading sheet's number an item is on without `--double` (its index modulo the readers)."""
    return str((int(neutral.split("-")[1]) - 1) % readers + 1)


def agreement(readings: dict[str, dict[str, str]]) -> str:
    """How often readers agree on the items two or more of them read ({reader: {neutral id: label}}): per pair
    of readers, raw agreement over the four labels, over VALID against the rest, and Cohen's kappa (four
    labels), as a markdown table."""
    lines = ["| readers | items read by both | same label | same VALID / not | Cohen's kappa |", "|---|---:|---:|---:|---:|"]
    names = sorted(readings)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            both = sorted(set(readings[first]) & set(readings[second]))
            if not both:
                continue
            pairs = [(readings[first][item], readings[second][item]) for item in both]
            same = sum(a == b for a, b in pairs) / len(pairs)
            valid = sum((a == "VALID") == (b == "VALID") for a, b in pairs) / len(pairs)
            chance = sum(sum(a == label for a, _ in pairs) * sum(b == label for _, b in pairs)
                         for label in LABELS) / len(pairs) ** 2
            kappa = (same - chance) / (1 - chance) if chance < 1 else 1.0
            lines.append(f"| {first} and {second} | {len(pairs)} | {same:.0%} | {valid:.0%} | {kappa:.2f} |")
    return "\n".join(lines)


def unblind(out_dir: Path) -> None:
    """Writes each labelled reading sheet's labels back to the rows of the sheets `blind` mixed: for a sheet
    X.tsv, `out_dir`/X.tsv with label, note and reader (the reading sheet's number) filled in. An item on several
    sheets (`blind --double`) takes its own reader's label; the readers' agreement goes to agreement.md."""
    key = json.loads((out_dir / "key.json").read_text())
    sheets = sorted(out_dir.glob("reader_*.tsv"))
    labels, readings = {}, {}
    for reading in sheets:
        number = reading.stem.split("_")[1]
        rows = read_sheet(reading)
        readings[number] = {row["id"]: row["label"] for row in rows}
        for row in rows:
            if row["id"] not in labels or _own_reader(row["id"], len(sheets)) == number:
                labels[row["id"]] = (row["label"], row["note"], number)
    missing = sorted(set(key) - set(labels))
    if missing:
        raise SystemExit(f"{len(missing)} items were not read, e.g. {missing[:5]}")
    if sum(map(len, readings.values())) > len(labels):
        (out_dir / "agreement.md").write_text(agreement(readings) + "\n")
        print(agreement(readings))
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


def oracle_sheet(out: Path, count: int = 100, captions: str = "sugarcrepe") -> None:
    """A sheet of `count` development captions (drawn with `random.Random("oracle")`) on which a reader writes,
    per type of ORACLE_TYPES, the best valid negative they can find, or NONE: how many captions admit one at all
    bounds the coverage any generator can reach at the audit's bar. `captions="scpp"`: drawn from that audit
    list instead (ids "scpp-<index>"), for an oracle on the captions the audit read."""
    if captions == "sugarcrepe":
        prefix, pool = "dev", caption_lists()[1]
    else:
        prefix, pool = captions, audit_captions(captions)
    picked = sorted(random.Random("oracle").sample(range(len(pool)), count))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(("id", "caption", *ORACLE_TYPES))
        for index in picked:
            writer.writerow((f"{prefix}-{index}", pool[index], *("" for _ in ORACLE_TYPES)))
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


def write_negatives(out: Path, generator_options: dict, captions: str = "sugarcrepe") -> None:
    """The five types (seed 0) for the scored half of `text_check_split` (`captions="scpp"`: for the SugarCrepe++
    audit list), as {caption: {type: negative}}."""
    scored = text_check_split()[1] if captions == "sugarcrepe" else audit_captions(captions)
    generator = HardNegativeGenerator(seed=SEED, **generator_options)
    rows = generator.generate(scored, progress=False)
    out.write_text(json.dumps(dict(zip(scored, rows)), indent=0) + "\n")
    print(f"wrote {out}: {len(scored)} captions")


def text_check(files: list[Path], sugarcrepe: bool, captions: str = "sugarcrepe") -> str:
    """The blind model's preference for the caption over each file's negatives (and SugarCrepe's own), per
    type: 50% is no text-only shortcut. The model is fit on `text_check_split`'s first half; the pairs scored
    are those of its second half, or of the audit list of `captions` when that is not "sugarcrepe"."""
    from hf_finegrained.negatives.blind import BlindTextModel, text_only_score

    fit, scored = text_check_split()
    model = BlindTextModel(fit)
    if captions != "sugarcrepe":
        if sugarcrepe:
            raise SystemExit("--sugarcrepe (SugarCrepe's own negatives) scores SugarCrepe's captions only")
        scored = audit_captions(captions)
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


def english_caption_sets() -> dict[str, list[str]]:
    """The English caption sets at hand, each distinct in read order: SugarCrepe's positives, SugarCrepe++'s
    two positives (`caption`, `caption2`), VALSE's captions (every sample's) and VL-CheckList's POS texts."""
    sets: dict[str, list[str]] = {}
    files = sorted(SUGARCREPE.glob("*.json"))
    if files:
        sets["SugarCrepe positives"] = [item["caption"] for path in files
                                        for item in json.loads(path.read_text()).values()]
    files = sorted(SUGARCREPE_PP.glob("*.json"))
    if files:
        items = [item for path in files for item in json.loads(path.read_text())]
        sets["SugarCrepe++ positives (caption, caption2)"] = [item[key] for item in items
                                                              for key in ("caption", "caption2")]
    files = sorted(VALSE.glob("*.json"))
    if files:
        sets["VALSE captions"] = [item["caption"] for path in files for item in json.loads(path.read_text()).values()]
    files = sorted(VL_CHECKLIST.glob("data/**/*.json"))
    if files:
        sets["VL-CheckList POS"] = [text for path in files for _, texts in json.loads(path.read_text())
                                    for text in texts["POS"]]
    return {name: list(dict.fromkeys(text.strip() for text in texts)) for name, texts in sets.items()}


def screen_table(sets: dict[str, list[str]] | None = None, examples: int = 5) -> str:
    """Per caption set, how many distinct captions the language screen skips as non-English, with examples."""
    from hf_finegrained.negatives.screening import screen_caption

    sets = english_caption_sets() if sets is None else sets
    lines = ["| caption set | distinct captions | skipped as non-English | share |", "|---|---:|---:|---:|"]
    skipped_examples = []
    for name, captions in sets.items():
        skipped = [caption for caption in captions if screen_caption(caption) == "non_english"]
        lines.append(f"| {name} | {len(captions):,} | {len(skipped):,} | {len(skipped) / len(captions):.2%} |")
        skipped_examples += [f"- {name}: {caption!r}" for caption in skipped[:examples]]
    return "\n".join(lines + ["", "Skipped, the first of each set:", *skipped_examples])


def spacy_examples_caught() -> str:
    """How many of the example sentences spaCy ships per language (`spacy.lang.<code>.examples`; all but English
    and "xx") the screen skips as non-English, for the Latin-script languages (over 70% ASCII letters) and the
    others. The screen was chosen on these sentences: this is not a held-out recall."""
    import importlib
    import pkgutil

    import spacy.lang
    from hf_finegrained.negatives.screening import screen_caption

    counts = {"Latin script": [0, 0, 0], "other scripts": [0, 0, 0]}  # caught, sentences, languages
    for module in pkgutil.iter_modules(spacy.lang.__path__):
        if module.name in ("en", "xx"):
            continue
        try:
            sentences = importlib.import_module(f"spacy.lang.{module.name}.examples").sentences
        except (ImportError, AttributeError):
            continue
        letters = [ch for sentence in sentences for ch in sentence if ch.isalpha()]
        script = "Latin script" if sum(ch.isascii() for ch in letters) > 0.7 * len(letters) else "other scripts"
        counts[script][0] += sum(screen_caption(sentence) == "non_english" for sentence in sentences)
        counts[script][1] += len(sentences)
        counts[script][2] += 1
    return "\n".join(f"{script}: {caught} of {total} sentences ({caught / total:.0%}) in {languages} languages"
                     for script, (caught, total, languages) in counts.items() if total)


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
    checking = commands.add_parser("textcheck", help="blind language-model scores of negatives files")
    for command in (sampling, negatives, checking):
        command.add_argument("--captions", choices=CAPTION_SOURCES, default="sugarcrepe",
                             help="the audit list: SugarCrepe's 3,000, or SugarCrepe++ paraphrases (see above)")
    for command in (sampling, negatives):
        command.add_argument("--rules", type=Path, default=None,
                             help="a folder holding another version's hf_finegrained/ package")
    for command in (sampling, negatives):
        command.add_argument("--profile", choices=("strict", "permissive"), default="strict")
        command.add_argument("--proposer", default=None, help="a causal LM (Hub id or folder) proposing negatives")
        command.add_argument("--proposer_dtype", default=None, help="e.g. bfloat16")
    commands.add_parser("table").add_argument("sheet", type=Path)
    mixing = commands.add_parser("blind")
    mixing.add_argument("sheets", type=Path, nargs="+")
    mixing.add_argument("--out_dir", type=Path, required=True)
    mixing.add_argument("--readers", type=int, default=2)
    mixing.add_argument("--double", type=int, default=0, help="items put on every sheet, to measure agreement")
    commands.add_parser("unblind").add_argument("out_dir", type=Path)
    oracle = commands.add_parser("oracle")
    oracle.add_argument("--out", type=Path, required=True)
    oracle.add_argument("--count", type=int, default=100)
    oracle.add_argument("--captions", choices=CAPTION_SOURCES, default="sugarcrepe")
    commands.add_parser("oracle_table").add_argument("sheets", type=Path, nargs="+")
    negatives.add_argument("--out", type=Path, required=True)
    checking.add_argument("files", type=Path, nargs="*")
    checking.add_argument("--sugarcrepe", action="store_true", help="also SugarCrepe's own negatives")
    commands.add_parser("screen", help="share of each English caption set skipped as non-English")
    development = commands.add_parser("dev")
    development.add_argument("--type", choices=DEFAULT_NEGATIVE_TYPES, required=True)
    development.add_argument("-n", type=int, default=40)
    development.add_argument("--offset", type=int, default=0)
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.out, args.development, args.per_type, _generator_options(args), args.captions)
    elif args.command == "table":
        print(table(args.sheet))
    elif args.command == "blind":
        blind(args.sheets, args.out_dir, args.readers, args.double)
    elif args.command == "unblind":
        unblind(args.out_dir)
    elif args.command == "oracle":
        oracle_sheet(args.out, args.count, args.captions)
    elif args.command == "negatives":
        write_negatives(args.out, _generator_options(args), args.captions)
    elif args.command == "textcheck":
        print(text_check(args.files, args.sugarcrepe, args.captions))
    elif args.command == "screen":
        print(screen_table())
        print("\nspaCy's example sentences of other languages, skipped as non-English (the screen was chosen on "
              "them, so this is not a held-out recall):")
        print(spacy_examples_caught())
    elif args.command == "oracle_table":
        print(oracle_table(args.sheets))
    else:
        dev(args.type, args.n, args.offset)


if __name__ == "__main__":
    main()
