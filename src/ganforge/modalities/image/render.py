"""Images for people and tools: uint8 from [-1, 1], sample grids, folders of PNGs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [-1, 1] -> uint8 (B, H, W, C)."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def make_grid(
    images: torch.Tensor, nrow: int | None = None, pad: int = 2, min_side: int = 512
) -> Image.Image:
    """Tile a batch into one picture, scaled up by a whole factor so small images stay sharp."""
    arr = to_uint8(images)
    b, h, w, c = arr.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(b)))
    ncol = math.ceil(b / nrow)
    grid = np.full((ncol * (h + pad) + pad, nrow * (w + pad) + pad, c), 255, np.uint8)
    for i in range(b):
        r, q = divmod(i, nrow)
        y0, x0 = pad + r * (h + pad), pad + q * (w + pad)
        grid[y0 : y0 + h, x0 : x0 + w] = arr[i]
    img = Image.fromarray(grid[..., 0] if c == 1 else grid, "L" if c == 1 else "RGB")
    scale = max(1, round(min_side / max(img.size)))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def make_class_grid(
    images: torch.Tensor, labels: list[int], names: list[str] | None = None, min_side: int = 512
) -> Image.Image:
    """One row per class (in class order), each row that class's samples, its name at the
    left: the picture of a class-conditional generator."""
    from PIL import ImageDraw

    classes = sorted(set(labels))
    rows = [[i for i, y in enumerate(labels) if y == c] for c in classes]
    width = max(len(r) for r in rows)
    order = [i for r in rows for i in r + [-1] * (width - len(r))]
    blank = torch.ones_like(images[:1])  # white cells where a row is short
    cells = torch.cat([images[i : i + 1] if i >= 0 else blank for i in order])
    grid = make_grid(cells, nrow=width, min_side=min_side).convert("RGB")
    names = names or []
    label_w = 12 + 7 * max(len(str(names[c] if c < len(names) else c)) for c in classes)
    out = Image.new("RGB", (grid.width + label_w, grid.height), "white")
    out.paste(grid, (label_w, 0))
    draw = ImageDraw.Draw(out)
    row_h = grid.height / len(classes)
    for r, c in enumerate(classes):
        text = str(names[c]) if c < len(names) else str(c)
        draw.text((4, int(r * row_h + row_h / 2 - 5)), text, fill="black")
    return out


def save_images(samples: torch.Tensor, path: Path) -> Path:
    """Images as ``.npy`` (uint8 N, H, W, C) or a folder of numbered PNGs."""
    path = Path(path)
    arr = to_uint8(samples)
    if path.suffix.lower() == ".npy":
        tmp = path.with_name(f".{path.name}.tmp.npy")
        np.save(tmp, arr)
        tmp.replace(path)
        return path
    path.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(arr):
        mode = "L" if im.shape[-1] == 1 else "RGB"
        Image.fromarray(im[..., 0] if mode == "L" else im, mode).save(path / f"{i:05d}.png")
    return path
