"""Clips generated offline with known physics: Moving MNIST and a shapes-motion set.

Both draw objects (MNIST / Fashion-MNIST digits, or coloured circles, squares and
triangles) on a 64x64 black canvas; each object starts at a random place, moves in a random
direction at a speed drawn per object, and bounces off the walls by reflection (the part of
a step past a wall is mirrored back, so each velocity component only ever flips sign).
Where objects overlap a pixel keeps the brighter value (Srivastava et al. 2015's rule).
Clips of other sizes are the 64x64 canvas averaged down (``size`` divides 64).

Unlike the original Moving MNIST (one speed for every digit), the speed is drawn per object
from ``SPEED`` so the speed distribution is something a generator can get wrong. The
generating parameters come back with the clips (:class:`MotionSet`) for the tests and the
metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CANVAS = 64
SPEED = (2.0, 5.0)  # pixels per frame on the 64x64 canvas
SHAPES = ("circle", "square", "triangle")
SHAPE_SIZE = 20  # pixels on the canvas
PALETTE = np.array(  # saturated colours, far from black
    [[230, 60, 60], [60, 200, 70], [70, 110, 240], [235, 200, 50], [200, 80, 220], [60, 210, 220]],
    dtype=np.uint8,
)


@dataclass
class MotionSet:
    """Clips and how they were made."""

    clips: np.ndarray  # (N, C, T, size, size) uint8
    labels: np.ndarray  # (N,) class of the first object (digit or shape)
    classes: np.ndarray  # (N, objects) class of every object
    positions: np.ndarray  # (N, T, objects, 2) top-left corner (x, y) on the canvas, float
    speeds: np.ndarray  # (N, objects) pixels per frame on the canvas
    colours: np.ndarray | None = None  # (N, objects, 3) for shapes


def trajectories(
    n: int,
    frames: int,
    objects: int,
    extent: int,
    rng: np.random.Generator,
    speed: tuple[float, float] = SPEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners (n, frames, objects, 2) of ``extent``-pixel objects bouncing in the
    canvas, and the speeds (n, objects). Reflection at the walls keeps every position in
    [0, CANVAS - extent]."""
    lim = float(CANVAS - extent)
    pos = rng.uniform(0.0, lim, (n, objects, 2))
    theta = rng.uniform(0.0, 2.0 * np.pi, (n, objects))
    speeds = rng.uniform(speed[0], speed[1], (n, objects))
    vel = speeds[..., None] * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    out = np.empty((n, frames, objects, 2))
    for t in range(frames):
        out[:, t] = pos
        pos = pos + vel
        low, high = pos < 0.0, pos > lim
        pos = np.where(low, -pos, np.where(high, 2.0 * lim - pos, pos))
        vel = np.where(low | high, -vel, vel)
    return out, speeds


def paste_max(canvas: np.ndarray, sprites: np.ndarray, corners: np.ndarray) -> None:
    """Draw one sprite per clip (n, h, w[, C]) at integer corners (n, 2) as (x, y) into
    ``canvas`` (n, H, W[, C]) in place, keeping the brighter pixel where they overlap."""
    n, h, w = sprites.shape[:3]
    x = np.rint(corners[:, 0]).astype(np.int64)
    y = np.rint(corners[:, 1]).astype(np.int64)
    rows = (y[:, None] + np.arange(h))[:, :, None]
    cols = (x[:, None] + np.arange(w))[:, None, :]
    idx = (np.arange(n)[:, None, None], rows, cols)
    canvas[idx] = np.maximum(canvas[idx], sprites)


def shrink(frames: np.ndarray, size: int) -> np.ndarray:
    """(..., 64, 64[, C]) uint8 canvases averaged down to ``size`` (a divisor of 64)."""
    if CANVAS % size:
        raise ValueError(f"clip size must divide {CANVAS}; got {size}")
    f = CANVAS // size
    if f == 1:
        return frames
    colour = frames.ndim >= 4 and frames.shape[-1] == 3
    shape = frames.shape[:-3] if colour else frames.shape[:-2]
    x = frames.astype(np.float32)
    if colour:
        x = x.reshape(*shape, size, f, size, f, 3).mean(axis=(-4, -2))
    else:
        x = x.reshape(*shape, size, f, size, f).mean(axis=(-3, -1))
    return np.rint(x).clip(0, 255).astype(np.uint8)


CHUNK = 256  # clips drawn on the 64x64 canvas at a time (memory stays small)


def moving_digits(
    digits: np.ndarray,
    digit_labels: np.ndarray,
    n: int,
    frames: int = 16,
    size: int = 32,
    objects: int = 1,
    seed: int = 0,
) -> MotionSet:
    """``n`` Moving-MNIST clips (n, 1, frames, size, size) from ``digits`` (k, 28, 28) uint8."""
    rng = np.random.default_rng(seed)
    extent = digits.shape[-1]
    pick = rng.integers(0, len(digits), (n, objects))
    pos, speeds = trajectories(n, frames, objects, extent, rng)
    clips = np.empty((n, 1, frames, size, size), dtype=np.uint8)
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        canvas = np.zeros((hi - lo, frames, CANVAS, CANVAS), dtype=np.uint8)
        for t in range(frames):
            for o in range(objects):
                paste_max(canvas[:, t], digits[pick[lo:hi, o]], pos[lo:hi, t, o])
        clips[lo:hi, 0] = shrink(canvas, size)
    classes = digit_labels[pick]
    return MotionSet(clips, classes[:, 0].copy(), classes, pos, speeds)


def shape_masks(extent: int = SHAPE_SIZE) -> np.ndarray:
    """(3, extent, extent) float masks of a circle, a square and a triangle (anti-aliased
    by 4x supersampling)."""
    s = 4 * extent
    c = (np.arange(s) + 0.5) / s * 2.0 - 1.0  # [-1, 1]
    yy, xx = np.meshgrid(c, c, indexing="ij")
    circle = xx**2 + yy**2 <= 0.9**2
    square = (np.abs(xx) <= 0.78) & (np.abs(yy) <= 0.78)
    triangle = (yy <= 0.85) & (yy >= -0.85 + 2.0 * np.abs(xx) * 0.95)  # apex up
    masks = np.stack([circle, square, triangle]).astype(np.float32)
    return masks.reshape(3, extent, 4, extent, 4).mean(axis=(2, 4))


def moving_shapes(
    n: int, frames: int = 16, size: int = 32, objects: int = 1, seed: int = 0
) -> MotionSet:
    """``n`` shapes-motion clips (n, 3, frames, size, size): coloured shapes, one colour and
    shape per object for the whole clip, bouncing like the digits."""
    rng = np.random.default_rng(seed)
    masks = shape_masks()
    kinds = rng.integers(0, len(SHAPES), (n, objects))
    colours = PALETTE[rng.integers(0, len(PALETTE), (n, objects))]
    pos, speeds = trajectories(n, frames, objects, SHAPE_SIZE, rng)
    clips = np.empty((n, 3, frames, size, size), dtype=np.uint8)
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        canvas = np.zeros((hi - lo, frames, CANVAS, CANVAS, 3), dtype=np.uint8)
        for o in range(objects):
            sprites = masks[kinds[lo:hi, o]][..., None] * colours[lo:hi, o, None, None, :]
            sprites = np.rint(sprites).astype(np.uint8)
            for t in range(frames):
                paste_max(canvas[:, t], sprites, pos[lo:hi, t, o])
        clips[lo:hi] = shrink(canvas, size).transpose(0, 4, 1, 2, 3)  # (k, 3, T, s, s)
    return MotionSet(clips, kinds[:, 0].copy(), kinds, pos, speeds, colours)
