"""Toy 2-D mixtures of Gaussians, the classic mode-collapse benchmarks (ring of 8, grid of 25).

Each sample picks a mode uniformly at random and adds isotropic Gaussian noise of standard
deviation ``std``. Sampling is deterministic given ``seed``.
"""

from __future__ import annotations

import math

import torch

from ganforge.data.dataset import Dataset
from ganforge.errors import DataError

DEFAULT_N = 50_000


def ring8_centers(radius: float = 2.0) -> torch.Tensor:
    """The 8 mode centres, evenly spaced on a circle of ``radius`` from (radius, 0): (8, 2)."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    centers = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1) * radius
    # cos/sin of multiples of pi/4 leave 1e-16 residues; snap them so (0, r) is exactly (0, r).
    centers = torch.where(centers.abs() < 1e-12, torch.zeros_like(centers), centers)
    return centers.float()


def grid25_centers(spacing: float = 2.0) -> torch.Tensor:
    """The 25 mode centres of a 5x5 grid centred at 0 (-2..2 times ``spacing``): (25, 2)."""
    ticks = torch.arange(-2, 3, dtype=torch.float32) * spacing
    xs, ys = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def _mixture(name: str, centers: torch.Tensor, n: int, seed: int, std: float) -> Dataset:
    if n < 1:
        raise DataError(f"toy dataset size must be at least 1, got {n}")
    if not std > 0:
        raise DataError(f"toy dataset std must be positive, got {std}")
    gen = torch.Generator().manual_seed(int(seed))
    mode = torch.randint(len(centers), (n,), generator=gen)
    noise = torch.randn(n, centers.shape[1], generator=gen) * std
    data = (centers[mode] + noise).float()
    info = {"centers": centers.tolist(), "std": float(std)}
    return Dataset(name=name, data=data, modality="points", info=info)


def ring8(n: int = DEFAULT_N, seed: int = 0, radius: float = 2.0, std: float = 0.02) -> Dataset:
    """``n`` points from 8 Gaussians of std ``std`` on a circle of ``radius``: float32 (n, 2)."""
    return _mixture("toy:ring8", ring8_centers(radius), n, seed, std)


def grid25(n: int = DEFAULT_N, seed: int = 0, spacing: float = 2.0, std: float = 0.05) -> Dataset:
    """``n`` points from 25 Gaussians of std ``std`` on a 5x5 grid: float32 (n, 2)."""
    return _mixture("toy:grid25", grid25_centers(spacing), n, seed, std)
