"""combined/<source>.tsv: the round-2 draw (`sample --per_type 90` for strict, 60 for permissive and old: the
same seeded draw with more items) with each row's label from the reading that judged it: round 1 (reader_1.tsv of
this folder) where the item was in round 1's sheet, else round 2 (round2/reader_1.tsv). Also prints the items
both readings judged (the same type, caption and negative reached by two sources) and whether their labels agree.

    python docs/negatives_audit/goals_2026-12-07/combine_rounds.py
"""
import csv
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ("id", "type", "caption", "negative", "label", "note", "reading")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


(HERE / "combined").mkdir(exist_ok=True)
by_item = {1: {}, 2: {}}
for reading, folder in ((1, HERE), (2, HERE / "round2")):
    for row in read(folder / "reader_1.tsv"):
        by_item[reading][(row["type"], row["caption"], row["negative"])] = (row["label"], row["note"])
for source in ("strict", "permissive", "old"):
    first = {row["id"]: row for row in read(HERE / f"{source}.tsv")}
    second = {row["id"]: row for row in read(HERE / "round2" / f"{source}.tsv")}
    with (HERE / "combined" / f"{source}.tsv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(FIELDS)
        for row in read(HERE / "round2" / "generated" / f"{source}.tsv"):
            labelled, reading = (first[row["id"]], "1") if row["id"] in first else (second[row["id"]], "2")
            assert labelled["negative"] == row["negative"], row["id"]
            writer.writerow((row["id"], row["type"], row["caption"], row["negative"], labelled["label"],
                             labelled["note"], reading))
    shutil.copy(HERE / "round2" / "generated" / f"{source}.coverage.json", HERE / "combined" / f"{source}.coverage.json")
twice = sorted(set(by_item[1]) & set(by_item[2]))
agree = sum(by_item[1][item][0] == by_item[2][item][0] for item in twice)
print(f"items judged in both readings: {len(twice)}, same label: {agree}")
for item in twice:
    if by_item[1][item][0] != by_item[2][item][0]:
        print(" ", item[0], "|", item[1], "->", item[2], "|", by_item[1][item], "vs", by_item[2][item])
