"""How long a table trains when ``train.steps`` is 0 (the ``tabular`` preset): a number of
passes over the training rows, as CTGAN's ``epochs``, clamped so that a 300-row table does
not run for thousands of passes nor a 300,000-row table stop after a few.

``steps = clamp(ceil(tabular.epochs * training rows / train.batch), tabular.min_steps,
tabular.max_steps)``; ``train.max_seconds`` (a time budget) and ``eval.patience`` (early
stopping) may end training sooner.
"""

from __future__ import annotations

import math
from typing import Any


def planned_steps(rows: int, batch: int, epochs: float, min_steps: int, max_steps: int) -> int:
    """Generator steps for ``epochs`` passes over ``rows`` rows at ``batch`` rows a step,
    at least ``min_steps`` and at most ``max_steps`` (0: no maximum)."""
    steps = math.ceil(epochs * rows / max(min(batch, rows), 1))
    steps = max(steps, min_steps)
    return min(steps, max_steps) if max_steps else steps


def length_line(cfg: Any, rows: int) -> str:
    """Set ``cfg.train.steps`` for a table of ``rows`` training rows; the line saying so."""
    opts, batch = cfg.section("tabular"), cfg.train.batch
    raw = math.ceil(opts.epochs * rows / max(min(batch, rows), 1))
    steps = planned_steps(rows, batch, opts.epochs, opts.min_steps, opts.max_steps)
    cfg.train.steps = steps
    how = f"{opts.epochs:g} passes over {rows:,} training rows at batch {batch}"
    if steps > raw:
        how += f" ({raw:,} steps) raised to tabular.min_steps"
    elif steps < raw:
        how += f" ({raw:,} steps) cut to tabular.max_steps"
    ends = []
    if cfg.train.max_seconds:
        ends.append(f"{cfg.train.max_seconds:g} s (train.max_seconds)")
    if cfg.eval.every and cfg.eval.patience:
        ends.append(f"{cfg.eval.patience} scores without a better {cfg.eval.metric}")
    sooner = f", or sooner after {' or '.join(ends)}" if ends else ""
    return (
        f"training for {steps:,} steps: {how}{sooner} (--steps N, or tabular.epochs, "
        "min_steps, max_steps change it)"
    )
