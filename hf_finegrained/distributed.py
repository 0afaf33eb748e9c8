"""Cross-process gathering for contrastive losses (the `gather_across_devices` option).

Every rank gathers the embeddings of every other rank, computes the loss of the *global* batch,
and back-propagates only into its own slice. The backward pass sums the incoming gradients over
ranks before slicing, so that after DDP averages parameter gradients over ``world_size`` ranks the
result equals the gradient of one process that saw the whole batch (the convention of open_clip's
``gather_with_grad``). Ranks may hold different batch sizes (the last, partial batch): tensors are
padded to the largest size for the collective and un-padded afterwards.

Without gathering, ``sum_across_ranks`` lets the loss pool the few sums behind its CMR thresholds, so that
every rank holds the thresholds of the global batch.

``make_shardable`` readies a dual encoder for FSDP (tests/test_sharded.py trains one through the trainer).
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


def is_distributed() -> bool:
    """True when torch.distributed is initialised with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _all_gather_padded(tensor: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """Gathers ``tensor`` [N_r, ...] from every rank into [sum_r N_r, ...], in rank order."""
    world_size = dist.get_world_size()
    local_size = torch.tensor([tensor.shape[0]], device=tensor.device, dtype=torch.long)
    sizes = [torch.zeros_like(local_size) for _ in range(world_size)]
    dist.all_gather(sizes, local_size)
    counts = [int(size.item()) for size in sizes]
    padded = tensor.new_zeros((max(counts), *tensor.shape[1:]))
    padded[: tensor.shape[0]] = tensor
    chunks = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(chunks, padded.contiguous())
    return torch.cat([chunk[:count] for chunk, count in zip(chunks, counts)]), counts


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        gathered, counts = _all_gather_padded(tensor)
        ctx.counts = counts
        return gathered

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad_output.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        rank = dist.get_rank()
        start = sum(ctx.counts[:rank])
        return grad[start : start + ctx.counts[rank]]


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """All-gathers ``tensor`` [N_r, ...] along dim 0 keeping the autograd graph; identity on one process."""
    if not is_distributed():
        return tensor
    return _GatherWithGrad.apply(tensor)


def gather_no_grad(tensor: torch.Tensor) -> torch.Tensor:
    """All-gathers ``tensor`` along dim 0 without gradient; bool tensors travel as uint8 (gloo has no bool)."""
    if not is_distributed():
        return tensor
    if tensor.dtype == torch.bool:
        return _all_gather_padded(tensor.to(torch.uint8))[0].bool()
    return _all_gather_padded(tensor.detach())[0]


def all_ranks_true(flag: bool, device: torch.device) -> bool:
    """True when ``flag`` is True on every rank (an all-reduce of one integer); ``flag`` on one process.

    Ranks that decide alone whether to run a backward pass would leave the others waiting in a collective;
    deciding together keeps them in step.
    """
    if not is_distributed():
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def sum_across_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of ``tensor`` (any shape, floating point) over every rank, without gradient; a
    detached copy on one process. Every rank receives the same values."""
    total = tensor.detach().clone()
    if is_distributed():
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def make_shardable(model: nn.Module) -> None:
    """Readies a dual encoder (unwrapped) for FSDP2 or DeepSpeed, in place; checkpoints keep their usual shapes.

    FSDP refuses 0-d parameters and DeepSpeed cannot broadcast one over gloo, and `CLIPModel.logit_scale` is one:
    it becomes a [1] parameter (the model's forward and `ModelFamily.encode_batch` broadcast it alike), and state
    dicts give it back 0-d and accept it 0-d, so saved weights load with `CLIPModel.from_pretrained`. Accelerate's
    FSDP2 also shards `get_input_embeddings()` in a unit of its own, which the dual encoders of transformers 5 do
    not implement (NotImplementedError): there it answers None, so every embedding stays in the unit the wrap
    policy gives it.
    """
    scalars = [name for name, param in model.named_parameters(recurse=False) if param.dim() == 0]
    for name in scalars:
        setattr(model, name, nn.Parameter(getattr(model, name).detach().reshape(1)))
    if scalars:
        model.register_state_dict_post_hook(functools.partial(_scalars_saved, names=scalars))
        model.register_load_state_dict_pre_hook(functools.partial(_scalars_loaded, names=scalars))
    try:
        model.get_input_embeddings()
    except NotImplementedError:
        model.get_input_embeddings = _no_input_embeddings  # module-level, so the model still pickles


def _no_input_embeddings() -> None:
    return None


def _scalars_saved(module: nn.Module, state_dict: dict[str, Any], prefix: str, local_metadata: Any, *,
                   names: list[str]) -> None:
    """State-dict post-hook: the parameters in `names` (held as [1]) leave 0-d."""
    for name in names:
        value = state_dict.get(prefix + name)
        if value is None:
            continue
        if hasattr(value, "full_tensor"):  # an FSDP2 DTensor shard: every rank takes part, as in state_dict()
            value = value.full_tensor()
        state_dict[prefix + name] = value.reshape(())


def _scalars_loaded(module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any, names: list[str]) -> None:
    """Load-state-dict pre-hook: the 0-d values of the parameters in `names` come in as [1]."""
    for name in names:
        value = state_dict.get(prefix + name)
        if isinstance(value, torch.Tensor) and value.dim() == 0:
            state_dict[prefix + name] = value.reshape(1)
