"""Data-efficient training: DiffAugment (Zhao et al. 2020) and adaptive augmentation (ADA,
Karras et al. 2020) as D-input transforms (see :mod:`ganforge.engine.transforms`).

Both change every image D sees, real and fake alike, with per-sample randomness from the
global torch RNG (so ``--resume`` is exact) and gradients flowing through to G:

- ``DiffAugment(policy)``: every op of the policy on every sample, each with its own random
  strength: ``color`` (brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5]),
  ``translation`` (integer shift up to 1/8 of the side, zero padded), ``cutout`` (a zeroed
  square of half the side).
- ``AdaptiveAugment``: each op applied to a sample with probability ``p``; ``p`` moves every
  4 D steps by sign(r_t - target) * (images in those steps) / (``kimg`` * 1000), where
  r_t = E[sign(D(real))] is the overfitting heuristic: from 0 to 1 within ``kimg`` thousand
  images when D keeps overfitting. Flips and quarter turns are used on colour images only
  (never on grey digits, whose classes they would change).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from ganforge.engine.transforms import DInputTransform

Tensor = torch.Tensor


def _uniform(x: Tensor, lo: float, hi: float) -> Tensor:
    return lo + (hi - lo) * torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype)


def brightness(x: Tensor) -> Tensor:
    return x + _uniform(x, -0.5, 0.5)


def saturation(x: Tensor) -> Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * _uniform(x, 0.0, 2.0) + mean


def contrast(x: Tensor) -> Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(x, 0.5, 1.5) + mean


def color(x: Tensor) -> Tensor:
    return contrast(saturation(brightness(x)))


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by whole pixels, up to ``ratio`` of its side; vacated pixels are 0."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    # source row / column of each output pixel in the 1-pixel zero-padded image
    rows = (torch.arange(h, device=x.device).view(1, h, 1) - ty + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) - tx + 1).clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1)  # (B, H+2, W+2, C)
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    return padded[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a square of ``ratio`` of the side at a random place of each image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1) - (cy - ch // 2)
    xs = torch.arange(w, device=x.device).view(1, 1, w) - (cx - cw // 2)
    inside = (ys >= 0) & (ys < ch) & (xs >= 0) & (xs < cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def xflip(x: Tensor) -> Tensor:
    return x.flip(3)


def rot90(x: Tensor) -> Tensor:
    k = torch.randint(1, 4, ()).item()
    return torch.rot90(x, k, dims=(2, 3)) if x.shape[2] == x.shape[3] else x


OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}
GEOMETRIC_RGB = {"xflip": xflip, "rot90": rot90}  # colour images only


def parse_policy(policy: str) -> list[str]:
    names = [p.strip() for p in policy.split(",") if p.strip()]
    bad = [n for n in names if n not in OPS]
    if bad:
        raise ValueError(f"unknown augmentation '{bad[0]}'; use {', '.join(OPS)}")
    return names


class DiffAugment(DInputTransform):
    """Every op of ``policy`` on every image D sees."""

    def __init__(self, policy: str = "color,translation,cutout") -> None:
        self.ops = [OPS[n] for n in parse_policy(policy)]

    def __call__(self, x: Tensor) -> Tensor:
        for op in self.ops:
            x = op(x)
        return x


class Both(DInputTransform):
    """DiffAugment's ops on every image, then ADA's, each with probability p (the few-shot
    preset's ``image.augment=diffaugment+ada``); p, its state and stats are ADA's."""

    def __init__(self, diff: DiffAugment, ada: AdaptiveAugment) -> None:
        self.diff, self.ada = diff, ada

    def __call__(self, x: Tensor) -> Tensor:
        return self.ada(self.diff(x))

    def observe(self, real_out: Any) -> None:
        self.ada.observe(real_out)

    def stats(self) -> dict[str, float]:
        return self.ada.stats()

    def state_dict(self) -> dict[str, Any]:
        return self.ada.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ada.load_state_dict(state)


def _where(mask: Tensor, a: Tensor, b: Tensor) -> Tensor:
    return torch.where(mask.view(-1, 1, 1, 1), a, b)


class AdaptiveAugment(DInputTransform):
    """ADA: each op applied to each image with probability ``p``, tuned toward ``target``."""

    def __init__(
        self,
        policy: str = "color,translation,cutout",
        target: float = 0.6,
        kimg: float = 500.0,
        interval: int = 4,
        p: float = 0.0,
    ) -> None:
        self.names = parse_policy(policy)
        self.target, self.kimg, self.interval = float(target), float(kimg), int(interval)
        self.p = float(p)
        self.signs, self.count, self.steps = 0.0, 0, 0
        self.r_t: float | None = None

    def _ops(self, channels: int) -> list[Callable[[Tensor], Tensor]]:
        geometric = list(GEOMETRIC_RGB.values()) if channels == 3 else []
        return geometric + [OPS[n] for n in self.names]

    def __call__(self, x: Tensor) -> Tensor:
        for op in self._ops(x.shape[1]):
            apply = torch.rand(x.shape[0], device=x.device) < self.p
            x = _where(apply, op(x), x)
        return x

    def observe(self, real_out: Any) -> None:
        logits = real_out if torch.is_tensor(real_out) else next(iter(real_out.values()))
        self.signs += float(torch.sign(logits.float()).sum())
        self.count += int(logits.shape[0])
        self.steps += 1
        if self.steps % self.interval:
            return
        self.r_t = self.signs / max(self.count, 1)
        adjust = (1.0 if self.r_t > self.target else -1.0) * self.count / (self.kimg * 1000)
        self.p = min(1.0, max(0.0, self.p + adjust))
        self.signs, self.count = 0.0, 0

    def stats(self) -> dict[str, float]:
        out = {"p": self.p}
        if self.r_t is not None:
            out["ada_rt"] = self.r_t
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "p": self.p,
            "signs": self.signs,
            "count": self.count,
            "steps": self.steps,
            "r_t": self.r_t,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p, self.signs = float(state["p"]), float(state["signs"])
        self.count, self.steps = int(state["count"]), int(state["steps"])
        self.r_t = state.get("r_t")
