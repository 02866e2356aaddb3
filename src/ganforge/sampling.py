"""Using a trained run: ``load_run``, ``sample`` (pictures and files) and ``interpolate``
(a latent walk as a GIF), each rendered by the run's modality."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ganforge.artifacts import save_gif, save_png
from ganforge.engine.latent import interpolate_latent, sample_latent, slerp
from ganforge.errors import ConfigError
from ganforge.modality import conditions_for
from ganforge.run import Run


def load_run(
    run_dir: str | Path, device: str = "cpu", best: bool = False, step: int | None = None
) -> Run:
    """A trained run, ready to sample: ``load_run(RUN).sample(16)`` (``best``: its best
    checkpoint by ``eval.metric`` rather than the latest; ``step``: the kept checkpoint of
    that step, see :func:`ganforge.run.checkpoint_steps`)."""
    return Run(run_dir, device=device, best=best, step=step)


def _check_parent(out: Path) -> None:
    if out.parent and not out.parent.exists():
        raise ConfigError(f"folder {out.parent} does not exist; create it or choose another --out")


def sample(
    run_dir: str | Path,
    n: int = 64,
    out: str | Path | None = None,
    seed: int = 0,
    label: int | str | None = None,
    conditions: dict[str, Any] | None = None,
    temperature: float | None = None,
    best: bool = False,
    hold: float | None = None,
    upsample: str | None = None,
) -> Path:
    """Draw ``n`` samples and write them (``best``: from the run's best checkpoint).

    ``out`` decides the form: ``.png`` a picture (grid, scatter plot, ...), any other suffix
    one of the modality's data formats (``.npy``; ``.csv`` for points and tables; a folder
    of PNG files for images). ``label`` picks a class; ``conditions`` (``{column: value}``)
    a value of a table's column, which every sample then holds. ``temperature`` is the
    sampling temperature of modalities that have one (text): a generator with a
    ``temperature`` attribute takes it, and the modality's decoding reads it. ``hold`` is the
    hysteresis of a generator that has one (music voices: a pitch is kept unless another's
    logit beats it by more than this; the run's own by default). ``upsample`` is how a
    layered video generator brings its canvas to the finer one it moves sprites on
    (``nearest`` as trained, or ``bilinear``: the same sprites, smooth at every place).
    """
    if n < 1:
        raise ConfigError(f"--n must be at least 1; got {n}")
    run = load_run(run_dir, best=best)
    modality = run.modality_obj
    labels, info = None, dict(run.info)
    if temperature is not None:
        if temperature < 0:
            raise ConfigError(f"--temperature must be 0 or more; got {temperature}")
        info["temperature"] = float(temperature)
        if hasattr(run.generator, "temperature"):
            run.generator.temperature = float(temperature)
    if hold is not None:
        if not hasattr(run.generator, "hold"):
            raise ConfigError("--hold is for runs whose generator holds notes (music voices)")
        if hold < 0:
            raise ConfigError(f"--hold must be 0 or more; got {hold}")
        run.generator.hold = float(hold)
    if upsample is not None:
        if getattr(run.generator, "supersample", 1) <= 1:
            raise ConfigError(
                "--upsample is for layered video runs trained with arch.supersample above 1"
            )
        if upsample not in ("nearest", "bilinear"):
            raise ConfigError(f"--upsample must be nearest or bilinear; got '{upsample}'")
        run.generator.upsample = upsample
    if label is not None:
        labels = torch.full((n,), class_id(run, label), dtype=torch.long)
    if conditions:
        samples, drawn_info = modality.sample_asked(run, n, dict(conditions), seed)
        info["asked"] = drawn_info["asked"]
    else:
        samples = run.sample(n, seed=seed, labels=labels)
    if labels is None and not conditions:  # asked rows carry their own condition
        labels = conditions_for(modality, n, run.meta, run.config, seed=seed)
    out = Path(out) if out is not None else run.paths.root / f"samples-seed{seed}.png"
    _check_parent(out)
    if out.suffix.lower() == ".png":
        info.update(conditions=labels, class_names=run.meta.get("class_names"))
        return save_png(modality.picture(samples, info), out)
    return modality.save(samples, out, info)


def parse_conditions(items: list[str] | None) -> dict[str, Any]:
    """``["cut=Ideal"]`` -> ``{"cut": "Ideal"}`` (the CLI's ``--condition``)."""
    out: dict[str, Any] = {}
    for text in items or []:
        column, sep, value = text.partition("=")
        if not sep or not column.strip():
            raise ConfigError(f"--condition expects COLUMN=VALUE, like cut=Ideal; got {text!r}")
        out[column.strip()] = value.strip()
    return out


def class_id(run: Run, label: int | str) -> int:
    """A class given by id (``3``) or by name (``Sneaker``, any case) as its id."""
    if run.num_classes < 2:
        raise ConfigError("--label needs a conditional run (trained with data.conditional=true)")
    names = [str(n) for n in (run.meta.get("class_names") or [])]
    text = str(label).strip()
    if text.lstrip("-").isdigit():
        k = int(text)
        if not 0 <= k < run.num_classes:
            raise ConfigError(f"--label must be in 0..{run.num_classes - 1}; got {k}")
        return k
    lowered = [n.lower() for n in names]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    shown = ", ".join(names) if names else f"0..{run.num_classes - 1}"
    raise ConfigError(f"--label '{text}' is not a class of this run; use one of {shown}")


def check_keep(z: Any, keep: tuple[str, ...]) -> None:
    """Refuse a ``keep`` that names no part of the latent ``z`` (or any, for a plain one)."""
    if keep and not isinstance(z, dict):
        raise ConfigError("--keep needs a generator with a structured latent (a dict of codes)")
    unknown = sorted(set(keep) - set(z)) if keep else []
    if unknown:
        raise ConfigError(
            f"--keep: the latent has no part {', '.join(unknown)}; it has {', '.join(z)}"
        )


def interpolate(
    run_dir: str | Path,
    frames: int = 48,
    out: str | Path | None = None,
    seed: int = 0,
    n: int | None = None,
    keyframes: int = 4,
    keep: tuple[str, ...] = (),
    best: bool = False,
) -> Path:
    """A looping GIF walking the latent space between keyframes (spherical interpolation);
    an ``out`` of another suffix gets the walk of the first sample as the modality's data,
    frame after frame (``walk.mid``: one phrase per frame, for music).

    For a generator with a structured latent (a dict of codes), the parts named in ``keep``
    stay fixed: walk the content with the motion held, or the other way round. ``best``
    walks the run's best checkpoint.
    """
    if frames < 2:
        raise ConfigError(f"--frames must be at least 2; got {frames}")
    run = load_run(run_dir, best=best)
    modality = run.modality_obj
    n = n or modality.interpolation_count(run.config)
    gen = torch.Generator().manual_seed(seed)
    keys = [sample_latent(run.generator, n, generator=gen) for _ in range(keyframes)]
    check_keep(keys[0], keep)
    if keep:
        keys = [{k: (keys[0][k] if k in keep else v) for k, v in z.items()} for z in keys]
    out = Path(out) if out is not None else run.paths.root / "interpolation.gif"
    _check_parent(out)
    as_gif = out.suffix.lower() == ".gif"
    per_leg = max(1, math.ceil(frames / keyframes))
    walk = []
    for k in range(keyframes):
        z0, z1 = keys[k], keys[(k + 1) % keyframes]
        for i in range(per_leg):
            x = run.sample(z=interpolate_latent(run.generator, z0, z1, i / per_leg, keep))
            walk.append(modality.picture(x, run.info) if as_gif else x[:1])
    walk = walk[:frames]
    if not as_gif:
        return modality.save(torch.cat(walk), out, dict(run.info))
    return save_gif(walk, out, ms_per_frame=80)


__all__ = ["interpolate", "load_run", "sample", "slerp"]
