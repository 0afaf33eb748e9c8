"""The linear relation probe of hf_finegrained.synthetic.evaluation, on features with and without the layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hf_finegrained.synthetic import evaluation as synthetic_eval
from hf_finegrained.synthetic.world import SyntheticWorld
from hf_finegrained.synthetic.evaluation import fit_linear_probe, object_relation, relation_probe


def test_linear_probe_fits_separable_classes():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(400) % 4
    centres = torch.randn(4, 16, generator=generator) * 3
    features = centres[labels] + torch.randn(400, 16, generator=generator)
    mean, std, weight, bias = fit_linear_probe(features, labels, 4)
    predicted = (((features - mean) / std) @ weight + bias).argmax(1)
    assert (predicted == labels).float().mean() > 0.95


def test_object_relation_names_the_object_not_the_caption_order():
    assert object_relation(["red", "blue"], "left", "red") == "left"
    assert object_relation(["red", "blue"], "left", "blue") == "right"
    assert object_relation(["blue", "red"], "above", "red") == "below"


@pytest.fixture
def pixel_features(monkeypatch):
    """Image "embeddings" of pooled pixels (they hold where each colour is) or of noise (they do not)."""
    def pooled(engine, images, name):
        arrays = [np.asarray(image, dtype=np.float32).reshape(6, 8, 6, 8, 3).mean(axis=(1, 3)) for image in images]
        return torch.tensor(np.stack(arrays)).reshape(len(images), -1) / 255

    def noise(engine, images, name):
        return torch.randn(len(images), 108, generator=torch.Generator().manual_seed(len(images)))

    monkeypatch.setattr(synthetic_eval, "_engine", lambda model, processor=None: None)
    return lambda kind: monkeypatch.setattr(synthetic_eval, "image_embeddings", pooled if kind == "pixels" else noise)


def test_relation_probe_reads_layout_from_features_that_hold_it(pixel_features):
    world = SyntheticWorld(num_train=0, num_seen=200, num_validation=0, num_test=0, num_zeroshot=0, num_retrieval=0)
    fit = list(world.train_stream(1500, name="probe", negatives=None))
    test = world.build()["test_seen"]
    pixel_features("pixels")
    with_layout = relation_probe(None, fit, test)
    pixel_features("noise")
    without = relation_probe(None, fit, test)
    assert with_layout["pairs"] == without["pairs"] == 2 * len(test)  # every (image, colour) pair once
    assert 0.2 < with_layout["chance"] < 0.4
    assert with_layout["accuracy"] > 0.6 and without["accuracy"] < with_layout["chance"] + 0.15


def test_probe_precision_script_scores_as_relation_probe_does(pixel_features, monkeypatch):
    """benchmarks/probe_precision.py fits the same probes as `relation_probe` and scores the same pairs."""
    import importlib.util
    from pathlib import Path

    from hf_finegrained.synthetic.recipe import default_world

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "probe_precision.py"
    spec = importlib.util.spec_from_file_location("probe_precision", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "make_engine", lambda model, processor=None, progress=False: None)
    pixel_features("pixels")
    outcomes = script.probe_outcomes(None, None, "test_seen", 100, 150, fit_rows=1500)
    world = default_world(seed=0)
    expected = relation_probe(None, world.train_stream(1500, name="probe", negatives=None),
                              world.build_split("test_seen", start=100, count=150))
    assert len(outcomes) == expected["pairs"] == 300
    assert sum(o["right"] for o in outcomes) / len(outcomes) == pytest.approx(expected["accuracy"])
    assert expected["accuracy"] > 0.5  # the pooled pixels hold the layout: not a comparison of two failures
    assert 0 < script.bootstrap_error(outcomes) < 0.1
