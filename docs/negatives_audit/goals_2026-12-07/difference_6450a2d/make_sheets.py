"""The sheets of difference_6450a2d/: where the rules of 6450a2d (when issue 29 was filed) and the strict profile
differ on the SugarCrepe++ audit list, up to 30 of each side's differing negatives per type, drawn with
random.Random("diff-<side>-<type>").

    audit_negatives.py negatives --captions scpp --out strict.json
    audit_negatives.py negatives --captions scpp --rules FOLDER_OF_6450a2d --out rules_6450a2d.json
    python make_sheets.py strict.json rules_6450a2d.json generated/
    audit_negatives.py blind generated/diff_rules_6450a2d.tsv generated/diff_strict.tsv --out_dir . --readers 1
"""
import csv
import json
import random
import sys
from pathlib import Path

TYPES = ("swap_object", "swap_attribute", "replace_object", "replace_attribute", "replace_relation")
strict_file, old_file, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
negatives = {"strict": json.loads(strict_file.read_text()), "rules_6450a2d": json.loads(old_file.read_text())}
captions = list(negatives["strict"])
for side, other in (("rules_6450a2d", "strict"), ("strict", "rules_6450a2d")):
    counts = {}
    with (out / f"diff_{side}.tsv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(("id", "type", "caption", "negative", "label", "note"))
        for name in TYPES:
            differing = [i for i, caption in enumerate(captions) if negatives[side][caption][name] is not None
                         and negatives[side][caption][name] != negatives[other][caption][name]]
            counts[name] = len(differing)
            for i in sorted(random.Random(f"diff-{side}-{name}").sample(differing, min(30, len(differing)))):
                writer.writerow((f"{name}-{i}", name, captions[i], negatives[side][captions[i]][name], "", ""))
    (out / f"diff_{side}.differing.json").write_text(json.dumps(counts, indent=1) + "\n")
    print(side, counts)
