"""Whether bf16 autocast learns as well as fp32, in minutes-long runs.

Two checks, one JSON line each:

- ``toy-ring8``: the whole preset in bf16 (ring coordinates near 2 are quantised to 1/64,
  about the modes' width), modes covered and the share of high-quality samples beside an
  fp32 run of the same seed. This is why ``train.precision=auto`` keeps MLPs in fp32.
- ``fashion-mnist``: 300 steps in fp32 and in bf16 (and one step, the start), Frechet
  distance on 4x4-pooled pixels of 2,000 samples against 2,000 real images.

Where bf16 is emulated (AVX2-only CPUs) bf16 runs hundreds of times slower: run this where
oneDNN has bf16 (AVX-512 BF16 or AMX). Usage::

    python benchmarks/bf16_quality.py [ring] [fashion]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import ganforge
from ganforge.data import load_dataset
from ganforge.engine.performance import cpu_has_native_bf16
from ganforge.metrics.fid import fid

QUIET = ["log.progress=false", "log.sample_every=100000", "log.checkpoint_every=100000"]


def ring(tmp: Path) -> dict:
    """The toy-ring8 preset in fp32 and in bf16."""
    got: dict = {"benchmark": "bf16_quality", "check": "toy-ring8"}
    for prec in ("fp32", "bf16"):
        t0 = time.perf_counter()
        res = ganforge.train("toy-ring8", out=tmp / f"ring-{prec}",
                             overrides=QUIET + [f"train.precision={prec}"])
        got[prec] = {
            "steps": res.step,
            "modes_covered": res.metrics.get("modes_covered"),
            "high_quality": round(float(res.metrics.get("high_quality", 0.0)), 4),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    return got


def fashion(tmp: Path, steps: int = 300, n: int = 2000) -> dict:
    """Pooled-pixel Frechet distance after ``steps`` steps in fp32 and bf16."""
    real = load_dataset("fashion-mnist", seed=0)
    idx = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:n]

    def feats(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 4).flatten(1).double()

    ref = feats(real.batch(idx)[0])
    got: dict = {"benchmark": "bf16_quality", "check": "fashion-mnist", "steps": steps}
    for prec, k in (("fp32", 1), ("fp32", steps), ("bf16", steps)):
        res = ganforge.train("fashion-mnist", out=tmp / f"fashion-{prec}{k}", steps=k,
                             overrides=QUIET + ["train.ema=0", f"train.precision={prec}"])
        fake = ganforge.load_run(res.run_dir).sample(n, seed=1)
        got["start" if k == 1 else prec] = round(fid(ref, feats(fake)), 4)
    return got


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["ring", "fashion"]
    if not cpu_has_native_bf16():
        print("note: bf16 is emulated on this CPU; these runs will be very slow", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        for name in wanted:
            check = {"ring": ring, "fashion": fashion}[name]
            print(json.dumps(check(Path(tmp))), flush=True)
