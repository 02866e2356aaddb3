"""Generating from a trained run in Python, in the form the data's users hold it::

    import ganforge
    run = ganforge.load("runs/bach")
    phrases = run.generate(4, seed=0, hold=0.9)   # four pretty_midi.PrettyMIDI

What ``generate`` returns, and which keyword knobs it takes besides ``seed``, the run's
modality says (``Modality.decode`` and ``Modality.generate_knobs``): PIL images for
images, a DataFrame for tables, ``str`` for text, ``PrettyMIDI`` for music, uint8 clips
(frames, height, width, channels) for video (``run.fps``), a 2-D array for points.
``seed=None`` draws anew on every call; an ``int`` gives the same samples every time.

This module names no modality: it checks the knobs a modality declares and draws with the
knobs every modality may declare (``labels``, ``truncation``, ``conditions``) and the
generator settings a modality hands over (text's temperature, music's hold).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral
from typing import TYPE_CHECKING, Any

import torch

from ganforge.engine.latent import truncated
from ganforge.errors import ConfigError, closest

if TYPE_CHECKING:  # pragma: no cover
    from ganforge.run import Run


def generate(run: Run, n: int = 1, seed: int | None = None, **knobs: Any) -> Any:
    """``n`` samples of ``run`` as its modality's users hold them (``Run.generate``).

    ``seed``: an ``int`` gives the same samples on every call, None new ones; ``knobs``
    are the modality's (``run.modality_obj.generate_knobs``); any other is a ConfigError
    that names them."""
    if not _whole(n) or n < 1:
        raise ConfigError(f"generate: n must be a whole number of samples, 1 or more; got {n!r}")
    modality = run.modality_obj
    check_knobs(modality, knobs)
    if seed is None:
        seed = secrets.randbelow(2**31)
    elif not _whole(seed) or seed < 0:
        raise ConfigError(
            f"generate: seed must be a whole number, 0 or more, or None; got {seed!r}"
        )
    return modality.generate(run, int(n), int(seed), **knobs)


def _whole(x: Any) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def check_knobs(modality: Any, knobs: dict[str, Any]) -> None:
    """Refuse, in one line naming the allowed ones, a knob ``modality`` does not declare."""
    allowed = tuple(getattr(modality, "generate_knobs", ()))
    for name in knobs:
        if name not in allowed:
            near = closest(name, allowed)
            hint = f" (did you mean '{near}'?)" if near else ""
            raise ConfigError(
                f"generate: a {modality.name} run takes no knob '{name}'{hint}; "
                f"it takes seed{''.join(', ' + k for k in allowed)}"
            )


def draw(
    run: Run,
    n: int,
    seed: int,
    labels: Any = None,
    truncation: float | None = None,
    conditions: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """``n`` samples of ``run`` in model space and the info to decode them with (the run's,
    with ``seed``; ``asked`` for ``conditions``; ``conditions`` / ``class_names`` for
    ``labels``). ``labels``: one class (id or name) or one per sample; ``truncation``: every
    latent entry beyond +-that drawn again; ``conditions``: ``{column: value}`` every sample
    holds (the modality's ``sample_asked``); ``settings``: generator attributes set for this
    draw only."""
    info: dict[str, Any] = {**run.info, "seed": seed}
    with generator_settings(run.generator, settings or {}):
        if conditions:
            if labels is not None or truncation is not None:
                raise ConfigError("generate: conditions take neither labels nor truncation")
            samples, drawn = run.modality_obj.sample_asked(run, n, dict(conditions), seed)
            info["asked"] = drawn["asked"]
            return samples, info
        ids = None if labels is None else class_labels(run, labels, n)
        if ids is not None:
            info.update(conditions=ids, class_names=run.meta.get("class_names"))
        samples = run.sample(seed=seed, labels=ids, z=latents(run, n, seed, truncation))
    return samples, info


def latents(run: Run, n: int, seed: int, truncation: float | None = None) -> Any:
    """The run's ``n`` latents of ``seed``; with ``truncation``, every entry beyond
    +-``truncation`` drawn again (from ``seed + 1``) until none is."""
    z = run.latent(n, seed)
    if truncation is None:
        return z
    if not isinstance(truncation, int | float) or not 0 < truncation <= 10:
        raise ConfigError(f"generate: truncation must be in (0, 10]; got {truncation!r}")
    return truncated(z, float(truncation), torch.Generator().manual_seed(seed + 1))


def class_labels(run: Run, labels: Any, n: int) -> torch.Tensor:
    """``labels`` (a class id or name, or one per sample) as ``n`` class ids of ``run``."""
    if run.num_classes < 2 or not run.config.data.conditional:
        raise ConfigError(
            "generate: labels need a class-conditional run (trained with data.conditional=true)"
        )
    if torch.is_tensor(labels) or hasattr(labels, "tolist"):
        labels = labels.tolist()
    items = [labels] * n if isinstance(labels, Integral | str) else list(labels)
    if len(items) != n:
        raise ConfigError(f"generate: give one label or {n} (one per sample); got {len(items)}")
    names = [str(c).lower() for c in (run.meta.get("class_names") or [])]
    ids = []
    for item in items:
        if isinstance(item, str) and item.strip().lower() in names:
            ids.append(names.index(item.strip().lower()))
        elif _whole(item) and 0 <= item < run.num_classes:
            ids.append(int(item))
        else:
            shown = ", ".join(map(str, run.meta.get("class_names") or [])) or "none"
            raise ConfigError(
                f"generate: label {item!r} is not a class of this run; use an id in "
                f"0..{run.num_classes - 1} or a name ({shown})"
            )
    return torch.tensor(ids, dtype=torch.long)


@contextmanager
def generator_settings(G: Any, settings: dict[str, Any]) -> Iterator[None]:
    """Set attributes of generator ``G`` for a ``with`` block, restored after it."""
    before = {name: getattr(G, name) for name in settings}
    try:
        for name, value in settings.items():
            setattr(G, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(G, name, value)


__all__ = ["check_knobs", "class_labels", "draw", "generate", "latents"]
