"""Kernel Inception Distance (Binkowski et al. 2018): unbiased polynomial-kernel MMD^2."""

from __future__ import annotations

import torch

from ganforge.metrics.fid import Array, as_features


def _poly_kernel(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float, coef0: float):
    return (gamma * (x @ y.T) + coef0) ** degree


def _mmd2_unbiased(k_xx: torch.Tensor, k_xy: torch.Tensor, k_yy: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD^2: within-set means skip the diagonal, the cross mean keeps every pair."""
    m, n = k_xx.shape[0], k_yy.shape[0]
    xx = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    yy = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return xx + yy - 2 * k_xy.sum() / (m * n)


def kid(
    feats_a: Array,
    feats_b: Array,
    num_subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and std (ddof=0) of MMD^2 over ``num_subsets`` random subsets (as torch-fidelity).

    Kernel k(x, y) = (gamma x.y + coef0)^degree, gamma = 1/D by default. Each subset draws
    ``subset_size`` rows without replacement from each set; ``subset_size`` is clipped to the
    smaller set. Computed in float64; the mean can be slightly negative for matched sets.
    """
    a = as_features(feats_a)
    b = as_features(feats_b).to(a.device)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dims differ: {a.shape[1]} vs {b.shape[1]}")
    m = min(subset_size, a.shape[0], b.shape[0])
    if m < 2:
        raise ValueError(f"need subsets of at least 2 samples, got {m}")
    if num_subsets < 1:
        raise ValueError("num_subsets must be >= 1")
    gamma = 1.0 / a.shape[1] if gamma is None else gamma
    g = torch.Generator().manual_seed(seed)
    vals = torch.empty(num_subsets, dtype=torch.float64)
    for s in range(num_subsets):
        x = a[torch.randperm(a.shape[0], generator=g)[:m].to(a.device)]
        y = b[torch.randperm(b.shape[0], generator=g)[:m].to(a.device)]
        vals[s] = _mmd2_unbiased(
            _poly_kernel(x, x, degree, gamma, coef0),
            _poly_kernel(x, y, degree, gamma, coef0),
            _poly_kernel(y, y, degree, gamma, coef0),
        )
    return float(vals.mean()), float(vals.std(unbiased=False))
