"""Shared by the benchmarks that train a preset for a fixed time per variant: the JSON line
printer and the variant loop (``NAME:KEY=VALUE[,KEY=VALUE]``, one run directory each)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def emit(**line: Any) -> None:
    """One result as one JSON line (floats rounded to 4 places)."""
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in line.items()}))


def timed_runs(
    preset: str,
    variants: list[str],
    minutes: float,
    keep: str | None = None,
    trained: bool = False,
) -> Iterator[tuple[int, str, Any, float]]:
    """Train ``preset`` for ``minutes`` per variant (or, with ``trained``, load the runs
    already under ``keep``); yields (index, name, the loaded Run, seconds of training)."""
    import ganforge
    from ganforge.run import Run

    root = Path(keep or tempfile.mkdtemp(prefix=f"bench-{preset}-"))
    for k, spec in enumerate(variants):
        name, _, sets = spec.partition(":")
        over = [s for s in sets.split(",") if s]
        over += [f"train.max_seconds={minutes * 60}", "log.progress=false"]
        out = root / name
        t0 = time.perf_counter()
        if not trained:
            ganforge.train(preset, out=out, overrides=over)
        yield k, name, Run(out), minutes * 60 if trained else time.perf_counter() - t0
