"""Latent codes: the generator owns its latent; the engine asks it for codes.

A generator with ``sample_latent(n, generator=None, device=None)`` draws its own codes (a
tensor, or a dict of tensors such as MoCoGAN's content + motion); one with only ``z_dim``
gets standard normal ``(n, z_dim)`` codes. ``interpolate_latent(z0, z1, t)`` walks between
two codes (default: spherical interpolation of every tensor, see :func:`slerp`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganforge.engine.distributed import unwrap

Tensor = torch.Tensor


def sample_latent(
    G: nn.Module,
    n: int,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> Any:
    """``n`` latent codes for ``G`` (from the global RNG unless a ``generator`` is given)."""
    net = unwrap(G)
    own = getattr(net, "sample_latent", None)
    if own is not None:
        return own(n, generator=generator, device=device)
    return standard_normal(n, net.z_dim, device, generator)


def standard_normal(
    n: int, z_dim: int, device: torch.device | str | None = None, generator=None
) -> Tensor:
    """``(n, z_dim)`` N(0, 1) codes; with a CPU ``generator`` drawn on the CPU then moved."""
    if generator is not None:
        return torch.randn(n, z_dim, generator=generator).to(device or "cpu")
    return torch.randn(n, z_dim, device=device)


def slerp(z0: Tensor, z1: Tensor, t: float) -> Tensor:
    """Spherical interpolation between rows of ``z0`` and ``z1`` (linear when they align)."""
    a, b = z0.flatten(1), z1.flatten(1)
    n0 = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    n1 = b / b.norm(dim=1, keepdim=True).clamp_min(1e-12)
    omega = torch.arccos((n0 * n1).sum(1).clamp(-1, 1)).unsqueeze(1)
    so = torch.sin(omega)
    lerp = (1 - t) * a + t * b
    safe = so.abs() > 1e-6
    sl = (
        torch.sin((1 - t) * omega) / so.where(safe, 1) * a
        + torch.sin(t * omega) / so.where(safe, 1) * b
    )
    return torch.where(safe, sl, lerp).reshape(z0.shape)


def interpolate_latent(G: nn.Module, z0: Any, z1: Any, t: float, keep: tuple[str, ...] = ()) -> Any:
    """The code a fraction ``t`` of the way from ``z0`` to ``z1``.

    Dict latents are walked part by part; parts named in ``keep`` stay at ``z0`` (walk the
    content code with the motion fixed, or the other way round).
    """
    own = getattr(unwrap(G), "interpolate_latent", None)
    if own is not None and not keep:
        return own(z0, z1, t)
    if isinstance(z0, dict):
        return {k: v if k in keep else slerp(v, z1[k], t) for k, v in z0.items()}
    return slerp(z0, z1, t)


def truncated(z: Any, threshold: float, generator: torch.Generator) -> Any:
    """The truncation trick (Brock et al. 2019): every latent entry beyond +-``threshold``
    drawn again until none is; trades diversity for typical samples."""
    if isinstance(z, dict):
        return {k: truncated(v, threshold, generator) for k, v in z.items()}
    z = z.clone()
    for _ in range(1000):
        out = z.abs() > threshold
        if not bool(out.any()):
            break
        z[out] = torch.randn(int(out.sum()), generator=generator)
    return z
