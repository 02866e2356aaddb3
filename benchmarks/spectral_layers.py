"""Per-layer timing of the seed's three large convolutions: oneDNN against the spectral path.

For each layer and precision, forward + both gradients at batch 256 in channels_last, the
median of ``--repeats`` timings after a warm-up, and the relative error of each path
against a float64 reference. One JSON line per (layer, precision). Usage::

    PYTHONPATH=src python benchmarks/spectral_layers.py [--batch 256] [--repeats 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from ganforge.nets.spectral_conv import (
    spectral_conv2d,
    spectral_conv_transpose2d,
    spectral_macs,
    spectral_pays,
)

Conv = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def layers(batch: int) -> dict[str, tuple[tuple, tuple, Conv, Conv, tuple]]:
    """name -> (input shape, weight shape, oneDNN path, spectral path, spectral_macs args)."""
    cl = torch.channels_last
    return {
        "G 256->128 transposed, 7x7": (
            (batch, 256, 7, 7),
            (256, 128, 5, 5),
            lambda x, w: F.conv_transpose2d(x, w, None, 1, 2),
            lambda x, w: spectral_conv_transpose2d(x, w, None, 1, (2, 2), (7, 7)),
            (True, (7, 7), (7, 7), (256, 128), 5, 1, (2, 2)),
        ),
        "G 128->64 transposed stride 2, 7->14": (
            (batch, 128, 7, 7),
            (128, 64, 5, 5),
            lambda x, w: F.conv_transpose2d(x, w, None, 2, 1)[..., :14, :14].contiguous(
                memory_format=cl
            ),
            lambda x, w: spectral_conv_transpose2d(x, w, None, 2, (1, 1), (14, 14)),
            (True, (7, 7), (14, 14), (128, 64), 5, 2, (1, 1)),
        ),
        "D 64->128 stride 2, 14->7": (
            (batch, 64, 14, 14),
            (128, 64, 5, 5),
            lambda x, w: F.conv2d(F.pad(x, (1, 2, 1, 2)), w, None, 2),
            lambda x, w: spectral_conv2d(x, w, None, 2, (1, 2, 1, 2)),
            (False, (14, 14), (7, 7), (64, 128), 5, 2, (1, 1)),
        ),
    }


def forward_backward(
    conv: Conv, x: torch.Tensor, w: torch.Tensor, grad: torch.Tensor | None, bf16: bool
) -> torch.Tensor:
    """One forward and both gradients; returns the forward output."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = conv(x, w)
    if grad is not None:
        torch.autograd.grad(out, (x, w), grad)
    return out


def time_ms(fn: Callable[[], object], repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeats", type=int, default=8)
    args = p.parse_args()
    torch.manual_seed(0)
    for name, (xs, ws, native, spectral, macs_args) in layers(args.batch).items():
        x = torch.randn(xs).contiguous(memory_format=torch.channels_last).requires_grad_()
        w = (torch.randn(ws) * 0.02).requires_grad_()
        exact = native(x.detach().double(), w.detach().double())
        direct, spec = spectral_macs(*macs_args)
        for prec in ("fp32", "bf16"):
            bf16 = prec == "bf16"
            rec = {"benchmark": "spectral_layers", "layer": name, "precision": prec}
            for label, conv in (("onednn", native), ("spectral", spectral)):
                y = forward_backward(conv, x, w, None, bf16)
                step = partial(forward_backward, conv, x, w, torch.randn_like(y), bf16)
                err = ((y.double() - exact).norm() / exact.norm()).item()
                rec[f"{label}_ms"] = round(time_ms(step, args.repeats), 1)
                rec[f"{label}_rel_err"] = float(f"{err:.2e}")
            rec["macs_per_image"] = {"direct": direct, "spectral": spec}
            rec["taken"] = spectral_pays(direct, spec, bf16)
            print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
