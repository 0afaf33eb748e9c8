"""Optional LoRA fine-tuning through PEFT: adapters on the attention projections of both encoders.

With LoRA the base weights, `logit_scale` included, stay frozen; checkpoints hold only the adapter.
`merge_lora` folds the adapter into plain `CLIPModel` weights for release; `load_merged` does it for an adapter
folder (what `examples/train.py --use_lora` writes).
"""

from __future__ import annotations

import os
from typing import Any

from torch import nn

DEFAULT_LORA_TARGETS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "out_proj")
ADAPTER_CONFIG = "adapter_config.json"
# This machine's path of an adapter's base, beside an adapter_config.json that names the base publicly
# (`publish_adapter_config`). Never published: not among `hub.PUBLISHED_PATTERNS`, and `Trainer.push_to_hub`
# ignores files starting with "_".
LOCAL_BASE_NAME = "_local_base_model.json"


def add_lora(
    model: nn.Module,
    r: int = 16,
    alpha: int = 32,
    dropout: float = 0.05,
    target_modules: list[str] | None = None,
) -> Any:
    """Wraps `model` in a `peft.PeftModel` with LoRA adapters; only adapter weights are trainable."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("LoRA needs PEFT: pip install 'hf_finegrained[lora]'") from error
    if r <= 0:
        raise ValueError(f"LoRA rank must be > 0, got {r}.")
    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=list(target_modules or DEFAULT_LORA_TARGETS),
        bias="none",
    )
    return get_peft_model(model, config)


def merge_lora(peft_model: Any) -> nn.Module:
    """The base `CLIPModel` with the adapter folded into its weights (the PEFT wrapper removed)."""
    return peft_model.merge_and_unload()


def load_merged(adapter_dir: str | os.PathLike) -> nn.Module:
    """The model an adapter folder describes, merged: its base model (`base_model_name_or_path` of
    `adapter_config.json`, loaded with `AutoModel`) with the adapter folded in, as plain weights.

    The base class is loaded explicitly and the adapter put on it with `PeftModel.from_pretrained`; peft's
    `AutoPeftModel` would instead try to resize the input embeddings whenever tokenizer files sit beside the
    adapter (as `examples/train.py` saves the processor there), which `CLIPModel` does not support.
    """
    try:
        from peft import PeftConfig, PeftModel
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("LoRA needs PEFT: pip install 'hf_finegrained[lora]'") from error
    from transformers import AutoModel

    config = PeftConfig.from_pretrained(str(adapter_dir))
    base_path = local_base(adapter_dir, config.base_model_name_or_path)
    if not base_path:
        raise ValueError(f"{os.path.join(adapter_dir, 'adapter_config.json')} names no base model "
                         "(base_model_name_or_path is empty): set it to the folder or Hub id the adapter was "
                         "trained on.")
    revision = {"revision": config.revision} if config.revision else {}
    base = AutoModel.from_pretrained(base_path, **revision)
    return merge_lora(PeftModel.from_pretrained(base, str(adapter_dir)))


def publish_adapter_config(folder: str | os.PathLike) -> str | None:
    """Makes `folder/adapter_config.json` name its base publicly; returns the name written (None: nothing changed).

    PEFT writes the base's `name_or_path` as `base_model_name_or_path`, a local path when the base was loaded from a
    folder. It becomes the base's Hub id when known (a folder of the Hugging Face cache) or else the folder's name
    (`model_card.public_name`), so a published adapter holds no local path; load it with
    `PeftModel.from_pretrained(base_model, folder)`. The local path is kept beside it in `LOCAL_BASE_NAME` (never
    published), where `load_merged` finds the base on this machine.
    """
    import json

    from .files import atomic_write
    from .model_card import public_name

    path = os.path.join(folder, ADAPTER_CONFIG)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    base = config.get("base_model_name_or_path")
    public = public_name(base)
    if not base or public == base:
        return None
    local = {"base_model_name_or_path": os.path.abspath(base), "published_as": public}
    atomic_write(os.path.join(folder, LOCAL_BASE_NAME), lambda handle: json.dump(local, handle, indent=2))
    config["base_model_name_or_path"] = public
    atomic_write(path, lambda handle: handle.write(json.dumps(config, indent=2, sort_keys=True)))
    return public


def local_base(adapter_dir: str | os.PathLike, name: str | None) -> str | None:
    """The base an adapter folder names (`name`, from its adapter_config.json), or, when that is the public name
    `publish_adapter_config` wrote and no such local folder exists, the local path recorded beside it."""
    import json

    record = os.path.join(adapter_dir, LOCAL_BASE_NAME)
    if not name or os.path.exists(name) or not os.path.isfile(record):
        return name
    with open(record, encoding="utf-8") as handle:
        local = json.load(handle)
    path = local.get("base_model_name_or_path")
    return path if local.get("published_as") == name and path and os.path.exists(path) else name
