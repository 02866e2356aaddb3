"""What every throughput worker shares: the timing protocol and its one JSON line.

Each worker (a reference program or ganforge) trains on the same in-memory data: 60,000
random 28x28 images in [-1, 1], the size of Fashion-MNIST (throughput does not depend on the
pixels). It runs ``warmup`` steps, then ``repeats`` timed windows of ``steps`` steps each and
prints one JSON line with the images/s of every window and the process's peak RSS. This file
imports nothing but the standard library so that the TensorFlow environment can use it too.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable

N_IMAGES = 60_000


def worker_args(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=10, help="steps per timed window")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=0, help="0: the framework's default")
    p.add_argument("--preset", default="seed")
    p.add_argument("--variant", default="", help="worker-specific option (e.g. channels_last)")
    return p.parse_args()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def time_windows(
    step: Callable[[], None], sync: Callable[[], None], args: argparse.Namespace
) -> list[float]:
    """Images/s of each timed window of ``args.steps`` steps, after ``args.warmup`` steps."""
    for _ in range(args.warmup):
        step()
    sync()
    rates = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync()
        rates.append(args.steps * args.batch / (time.perf_counter() - t0))
    return rates


def report(impl: str, args: argparse.Namespace, rates: list[float], **extra: object) -> None:
    rec = {
        "impl": impl,
        "preset": args.preset,
        "precision": args.precision,
        "batch": args.batch,
        "rates": [round(r, 2) for r in rates],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        **extra,
    }
    print(json.dumps(rec), flush=True)
    sys.stdout.flush()
