"""The synthetic base's pre-training settings: an uncluttered pre-training stream beside a cluttered world, and the
starting temperature scale (issue 25)."""

from __future__ import annotations

import math

from hf_finegrained.synthetic.recipe import BaseModelSettings, default_world, pretraining_stream
from hf_finegrained.synthetic.tiny_clip import build_clip_model, train_clip_tokenizer


def _images(rows) -> list[bytes]:
    return [row["image"].tobytes() for row in rows]


def test_the_base_pretrains_without_the_worlds_distractors_unless_told():
    cluttered, clean = default_world(distractors=1), default_world(distractors=0)
    settings = BaseModelSettings()
    rows = list(pretraining_stream(cluttered, settings, 24))
    assert _images(rows) == _images(pretraining_stream(clean, settings, 24))
    direct = list(cluttered.train_stream(24, name="pretrain", negatives=None, mix=settings.mix))
    assert [row["caption"] for row in rows] == [row["caption"] for row in direct]
    two_objects = [n for n, row in enumerate(direct) if len(row["colors"]) == 2]
    assert two_objects and all(rows[n]["image"].tobytes() != direct[n]["image"].tobytes() for n in two_objects)
    told = BaseModelSettings(pretrain_distractors=1)
    assert _images(pretraining_stream(cluttered, told, 24)) == _images(direct)
    assert cluttered.distractors == 1  # the world itself is left as it was


def test_the_clip_base_starts_at_the_scale_it_is_given():
    tokenizer = train_clip_tokenizer(["a red ring left of a blue bar", "a green square"], vocab_size=300)
    assert math.isclose(build_clip_model(tokenizer, logit_scale=100.0).logit_scale.exp().item(), 100.0, rel_tol=1e-5)
    assert math.isclose(build_clip_model(tokenizer).logit_scale.exp().item(), 1 / 0.07, rel_tol=1e-3)
    assert BaseModelSettings().cache_key()["logit_scale"] == 100.0
