"""The model card's two training plots: the loss components and the per-type CMR thresholds over steps, read
from the Trainer's log history (matplotlib, the `plots` extra)."""

from __future__ import annotations

import os

from .files import atomic_write

LOSS_PLOT = "loss_curves.png"
THRESHOLD_PLOT = "threshold_curves.png"
PLOT_TITLES = {LOSS_PLOT: "Loss components over steps", THRESHOLD_PLOT: "Per-type thresholds over steps"}


def _series(log_history: list[dict[str, float]], key: str) -> tuple[list[int], list[float]]:
    points = [(entry["step"], entry[key]) for entry in log_history if key in entry and "step" in entry]
    return [p[0] for p in points], [p[1] for p in points]


def plot_training_curves(log_history: list[dict[str, float]], negative_types: list[str], output_dir: str,
                         threshold_units: str = "cosine") -> list[str]:
    """Writes the loss components and the per-type thresholds (in `threshold_units`) over steps; returns the
    file names written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    plots = [
        (LOSS_PLOT, "Loss components", [("loss", "total"), ("itc_loss", "ITC-hn"), ("imc_loss", "IMC"),
                                        ("cmr_loss", "CMR")]),
        (THRESHOLD_PLOT, f"CMR thresholds ({threshold_units} units)", [(f"threshold/{n}", n) for n in negative_types]),
    ]
    for filename, title, keys in plots:
        series = [(label, *_series(log_history, key)) for key, label in keys]
        series = [s for s in series if s[1]]
        if not series:
            continue
        figure, axis = plt.subplots(figsize=(6, 3.5))
        for label, steps, values in series:
            axis.plot(steps, values, label=label)
        axis.set_xlabel("step")
        axis.set_title(title)
        axis.legend(fontsize="small")
        figure.tight_layout()
        try:
            atomic_write(os.path.join(output_dir, filename),
                         lambda handle: figure.savefig(handle, format="png", dpi=100), binary=True)
        finally:
            plt.close(figure)
        written.append(filename)
    return written
