"""Motion statistics of clips, read from the pixels alone (real and generated alike).

Objects are found per frame as intensity-weighted centres: the frame's centre of mass for
one object, a weighted 2-means (matched frame to frame by distance) for two. All positions
are in pixels of the 64x64 canvas the sets are drawn on, whatever the clip size.

- speed: the distance a centre moves from frame to frame (every step of every object);
  the distribution is compared by the two-sample Kolmogorov-Smirnov distance;
- physics: the share of steps that obey the data's bouncing: the velocity stays the same
  (within ``TOL`` px per axis) or, on an axis where the object touches a wall, turns back;
- freeze: the share of clips whose objects never get ``FREEZE_PX`` from where they began.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.modalities.video.motion_sets import CANVAS, SPEED

LIT = 0.1  # fainter pixels (0..1) do not pull a centre
TOL = 1.5  # canvas px of velocity change still "the same velocity" (rounding, resampling)
WALL = 3.0  # canvas px beyond half a sprite and a step from a wall that count as touching
FREEZE_PX = 2.0  # a clip whose objects never get this far from their start is frozen


def brightness(clips: np.ndarray) -> np.ndarray:
    """(N, C, T, H, W) clips, uint8 or [-1, 1] floats -> (N, T, H, W) brightness in [0, 1]
    (the brightest channel: coloured objects on black count fully)."""
    x = np.asarray(clips, dtype=np.float32)
    x = x / 255.0 if np.asarray(clips).dtype == np.uint8 else (x + 1.0) / 2.0
    return x.clip(0.0, 1.0).max(axis=1)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    sy, sx = CANVAS / h, CANVAS / w
    ys = (np.arange(h) + 0.5) * sy - 0.5
    xs = (np.arange(w) + 0.5) * sx - 0.5
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    return xx.ravel(), yy.ravel()


def centres(clips: np.ndarray, objects: int = 1, chunk: int = 128) -> np.ndarray:
    """Object centres (N, T, objects, 2) as (x, y) canvas px (NaN in an empty frame),
    ``chunk`` clips at a time."""
    parts = [_centres(clips[i : i + chunk], objects) for i in range(0, len(clips), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, 0, objects, 2))


def _centres(clips: np.ndarray, objects: int) -> np.ndarray:
    b = brightness(clips)
    n, t, h, w = b.shape
    xx, yy = _grid(h, w)
    wgt = b.reshape(n * t, h * w)
    wgt = np.where(wgt > LIT, wgt, 0.0)
    mass = wgt.sum(1)
    cx = (wgt @ xx) / np.maximum(mass, 1e-9)
    cy = (wgt @ yy) / np.maximum(mass, 1e-9)
    c = np.stack([cx, cy], -1)[:, None, :]  # (F, 1, 2)
    if objects == 2:
        c = _two_means(wgt, xx, yy, c[:, 0])
        c = _match_over_time(c.reshape(n, t, 2, 2)).reshape(n * t, 2, 2)
    elif objects != 1:
        raise ValueError("motion statistics follow 1 or 2 objects")
    c[mass < 1e-6] = np.nan
    return c.reshape(n, t, objects, 2)


def _two_means(
    wgt: np.ndarray, xx: np.ndarray, yy: np.ndarray, mean: np.ndarray, iters: int = 8
) -> np.ndarray:
    """Weighted 2-means of every frame's pixels, started on the line of greatest spread."""
    px = np.stack([xx, yy], -1)  # (P, 2)
    mass = np.maximum(wgt.sum(1, keepdims=True), 1e-9)
    d = px[None] - mean[:, None]  # (F, P, 2)
    cov = np.einsum("fp,fpi,fpj->fij", wgt, d, d) / mass[:, :, None]
    _, vecs = np.linalg.eigh(cov + 1e-6 * np.eye(2))
    axis = vecs[:, :, 1]
    spread = np.sqrt(np.maximum(np.einsum("fi,fij,fj->f", axis, cov, axis), 1.0))
    c = np.stack([mean - axis * spread[:, None], mean + axis * spread[:, None]], 1)
    for _ in range(iters):
        dist = ((px[None, :, None, :] - c[:, None]) ** 2).sum(-1)  # (F, P, 2)
        assign = dist.argmin(-1)
        for k in range(2):
            wk = wgt * (assign == k)
            mk = wk.sum(1)
            upd = np.stack([wk @ xx, wk @ yy], -1) / np.maximum(mk, 1e-9)[:, None]
            c[:, k] = np.where(mk[:, None] > 1e-6, upd, c[:, k])
    return c


def _match_over_time(c: np.ndarray) -> np.ndarray:
    """Swap the two centres of a frame where that keeps each object nearer its last place."""
    c = c.copy()
    for t in range(1, c.shape[1]):
        keep = np.linalg.norm(c[:, t] - c[:, t - 1], axis=-1).sum(-1)
        swap = np.linalg.norm(c[:, t, ::-1] - c[:, t - 1], axis=-1).sum(-1)
        s = swap < keep
        c[s, t] = c[s, t, ::-1]
    return c


def speeds(c: np.ndarray) -> np.ndarray:
    """Every finite frame-to-frame step length of every object (canvas px per frame)."""
    step = np.linalg.norm(np.diff(c, axis=1), axis=-1)
    return step[np.isfinite(step)]


def physics_share(c: np.ndarray, box: float, top: float = SPEED[1]) -> float:
    """Share of (object, step pair) transitions that obey bouncing: away from the walls each
    axis keeps its velocity (within ``TOL``); where the object (a ``box``-px sprite) may
    touch a wall, that axis may only turn away from the wall, never faster than ``top``
    (the data's fastest objects)."""
    d = np.diff(c, axis=1)  # (N, T-1, O, 2)
    v0, v1 = d[:, :-1], d[:, 1:]
    acc = v1 - v0
    reach = box / 2.0 + np.maximum(np.abs(v0), np.abs(v1)) + WALL
    mid = c[:, 1:-1]
    low, high = mid <= reach, mid >= CANVAS - 1 - reach
    in_speed = (np.abs(v1) <= top + TOL) & (np.abs(v0) <= top + TOL)
    away = (low & (acc >= -TOL)) | (high & (acc <= TOL))
    ok = ((np.abs(acc) <= TOL) | (away & in_speed)).all(-1)
    valid = np.isfinite(acc).all(-1)
    return float(ok[valid].mean()) if valid.any() else float("nan")


def freeze_share(c: np.ndarray) -> float:
    """Share of clips whose objects never get ``FREEZE_PX`` away from where they were in
    the first frame (a jittering centre that goes nowhere is frozen too)."""
    away = np.linalg.norm(c - c[:, :1], axis=-1)  # (N, T, O)
    return float((np.nan_to_num(away, nan=0.0).max(axis=(1, 2)) < FREEZE_PX).mean())


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap of the empirical CDFs."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    if not len(a) or not len(b):
        return float("nan")
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def motion_stats(clips: np.ndarray, objects: int = 1, box: float = 28.0) -> dict[str, Any]:
    """Speeds (array), physics share, freeze share and mean speed of a set of clips whose
    objects are ``box``-px sprites on the canvas."""
    c = centres(clips, objects)
    s = speeds(c)
    return {
        "speeds": s,
        "speed": float(s.mean()) if len(s) else float("nan"),
        "physics": physics_share(c, box),
        "freeze": freeze_share(c),
    }
