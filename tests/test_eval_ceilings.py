"""Bag-of-words ceilings and the two averages: a scorer that sees only bags of words reaches exactly the
order-blind ceiling; micro and macro are both reported, in results.json, results.md and the model card; the
ceiling tables of docs/BENCHMARKS.md are recomputed from the real files (skipped when ../shared/benchmarks is
absent)."""

from __future__ import annotations

from pathlib import Path
from statistics import mean

import pytest
import torch
from eval_helpers import SHARED, StandInScorer, solid
from PIL import Image

from hf_finegrained.evaluation import evaluate_choice, markdown_table
from hf_finegrained.evaluation.bow import equal_share, order_blind_scores, same_words
from hf_finegrained.evaluation.results import results_document
from hf_finegrained.negatives.text import word_multiset

DOC = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


class BagOfWordsScorer:
    """Order-blind by construction: a caption's embedding is its normalised count vector over exact words (as
    `word_multiset` reads them); an image's is that of the right caption of its item (whose number the image's
    pixel holds). So it scores each item's right caption highest unless a negative has the same words, where it
    ties: the best an order-blind scorer can do."""

    def __init__(self, right_captions: list[str], all_captions: list[str]) -> None:
        words = sorted({w for text in all_captions for w in word_multiset(text)})
        self.index = {w: i for i, w in enumerate(words)}
        self.right = right_captions

    def _bag(self, text: str) -> torch.Tensor:
        vector = torch.zeros(len(self.index))
        for word in word_multiset(text):
            vector[self.index[word]] += 1
        return vector / vector.norm()

    def encode_texts(self, texts):
        return torch.stack([self._bag(t) for t in texts])

    def encode_images(self, images):
        numbers = [r * 65536 + g * 256 + b for r, g, b in (image.getpixel((0, 0)) for image in images)]
        return torch.stack([self._bag(self.right[n]) for n in numbers])


def _pixel(n: int) -> Image.Image:
    return Image.new("RGB", (1, 1), (n // 65536, (n // 256) % 256, n % 256))


def _bag_of_words_run(items: list[tuple[str, str, str]]):
    """(category, caption, negative) items scored by the bag-of-words scorer, one image per item."""
    rows = [{"image": _pixel(n), "caption": caption, "negatives": {category: negative}}
            for n, (category, caption, negative) in enumerate(items)]
    scorer = BagOfWordsScorer([c for _, c, _ in items], [t for _, c, n in items for t in (c, n)])
    return evaluate_choice(scorer, rows, progress=False, batch_size=256)


# The rule ---------------------------------------------------------------------------------------------------

def test_words_compare_as_the_negative_generator_compares_them():
    assert same_words("A red cube left of a blue ball.", "a blue cube left of a RED ball")
    assert not same_words("two giraffe and a zebra", "a giraffe and two zebras")
    assert order_blind_scores(["the cat on the mat", "the mat on the cat", "a dog"], 0) == [1.0, 1.0, 0.0]
    shares, counts = equal_share([("swap", ["a b", "b a"], 0), ("swap", ["a b", "a c"], 0), ("add", ["a", "a b"], 0)])
    assert shares == {"add": 0.0, "swap": 0.5, "micro": pytest.approx(1 / 3)}
    assert counts == {"add": 0, "swap": 1, "all": 1}


SMALL = [
    ("swap_att", "a red cube and a blue ball", "a blue cube and a red ball"),       # same words
    ("swap_att", "two giraffe and a zebra", "a giraffe and two zebras"),          # number changes: not the same
    ("swap_att", "the big dog near the small cat", "the small dog near the big cat"),
    ("replace_att", "a red cube", "a green cube"),
    ("replace_att", "a wooden table", "a metal table"),
]


def test_a_bag_of_words_scorer_reaches_exactly_the_ceiling():
    result = _bag_of_words_run(SMALL)
    metrics = result.metrics
    assert metrics["swap_att"] == metrics["bow_ceiling/swap_att"] == pytest.approx(1 / 3)
    assert metrics["replace_att"] == metrics["bow_ceiling/replace_att"] == 1.0
    assert metrics["micro"] == metrics["bow_ceiling/micro"] == pytest.approx(3 / 5)
    assert metrics["macro"] == metrics["bow_ceiling/macro"] == pytest.approx((1 / 3 + 1) / 2)
    # on the pairs with equal words it ties, and ties are wrong
    assert result.details["num_ties"] == result.details["bow_equal_items"]["all"] == 2
    assert result.details["bow_equal_share"] == {"replace_att": 0.0, "swap_att": pytest.approx(2 / 3),
                                                 "micro": pytest.approx(2 / 5)}


def test_a_scorer_that_reads_word_order_can_pass_the_ceiling():
    # the stand-in scores by caption length: it wins the swaps whose negative is longer, which no bag can
    rows = [{"image": solid(0), "caption": "a b", "negatives": {"swap": "b  a"}},  # same words, longer string
            {"image": solid(0), "caption": "a b c", "negatives": {"swap": "c b a"}}]  # same words, same length: tie
    result = evaluate_choice(StandInScorer(), rows, progress=False)
    assert result.metrics["bow_ceiling/swap"] == 0.0 and result.metrics["swap"] == 0.5


# Both averages, in results.md and the card -----------------------------------------------------------------

def _tiny_choice_result():
    # a: 3 of 4 right (the 4th ties), b: 0 of 1 -> micro 3/5, macro (3/4 + 0) / 2; stand-in: shorter wins
    rows = [{"image": solid(0), "caption": "ab", "negatives": {"a": "abcd"}}] * 3 + \
           [{"image": solid(0), "caption": "ab", "negatives": {"a": "ba"}},
            {"image": solid(0), "caption": "abcd", "negatives": {"b": "ab"}}]
    return evaluate_choice(StandInScorer(), rows, name="tiny", progress=False)


def test_micro_and_macro_are_both_reported():
    result = _tiny_choice_result()
    assert result.headline == "macro"
    assert result.metrics["micro"] == pytest.approx(3 / 5) and result.metrics["macro"] == pytest.approx(3 / 8)
    # "ab" / "ba" are different words: the ceiling is 100 % everywhere
    assert result.metrics["bow_ceiling/micro"] == result.metrics["bow_ceiling/macro"] == 1.0
    table = markdown_table(results_document("m", [result], {}))
    assert "| Benchmark | Metric | Score (%) | Order-blind ceiling (%) | Items scored | Missing images |" in table
    assert "| tiny | **macro** | 37.50 | 100.00 | 5 | 0 |" in table
    assert "|  | micro | 60.00 | 100.00 |  |  |" in table
    assert "bow_ceiling" not in table  # ceilings are a column, not rows


def test_results_md_without_ceilings_keeps_its_columns():
    from hf_finegrained.evaluation import BenchmarkResult

    result = BenchmarkResult("winoground", headline="group", metrics={"group": 0.25, "text": 0.5},
                             counts={"scored": 4, "missing_images": 0})
    table = markdown_table(results_document("m", [result], {}))
    assert "| Benchmark | Metric | Score (%) | Items scored | Missing images |" in table
    assert "| winoground | **group** | 25.00 | 4 | 0 |" in table and "ceiling" not in table


def test_model_card_shows_micro_macro_and_ceilings_and_types_sugarcrepe_pp():
    from hf_finegrained.model_card import benchmark_dataset, eval_results, results_markdown

    tiny = _tiny_choice_result().metrics
    results = {
        "sugarcrepe": {"swap_att": 0.5, "macro": 0.75, "micro": 0.7, "bow_ceiling/swap_att": 0.3874,
                       "bow_ceiling/macro": 0.8157, "bow_ceiling/micro": 0.9236},
        "sugarcrepe_pp": {"itt/macro": 0.6, "itt/micro": 0.55, "tot/swap_att": 0.4, "bow_ceiling/itt/macro": 0.75,
                          "bow_ceiling/tot/swap_att": 0.4219},
        "winoground": {"group": 0.125},
        "tiny": tiny,
    }
    table = results_markdown(results)
    assert "| benchmark | metric | score | order-blind ceiling |" in table
    assert "| sugarcrepe | macro | 75.0 | 81.6 |" in table and "| sugarcrepe | micro | 70.0 | 92.4 |" in table
    assert "| sugarcrepe | swap_att | 50.0 | 38.7 |" in table and "| winoground | group | 12.5 | - |" in table
    assert "| sugarcrepe_pp | itt/macro | 60.0 | 75.0 |" in table
    assert "| sugarcrepe_pp | itt/micro | 55.0 | - |" in table
    assert "| tiny | macro | 37.5 | 100.0 |" in table and "| tiny | micro | 60.0 | 100.0 |" in table
    assert "bow_ceiling" not in table and "Order-blind ceiling:" in table
    base = {"sugarcrepe": {"macro": 0.7, "bow_ceiling/macro": 0.8157}}
    with_base = results_markdown({"sugarcrepe": results["sugarcrepe"]}, {"base": base})
    assert "| benchmark | metric | base | this model | order-blind ceiling |" in with_base
    assert "| sugarcrepe | macro | 70.0 | 75.0 | 81.6 |" in with_base
    assert "ceiling" not in results_markdown({"winoground": {"group": 0.125}})

    found = {(r.dataset_type, r.metric_name): r for r in eval_results(results)}
    assert not any(name.startswith("bow_ceiling/") for _, name in found)  # not the model's scores
    assert {("sugarcrepe", "micro"), ("sugarcrepe", "macro"), ("tiny", "micro"), ("tiny", "macro")} <= set(found)
    itt, tot = found["sugarcrepe-pp", "itt/macro"], found["sugarcrepe-pp", "tot/swap_att"]
    assert itt.metric_type == tot.metric_type == "accuracy" and itt.metric_value == 0.6
    assert itt.task_type == "image-text-matching" and tot.task_type == "sentence-similarity"
    assert "SugarCrepe++" in itt.dataset_name and itt.dataset_split == "test"
    assert benchmark_dataset("sugarcrepe_pp").type == "sugarcrepe-pp"


# The real files ---------------------------------------------------------------------------------------------

needs_real = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/benchmarks is absent")


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


@needs_real
def test_sugarcrepe_ceiling_table_in_the_docs_matches_the_real_files():
    from hf_finegrained.evaluation.sugarcrepe import read_sugarcrepe

    entries, absent = read_sugarcrepe(SHARED / "sugarcrepe")
    assert not absent
    lines, ceilings, total, equal = [], [], 0, 0
    for category, rows in entries.items():
        same = sum(same_words(caption, negative) for _, caption, negative in rows)
        lines.append(f"| {category} | {len(rows):,} | {same} | {_pct(same / len(rows))} | "
                     f"{_pct(1 - same / len(rows))} |")
        ceilings.append(1 - same / len(rows))
        total, equal = total + len(rows), equal + same
    lines.append(f"| micro (all items) | {total:,} | {equal} | {_pct(equal / total)} | {_pct(1 - equal / total)} |")
    lines.append(f"| macro (mean of the 7) | | | {_pct(1 - mean(ceilings))} | {_pct(mean(ceilings))} |")
    assert "\n".join(lines) in DOC.read_text(encoding="utf-8")
    assert total == 7511 and equal > 0


@needs_real
def test_sugarcrepe_pp_ceiling_table_in_the_docs_matches_the_real_files():
    from hf_finegrained.evaluation.sugarcrepe_pp import read_sugarcrepe_pp

    entries, absent = read_sugarcrepe_pp(SHARED / "sugarcrepe_pp")
    assert not absent
    lines, columns, sums = [], ([], [], []), [0, 0, 0, 0]
    for category, rows in entries.items():
        n = len(rows)
        p1 = sum(same_words(a, neg) for _, a, b, neg in rows)
        p2 = sum(same_words(b, neg) for _, a, b, neg in rows)
        either = sum(same_words(a, neg) or same_words(b, neg) for _, a, b, neg in rows)
        values = (1 - either / n, 1 - p1 / n, 1 - p2 / n)
        for column, value in zip(columns, values):
            column.append(value)
        sums = [sums[0] + n, sums[1] + p1, sums[2] + p2, sums[3] + either]
        lines.append(f"| {category} | {n:,} | {p1} | {p2} | " + " | ".join(_pct(v) for v in values) + " |")
    n, p1, p2, either = sums
    lines.append(f"| micro (all items) | {n:,} | {p1} | {p2} | {_pct(1 - either / n)} | {_pct(1 - p1 / n)} | "
                 f"{_pct(1 - p2 / n)} |")
    lines.append("| macro (mean of the 5) | | | | " + " | ".join(_pct(mean(c)) for c in columns) + " |")
    assert "\n".join(lines) in DOC.read_text(encoding="utf-8")


@needs_real
def test_on_real_sugarcrepe_a_bag_of_words_scorer_gets_exactly_the_ceiling():
    import json

    items = [(category, e["caption"], e["negative_caption"])
             for category in ("swap_att", "swap_obj", "replace_att")
             for e in json.loads((SHARED / "sugarcrepe" / f"{category}.json").read_text(encoding="utf-8")).values()]
    result = _bag_of_words_run(items)
    for key in ("swap_att", "swap_obj", "replace_att", "micro", "macro"):
        assert result.metrics[key] == pytest.approx(result.metrics[f"bow_ceiling/{key}"], abs=1e-12), key
    assert result.metrics["replace_att"] == 1.0
    assert result.metrics["swap_att"] == pytest.approx(1 - 408 / 666)  # the docs' table
    assert result.metrics["swap_obj"] == pytest.approx(1 - 166 / 245)
    assert result.details["num_ties"] == result.details["bow_equal_items"]["all"] == 408 + 166
