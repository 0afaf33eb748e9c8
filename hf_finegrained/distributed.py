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

``end_process_group`` is the last call of a distributed script on every rank (examples/train.py, tests/scripts/).
"""

from __future__ import annotations

import functools
import gc
import importlib
import sys
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


def all_ranks_all(flag: torch.Tensor) -> torch.Tensor:
    """A 0-d bool tensor, on ``flag``'s device: True when ``flag`` is True on every rank (an all-reduce queued on
    the device, with no host read); ``flag`` itself on one process."""
    if not is_distributed():
        return flag
    value = flag.to(torch.int32).reshape(1)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return value[0].bool()


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


def end_process_group(barrier: bool = True) -> None:
    """Ends this process's part in a distributed run: call it on every rank as the script's last step, after
    returning from the function that held the trainer (its DDP or FSDP model refers to the process group too).
    Nothing happens when no process group is initialised (one process, or a test calling a script's ``main``).

    With ``barrier`` the ranks first wait for each other, so that none leaves while another still exchanges with it
    (rank 0 also serves the rendezvous store). A garbage collection then frees a trainer or model left in reference
    cycles, and ``destroy_process_group`` drops the last reference to the group: its gloo worker threads finish and
    are joined while the interpreter is still whole.

    Why: a gloo worker thread keeps the last collective's work, with its tensors, for a moment after the collective
    has returned to Python. When it drops the last reference to a tensor made in Python it takes the GIL to free the
    Python object; if by then the main thread has left the script and the interpreter is finalizing, Python ends the
    thread with ``pthread_exit``, whose unwinding through a C++ destructor calls ``std::terminate``: "terminate called
    without an active exception", SIGABRT, and torchrun stops the other ranks with SIGTERM. A race, so rare, likelier
    on a loaded machine (docs/FAILURES.md, "Distributed runs: ending the process group").
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    if barrier and dist.get_world_size() > 1:
        dist.barrier()
    gc.collect()
    dist.destroy_process_group()
    if "torch.distributed.tensor" in sys.modules:  # FSDP2 ran: its device meshes hold the group too
        _clear_dtensor_caches()
        gc.collect()


# torch's DTensor caches (sharding propagation, redistribution plans, mesh topology) keep every device mesh they saw,
# and a mesh keeps its process groups: after FSDP2 the group outlives `destroy_process_group` until they are emptied.
# (module, attribute path of the function that empties one), as torch 2.13 names them; a missing one is skipped, and
# tests/test_sharded.py checks that no gloo thread is left after an FSDP run.
_DTENSOR_CACHES = (
    ("torch.distributed.tensor.debug", "_clear_sharding_prop_cache"),
    ("torch.distributed.tensor._redistribute", "clear_redistribute_planner_cache"),
    ("torch.distributed.tensor._redistribute", "_gen_transform_infos.cache_clear"),
    ("torch.distributed.tensor._collective_utils", "MeshTopoInfo.build_from_mesh.cache_clear"),
)


def _clear_dtensor_caches() -> None:
    for module_name, path in _DTENSOR_CACHES:
        try:
            target: Any = importlib.import_module(module_name)
            for name in path.split("."):
                target = getattr(target, name)
        except (ImportError, AttributeError):
            continue
        target()


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



def prepare_sharding(model: nn.Module, fsdp_version: int | None, deepspeed: bool, *, distill: bool,
                     skip_non_finite: bool) -> None:
    """Refuses what a sharding backend cannot do here, and makes `model` shardable where one is used.

    `fsdp_version`: the FSDP plugin's version, None without FSDP; `deepspeed`: whether DeepSpeed runs the model;
    `distill`: a distillation teacher is used; `skip_non_finite`: non-finite steps are to be skipped, not stopped.
    """
    if fsdp_version == 1:
        raise ValueError("FSDP1 (fsdp_config version 1) shards the logit scale outside the forward pass, where the "
                         "loss reads it; use FSDP2 (the default, fsdp_config version 2).")
    sharded = fsdp_version is not None or deepspeed
    if sharded:
        make_shardable(model)
    if distill and sharded:
        raise ValueError("distill_weight > 0 keeps a full teacher copy beside the model, which sharded "
                         "training (DeepSpeed, FSDP) does not support yet; train with DDP or one device.")
    if skip_non_finite and deepspeed:
        raise ValueError("skip_non_finite_steps=True cannot skip steps under DeepSpeed, whose engine applies "
                         "the gradients itself; leave it False (a non-finite loss then stops training).")


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
