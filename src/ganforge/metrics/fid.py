"""Fréchet Inception Distance (Heusel et al. 2017) on feature matrices, without scipy."""

from __future__ import annotations

import numpy as np
import torch

Array = torch.Tensor | np.ndarray


def as_features(x: Array) -> torch.Tensor:
    """``x`` as a float64 ``(N, D)`` tensor: tensors keep their device, trailing dims flatten."""
    t = x.detach() if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
    if t.ndim == 0:
        raise ValueError("features must have a sample dimension")
    t = t.to(torch.float64)
    return t if t.ndim == 2 else t.reshape(t.shape[0], -1)


def feature_statistics(feats: Array) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(D,)`` and covariance ``(D, D)`` of ``(N, D)`` features, ddof=1 (``np.cov``)."""
    x = as_features(feats)
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 samples for a covariance, got {n}")
    mu = x.mean(dim=0)
    xc = x - mu
    return mu, xc.T @ xc / (n - 1)


def _sqrt_psd(s: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a PSD matrix; negative round-off eigenvalues clip to 0."""
    evals, evecs = torch.linalg.eigh((s + s.T) / 2)
    return (evecs * evals.clamp(min=0).sqrt()) @ evecs.T


def _trace_sqrt_product(root1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """tr(sqrt(s1 s2)) as the sum of sqrt eigenvalues of the PSD matrix root1 s2 root1.

    s1 s2 = root1 (root1 s2 root1) root1^-1 is similar to it, so both share eigenvalues
    (also for singular s1: AB and BA have the same non-zero eigenvalues).
    """
    m = root1 @ s2 @ root1
    return torch.linalg.eigvalsh((m + m.T) / 2).clamp(min=0).sqrt().sum()


def _distance(
    mu1: torch.Tensor, s1: torch.Tensor, root1: torch.Tensor, mu2: torch.Tensor, s2: torch.Tensor
) -> float:
    diff = mu1 - mu2
    d = diff @ diff + torch.trace(s1) + torch.trace(s2) - 2 * _trace_sqrt_product(root1, s2)
    return max(float(d), 0.0)  # round-off can leave -1e-12 for identical statistics


def frechet_distance(mu1: Array, sigma1: Array, mu2: Array, sigma2: Array) -> float:
    """||mu1 - mu2||^2 + tr(s1 + s2 - 2 sqrt(s1 s2)) between two Gaussians (float64).

    The matrix square root uses symmetric eigendecompositions instead of ``scipy.linalg.sqrtm``;
    the result is clipped at 0.
    """
    s1 = as_features(sigma1)
    dev = s1.device
    s2 = as_features(sigma2).to(dev)
    m1 = as_features(mu1).reshape(-1).to(dev)
    m2 = as_features(mu2).reshape(-1).to(dev)
    d = m1.shape[0]
    if m2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            f"shapes differ: mu1 {tuple(m1.shape)}, sigma1 {tuple(s1.shape)}, "
            f"mu2 {tuple(m2.shape)}, sigma2 {tuple(s2.shape)}"
        )
    return _distance(m1, s1, _sqrt_psd(s1), m2, s2)


def fid(feats_a: Array, feats_b: Array) -> float:
    """FID between two ``(N, D)`` feature sets (e.g. Inception pool3 of real and fake images)."""
    mu1, s1 = feature_statistics(feats_a)
    mu2, s2 = feature_statistics(feats_b)
    return frechet_distance(mu1, s1, mu2, s2.to(s1.device))


def fid_bootstrap(
    feats_a: Array, feats_b: Array, n_boot: int = 10, seed: int = 0
) -> tuple[float, float]:
    """Mean and std (ddof=0) of FID over ``n_boot`` resamplings with replacement of ``feats_b``.

    ``feats_a`` (the reference set) stays fixed. A resample is drawn as multinomial weights, so
    no ``(N, D)`` copy per resample is made. Bootstrap FIDs sit above the plain FID (duplicates
    shrink the effective sample size); use the std as the spread, not the mean as the value.
    """
    mu1, s1 = feature_statistics(feats_a)
    root1 = _sqrt_psd(s1)
    b = as_features(feats_b).to(s1.device)
    n = b.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 samples in feats_b, got {n}")
    g = torch.Generator().manual_seed(seed)
    vals = []
    for _ in range(n_boot):
        w = torch.bincount(torch.randint(n, (n,), generator=g), minlength=n).to(b)
        mu2 = w @ b / n
        bc = b - mu2
        s2 = (bc.T * w) @ bc / (n - 1)
        vals.append(_distance(mu1, s1, root1, mu2, s2))
    v = torch.tensor(vals, dtype=torch.float64)
    return float(v.mean()), float(v.std(unbiased=False))
