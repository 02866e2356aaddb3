"""Inception Score (Salimans et al. 2016) from classifier softmax outputs."""

from __future__ import annotations

import torch

from ganforge.metrics.fid import Array, as_features


def inception_score(probs: Array, splits: int = 10) -> tuple[float, float]:
    """Mean and std (ddof=0) over ``splits`` of exp(E_x KL(p(y|x) || p(y))).

    ``probs`` is ``(N, C)`` softmax output (rows summing to 1, not logits). As the original code,
    the rows are cut into ``splits`` consecutive chunks ``[i N // splits, (i + 1) N // splits)``
    and p(y) is each chunk's mean; 0 log 0 counts as 0. Lies in [1, C].
    """
    p = as_features(probs)
    n = p.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be in [1, {n}], got {splits}")
    if (p < 0).any() or not torch.allclose(p.sum(dim=1), torch.ones_like(p[:, 0]), atol=1e-3):
        raise ValueError("probs must be non-negative rows summing to 1 (softmax, not logits)")
    scores = []
    for i in range(splits):
        part = p[i * n // splits : (i + 1) * n // splits]
        py = part.mean(dim=0, keepdim=True)
        kl = (torch.special.xlogy(part, part) - torch.special.xlogy(part, py)).sum(dim=1)
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False))
