"""Mode coverage of the toy presets in their default runs.

Prints one JSON line per preset: modes covered, share of high-quality samples, seconds of
training on this machine. Usage: ``python benchmarks/toy_coverage.py [PRESET ...]``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import ganforge


def run(preset: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = ganforge.train(preset, out=f"{tmp}/run", progress=False)
        wall = time.perf_counter() - t0
    m = res.metrics
    return {
        "benchmark": "toy_coverage",
        "preset": preset,
        "steps": res.step,
        "modes_covered": m.get("modes_covered"),
        "num_modes": m.get("num_modes"),
        "high_quality": round(float(m.get("high_quality", 0.0)), 4),
        "train_seconds": round(res.elapsed_s, 1),
        "wall_seconds": round(wall, 1),
    }


if __name__ == "__main__":
    for name in sys.argv[1:] or ["toy-ring8", "toy-grid25"]:
        print(json.dumps(run(name)), flush=True)
