"""DiffAugment for clips: the same draw for every frame of a clip, so D sees the same
shift, cutout and colour change throughout and motion is left intact. Each clip's frames
are folded into the channels, handed to the image modality's ops (which draw one set of
parameters per sample) and unfolded; colour ops act per frame, with one draw per clip."""

from __future__ import annotations

import torch

from ganforge.engine.transforms import DInputTransform
from ganforge.modalities.image import augment as image_ops

Tensor = torch.Tensor


def _colour(x: Tensor) -> Tensor:
    """Brightness, saturation, contrast with one draw per clip (B, C, T, H, W)."""
    b = x.shape[0]

    def u(lo: float, hi: float) -> Tensor:
        return lo + (hi - lo) * torch.rand(b, 1, 1, 1, 1, device=x.device, dtype=x.dtype)

    x = x + u(-0.5, 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * u(0.0, 2.0) + mean
    mean = x.mean(dim=(1, 3, 4), keepdim=True)  # each frame's own mean
    return (x - mean) * u(0.5, 1.5) + mean


class ClipDiffAugment(DInputTransform):
    """DiffAugment (``color``, ``translation``, ``cutout``) applied identically to every
    frame of each clip, differentiably; draws from the global torch RNG."""

    def __init__(self, policy: str = "translation,cutout") -> None:
        self.policy = image_ops.parse_policy(policy)

    def __call__(self, x: Tensor) -> Tensor:
        if "color" in self.policy:
            x = _colour(x)
        b, c, t, h, w = x.shape
        folded = x.reshape(b, c * t, h, w)
        if "translation" in self.policy:
            folded = image_ops.translation(folded)
        if "cutout" in self.policy:
            folded = image_ops.cutout(folded)
        return folded.reshape(b, c, t, h, w)
