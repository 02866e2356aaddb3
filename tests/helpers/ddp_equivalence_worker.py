"""Run under torchrun with 2 processes: one DDP training step on fixed inputs.

Rank r trains on real rows [8r, 8r+8) of a fixed set with fixed latent codes z_r. Rank 0
writes the parameters after K steps to OUT_DIR/ddp.safetensors; the test compares them
with one process training on both halves at once (the same global batch).
Usage: torchrun --nproc_per_node=2 ddp_equivalence_worker.py OUT_DIR STEP_KIND
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

import ganforge.engine.step as step_mod
from ganforge.engine import distributed
from ganforge.engine.step import StepOptions, train_step
from ganforge.nets import MLPDiscriminator, MLPGenerator

STEPS = 3


def fixed_inputs(rank: int, world: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The real rows and latent codes of ``rank`` at ``step`` (world 1: all of them)."""
    g = torch.Generator().manual_seed(100 + step)
    real, z = torch.randn(16, 2, generator=g), torch.randn(16, 4, generator=g)
    part = slice(rank * 16 // world, (rank + 1) * 16 // world)
    return real[part], z[part]


def nets() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    return MLPGenerator(4, (2,), hidden=16, depth=2), MLPDiscriminator((2,), hidden=16, depth=2)


def train(G, D, rank: int, world: int, step_kind: str) -> None:
    ctx = distributed.DistContext(
        rank=rank, world_size=world, backend="gloo" if world > 1 else "none"
    )
    Gs, Ds = (
        distributed.wrap(G, ctx, torch.device("cpu")),
        distributed.wrap(D, ctx, torch.device("cpu")),
    )
    g_opt = torch.optim.Adam(G.parameters(), lr=1e-2)
    d_opt = torch.optim.Adam(D.parameters(), lr=1e-2)
    for s in range(STEPS):
        real, z = fixed_inputs(rank, world, s)
        step_mod.sample_latent = lambda G, n, device=None, generator=None, z=z: z  # fixed codes
        train_step(Gs, Ds, g_opt, d_opt, real, step=step_kind, opts=StepOptions())


if __name__ == "__main__":
    from ddp_exit import leave  # beside this script (the test imports it without this)

    out, step_kind = Path(sys.argv[1]), sys.argv[2]
    ctx = distributed.from_env("cpu")
    G, D = nets()
    train(G, D, ctx.rank, ctx.world_size, step_kind)
    if ctx.is_main:
        tensors = {
            f"{n}.{k}": v.detach().contiguous()
            for n, net in (("G", G), ("D", D))
            for k, v in net.named_parameters()
        }
        save_file(tensors, str(out / "ddp.safetensors"))
    leave(ctx)
