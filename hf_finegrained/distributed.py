"""Cross-process gathering for contrastive losses (the `gather_across_devices` option).

Every rank gathers the embeddings of every other rank, computes the loss of the *global* batch,
and back-propagates only into its own slice. The backward pass sums the incoming gradients over
ranks before slicing, so that after DDP averages parameter gradients over ``world_size`` ranks the
result equals the gradient of one process that saw the whole batch (the convention of open_clip's
``gather_with_grad``). Ranks may hold different batch sizes (the last, partial batch): tensors are
padded to the largest size for the collective and un-padded afterwards.

Without gathering, ``sum_across_ranks`` lets the loss pool the few sums behind its CMR thresholds, so that
every rank holds the thresholds of the global batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


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
