"""`checkpoints.last_complete_checkpoint` against transformers' own `get_last_checkpoint`: the same folders count as
checkpoints, and it differs only by passing over incomplete ones."""

from __future__ import annotations

import json

from transformers.trainer_utils import get_last_checkpoint

from hf_finegrained.checkpoints import last_complete_checkpoint


def _checkpoint(folder, complete: bool = True) -> None:
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    if complete:
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": 1}))


def test_the_newest_complete_checkpoint_is_transformers_last_checkpoint_unless_it_is_incomplete(tmp_path):
    assert last_complete_checkpoint(str(tmp_path / "absent")) == (None, {})
    assert last_complete_checkpoint(str(tmp_path)) == (None, {}) and get_last_checkpoint(str(tmp_path)) is None
    for step in (2, 10, 9):
        _checkpoint(tmp_path / f"checkpoint-{step}")
    _checkpoint(tmp_path / "checkpoint-30-copy")  # not a checkpoint name, for either
    (tmp_path / "checkpoint-40").write_text("a file, not a folder")
    newest, skipped = last_complete_checkpoint(str(tmp_path))
    assert newest == get_last_checkpoint(str(tmp_path)) == str(tmp_path / "checkpoint-10") and skipped == {}

    _checkpoint(tmp_path / "checkpoint-12", complete=False)  # a save cut short: transformers would resume from it
    assert get_last_checkpoint(str(tmp_path)) == str(tmp_path / "checkpoint-12")
    newest, skipped = last_complete_checkpoint(str(tmp_path))
    assert newest == str(tmp_path / "checkpoint-10")
    assert list(skipped) == ["checkpoint-12"] and "trainer_state.json is missing" in skipped["checkpoint-12"][0]
