"""GAN Lab's view of a 2-D run at one checkpoint: real and generated points, D's decision
surface on a grid (D(x) = sigmoid of its logit), and G's gradient at each generated point
(the direction the generator's loss pushes it: up D's surface)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.engine import checkpoint as ckpt
from ganforge.engine.latent import sample_latent
from ganforge.errors import ConfigError
from ganforge.run import build_from_config
from ganforge.studio.explore import training_samples

GRID = 48


def checkpoints(run_dir: Path) -> list[Path]:
    return ckpt.list_checkpoints(Path(run_dir) / "checkpoints")


def snapshot(run: Any, index: int, n: int = 512, seed: int = 0) -> dict[str, Any]:
    """The picture's data at the ``index``-th checkpoint (negative: from the end)."""
    if tuple(run.meta["sample_shape"]) != (2,):
        raise ConfigError("the 2-D view needs a run on 2-D points (a toy: spec)")
    found = checkpoints(run.paths.root)
    if not found:
        raise ConfigError("the run has no checkpoint yet")
    index = max(-len(found), min(index, len(found) - 1))
    weights, _, state = ckpt.load_checkpoint(found[index])
    G, D = build_from_config(run.config, (2,), int(run.meta["num_classes"]), run.meta.get("info"))
    G.load_state_dict(ckpt.split_prefixed(weights, "G"))
    D.load_state_dict(ckpt.split_prefixed(weights, "D"))
    G.eval(), D.eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        fake = G(sample_latent(G, n, generator=gen))
    real = _real(run, n, seed)
    both = torch.cat([real, fake])
    lo, hi = both.min(0).values, both.max(0).values
    pad = (hi - lo) * 0.15 + 1e-3
    lo, hi = lo - pad, hi + pad
    xs = torch.linspace(float(lo[0]), float(hi[0]), GRID)
    ys = torch.linspace(float(lo[1]), float(hi[1]), GRID)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        surface = torch.sigmoid(_logit(D(grid))).reshape(GRID, GRID)
    x = fake.clone().requires_grad_(True)
    _logit(D(x)).sum().backward()  # G's non-saturating loss pushes its points up D's logit
    return {
        "step": int(state["step"]),
        "index": index % len(found),
        "count": len(found),
        "bounds": [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])],
        "real": real.tolist(),
        "fake": fake.tolist(),
        "surface": surface.tolist(),
        "gradient": x.grad.tolist(),
    }


def _logit(out: Any) -> torch.Tensor:
    return (out["adv"] if isinstance(out, dict) else out).reshape(-1)


def _real(run: Any, n: int, seed: int) -> torch.Tensor:
    data = training_samples(run)
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return data[pick]
