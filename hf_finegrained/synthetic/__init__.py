"""The synthetic compositional world: the embedded default's data, its scoring and its tiny models.

This wing serves the default run (`hf-finegrained-train` with no model), the ablation study
(`examples/ablation.py`), the tests and the benchmarks; nothing in the library proper imports it, except the
training command, through the wing's one entry point `default_run.default_run_trainer`.

- `default_run.py`: the embedded default run (its flags, trainer, scoring, README check, trade-off sweep).
- `ablation.py`: the paper's ablation on the world (`examples/ablation.py`).

- `world.py`: scenes, captions, ground-truth hard negatives, seen and held-out splits, training streams;
  `drawing.py` draws them.
- `evaluation.py`: scoring a model on the world (per category, seen / held-out, general probes) and the
  linear relation probe.
- `recipe.py`: the default run's settings, its cached base model and its plain fine-tune.
- `tiny_clip.py`: small CLIP / SigLIP / SigLIP 2 models built from a config, with a BPE tokenizer trained on
  the world's captions.
- `tradeoff.py`: composition vs general ability along weight interpolation (points, tables and the plot).
"""

from .drawing import Scene, draw_scene
from .world import (
    CATEGORY_NAMES,
    HELD_OUT_ARRANGEMENTS,
    HELD_OUT_BINDINGS,
    NegativeNoise,
    SyntheticWorld,
    build_synthetic_world,
    ground_truth_negatives,
    held_out_in_caption,
    render,
)

__all__ = [
    "CATEGORY_NAMES",
    "HELD_OUT_ARRANGEMENTS",
    "HELD_OUT_BINDINGS",
    "NegativeNoise",
    "Scene",
    "SyntheticWorld",
    "build_synthetic_world",
    "draw_scene",
    "ground_truth_negatives",
    "held_out_in_caption",
    "render",
]
