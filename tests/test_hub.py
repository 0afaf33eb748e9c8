"""Hub uploads, checked offline with an autospec mock of HfApi."""

from __future__ import annotations

from unittest import mock

import pytest
from huggingface_hub import HfApi

from hf_finegrained.hub import HubLoginError, check_repo_id, push_folder, require_token


def _output_folder(tmp_path):
    folder = tmp_path / "out"
    (folder / "checkpoint-2").mkdir(parents=True)
    for name in ("model.safetensors", "config.json", "preprocessor_config.json", "tokenizer.json",
                 "tokenizer_config.json", "README.md", "loss_curves.png", "threshold_curves.png",
                 "finegrained_state.json", "training_args.bin", "optimizer.pt", "distill_teacher.safetensors",
                 "tradeoff.png"):
        (folder / name).write_text("{}")
    return folder


def test_push_sends_weights_processor_card_and_plots_only(tmp_path):
    folder = _output_folder(tmp_path)
    api = mock.create_autospec(HfApi, instance=True)
    sent = push_folder(str(folder), "me/ce-clip", token="hf_secret", api=api)
    api.create_repo.assert_called_once_with(repo_id="me/ce-clip", exist_ok=True, private=None, token="hf_secret")
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "me/ce-clip" and kwargs["folder_path"] == str(folder)
    assert kwargs["allow_patterns"] == sent == sorted(
        ["model.safetensors", "config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json",
         "README.md", "loss_curves.png", "threshold_curves.png", "finegrained_state.json", "tradeoff.png"]
    )  # the EMA teacher is training state, not the model


def test_a_token_inside_the_card_blocks_the_push(tmp_path):
    folder = _output_folder(tmp_path)
    (folder / "README.md").write_text("token: hf_secret")
    api = mock.create_autospec(HfApi, instance=True)
    with pytest.raises(ValueError, match="README.md contains the Hub token"):
        push_folder(str(folder), "me/ce-clip", token="hf_secret", api=api)
    api.upload_folder.assert_not_called()


def test_missing_token_says_how_to_log_in(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    with mock.patch("hf_finegrained.hub.get_token", return_value=None):
        with pytest.raises(HubLoginError, match="hf auth login"):
            require_token()


def test_example_without_token_fails_before_training(tmp_path):
    from hf_finegrained import training_command as train

    out = tmp_path / "never"
    with mock.patch("hf_finegrained.hub.get_token", return_value=None):
        with pytest.raises(HubLoginError, match="nothing has been trained yet"):
            train.main(["--output_dir", str(out), "--push_to_hub", "--hub_model_id", "me/ce-clip"])
    assert not out.exists()


def test_training_command_refuses_a_bad_hub_id_before_training(tmp_path):
    from hf_finegrained import training_command as train

    out = tmp_path / "never"
    with mock.patch("hf_finegrained.hub.get_token", return_value="hf_secret"):
        with pytest.raises(SystemExit, match="is not a Hub repository id"):
            train.main(["--output_dir", str(out), "--push_to_hub", "--hub_model_id", "me/ce clip"])
    assert not out.exists()


def test_an_id_the_hub_would_refuse_is_refused_before_anything_is_sent(tmp_path):
    folder = _output_folder(tmp_path)
    api = mock.create_autospec(HfApi, instance=True)
    for bad in ("me/ce clip", "me/a/b", "me/ce..clip", ""):
        with pytest.raises(ValueError, match="is not a Hub repository id"):
            push_folder(str(folder), bad, token="hf_secret", api=api)
    api.create_repo.assert_not_called()
    assert check_repo_id("me/ce-clip_v1.2") == "me/ce-clip_v1.2"
