"""Optional LoRA fine-tuning through PEFT: adapters on the attention projections of both encoders.

With LoRA the base weights, `logit_scale` included, stay frozen; checkpoints hold only the adapter.
`merge_lora` folds the adapter into plain `CLIPModel` weights for release.
"""

from __future__ import annotations

from typing import Any

from torch import nn

DEFAULT_LORA_TARGETS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "out_proj")


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
