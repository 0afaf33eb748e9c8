"""examples/ablation.py --quick runs end to end and produces the table (not a check of the numbers); the study's
functions are called from `hf_finegrained.synthetic.ablation`."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ["plain", "itc_hn", "itc_hn+imc", "itc_hn+cmr", "ce_clip", "ce_clip_fixed", "ce_clip_gt"]


def _ablation_module():
    from hf_finegrained.synthetic import ablation

    return ablation


def _runs(values: dict[str, list[float]]) -> list[dict]:
    return [{"variant": v, "seed": k, "scores": {"seen": {"average": x}}} for v, xs in values.items() for k, x in enumerate(xs)]


def test_the_protocols_win_rule():
    compare = _ablation_module().compare
    # 2 points apart with spreads of 0.1 (2 SE = 2 * sqrt(2 * 0.01 / 3) = 0.16): a win, in both orders.
    runs = _runs({"a": [0.951, 0.950, 0.949], "b": [0.931, 0.930, 0.929]})
    diff, bound, verdict = compare(runs, "a", "b", "seen", "average")
    assert diff == pytest.approx(2.0) and bound == pytest.approx(2 * (2 * 0.01 / 3) ** 0.5) and verdict == "a"
    assert compare(runs, "b", "a", "seen", "average")[2] == "a"
    # the same difference with spreads of 2 points: a tie
    noisy = _runs({"a": [0.97, 0.95, 0.93], "b": [0.95, 0.93, 0.91]})
    assert compare(noisy, "a", "b", "seen", "average")[2] == "tie"
    with pytest.raises(ValueError, match="2 seeds"):
        compare(_runs({"a": [0.9], "b": [0.8, 0.7]}), "a", "b", "seen", "average")


def _run(out: Path, cache: Path, *flags: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "examples" / "ablation.py"), "--quick", "--output_dir", str(out),
               "--base_cache_dir", str(cache), *flags]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=out.parent)


@pytest.mark.slow
def test_quick_ablation_writes_the_table_curves_and_resumes(tmp_path):
    out = tmp_path / "ablation"
    result = _run(out, tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-4000:]

    document = json.loads((out / "results.json").read_text())
    runs = document["runs"]
    assert sorted((r["variant"], r["seed"]) for r in runs) == sorted((v, s) for v in VARIANTS for s in (0, 1))
    categories = ["swap_att", "swap_obj", "replace_att", "replace_obj", "replace_rel"]
    for run in runs:
        held_out, seen, general = run["scores"]["held_out"], run["scores"]["seen"], run["scores"]["general"]
        assert set(seen) == set(categories) | {"average"} == set(held_out)
        assert set(general) == {"zeroshot_top1", "i2t_R@1", "t2i_R@1"}
        assert all(0 <= v <= 1 for v in list(held_out.values()) + list(seen.values()) + list(general.values()))
        assert seen["average"] == pytest.approx(statistics.fmean(seen[c] for c in categories))
    fixed, bound = document["thresholds"]["fixed"], document["thresholds"]["upper_bound"]
    assert document["thresholds"]["units"] == "cosine" and (fixed, bound) == (pytest.approx(0.05), pytest.approx(0.1))
    for run in runs:
        thresholds = [v for key, series in run["curves"].items() if key.startswith("threshold/") for _, v in series]
        assert all(0 <= v <= bound + 1e-6 for v in thresholds), "thresholds leave their cosine bound"
        if run["variant"] == "ce_clip_fixed":
            assert thresholds and all(v == pytest.approx(fixed, rel=1e-6) for v in thresholds)
        elif run["variant"] in ("ce_clip", "ce_clip_gt"):
            assert len(set(thresholds)) > 1, "adaptive thresholds never moved"
        elif run["variant"] == "plain":
            assert not thresholds  # plain CLIP loss: no negative types at all

    table = (out / "table.md").read_text()
    assert table == result.stdout[result.stdout.index("| variant"):][: len(table)]
    tables = table.split("\n\n")
    assert [t.split(",")[0] for t in tables[:3]] == ["| variant: test_seen (new images of seen combinations)",
                                                 "| variant: test (held-out combinations)",
                                                 "| variant: general ability (test-independent splits)"]
    rows = {line.split(" | ")[0].strip("| "): line for line in tables[0].splitlines()[2:]}
    assert list(rows) == ["base, no fine-tuning"] + VARIANTS
    plain_average = [100 * r["scores"]["seen"]["average"] for r in runs if r["variant"] == "plain"]
    cells = rows["plain"].strip("|").split(" | ")
    assert cells[1].strip() == "2" and cells[7].strip() == (
        f"{statistics.fmean(plain_average):.1f} ± {statistics.stdev(plain_average):.1f}")
    assert (out / "threshold_curves.png").stat().st_size > 1000
    wins = [t for t in tables if t.startswith("| A vs B")]
    assert len(wins) == 3 and all("| ce_clip vs plain |" in t for t in wins)

    progress = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == len(runs) and all("training; test_seen: " in line for line in progress)

    # run again on a subset: every run is in results.json, so nothing is trained again; the subset's tables show
    # the subset, and results.json keeps every run (the others' too)
    subset = _run(out, tmp_path / "cache", "--variants", "plain", "--seeds", "0")
    assert subset.returncode == 0, subset.stderr[-4000:]
    assert "seed 0]" not in subset.stdout and "training" not in subset.stdout
    kept = json.loads((out / "results.json").read_text())["runs"]
    assert sorted((r["variant"], r["seed"]) for r in kept) == sorted((r["variant"], r["seed"]) for r in runs)
    shown = (out / "table.md").read_text().split("\n\n")[0].splitlines()[2:]
    assert [line.split(" | ")[:2] for line in shown] == [["| base, no fine-tuning", "-"], ["| plain", "1"]]


def _point_document(base_zs: float, settings: dict) -> dict:
    """A trade-off document: base, plain and ce_clip (2 seeds each), ce_clip interpolated at 0.5."""
    def scores(seen, zs, r1=0.5):
        return {"seen": {"average": seen}, "held_out": {"average": seen - 0.05},
                "general": {"zeroshot_top1": zs, "i2t_R@1": r1, "t2i_R@1": r1}}

    base = scores(0.70, base_zs, 0.30)
    runs = []
    for seed, shift in enumerate((0.0, 0.01)):
        runs.append({"variant": "plain", "seed": seed, "scores": scores(0.90 + shift, 0.60),
                     "validation_scores": scores(0.90 + shift, 0.60)})
        runs.append({"variant": "ce_clip", "seed": seed, "scores": scores(0.92 + shift, 0.62),
                     "validation_scores": scores(0.92 + shift, 0.62),
                     "interpolated": {"0.5": {"scores": scores(0.915 + shift, 0.84),
                                              "validation_scores": scores(0.905 + shift, 0.86)}}})
    return {"settings": settings, "variants": ["plain", "ce_clip"], "runs": runs,
            "base_scores": base, "base_validation_scores": base}


def test_tradeoff_points_choice_and_goal():
    ablation = _ablation_module()
    document = _point_document(0.88, {"eval_split": "both"})
    points = ablation.tradeoff_points(document)
    assert [p["name"] for p in points] == ["base", "plain", "ce_clip alpha 0.5", "ce_clip"]
    assert points[2]["values"][("seen", "average")] == [0.915, 0.925]
    # only the interpolation keeps 95% of the base's zero-shot (0.86 >= 0.836 on validation)
    chosen = ablation.choose_setting(document)
    assert chosen["name"] == "ce_clip alpha 0.5"
    report = ablation.goal_report(document)
    # on test its seen average 0.920 is below the goal's plain 0.905 + 0.8 x (0.925 - 0.905) = 0.921
    assert "ce_clip alpha 0.5" in report and "goal not met" in report
    assert "| ce_clip alpha 0.5 | 2 | 92.0 ± 0.7 |" in ablation.tradeoff_table(ablation.tradeoff_points(document), "test")
    # a base too strong for any setting: no choice, the frontier is reported
    assert ablation.choose_setting(_point_document(0.95, {"eval_split": "both"})) is None
    assert "not reached" in ablation.goal_report(_point_document(0.95, {"eval_split": "both"}))


def test_variant_names_with_a_distillation_weight():
    ablation = _ablation_module()
    assert ablation.variant_of("ce_clip+distill2.5").distill == 2.5
    assert ablation.variant_of("ce_clip+distill2.5").imc and not ablation.variant_of("plain+distill1").imc
    for bad in ("ce_clip+distill", "ce_clip+distill-1", "nope+distill1", "ce_clip+distillx"):
        with pytest.raises(ValueError, match="unknown variant"):
            ablation.variant_of(bad)


def test_noisy_variants_name_their_kind_and_share():
    ablation = _ablation_module()
    noisy = ablation.variant_of("ce_clip~not_false0.25")
    assert (noisy.noise.kind, noisy.noise.share, noisy.imc, noisy.cmr) == ("not_false", 0.25, True, True)
    both = ablation.variant_of("itc_hn+distill2~dropped0.9")
    assert (both.distill, both.noise.kind, both.noise.share, both.imc) == (2.0, "dropped", 0.9, False)
    assert ablation.variant_of("ce_clip").noise is None
    for bad in ("plain~dropped0.5", "ce_clip~dropped", "ce_clip~dropped1.5", "ce_clip~typo0.5", "ce_clip~"):
        with pytest.raises(ValueError, match="unknown variant"):
            ablation.variant_of(bad)


def test_the_negatives_vocabulary_flag_reaches_the_study_settings():
    import warnings

    ablation = _ablation_module()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a new flag has no old name to warn about
        settings, _ = ablation.parse(["--synthetic_negatives_vocabulary", "world"])
    assert settings.negatives_vocabulary == "world"
    assert ablation.parse([])[0].negatives_vocabulary == ablation.WORLD_NEGATIVES_VOCABULARY
    with pytest.raises(SystemExit):
        ablation.parse(["--synthetic_negatives_vocabulary", "corpus"])


@pytest.mark.slow
def test_quick_tradeoff_study_writes_its_table_plot_and_validation_scores(tmp_path):
    out = tmp_path / "tradeoff"
    command = [sys.executable, str(ROOT / "examples" / "ablation.py"), "--quick", "--output_dir", str(out),
               "--base_cache_dir", str(tmp_path / "cache"), "--variants", "plain,ce_clip+distill1", "--seeds", "0,1",
               "--tradeoff_alphas", "0.5", "--interpolate", "plain", "--eval_split", "both"]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    document = json.loads((out / "results.json").read_text())
    # each run's progress line shows validation, not test (choices are made on validation)
    progress = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == 4 and all("training; validation_seen: " in line for line in progress)
    first = next(r for r in document["runs"] if (r["variant"], r["seed"]) == ("plain", 0))
    assert f"average {100 * first['validation_scores']['seen']['average']:.1f}" in progress[0]
    for run in document["runs"]:
        assert set(run) >= {"scores", "validation_scores"}
        assert ("interpolated" in run) == (run["variant"] == "plain")
        assert run["scores"]["general"] != run["validation_scores"]["general"]  # other images
    distilled = [r for r in document["runs"] if r["variant"] == "ce_clip+distill1"]
    assert all(any(v > 0 for _, v in r["curves"]["distill_loss"]) for r in distilled)
    table = (out / "tradeoff.md").read_text()
    assert "| plain alpha 0.5 | 2 |" in table and "| ce_clip+distill1 | 2 |" in table and "validation splits" in table
    assert (out / "tradeoff.png").stat().st_size > 10_000
