"""Publishing a training output folder to the Hugging Face Hub."""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from huggingface_hub import HfApi, get_token

from .teacher import TEACHER_NAME

# What a user publishes: weights (full or adapter), configs, processor/tokenizer files, card, plots, results.
PUBLISHED_PATTERNS: tuple[str, ...] = (
    "*.safetensors",
    "config.json",
    "adapter_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "README.md",
    "*.png",
    "finegrained_state.json",
    "results.json",
    "results.md",
)


# Matched above but training state, not the model: the EMA distillation teacher.
NOT_PUBLISHED: tuple[str, ...] = (TEACHER_NAME,)


class HubLoginError(RuntimeError):
    """No Hugging Face token is available for a push that was asked for."""


def require_token(token: str | None = None) -> str:
    """Returns a usable token or raises `HubLoginError` saying how to log in (call it before training)."""
    token = token or get_token()
    if not token:
        raise HubLoginError(
            "--push_to_hub needs a Hugging Face token and none was found. Run `hf auth login` (or set the "
            "HF_TOKEN environment variable) and start again; nothing has been trained yet."
        )
    return token


def check_repo_id(repo_id: str) -> str:
    """`repo_id` when the Hub accepts it (`huggingface_hub.utils.validate_repo_id`: `name` or `namespace/name`, letters,
    digits, `-`, `_`, `.`); a ValueError saying what is wrong otherwise. Call it before training, as `require_token`."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise ValueError(f"--hub_model_id {repo_id!r} is not a Hub repository id: {error} Use <user>/<name>, e.g. "
                         "me/ce-clip-vit-b32; nothing has been trained yet.") from error
    return repo_id


def publishable_files(folder: str) -> list[str]:
    """Top-level files of `folder` that match `PUBLISHED_PATTERNS` (checkpoints and optimizer state excluded)."""
    names = sorted(name for name in os.listdir(folder) if os.path.isfile(os.path.join(folder, name)))
    return [name for name in names if any(fnmatch.fnmatch(name, pattern) for pattern in PUBLISHED_PATTERNS)
            and name not in NOT_PUBLISHED]


def push_folder(folder: str, repo_id: str, token: str | None = None, private: bool | None = None,
                api: Any = None, commit_message: str = "Upload CE-CLIP model") -> list[str]:
    """Creates `repo_id` if needed and uploads the publishable files of `folder`; returns their names.

    Refuses an id the Hub would refuse (`check_repo_id`) and to upload when the token appears in any text file about
    to be sent.
    """
    check_repo_id(repo_id)
    token = require_token(token)
    files = publishable_files(folder)
    for name in files:
        if name.endswith((".md", ".json")):
            with open(os.path.join(folder, name), encoding="utf-8", errors="ignore") as handle:
                if token in handle.read():
                    raise ValueError(f"{name} contains the Hub token; remove it before pushing.")
    api = api or HfApi(token=token)
    api.create_repo(repo_id=repo_id, exist_ok=True, private=private, token=token)
    api.upload_folder(repo_id=repo_id, folder_path=folder, allow_patterns=files, commit_message=commit_message,
                      token=token)
    return files
