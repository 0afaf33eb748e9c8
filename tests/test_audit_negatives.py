"""benchmarks/audit_negatives.py: the unseen caption lists (`--captions scpp`, `valse_vlc`, `valse_vlc_2`), the yield in `table`, the language
screen's count per caption set and the oracle sheet of another list, on small folders written here."""

from __future__ import annotations

import csv
import functools
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("audit_negatives", ROOT / "benchmarks" / "audit_negatives.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _folders(tmp_path: Path, audit) -> tuple[Path, Path, list[str]]:
    """A SugarCrepe folder with AUDIT_SIZE + 12 distinct captions (so 12 form the development list) and a
    SugarCrepe++ folder pairing a paraphrase with each of 8 development captions and 20 audit-list captions."""
    sugarcrepe, scpp = tmp_path / "sugarcrepe", tmp_path / "sugarcrepe_pp"
    sugarcrepe.mkdir()
    scpp.mkdir()
    captions = [f"A dog number {n} on a red couch." for n in range(audit.AUDIT_SIZE + 12)]
    (sugarcrepe / "replace_obj.json").write_text(json.dumps(
        {str(n): {"filename": "x.jpg", "caption": caption, "negative_caption": caption + " no"}
         for n, caption in enumerate(captions)}))
    audit_list, development = audit.caption_lists(sugarcrepe)
    assert len(development) == 12 and not set(audit_list) & set(development)
    items = [{"id": n, "filename": "x.jpg", "caption": caption, "caption2": f"On a red couch, dog {caption[13:]}",
              "negative_caption": "no"} for n, caption in enumerate(development[:8] + audit_list[:20])]
    items.append(dict(items[-1], id=99))  # a repeated paraphrase is kept once
    (scpp / "swap_att.json").write_text(json.dumps(items))
    return sugarcrepe, scpp, development


def test_scpp_list_leaves_out_the_development_list_and_is_seeded(tmp_path, audit):
    sugarcrepe, scpp, development = _folders(tmp_path, audit)
    every = audit.scpp_captions(scpp, sugarcrepe, size=1000)
    assert len(every) == 20  # 28 items: 8 paraphrase development captions, one repeats
    assert all(f"dog {caption[13:]}" not in " ".join(every) for caption in development[:8])
    drawn = audit.scpp_captions(scpp, sugarcrepe, size=7)
    assert len(drawn) == 7 and set(drawn) < set(every)
    assert drawn == sorted(drawn, key=every.index)  # kept in list order
    assert drawn == audit.scpp_captions(scpp, sugarcrepe, size=7)
    assert drawn != every[:7]  # drawn, not the first ones
    with pytest.raises(SystemExit, match="absent"):
        audit.scpp_captions(tmp_path / "nowhere", sugarcrepe)


def test_valse_vlc_list_takes_half_from_each_set_distinct_and_seeded(tmp_path, audit, monkeypatch):
    valse, vlc = tmp_path / "valse", tmp_path / "vl_checklist"
    (vlc / "data" / "Attribute").mkdir(parents=True)
    valse.mkdir()
    valse_texts = [f"A cat number {n} sleeps." for n in range(30)] + ["A cat number 0 sleeps. "]  # repeated once
    (valse / "existence.json").write_text(json.dumps({str(n): {"caption": text} for n, text in enumerate(valse_texts)}))
    vlc_texts = [f"man in shirt {n}" for n in range(40)] + ["A cat number 3 sleeps."]  # also a VALSE caption
    (vlc / "data" / "Attribute" / "color.json").write_text(json.dumps(
        [[f"img{n}.jpg", {"POS": [text], "NEG": ["no"]}] for n, text in enumerate(vlc_texts)]))
    drawn = audit.valse_vlc_captions(valse, vlc, size=10)
    assert len(drawn) == len(set(drawn)) == 10
    assert all("cat" in text for text in drawn[:5]) and all("shirt" in text for text in drawn[5:])
    assert drawn == audit.valse_vlc_captions(valse, vlc, size=10)
    assert drawn[:5] != [f"A cat number {n} sleeps." for n in range(5)]  # drawn, not the first ones
    every = audit.valse_vlc_captions(valse, vlc, size=1000)
    assert len(every) == 30 + 40  # distinct; the VL-CheckList text equal to a VALSE caption counts once
    with pytest.raises(SystemExit, match="absent"):
        audit.valse_vlc_captions(tmp_path / "nowhere", vlc)
    second = audit.valse_vlc_captions(valse, vlc, size=10, draw="second", exclude=frozenset(drawn))
    assert len(second) == 10 and not set(second) & set(drawn)
    assert all(text in valse_texts for text in second[:5]) and all(text in vlc_texts for text in second[5:])
    # the numbered lists: each leaves out every earlier one; the second is the draw above's formula
    drawing = audit.valse_vlc_captions
    monkeypatch.setattr(audit, "valse_vlc_captions",  # each list 300 times smaller
                        lambda size=audit.AUDIT_SIZE, **options: drawing(valse, vlc, size // 300, **options))
    lists = [audit.audit_captions(name) for name in ("valse_vlc", "valse_vlc_2", "valse_vlc_3", "valse_vlc_4",
                                                     "valse_vlc_5", "valse_vlc_6", "valse_vlc_7",
                                                     "valse_vlc_8", "valse_vlc_9")]
    assert lists[0] == drawn
    assert lists[1] == drawing(valse, vlc, size=10, draw="valse-vlc-audit-2", exclude=frozenset(drawn))
    assert [len(texts) for texts in lists[:5]] == [10, 10, 10, 10, 10]
    # the sixth list asks for twice the size: every VALSE caption left (fewer than 10) and 10 VL-CheckList texts
    assert sum(text.startswith("man in shirt") for text in lists[5]) == 10
    assert {text.strip() for text in valse_texts} <= set().union(*lists)
    # the seventh asks for twice the size again and gets the VL-CheckList texts the six lists left (each earlier
    # list drawn again at its own size: the sixth's 10, not 5)
    assert set(lists[6]) == {text for text in vlc_texts if text.startswith("man")} - set().union(*lists[:6])
    assert lists[6] and lists[7] == lists[8] == []  # the eighth and ninth find nothing left in this small set
    for number in range(1, 9):
        assert not set(lists[number]) & set().union(*lists[:number])


def _reading_sheets(tmp_path: Path, audit) -> tuple[Path, Path]:
    """A before and an after sheet of 6 rows each, 2 items in common."""
    sheets = []
    for name, negatives in (("before", "abcdef"), ("after", "efghij")):
        sheet = tmp_path / f"{name}.tsv"
        with sheet.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(audit.FIELDS)
            for n, negative in enumerate(negatives):
                writer.writerow((f"swap_object-{n}", "swap_object", f"caption {negative}", f"negative {negative}", "", ""))
        sheets.append(sheet)
    return sheets[0], sheets[1]


def test_blind_double_reading_measures_agreement_and_keeps_each_items_own_label(tmp_path, audit):
    before, after = _reading_sheets(tmp_path, audit)
    single, double = tmp_path / "single", tmp_path / "double"
    audit.blind([before, after], single, readers=2)
    audit.blind([before, after], double, readers=2, double=4)
    single_rows = [list(csv.DictReader(p.open(encoding="utf-8"), delimiter="\t")) for p in sorted(single.glob("reader_*.tsv"))]
    double_rows = [list(csv.DictReader(p.open(encoding="utf-8"), delimiter="\t")) for p in sorted(double.glob("reader_*.tsv"))]
    assert [len(rows) for rows in single_rows] == [5, 5]  # 10 distinct items, read once
    assert [len(rows) for rows in double_rows] == [7, 7]  # 4 of them on both sheets
    assert json.loads((single / "key.json").read_text()) == json.loads((double / "key.json").read_text())
    shared = {row["id"] for row in double_rows[0]} & {row["id"] for row in double_rows[1]}
    assert len(shared) == 4
    for rows in double_rows:  # the mixed order is kept: a shared item sits in its place
        assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    # reader 1 calls everything VALID; reader 2 agrees but on one shared item that is reader 1's own
    own = {item for item in shared if audit._own_reader(item, 2) == "1"}
    theirs = {item for item in shared if audit._own_reader(item, 2) == "2"}
    assert own and theirs
    disagreed = sorted(own)[0]
    for number, rows in enumerate(double_rows, start=1):
        for row in rows:
            row["label"] = "NOT_FALSE" if number == 2 and row["id"] == disagreed else "VALID"
            row["note"] = f"reader {number}"
        with (double / f"reader_{number}.tsv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=audit.FIELDS, delimiter="\t", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    audit.unblind(double)
    report = (double / "agreement.md").read_text()
    assert "| 1 and 2 | 4 | 75% | 75% |" in report
    written = {(f"{name}.tsv", row["id"]): row for name in ("before", "after") for row in
               csv.DictReader((double / f"{name}.tsv").open(encoding="utf-8"), delimiter="\t")}
    assert len(written) == 12
    assert all(row["label"] == "VALID" for row in written.values())  # the disagreement was reader 2's, not own
    key = json.loads((double / "key.json").read_text())
    for item in theirs:  # an item of reader 2's own takes reader 2's note
        assert {written[Path(sheet).name, row_id]["note"] for sheet, row_id in key[item]} == {"reader 2"}
    with pytest.raises(SystemExit, match="--double"):
        audit.blind([before], tmp_path / "x", readers=1, double=2)


def test_agreement_kappa_is_zero_for_chance_and_one_for_identical_labels(audit):
    identical = {"1": {"a": "VALID", "b": "DISFLUENT"}, "2": {"a": "VALID", "b": "DISFLUENT"}}
    assert "| 1 and 2 | 2 | 100% | 100% | 1.00 |" in audit.agreement(identical)
    # reader 1 always VALID, reader 2 half and half: agreement 50% is what chance gives, kappa 0
    chance = {"1": {"a": "VALID", "b": "VALID"}, "2": {"a": "VALID", "b": "NOT_FALSE"}}
    assert "| 1 and 2 | 2 | 50% | 50% | 0.00 |" in audit.agreement(chance)


def test_table_reports_yield_and_every_label_by_volume(tmp_path, audit):
    sheet = tmp_path / "sheet.tsv"
    coverage = {name: 0.0 for name in audit.DEFAULT_NEGATIVE_TYPES}
    coverage.update(swap_object=0.5, replace_object=0.25)
    sheet.with_suffix(".coverage.json").write_text(json.dumps(coverage))
    labels = {"swap_object": ["VALID", "DISFLUENT"], "replace_object": ["VALID", "VALID", "VALID", "NOT_FALSE"]}
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(audit.FIELDS)
        for name, names in labels.items():
            for n, label in enumerate(names):
                writer.writerow((f"{name}-{n}", name, "c", "n", label, ""))
    text = audit.table(sheet)
    assert "| swap_object | 50.0% | 50% | 0% | 0% | 50% | 2 | 25.0 | 25.0 |" in text
    assert "| replace_object | 25.0% | 75% | 25% | 0% | 0% | 4 | 18.8 | 6.2 |" in text
    # by volume: VALID (0.25 + 0.1875) / 0.75, NOT_FALSE 0.0625 / 0.75, DISFLUENT 0.25 / 0.75
    assert "VALID weighted by volume (coverage): 58.3%" in text
    assert "By volume: VALID 58.3%, NOT_FALSE 8.3%, WRONG_KIND 0.0%, DISFLUENT 33.3%" in text
    assert "Yield per 100 captions: 43.8 valid, 31.2 invalid" in text
    assert "Caption defects" not in text
    # a VALID row whose only defect is the caption's own: VALID by the guide, DISFLUENT by the earlier reading
    rows = sheet.read_text().splitlines()
    rows[3] = rows[3].rsplit("\t", 1)[0] + "\tCaption: 'a oven oven' already in the caption"
    sheet.write_text("\n".join(rows) + "\n")
    text = audit.table(sheet)
    assert "VALID weighted by volume (coverage): 58.3%" in text
    # replace_object-0 (0.25 / 4 of volume) moves from VALID to DISFLUENT: (0.4375 - 0.0625) / 0.75
    assert "Caption defects: 1 rows noted `caption:`" in text and "VALID by volume 50.0%, 37.5 valid per 100" in text


def test_screen_table_counts_skipped_captions_per_set(audit):
    text = audit.screen_table({"terse": ["small dog chewing bone", "man riding horse"],
                               "mixed": ["A cat on a mat.", "Der Hund ist auf dem Sofa und schläft.",
                                         "Le chien est sur le canapé avec les enfants."]})
    assert "| terse | 2 | 0 | 0.00% |" in text
    assert "| mixed | 3 | 2 | 66.67% |" in text
    assert "- mixed: 'Der Hund ist auf dem Sofa und schläft.'" in text


def test_oracle_sheet_of_the_scpp_list(tmp_path, audit, monkeypatch):
    asked = []
    monkeypatch.setattr(audit, "audit_captions",
                        lambda source: asked.append(source) or [f"caption {n}" for n in range(30)])
    out = tmp_path / "oracle.tsv"
    audit.oracle_sheet(out, count=5, captions="scpp")
    rows = list(csv.DictReader(out.open(encoding="utf-8"), delimiter="\t"))
    assert len(rows) == 5 and all(row["id"] == f"scpp-{row['caption'].split()[1]}" for row in rows)
    assert list(rows[0]) == ["id", "caption", *audit.ORACLE_TYPES]
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), key=lambda i: int(i.split("-")[1]))
    assert asked == ["scpp"]


def test_textcheck_refuses_sugarcrepe_negatives_on_another_list(audit, monkeypatch):
    monkeypatch.setattr(audit, "text_check_split", lambda: (["a dog on a couch"], ["a cat on a mat"]))
    pytest.importorskip("nltk")
    with pytest.raises(SystemExit, match="SugarCrepe's captions only"):
        audit.text_check([], sugarcrepe=True, captions="scpp")


def test_command_line_names_the_new_options():
    import subprocess

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "audit_negatives.py"), "sample", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--captions" in result.stdout and "--rules" in result.stdout
