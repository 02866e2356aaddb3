"""Data-parallel training across processes and machines, started by ``torchrun``.

``torchrun --nproc_per_node=N -m ganforge train ...`` sets ``RANK``/``WORLD_SIZE``/
``LOCAL_RANK`` and a rendezvous; :func:`from_env` joins the process group (gloo on CPUs,
NCCL on GPUs). Each rank wraps G and D in ``DistributedDataParallel``, takes ``train.batch /
WORLD_SIZE`` samples of a disjoint shard per step (so the same config trains on the same
global batch whatever the number of processes), and draws its own latent codes and dropout
masks. Only rank 0 writes files. Decisions that must agree across ranks (stop on a signal
or a time budget, the divergence guard) are taken on statistics reduced over all ranks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from ganforge.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a (possibly one-process) job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = "none"  # gloo | nccl when distributed

    @property
    def comm_device(self) -> torch.device:
        """Where tensors for collectives live (NCCL needs them on the GPU)."""
        return (
            torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")
        )

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = DistContext()


def env_world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def from_env(device: str) -> DistContext:
    """Join the process group ``torchrun`` described in the environment (or run alone)."""
    world = env_world_size()
    if world <= 1:
        return SINGLE
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_nccl = device in ("cuda", "auto") and torch.cuda.is_available()
    backend = "nccl" if use_nccl else "gloo"
    if not dist.is_initialized():
        if use_nccl:
            torch.cuda.set_device(local)
        # rank 0 alone renders pictures and may evaluate (minutes on a CPU) while the
        # others wait in a collective: allow that much (GANFORGE_DIST_TIMEOUT_MIN, minutes)
        minutes = float(os.environ.get("GANFORGE_DIST_TIMEOUT_MIN", "120"))
        dist.init_process_group(backend=backend, timeout=timedelta(minutes=minutes))
    return DistContext(rank=rank, world_size=world, local_rank=local, backend=backend)


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def per_rank_batch(batch: int, ctx: DistContext) -> int:
    """``train.batch`` is the global batch; each rank takes an equal share of it."""
    if batch % ctx.world_size:
        raise ConfigError(
            f"train.batch={batch} must be divisible by the number of processes "
            f"({ctx.world_size}); choose a multiple of {ctx.world_size}"
        )
    return batch // ctx.world_size


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def from_main(value: str, ctx: DistContext) -> str:
    """Rank 0's ``value`` on every rank (e.g. a path only rank 0 may choose)."""
    if not ctx.enabled:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return str(box[0])


def gather_to_all(value: torch.Tensor, ctx: DistContext) -> list[torch.Tensor]:
    """Every rank's (small, CPU) ``value``, in rank order, on every rank."""
    if not ctx.enabled:
        return [value]
    out: list = [None] * ctx.world_size
    dist.all_gather_object(out, value)
    return out


def mean_over_ranks(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Element-wise mean of a small float tensor over all ranks (identity when alone)."""
    if not ctx.enabled:
        return values
    out = values.detach().to(ctx.comm_device)
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return (out / ctx.world_size).to(values.device)


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True on every rank when ``flag`` is true on any rank."""
    return any_ranks([flag], ctx)[0]


def any_ranks(flags: list[bool], ctx: DistContext) -> list[bool]:
    """Element-wise :func:`any_rank` of several flags in one collective."""
    if not ctx.enabled:
        return list(flags)
    t = torch.tensor([1.0 if f else 0.0 for f in flags], device=ctx.comm_device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in t.tolist()]


def wrap(net: torch.nn.Module, ctx: DistContext, device: torch.device) -> torch.nn.Module:
    """``net`` inside ``DistributedDataParallel`` when distributed, else ``net`` itself."""
    if not ctx.enabled or not any(p.requires_grad for p in net.parameters()):
        return net
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(net, device_ids=ids)


def unwrap(net: torch.nn.Module) -> torch.nn.Module:
    """The module inside a ``DistributedDataParallel`` wrapper (or ``net`` itself)."""
    return net.module if isinstance(net, torch.nn.parallel.DistributedDataParallel) else net
