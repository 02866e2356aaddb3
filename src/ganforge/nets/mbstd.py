"""Minibatch standard deviation (Karras et al. 2018, ProGAN / StyleGAN): a critic layer that
shows D how varied the batch is.

Samples are split into groups of ``group``; the feature map's standard deviation over each
group, averaged over channels and positions, is appended to every sample of the group as
one more constant channel. A generator that draws the same thing for every latent gives
groups with no spread, which D then sees at once; without it, D scores each sample alone
and a collapsed G can fool it sample by sample. A net holding this layer scores samples
together (``independent_samples`` is False).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def group_size(n: int, group: int) -> int:
    """The largest size up to ``group`` that divides a batch of ``n``."""
    return next(g for g in range(min(group, n), 0, -1) if n % g == 0)


class MinibatchStd(nn.Module):
    """(N, C, *spatial) -> (N, C + 1, *spatial): the group's spread as one more channel."""

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = int(group)

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        g = group_size(n, self.group)
        y = x.float().reshape(g, n // g, -1)  # sample i of group j at [i, j], like StyleGAN
        std = (y.var(0, unbiased=False) + 1e-8).sqrt().mean(1)  # (n // g,)
        fill = std.repeat(g).to(x.dtype).view(n, *([1] * (x.dim() - 1)))
        return torch.cat([x, fill.expand(n, 1, *x.shape[2:])], 1)
