"""Exponential moving average of generator weights (Karras et al.; Yazici et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn


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
