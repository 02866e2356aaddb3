"""What a modality provides to the toolkit: pictures and files of samples, and its metrics.

The engine never imports a modality; the API picks one by ``Dataset.modality`` and hands its
hooks to the trainer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch
from PIL import Image


class Modality(Protocol):
    """Renders samples (model space, e.g. images in [-1, 1]) for people and for tools."""

    name: str

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        """One picture of a batch of samples (a grid, a scatter plot, ...)."""
        ...

    def save_raw(self, samples: torch.Tensor, path: Path) -> Path:
        """Write the samples as data (``.npy`` / ``.csv`` / a folder of files)."""
        ...

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        """Modality-specific quality figures on a batch of samples (may be empty)."""
        ...


def save_gif(frames: list[Image.Image], path: Path, ms_per_frame: int = 200) -> Path:
    """An animated GIF that loops; the last frame is held longer."""
    if not frames:
        raise ValueError("no frames to write")
    path = Path(path)
    durations = [ms_per_frame] * len(frames)
    durations[-1] = max(ms_per_frame * 5, 1000)
    tmp = path.with_name(f".{path.name}.tmp")
    palette_frames = [f.convert("RGB") for f in frames]
    palette_frames[0].save(
        tmp,
        format="GIF",
        save_all=True,
        append_images=palette_frames[1:],
        duration=durations,
        loop=0,
        optimize=False,
    )
    tmp.replace(path)
    return path


def save_png(image: Image.Image, path: Path) -> Path:
    """Write a PNG atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format="PNG")
    tmp.replace(path)
    return path
