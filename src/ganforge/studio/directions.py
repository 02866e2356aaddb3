"""Latent sliders along principal directions (the idea of GANSpace, Harkonen et al. 2020,
done in output space): draw many latents, take the principal components of what G makes
of them, and find by least squares the latent direction that moves each component; a
slider then walks one seed's latent along a direction. Works for tensor and dict latents
(the dict's parts flattened together)."""

from __future__ import annotations

from typing import Any

import torch

from ganforge.engine.latent import sample_latent

COUNT = 512  # latents drawn to find the directions
DIRECTIONS = 3

_CACHE: dict[tuple[str, int], torch.Tensor] = {}


def _flat(z: Any) -> tuple[torch.Tensor, list[tuple[str | None, tuple[int, ...]]]]:
    if isinstance(z, dict):
        parts = [(k, tuple(v.shape[1:])) for k, v in z.items()]
        return torch.cat([v.flatten(1).float() for v in z.values()], 1), parts
    return z.flatten(1).float(), [(None, tuple(z.shape[1:]))]


def _unflat(flat: torch.Tensor, parts: list[tuple[str | None, tuple[int, ...]]]) -> Any:
    out, i = {}, 0
    for key, shape in parts:
        size = int(torch.tensor(shape).prod()) if shape else 1
        out[key] = flat[:, i : i + size].reshape(len(flat), *shape)
        i += size
    return out[None] if list(out) == [None] else out


def directions(run: Any, key: str) -> torch.Tensor:
    """(DIRECTIONS, latent size) unit directions, cached per run and checkpoint."""
    cache_key = (key, int(run.step))
    if cache_key not in _CACHE:
        z = sample_latent(run.generator, COUNT, generator=torch.Generator().manual_seed(12345))
        x = run.sample(z=z).detach().float().flatten(1)
        flat, _ = _flat(z)
        x = x - x.mean(0)
        _, _, v = torch.linalg.svd(x, full_matrices=False)
        coords = x @ v[:DIRECTIONS].T  # (COUNT, k) principal coordinates of the outputs
        zc = flat - flat.mean(0)
        sol = torch.linalg.lstsq(zc, coords).solution  # (latent, k): z -> coordinates
        dirs = sol.T / sol.T.norm(dim=1, keepdim=True).clamp_min(1e-12)
        _CACHE[cache_key] = dirs
    return _CACHE[cache_key]


def moved(run: Any, key: str, seed: int, n: int, amounts: list[float]) -> Any:
    """``n`` latents of ``seed``, each moved by ``amounts[k]`` along direction k (in units
    of the latent's standard deviation along it)."""
    dirs = directions(run, key)
    z = sample_latent(run.generator, n, generator=torch.Generator().manual_seed(seed))
    flat, parts = _flat(z)
    for k, a in enumerate(amounts[: len(dirs)]):
        flat = flat + float(a) * 3.0 * dirs[k]
    return _unflat(flat, parts)
