"""Exponential moving average of generator weights (Karras et al.; Yazici et al. 2019)."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def ramped_decay(decay: float, step: int, rampup: float) -> float:
    """The decay at ``step`` with StyleGAN2's ramp-up: the average's half-life (in steps) is
    at most ``rampup`` times the steps taken, so early on the average forgets the initial
    weights quickly, and no picture shows a generator worse than the raw one. ``rampup`` 0
    keeps ``decay`` from the start."""
    if rampup <= 0 or not 0 < decay < 1:
        return decay
    half_life = math.log(0.5) / math.log(decay)
    half_life = min(half_life, step * rampup)
    return 0.0 if half_life <= 0 else 0.5 ** (1.0 / half_life)


class EMA:
    """Keeps ``shadow``, a copy of ``model`` whose parameters track an EMA of the model's.

    Buffers (e.g. BatchNorm running statistics) are copied as they are.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float | None = None) -> None:
        """shadow <- decay * shadow + (1 - decay) * model."""
        d = self.decay if decay is None else decay
        src = [p.detach() for p in model.parameters()]
        dst = list(self.shadow.parameters())
        torch._foreach_lerp_(dst, src, 1.0 - d)
        for b_dst, b_src in zip(self.shadow.buffers(), model.buffers(), strict=True):
            b_dst.copy_(b_src)
