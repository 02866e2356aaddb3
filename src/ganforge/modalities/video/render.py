"""Clips as pictures: a filmstrip (one row per clip, frames left to right) under a title,
for the training pictures, the progress GIF and ``sample --out x.png``; and the animated
grid every ``.gif`` / ``.mp4`` sample file holds."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from ganforge.modalities.video.clipio import filmstrip, grid_frames
from ganforge.plots import font

_INK, _PAPER = (20, 20, 20), (255, 255, 255)


def as_uint8(clips: np.ndarray | torch.Tensor) -> np.ndarray:
    """Clips in [-1, 1] (tensor or array) or uint8 -> uint8 (N, C, T, H, W)."""
    if torch.is_tensor(clips):
        clips = clips.detach().float().cpu().numpy()
    x = np.asarray(clips)
    if x.dtype == np.uint8:
        return x
    return np.rint((x.clip(-1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def _scale(size: int) -> int:
    return max(1, 64 // size)


def clips_picture(clips: np.ndarray | torch.Tensor, title: str = "") -> Image.Image:
    """Clips as a filmstrip (frames 64 px or more a side) under ``title``."""
    x = as_uint8(clips)
    strip = Image.fromarray(filmstrip(x, scale=_scale(x.shape[-1])))
    if not title:
        return strip
    head = 24
    img = Image.new("RGB", (strip.width, strip.height + head), _PAPER)
    ImageDraw.Draw(img).text((6, 4), title, fill=_INK, font=font(13))
    img.paste(strip, (0, head))
    return img


def animated_grid(clips: np.ndarray | torch.Tensor, cols: int | None = None) -> np.ndarray:
    """Clips as one animated grid (T, H', W', 3), frames 64 px or more a side."""
    x = as_uint8(clips)
    return grid_frames(x, cols=cols, scale=_scale(x.shape[-1]))
