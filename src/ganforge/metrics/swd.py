"""Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018, Progressive GAN).

Per pyramid level, random ``patch_size`` x ``patch_size`` patches of every image are descriptors;
each channel is normalised to zero mean and unit std; the distance is the mean over random unit
directions of the 1-D Wasserstein-1 distance between the projected descriptor sets (sort both,
mean absolute difference), reported times 1e3 as in the paper.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.metrics.fid import Array

_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)  # / 16: the separable 5x5 kernel of cv2.pyrDown
_CHUNK_ENTRIES = 2**24
_IMAGE_BATCH = 64


def _as_images(images: Array) -> torch.Tensor:
    x = images.detach() if torch.is_tensor(images) else torch.as_tensor(np.asarray(images))
    if x.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(x.shape)}")
    return x if x.is_floating_point() else x.float()


def _blur(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """5x5 binomial filter per channel, reflect padding (scipy 'mirror': d c b | a b c d)."""
    c = x.shape[1]
    k = torch.tensor(_BINOMIAL, dtype=x.dtype, device=x.device) / 16
    y = F.pad(x, (2, 2, 2, 2), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, 5).expand(c, 1, 1, 5), groups=c)  # depthwise: rows
    return F.conv2d(y, (k * gain).view(1, 1, 5, 1).expand(c, 1, 5, 1), groups=c)  # columns


def _down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[:, :, ::2, ::2]


def _up(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    z = x.new_zeros(n, c, 2 * h, 2 * w)
    z[:, :, ::2, ::2] = x
    return _blur(z, gain=4.0)  # zeros carry 3/4 of the taps: gain 4 keeps the mean


def laplacian_pyramid(images: Array, levels: int) -> list[torch.Tensor]:
    """``levels`` bands, finest first: ``x_l - up(x_{l+1})``; the last is the blurred residual.

    H and W must be divisible by ``2 ** (levels - 1)`` with a coarsest level of at least 2 x 2.
    Integer images become float32.
    """
    x = _as_images(images)
    h, w = x.shape[-2:]
    f = 2 ** (levels - 1) if levels >= 1 else 0
    if levels < 1 or h % f or w % f or min(h, w) // f < 2:
        raise ValueError(f"{levels} pyramid levels do not fit {h}x{w} images")
    pyramid = []
    for _ in range(levels - 1):
        nxt = _down(x)
        pyramid.append(x - _up(nxt))
        x = nxt
    pyramid.append(x)
    return pyramid


def reconstruct_laplacian_pyramid(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """Inverse of :func:`laplacian_pyramid`."""
    x = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        x = _up(x) + band
    return x


def _patches(
    images: torch.Tensor, level: int, levels: int, ys: torch.Tensor, xs: torch.Tensor, size: int
) -> torch.Tensor:
    """``(N * P, C, size, size)`` patches of pyramid ``level`` centred at ``ys, xs`` ``(N, P)``."""
    off = torch.arange(size, device=images.device) - size // 2
    out = []
    for s in range(0, images.shape[0], _IMAGE_BATCH):
        band = laplacian_pyramid(images[s : s + _IMAGE_BATCH], levels)[level]
        b = band.shape[0]
        rows = (ys[s : s + b, :, None] + off)[..., :, None]  # (B, P, K, 1)
        cols = (xs[s : s + b, :, None] + off)[..., None, :]  # (B, P, 1, K)
        idx = torch.arange(b, device=images.device)[:, None, None, None]
        p = band.permute(0, 2, 3, 1)[idx, rows, cols]  # (B, P, K, K, C)
        out.append(p.permute(0, 1, 4, 2, 3).reshape(-1, band.shape[1], size, size))
    return torch.cat(out)


def _normalize(d: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    std = torch.where(std > 0, std, torch.ones_like(std))
    return ((d - mean) / std).reshape(d.shape[0], -1)


def _channel_stats(d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return d.mean(dim=(0, 2, 3), keepdim=True), d.std(dim=(0, 2, 3), keepdim=True, unbiased=False)


def _sorted_rows(x: torch.Tensor) -> torch.Tensor:
    if x.device.type == "cpu":  # numpy's SIMD sort is several times faster than torch's on CPU
        return torch.from_numpy(np.sort(x.numpy(), axis=1))
    return x.sort(dim=1).values


def _swd(
    a: torch.Tensor, b: torch.Tensor, num_dirs: int, repeats: int, g: torch.Generator
) -> float:
    """Mean over ``repeats`` x ``num_dirs`` unit directions of the 1-D W1 of the projections."""
    total = 0.0
    step = max(1, _CHUNK_ENTRIES // a.shape[0])
    for _ in range(repeats):
        dirs = torch.randn(num_dirs, a.shape[1], generator=g, dtype=torch.float64)
        dirs = (dirs / dirs.norm(dim=1, keepdim=True)).to(a)
        for s in range(0, num_dirs, step):  # chunks bound the (dirs, M) sorted projections
            pa = _sorted_rows(dirs[s : s + step] @ a.T)
            pb = _sorted_rows(dirs[s : s + step] @ b.T)
            total += float((pa - pb).abs().sum(dtype=torch.float64))
    return total / (repeats * num_dirs * a.shape[0])


def sliced_wasserstein(
    images_a: Array,
    images_b: Array,
    levels: int | None = None,
    patch_size: int = 7,
    patches_per_image: int = 128,
    num_dirs: int = 128,
    repeats: int = 4,
    seed: int = 0,
    normalize: Literal["per_set", "joint"] = "per_set",
) -> dict[int | str, float]:
    """SWD x 1e3 per pyramid level, keyed by the level's height, and their ``'mean'``.

    ``images_*`` are ``(N, C, H, W)`` (any range: descriptors are normalised). By default levels
    run from H down to 16 (64x64: 64, 32, 16), 128 patches of 7x7 per image, 4 repeats of 128
    directions, like the reference. ``normalize="per_set"`` (reference) standardises each set's
    descriptors by its own per-channel mean/std, which makes SWD blind to global per-channel
    offsets and contrast; ``"joint"`` uses the statistics of both sets together.

    The larger set is randomly cut to the smaller one's size, both sets use the same patch
    positions and directions, so ``SWD(x, x) == 0``; deterministic for a given ``seed``.
    """
    if normalize not in ("per_set", "joint"):
        raise ValueError(f"normalize must be 'per_set' or 'joint', got {normalize!r}")
    a = _as_images(images_a)
    b = _as_images(images_b).to(device=a.device, dtype=a.dtype)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"image shapes differ: {tuple(a.shape[1:])} vs {tuple(b.shape[1:])}")
    h, w = a.shape[-2:]
    if levels is None:
        levels = 1
        while min(h, w) >> levels >= 16 and h % 2**levels == 0 and w % 2**levels == 0:
            levels += 1
    if min(h, w) >> (levels - 1) < patch_size or patch_size < 1:
        raise ValueError(f"{patch_size}x{patch_size} patches do not fit level {levels - 1}")
    g = torch.Generator().manual_seed(seed)
    n = min(a.shape[0], b.shape[0])
    if a.shape[0] > n:
        a = a[torch.randperm(a.shape[0], generator=g)[:n].to(a.device)]
    if b.shape[0] > n:
        b = b[torch.randperm(b.shape[0], generator=g)[:n].to(a.device)]
    r = patch_size // 2
    centres = []
    for lv in range(levels):
        hl, wl = h >> lv, w >> lv
        ys = torch.randint(r, hl - (patch_size - 1 - r), (n, patches_per_image), generator=g)
        xs = torch.randint(r, wl - (patch_size - 1 - r), (n, patches_per_image), generator=g)
        centres.append((ys.to(a.device), xs.to(a.device)))
    out: dict[int | str, float] = {}
    for lv, (ys, xs) in enumerate(centres):
        da = _patches(a, lv, levels, ys, xs, patch_size)
        db = _patches(b, lv, levels, ys, xs, patch_size)
        (ma, sa), (mb, sb) = _channel_stats(da), _channel_stats(db)
        if normalize == "joint":  # equal set sizes: pool the two sets' moments
            m = (ma + mb) / 2
            s = ((sa**2 + ma**2 + sb**2 + mb**2) / 2 - m**2).clamp(min=0).sqrt()
            ma, sa, mb, sb = m, s, m, s
        da, db = _normalize(da, ma, sa), _normalize(db, mb, sb)
        out[h >> lv] = 1e3 * _swd(da, db, num_dirs, repeats, g)
    out["mean"] = float(np.mean([out[h >> lv] for lv in range(levels)]))
    return out
