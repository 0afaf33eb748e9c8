"""Does a fluency check fit on the corpus's captions separate DISFLUENT negatives from VALID ones? (issue 29)

Reads the labelled sheets of the three blind audits of 2026-12-07 (development material now:
docs/negatives_audit/goals_2026-12-07*/), and for every labelled (type, caption, negative) computes statistics of
the edit from word and bigram counts of a caption list (`CaptionNgrams` below): (a) the audit list the sheet's
captions came from (`audit_negatives.py --captions scpp | valse_vlc | valse_vlc_2`), (b) a pool of all four
lists (SugarCrepe's positives, all of them, and the three audit lists). Prints per statistic and type the AUC of
DISFLUENT against VALID and of NOT_FALSE against VALID, and for the rule "reject when the edit writes a word pair
the counted captions never write, both words written at least m times": the shares of DISFLUENT, NOT_FALSE and
VALID rows removed and the strict sheet's VALID by volume if the removed rows were gone; and per statistic a
threshold chosen on two folders (removing at most 10% of their VALID rows) read on the third (each in turn).
`--nltk` adds the Kneser-Ney log-probability drop (caption minus negative) of `negatives.blind.BlindTextModel` fit
on the pool less every sheet caption (held out; about 8 minutes).

Result (docs/NEGATIVES.md, "A fluency check fit on the corpus: measured, not built"): no statistic separates
DISFLUENT from VALID well enough to build the check (AUC 0.54-0.66 overall, 0.42-0.64 on the VALSE/VL-CheckList
sheets); no held-out threshold removes a third of the DISFLUENT rows at <= 10% of the VALID ones on more than one
sheet. `--combined` adds a logistic regression on all statistics and the type, fit on two folders, read on the third.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/fluency_feasibility.py [--nltk] [--combined] [--save S.pkl]
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/fluency_feasibility.py --load S.pkl [--combined]  # again
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from audit_negatives import audit_captions, caption_lists  # noqa: E402

from hf_finegrained.negatives import DEFAULT_NEGATIVE_TYPES  # noqa: E402
from hf_finegrained.negatives.text import normalize  # noqa: E402

AUDITS = ROOT / "docs" / "negatives_audit"
# folder -> (caption list, its strict sheet, every labelled sheet of the folder)
FOLDERS = {
    "scpp": ("goals_2026-12-07", "combined/strict.tsv", ("combined/strict.tsv", "combined/old.tsv",
                                                          "combined/permissive.tsv")),
    "valse_vlc": ("goals_2026-12-07_session2", "strict.tsv", ("strict.tsv", "before.tsv")),
    "valse_vlc_2": ("goals_2026-12-07_session3", "strict.tsv", ("strict.tsv", "before.tsv")),
}
MIN_COUNTS = (1, 2, 3, 5, 10, 20)
START, END = "<s>", "</s>"


def tokens(text: str) -> list[str]:
    """The normalized words of `text` (`text.normalize`) between a start and an end mark."""
    return [START, *normalize(text).split(), END]


def bigrams(words: Sequence[str]) -> list[tuple[str, str]]:
    return list(zip(words, words[1:]))


class CaptionNgrams:
    """Word and bigram counts of a caption list (pure python; built once, read in the generator's hot path).

    Args:
        captions: the captions it counts (non-strings are passed over). Each distinct caption counts once, so
            that a caption repeated in a dataset (several images with one caption) does not make its own pairs
            look common.
    """

    def __init__(self, captions: Iterable[str]) -> None:
        self.words: Counter = Counter()
        self.pairs: Counter = Counter()
        distinct = dict.fromkeys(caption for caption in captions if isinstance(caption, str))
        for caption in distinct:
            words = tokens(caption)
            self.words.update(words[1:-1])
            self.pairs.update(bigrams(words))
        self.captions = len(distinct)
        self.total_pairs = sum(self.pairs.values())

    def word_count(self, word: str) -> int:
        """Captions' occurrences of `word`; the start and end marks count once per caption."""
        return self.captions if word in (START, END) else self.words.get(word, 0)

    def new_pairs(self, caption: str, negative: str) -> list[tuple[str, str]]:
        """The bigrams of `negative` that `caption` does not have (in the negative's order, each once)."""
        own = set(bigrams(tokens(caption)))
        return list(dict.fromkeys(pair for pair in bigrams(tokens(negative)) if pair not in own))

    def surprise(self, pair: tuple[str, str]) -> float:
        """How much rarer the bigram is than its words' counts predict: log((expected + 1) / (count + 1)),
        expected = count(first) x count(second) / number of bigrams. 0 for a pair seen as often as predicted or
        more often; large for a pair never seen between two common words; small for rare words (their pair is
        rarely seen anyway)."""
        first, second = pair
        expected = self.word_count(first) * self.word_count(second) / max(self.total_pairs, 1)
        return max(0.0, math.log((expected + 1.0) / (self.pairs.get(pair, 0) + 1.0)))

    def unseen_pairs(self, caption: str, negative: str, min_word_count: int = 1) -> list[tuple[str, str]]:
        """The negative's new bigrams that the counted captions never write, whose two words they each write at
        least `min_word_count` times (a pair with an unknown word says nothing about fluency)."""
        return [pair for pair in self.new_pairs(caption, negative)
                if self.pairs.get(pair, 0) == 0
                and min(self.word_count(pair[0]), self.word_count(pair[1])) >= min_word_count]

    def edit_surprise(self, caption: str, negative: str) -> float:
        """The largest `surprise` among the negative's new bigrams (0.0 when it has none)."""
        return max((self.surprise(pair) for pair in self.new_pairs(caption, negative)), default=0.0)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def auc(positives: list[float], negatives: list[float]) -> float:
    """P(a positive's statistic > a negative's), ties counted one half."""
    if not positives or not negatives:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def statistics(model: CaptionNgrams, caption: str, negative: str) -> dict[str, float]:
    found = {f"unseen_m{m}": float(len(model.unseen_pairs(caption, negative, m))) for m in MIN_COUNTS}
    new = model.new_pairs(caption, negative)
    found["max_surprise"] = model.edit_surprise(caption, negative)
    found["sum_surprise"] = sum(model.surprise(pair) for pair in new)
    found["rarest_new_pair"] = -min((model.pairs.get(pair, 0) for pair in new), default=10**6)
    # trigrams the edit writes that the captions never write, all three words written at least 2 times
    words = tokens(negative)
    own = set(zip(*(tokens(caption)[i:] for i in range(3))))
    found["unseen_trigrams_m2"] = float(sum(
        1 for gram in dict.fromkeys(zip(*(words[i:] for i in range(3))))
        if gram not in own and gram not in model.trigrams and min(map(model.word_count, gram)) >= 2))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nltk", action="store_true", help="also the Kneser-Ney log-probability drop (slow)")
    parser.add_argument("--save", type=Path, default=None, help="write the statistics to this pickle")
    parser.add_argument("--load", type=Path, default=None, help="read the statistics from this pickle")
    parser.add_argument("--combined", action="store_true",
                        help="also a logistic regression on every statistic and the type (scikit-learn)")
    args = parser.parse_args()
    if args.load is not None:
        import pickle

        report(*pickle.loads(args.load.read_bytes()))
        if args.combined:
            combined(*pickle.loads(args.load.read_bytes()))
        return
    lists = {name: audit_captions(name) for name in FOLDERS}
    audit_half, development_half = caption_lists()
    pool = audit_half + development_half + [caption for texts in lists.values() for caption in texts]
    models = {name: CaptionNgrams(texts) for name, texts in lists.items()}
    models["pool"] = CaptionNgrams(pool)
    for model, texts in [*((models[name], lists[name]) for name in lists), (models["pool"], pool)]:
        model.trigrams = Counter(gram for caption in dict.fromkeys(texts)
                                 for gram in zip(*(tokens(caption)[i:] for i in range(3))))
    items: dict[tuple[str, str, str, str], str] = {}  # (folder, type, caption, negative) -> label
    strict: dict[str, tuple[list[dict[str, str]], dict[str, float]]] = {}
    for name, (folder, strict_sheet, sheets) in FOLDERS.items():
        for sheet in sheets:
            for row in read(AUDITS / folder / sheet):
                items[(name, row["type"], row["caption"], row["negative"])] = row["label"]
        path = AUDITS / folder / strict_sheet
        strict[name] = (read(path), json.loads(path.with_suffix(".coverage.json").read_text()))
    blind = None
    if args.nltk:
        from hf_finegrained.negatives.blind import BlindTextModel

        scored = {caption for _, _, caption, _ in items}
        blind = BlindTextModel([caption for caption in dict.fromkeys(pool) if caption not in scored])
    stats: dict[tuple[str, str, str, str], dict[str, float]] = {}
    for key in items:
        name, _, caption, negative = key
        found = {f"own:{k}": v for k, v in statistics(models[name], caption, negative).items()}
        found |= {f"pool:{k}": v for k, v in statistics(models["pool"], caption, negative).items()}
        if blind is not None:
            drop = blind.log_probability(caption) - blind.log_probability(negative)
            found["heldout_kn:drop"] = drop
            found["heldout_kn:drop_per_token"] = drop / max(len(tokens(negative)) - 1, 1)
        stats[key] = found
    if args.save is not None:
        import pickle

        args.save.write_bytes(pickle.dumps((items, stats, strict)))
    report(items, stats, strict)
    if args.combined:
        combined(items, stats, strict)


def combined(items, stats, strict) -> None:
    """All statistics together: a class-balanced logistic regression of DISFLUENT against VALID (every statistic
    standardized, plus the type) fit on two folders, its threshold the 90th percentile of their VALID rows' scores,
    read on the third (each in turn)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    names = list(next(iter(stats.values())))

    def features(key):
        return [stats[key][stat] for stat in names] + [key[1] == kind for kind in DEFAULT_NEGATIVE_TYPES]

    print("\n| all statistics, logistic regression | read on | AUC D/V | DISFLUENT removed | VALID removed "
          "| strict VALID by volume: before -> after |")
    print("|---|---|---:|---:|---:|---:|")
    judged = [key for key, label in items.items() if label in ("VALID", "DISFLUENT")]
    for name in FOLDERS:
        train = [key for key in judged if key[0] != name]
        x = np.array([features(key) for key in train], float)
        y = np.array([items[key] == "DISFLUENT" for key in train])
        mean, scale = x.mean(0), x.std(0) + 1e-9
        model = LogisticRegression(max_iter=2000, class_weight="balanced").fit((x - mean) / scale, y)
        threshold = np.quantile(model.predict_proba((x - mean) / scale)[:, 1][~y], 0.90)
        read_on = [key for key in items if key[0] == name]
        scores = dict(zip(read_on, model.predict_proba(
            (np.array([features(key) for key in read_on], float) - mean) / scale)[:, 1]))
        d = [scores[key] for key in read_on if items[key] == "DISFLUENT"]
        v = [scores[key] for key in read_on if items[key] == "VALID"]
        before, after, _ = volume(strict[name], lambda row: scores[(name, row["type"], row["caption"],
                                                                    row["negative"])] >= threshold)
        print(f"| | {name} | {auc(d, v):.2f} | {np.mean(np.array(d) >= threshold):.0%} | "
              f"{np.mean(np.array(v) >= threshold):.0%} | {before:.1%} -> {after:.1%} |")


def report(items, stats, strict) -> None:
    print(f"{len(items)} labelled items: " + ", ".join(f"{label} {count}" for label, count
                                                       in Counter(items.values()).most_common()))
    names = list(next(iter(stats.values())))
    print("\n| statistic | AUC DISFLUENT vs VALID | AUC NOT_FALSE vs VALID | " + " | ".join(
        f"AUC D/V {t}" for t in DEFAULT_NEGATIVE_TYPES) + " |")
    print("|---|---:|---:|" + "---:|" * len(DEFAULT_NEGATIVE_TYPES))
    for stat in names:
        by = {label: [stats[k][stat] for k, l in items.items() if l == label] for label in ("VALID", "DISFLUENT",
                                                                                               "NOT_FALSE")}
        per_type = []
        for kind in DEFAULT_NEGATIVE_TYPES:
            v = [stats[k][stat] for k, l in items.items() if l == "VALID" and k[1] == kind]
            d = [stats[k][stat] for k, l in items.items() if l == "DISFLUENT" and k[1] == kind]
            per_type.append(f"{auc(d, v):.2f} ({len(d)}/{len(v)})")
        print(f"| {stat} | {auc(by['DISFLUENT'], by['VALID']):.3f} | {auc(by['NOT_FALSE'], by['VALID']):.3f} | "
              + " | ".join(per_type) + " |")
    print("\n| statistic | " + " | ".join(f"{name}: AUC D/V, NF/V" for name in FOLDERS) + " |")
    print("|---|" + "---:|" * len(FOLDERS))
    for stat in names:
        cells = []
        for name in FOLDERS:
            by = {label: [stats[k][stat] for k, l in items.items() if l == label and k[0] == name]
                  for label in ("VALID", "DISFLUENT", "NOT_FALSE")}
            cells.append(f"{auc(by['DISFLUENT'], by['VALID']):.2f}, {auc(by['NOT_FALSE'], by['VALID']):.2f}")
        print(f"| {stat} | " + " | ".join(cells) + " |")
    # the rule "reject when unseen_mM >= 1", per folder, per corpus
    print("\n| corpus | rule | folder | DISFLUENT removed | NOT_FALSE removed | VALID removed | WRONG_KIND removed "
          "| strict VALID by volume: before -> after | strict coverage kept |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for corpus in ("own", "pool"):
        for m in MIN_COUNTS:
            stat = f"{corpus}:unseen_m{m}"
            for name in FOLDERS:
                removed = {label: [stats[k][stat] >= 1 for k, l in items.items() if l == label and k[0] == name]
                           for label in ("DISFLUENT", "NOT_FALSE", "VALID", "WRONG_KIND")}
                shares = {label: f"{sum(r)}/{len(r)} = {sum(r) / len(r):.0%}" if r else "-"
                          for label, r in removed.items()}
                before, after, kept = volume(strict[name], lambda row: stats[(name, row["type"], row["caption"],
                                                                              row["negative"])][stat] >= 1)
                print(f"| {corpus} | unseen pair, words >= {m} | {name} | {shares['DISFLUENT']} | "
                      f"{shares['NOT_FALSE']} | {shares['VALID']} | {shares['WRONG_KIND']} | "
                      f"{before:.1%} -> {after:.1%} | {kept:.0%} |")
    held_out_thresholds(items, stats, strict)
    if "heldout_kn:drop" in next(iter(stats.values())):
        print("\nText-only score on the strict sheets' rows (the held-out Kneser-Ney model prefers the caption), "
              "before -> after removing the rows with pool:unseen_m10 >= 2:")
        for name, (rows, _) in strict.items():
            keys = [(name, row["type"], row["caption"], row["negative"]) for row in rows]
            kept = [key for key in keys if stats[key]["pool:unseen_m10"] < 2]
            prefers = [sum((stats[key]["heldout_kn:drop"] > 0) + 0.5 * (stats[key]["heldout_kn:drop"] == 0)
                           for key in chosen) / len(chosen) for chosen in (keys, kept)]
            print(f"- {name}: {prefers[0]:.1%} -> {prefers[1]:.1%} ({len(keys)} -> {len(kept)} rows)")


def held_out_thresholds(items, stats, strict) -> None:
    """Per statistic: a threshold chosen on two folders (the smallest that removes at most 10% of their VALID
    rows, rows at or above it removed), read on the third."""
    print("\n| statistic | read on | threshold (chosen on the other two) | DISFLUENT removed | NOT_FALSE removed "
          "| VALID removed | strict VALID by volume: before -> after | strict coverage kept |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for stat in next(iter(stats.values())):
        for name in FOLDERS:
            valid = sorted(stats[k][stat] for k, l in items.items() if l == "VALID" and k[0] != name)
            threshold = next(t for t in sorted(set(valid) | {float("inf")})
                             if sum(v >= t for v in valid) <= 0.10 * len(valid))
            removed = {label: [stats[k][stat] >= threshold for k, l in items.items() if l == label and k[0] == name]
                       for label in ("DISFLUENT", "NOT_FALSE", "VALID")}
            shares = {label: f"{sum(r)}/{len(r)} = {sum(r) / len(r):.0%}" for label, r in removed.items()}
            before, after, kept = volume(strict[name], lambda row: stats[(name, row["type"], row["caption"],
                                                                          row["negative"])][stat] >= threshold)
            print(f"| {stat} | {name} | {threshold:.3g} | {shares['DISFLUENT']} | {shares['NOT_FALSE']} | "
                  f"{shares['VALID']} | {before:.1%} -> {after:.1%} | {kept:.0%} |")


def volume(sheet: tuple[list[dict[str, str]], dict[str, float]], removed) -> tuple[float, float, float]:
    """(VALID by volume, VALID by volume with the `removed` rows gone, share of the volume kept)."""
    rows, coverage = sheet
    totals = {"before": [0.0, 0.0], "after": [0.0, 0.0]}
    for kind in DEFAULT_NEGATIVE_TYPES:
        typed = [row for row in rows if row["type"] == kind]
        if not typed:
            continue
        kept = [row for row in typed if not removed(row)]
        for which, chosen in (("before", typed), ("after", kept)):
            if not chosen:
                continue
            cover = coverage[kind] * len(chosen) / len(typed)
            totals[which][0] += cover * sum(row["label"] == "VALID" for row in chosen) / len(chosen)
            totals[which][1] += cover
    return (totals["before"][0] / totals["before"][1], totals["after"][0] / totals["after"][1],
            totals["after"][1] / totals["before"][1])


if __name__ == "__main__":
    main()
