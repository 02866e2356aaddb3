"""Files every modality writes: animated GIFs and PNGs, atomically."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


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
