"""The trade-off between compositional scores and general ability: points, a table and one plot.

A point is one model, or one setting over several seeds: `tradeoff_point(name, curve, alpha, scores)` with
`scores` a list of `synthetic.evaluation.score_world` results (one per seed). Curves run from the base (alpha 0)
through interpolations (`interpolate_weights`) to a fine-tune (alpha 1); `tradeoff_points` makes them, for the
study's curves (`synthetic.ablation`) and the default run's (`synthetic.default_run`).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

# (score group, column, label): compositional scores first, then the general-ability probes.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("seen", "average", "seen avg"), ("held_out", "average", "held-out avg"),
    ("general", "zeroshot_top1", "zero-shot"), ("general", "i2t_R@1", "i2t R@1"), ("general", "t2i_R@1", "t2i R@1"),
)
GENERAL: tuple[str, ...] = tuple(column for group, column, _ in COLUMNS if group == "general")


def tradeoff_point(name: str, curve: str, alpha: float, scores: Sequence[dict[str, dict[str, float]]]) -> dict[str, Any]:
    """{"name", "variant" (the curve), "alpha", "values": {(group, column): [one value per seed]}}; a column
    a score dict lacks is left out."""
    values = {(g, c): [s[g][c] for s in scores] for g, c, _ in COLUMNS if all(c in s.get(g, {}) for s in scores)}
    return {"name": name, "variant": curve, "alpha": float(alpha), "values": values}


def tradeoff_points(base: dict[str, dict[str, float]],
                    curves: Mapping[str, Mapping[float, Sequence[dict[str, dict[str, float]]]]]) -> list[dict[str, Any]]:
    """The base's point (alpha 0), then each curve's points by rising alpha: `curves` maps a curve's name to
    {alpha: scores of that setting, one per seed}; alpha 1 is the fine-tune itself (named as the curve), any
    other alpha its interpolation with the base (named "<curve> alpha <alpha>")."""
    points = [tradeoff_point("base", "base", 0.0, [base])]
    for curve, by_alpha in curves.items():
        for alpha in sorted(by_alpha):
            name = curve if alpha == 1.0 else f"{curve} alpha {alpha:g}"
            points.append(tradeoff_point(name, curve, alpha, by_alpha[alpha]))
    return points


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """(mean, sample standard deviation; 0 for one value), in %."""
    return 100 * statistics.fmean(values), 100 * statistics.stdev(values) if len(values) > 1 else 0.0


def keeps_general(point: dict[str, Any], base: dict[str, Any], share: float = 0.95) -> bool:
    """Whether the point's mean of every general-ability probe is >= `share` of the base's."""
    return all(statistics.fmean(point["values"][("general", c)]) >= share * base["values"][("general", c)][0]
               for c in GENERAL)


def tradeoff_table(points: Sequence[dict[str, Any]], title: str) -> str:
    """One row per point: mean ± std over seeds of each column, in % (a single model: its value)."""
    columns = [(g, c, label) for g, c, label in COLUMNS if all((g, c) in p["values"] for p in points)]
    lines = [f"| {title}, % | seeds | " + " | ".join(label for _, _, label in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for point in points:
        seeds = len(point["values"][columns[0][:2]]) if columns else 0
        cells = [("{:.1f}" if seeds == 1 else "{:.1f} ± {:.1f}").format(*mean_std(point["values"][(g, c)]))
                 for g, c, _ in columns]
        shown = "-" if point["variant"] == "base" else seeds
        lines.append(f"| {point['name']} | {shown} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_tradeoff(points: Sequence[dict[str, Any]], path: str,
                  title: str = "Composition vs general ability (numbers: alpha of the interpolation with the base)"
                  ) -> str | None:
    """Writes the plot to `path`: compositional score (rows: seen, held-out average) against general ability
    (columns: zero-shot top-1, mean R@1 of both directions); one curve per variant from the base (the first
    point, alpha 0) to its fine-tune (alpha 1); error bars: standard deviation over seeds. None (nothing
    written) with fewer than two points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(points) < 2:
        return None
    base = points[0]

    def general(point: dict[str, Any], column: str) -> list[float]:
        if column != "R@1":
            return point["values"][("general", column)]
        pairs = zip(point["values"][("general", "i2t_R@1")], point["values"][("general", "t2i_R@1")])
        return [(a + b) / 2 for a, b in pairs]

    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    for row, (group, label) in enumerate((("seen", "seen average"), ("held_out", "held-out average"))):
        for col, (column, xlabel) in enumerate((("zeroshot_top1", "zero-shot top-1"),
                                                ("R@1", "retrieval R@1 (mean of both directions)"))):
            ax = axes[row][col]
            if (group, "average") not in base["values"]:
                ax.set_visible(False)
                continue
            for n, variant in enumerate(dict.fromkeys(p["variant"] for p in points[1:])):
                curve = [base] + sorted((p for p in points if p["variant"] == variant), key=lambda p: p["alpha"])
                xs = [mean_std(general(p, column)) for p in curve]
                ys = [mean_std(p["values"][(group, "average")]) for p in curve]
                if len(curve) == 2:  # a fine-tune without interpolations: its point alone, no line from the base
                    curve, xs, ys = curve[1:], xs[1:], ys[1:]
                ax.errorbar([x for x, _ in xs], [y for y, _ in ys], xerr=[e for _, e in xs], yerr=[e for _, e in ys],
                            marker="o" if len(curve) > 1 else "s", color=f"C{n}", label=variant, capsize=2)
                for point, (x, _), (y, _) in zip(curve[1:], xs[1:], ys[1:]):
                    if point["alpha"] != 1.0:
                        ax.annotate(f"{point['alpha']:g}", (x, y), fontsize=6, xytext=(3, -8), textcoords="offset points")
            ax.plot([mean_std(general(base, column))[0]], [mean_std(base["values"][(group, "average")])[0]], "k*",
                    markersize=12, label="base")
            ax.set_xlabel(f"{xlabel}, %")
            ax.set_ylabel(f"{label}, %")
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
