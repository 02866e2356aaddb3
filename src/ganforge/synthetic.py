"""``ganforge augment``: a labelled synthetic data set from a class-conditional run.

``DIR/NN-CLASS/`` holds each class's samples in the modality's own files (PNGs for images:
``folder:DIR`` reads them back with the same labels, the ``NN-`` prefix keeping class ids in
order), ``DIR/synthetic.npz`` the arrays (``samples``, ``labels``, ``class_names``) and
``DIR/manifest.json`` what made them (run, step, seed, counts, truncation, filter).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.engine import checkpoint as ckpt
from ganforge.engine.latent import sample_latent, truncated
from ganforge.errors import ConfigError
from ganforge.run import Run, checkpoint_steps


def scaled(z: Any, scale: float) -> Any:
    """Latents times ``scale`` (dicts of latents entry by entry): above 1 the opposite of
    truncation, samples from the edges of what G learned, more varied and less typical."""
    if isinstance(z, dict):
        return {k: scaled(v, scale) for k, v in z.items()}
    return z * scale


def _folder_name(k: int, name: str, width: int) -> str:
    safe = re.sub(r"[^\w.+-]+", "-", str(name)).strip("-") or "class"
    return f"{k:0{width}d}-{safe}"


def snapshot_runs(run_dir: str | Path, count: int) -> list[Run]:
    """The run at each of its last ``count`` kept checkpoints, oldest first: a snapshot
    ensemble, whose generators each cover the data a little differently (``count`` 1: the
    run as :class:`Run` loads it, at its newest checkpoint that loads)."""
    if count < 1:
        raise ConfigError(f"--snapshots must be at least 1; got {count}")
    if count == 1:
        return [Run(run_dir)]
    steps = checkpoint_steps(run_dir)
    if len(steps) < count:
        raise ConfigError(
            f"--snapshots {count}: the run keeps {len(steps)} checkpoint(s); train with "
            f"--set log.keep_checkpoints={count} (and log.checkpoint_every a fraction of the "
            "steps) or ask for fewer"
        )
    return [Run(run_dir, step=step) for step in steps[-count:]]


def draw_labelled(
    run: Run | Sequence[Run],
    per_class: int,
    seed: int = 0,
    truncation: float | None = None,
    min_confidence: float | None = None,
    latent_scale: float = 1.0,
) -> tuple[list[torch.Tensor], int]:
    """``per_class`` samples of every class of a conditional run, one tensor per class, and
    how many were drawn in all (more than kept when ``min_confidence`` filters: each sample
    the dataset classifier gives its intended class below that probability is dropped).
    ``latent_scale`` multiplies the latents (see :func:`scaled`). Given several runs (see
    :func:`snapshot_runs`), each draws an equal share of every class."""
    runs = [run] if isinstance(run, Run) else list(run)
    shares = [per_class // len(runs) + (i < per_class % len(runs)) for i in range(len(runs))]
    parts, drawn = [], 0
    for i, (r, share) in enumerate(zip(runs, shares, strict=True)):
        if share:
            kept, n = _draw_one(r, share, seed + i, truncation, min_confidence, latent_scale)
            parts.append(kept)
            drawn += n
    return [torch.cat([p[k] for p in parts]) for k in range(len(parts[0]))], drawn


def _draw_one(
    run: Run,
    per_class: int,
    seed: int,
    truncation: float | None,
    min_confidence: float | None,
    latent_scale: float,
) -> tuple[list[torch.Tensor], int]:
    judge = run.modality_obj.class_probabilities(run) if min_confidence is not None else None
    names = [str(n) for n in (run.meta.get("class_names") or range(run.num_classes))]
    gen = torch.Generator().manual_seed(seed)
    kept, drawn = [], 0
    for k in range(run.num_classes):
        have: list[torch.Tensor] = []
        count = 0
        for _ in range(50):
            n = per_class - count if judge is None else max(2 * (per_class - count), 16)
            z = sample_latent(run.generator, n, generator=gen)
            if truncation is not None:
                z = truncated(z, truncation, gen)
            if latent_scale != 1.0:
                z = scaled(z, latent_scale)
            x = run.sample(z=z, labels=torch.full((n,), k, dtype=torch.long))
            drawn += n
            if judge is not None:
                x = x[judge(x)[:, k] >= min_confidence]
            have.append(x[: per_class - count])
            count += len(have[-1])
            if count >= per_class:
                break
        if count < per_class:
            raise ConfigError(
                f"class {names[k]}: only {count} of {per_class} samples passed --filter "
                f"{min_confidence} after {drawn} draws; lower --filter"
            )
        kept.append(torch.cat(have))
    return kept, drawn


def augment(
    run_dir: str | Path,
    per_class: int,
    out: str | Path,
    seed: int = 0,
    truncation: float | None = None,
    min_confidence: float | None = None,
    latent_scale: float = 1.0,
    snapshots: int = 1,
) -> dict[str, Any]:
    """Write ``per_class`` samples of every class of a conditional run to ``out``.

    ``truncation`` draws latents from a truncated normal; ``min_confidence`` keeps only
    samples that the modality's dataset classifier assigns to their intended class with at
    least that probability (drawing more until each class has ``per_class``);
    ``latent_scale`` multiplies the latents; ``snapshots`` draws an equal share from each
    of the run's last K kept checkpoints.
    """
    if per_class < 1:
        raise ConfigError(f"--per-class must be at least 1; got {per_class}")
    if truncation is not None and not truncation > 0:
        raise ConfigError(f"--truncation must be > 0; got {truncation}")
    if min_confidence is not None and not 0 < min_confidence < 1:
        raise ConfigError(f"--filter must be a probability in (0, 1); got {min_confidence}")
    if not latent_scale > 0:
        raise ConfigError(f"--expand must be > 0; got {latent_scale}")
    runs = snapshot_runs(run_dir, snapshots)
    run = runs[-1]
    if run.num_classes < 2:
        raise ConfigError("augment needs a class-conditional run (data.conditional=true)")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} is not empty; choose a new folder")
    modality = run.modality_obj
    names = [str(n) for n in (run.meta.get("class_names") or range(run.num_classes))]
    kept, drawn = draw_labelled(runs, per_class, seed, truncation, min_confidence, latent_scale)
    labels = [k for k in range(run.num_classes) for _ in range(per_class)]
    out.mkdir(parents=True, exist_ok=True)
    width = len(str(run.num_classes - 1))
    for k, x in enumerate(kept):
        modality.save(x, out / _folder_name(k, names[k], width), run.info)
    samples = torch.cat(kept)
    np.savez(
        out / "synthetic.npz",
        samples=modality.as_array(samples),
        labels=np.asarray(labels, dtype=np.int64),
        class_names=np.asarray(names),
    )
    manifest = {
        "run": str(run.paths.root),
        "step": run.step,
        "snapshot_steps": [r.step for r in runs],
        "seed": seed,
        "per_class": per_class,
        "counts": {names[k]: per_class for k in range(run.num_classes)},
        "total": len(labels),
        "drawn": drawn,
        "truncation": truncation,
        "filter": min_confidence,
        "latent_scale": latent_scale,
        "used_ema": run.used_ema,
    }
    ckpt.atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1))
    return manifest
