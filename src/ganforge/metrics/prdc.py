"""k-NN manifold metrics: precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem
et al. 2020).

Every sample ``x`` of a set gets the ball B(x, r_x), r_x = distance to its k-th nearest neighbour
in its own set, excluding itself. As in the reference code (clovaai/generative-evaluation-prdc)
membership is strict, ``d < r``: a point exactly on a ball's boundary is outside (the original
precision/recall code used ``<=``). Distances come from ``torch.cdist`` in row chunks of at most
``2**24`` entries, so 10k x 10k sets need about 130 MB at a time.
"""

from __future__ import annotations

import torch

from ganforge.metrics.fid import Array, as_features

_CHUNK_ENTRIES = 2**24


def _rows(n_cols: int) -> int:
    return max(1, _CHUNK_ENTRIES // max(n_cols, 1))


def _pair(real: Array, fake: Array) -> tuple[torch.Tensor, torch.Tensor]:
    r = as_features(real)
    f = as_features(fake).to(r.device)
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"feature dims differ: {r.shape[1]} vs {f.shape[1]}")
    if r.shape[0] == 0 or f.shape[0] == 0:
        raise ValueError("empty feature set")
    return r, f


def knn_radii(feats: Array, k: int) -> torch.Tensor:
    """Distance of each row to its k-th nearest other row (``(N,)``, float64)."""
    x = as_features(feats)
    n = x.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, {n - 1}] for {n} samples, got {k}")
    out = torch.empty(n, dtype=x.dtype, device=x.device)
    step = _rows(n)
    for s in range(0, n, step):
        d = torch.cdist(x[s : s + step], x)
        # the k+1 smallest include the row itself (distance 0); duplicates give the same value
        out[s : s + step] = d.topk(k + 1, dim=1, largest=False).values[:, -1]
    return out


def _cross(
    real: torch.Tensor, fake: torch.Tensor, r_real: torch.Tensor, r_fake: torch.Tensor | None
) -> dict[str, torch.Tensor]:
    """One chunked pass over the real x fake distances."""
    n = real.shape[0]
    counts = torch.zeros(fake.shape[0], dtype=torch.long, device=real.device)
    covered = torch.zeros(n, dtype=torch.bool, device=real.device)
    recalled = torch.zeros(n, dtype=torch.bool, device=real.device)
    step = _rows(fake.shape[0])
    for s in range(0, n, step):
        d = torch.cdist(real[s : s + step], fake)
        inside = d < r_real[s : s + step, None]  # fake j in B(real i)
        counts += inside.sum(dim=0)
        covered[s : s + step] = inside.any(dim=1)
        if r_fake is not None:
            recalled[s : s + step] = (d < r_fake[None, :]).any(dim=1)  # real i in some B(fake j)
    return {"counts": counts, "covered": covered, "recalled": recalled}


def precision_recall(real: Array, fake: Array, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    ``precision``: share of fake samples inside some real sample's k-NN ball; ``recall``: share
    of real samples inside some fake sample's k-NN ball.
    """
    r, f = _pair(real, fake)
    c = _cross(r, f, knn_radii(r, k), knn_radii(f, k))
    return {
        "precision": float((c["counts"] > 0).double().mean()),
        "recall": float(c["recalled"].double().mean()),
    }


def density_coverage(real: Array, fake: Array, k: int = 5) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020), both from the real samples' k-NN balls.

    ``density`` = sum over fake j and real i of 1[fake_j in B(real_i)] / (k M), M fakes (about 1
    for matched distributions, can exceed 1); ``coverage``: share of real samples whose ball
    holds at least one fake sample.
    """
    r, f = _pair(real, fake)
    c = _cross(r, f, knn_radii(r, k), None)
    return {
        "density": float(c["counts"].sum()) / (k * f.shape[0]),
        "coverage": float(c["covered"].double().mean()),
    }


def prdc(real: Array, fake: Array, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage with one ``k`` and one pass (as ``compute_prdc``)."""
    r, f = _pair(real, fake)
    c = _cross(r, f, knn_radii(r, k), knn_radii(f, k))
    return {
        "precision": float((c["counts"] > 0).double().mean()),
        "recall": float(c["recalled"].double().mean()),
        "density": float(c["counts"].sum()) / (k * f.shape[0]),
        "coverage": float(c["covered"].double().mean()),
    }
