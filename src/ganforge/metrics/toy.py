"""Mode coverage and sample quality on the toy Gaussian mixtures (ring8, grid25)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch


def mode_metrics(
    samples: torch.Tensor | np.ndarray,
    centers: torch.Tensor | np.ndarray,
    std: float,
    min_count: int | None = None,
) -> dict[str, Any]:
    """How many modes generated ``samples`` cover, and how many samples are high quality.

    Definitions (as in VEEGAN and PacGAN):

    * a sample is *high quality* when its Euclidean distance to the nearest centre is at most
      ``3 * std``; ``high_quality`` is the fraction of such samples (for true data from a 2-D
      mixture this is about 1 - exp(-4.5) = 0.989, not 1);
    * ``counts[k]`` is the number of high-quality samples whose nearest centre is ``k``;
    * a mode is *covered* when ``counts[k] >= min_count``, by default
      ``max(1, ceil(20 * n / 2500))``: 20 of 2500 samples, scaled to ``n`` samples.

    Non-finite samples count as low quality. Returns ``modes_covered``, ``num_modes``,
    ``high_quality``, ``counts`` (list of ints) and ``min_count``.
    """
    if torch.is_tensor(samples):
        samples = samples.detach()
    if torch.is_tensor(centers):
        centers = centers.detach()
    c = torch.as_tensor(centers, dtype=torch.float64).cpu()
    x = torch.as_tensor(samples, dtype=torch.float64).cpu()
    x = x.reshape(x.shape[0], -1) if x.ndim else x.reshape(1, -1)
    if c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"samples {tuple(x.shape)} and centers {tuple(c.shape)} differ in dims")
    n, k = x.shape[0], c.shape[0]
    if min_count is None:
        min_count = max(1, math.ceil(20 * n / 2500))
    counts = torch.zeros(k, dtype=torch.long)
    good = 0
    for start in range(0, n, 65536):  # chunks bound the (n, K) distance matrix
        d = torch.cdist(x[start : start + 65536], c)
        dist, nearest = d.min(dim=1)
        hq = dist <= 3.0 * std  # NaN compares False
        good += int(hq.sum())
        counts += torch.bincount(nearest[hq], minlength=k)
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "num_modes": k,
        "high_quality": good / n if n else 0.0,
        "counts": counts.tolist(),
        "min_count": int(min_count),
    }
