"""Yang & Lerch (2018)'s distribution overlap: for one per-sample feature, the overlap
area of the density of intra-set distances of the real data (|r_i - r_j|) and of the
inter-set distances to the generated data (|g_i - r_j|); 1 when the generated values
are spread like the real ones, toward 0 as they drift apart. Gaussian kernel densities
(Silverman's bandwidth) on a shared grid."""

from __future__ import annotations

import numpy as np


def _distances(a: np.ndarray, b: np.ndarray | None, rng: np.random.Generator, k: int) -> np.ndarray:
    if b is None:
        i, j = rng.integers(len(a), size=(2, k))
        keep = i != j
        return np.abs(a[i[keep]] - a[j[keep]])
    return np.abs(a[rng.integers(len(a), size=k)] - b[rng.integers(len(b), size=k)])


def _density(x: np.ndarray, grid: np.ndarray, scale: float) -> np.ndarray:
    bw = 1.06 * max(float(x.std()), 0.05 * scale, 1e-9) * len(x) ** (-1 / 5)
    z = (grid[:, None] - x[None, :]) / bw
    return np.exp(-0.5 * z**2).sum(1) / (len(x) * bw * np.sqrt(2 * np.pi))


def overlap_area(real: np.ndarray, other: np.ndarray, seed: int = 0, k: int = 4000) -> float:
    """Overlap (0..1) of the real intra-set and the real-to-``other`` inter-set distance
    densities of one feature (NaNs dropped); NaN when either side has under 2 values."""
    real = np.asarray(real, dtype=float)
    other = np.asarray(other, dtype=float)
    real, other = real[np.isfinite(real)], other[np.isfinite(other)]
    if len(real) < 2 or len(other) < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    intra = _distances(real, None, rng, k)
    inter = _distances(other, real, rng, k)
    top = max(float(intra.max()), float(inter.max()), 1e-9)
    grid = np.linspace(0, top * 1.2, 400)
    scale = float(np.ptp(real)) or 1.0
    p, q = _density(intra, grid, scale), _density(inter, grid, scale)
    m = np.minimum(p, q)
    return float(np.clip(((m[1:] + m[:-1]) / 2 * np.diff(grid)).sum(), 0.0, 1.0))
