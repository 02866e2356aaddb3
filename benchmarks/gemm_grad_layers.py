"""Per-layer forward + backward ms of the DCGAN 64 px photo preset's convolutions, oneDNN's
weight gradient against ``nets/gemm_grad.py``'s GEMM, one JSON line per layer.

Usage::

    python benchmarks/gemm_grad_layers.py [--precision bf16|fp32] [--batch 64] [--reps 20]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from ganforge.nets import gemm_grad
from ganforge.nets.gemm_grad import GemmGradConv2d, GemmGradConvTranspose2d

# (name, layer class, in channels, out channels, input side) of folder-rgb's DCGAN
LAYERS = [
    ("D 64->128 32->16", GemmGradConv2d, 64, 128, 32),
    ("D 128->256 16->8", GemmGradConv2d, 128, 256, 16),
    ("D 256->512 8->4", GemmGradConv2d, 256, 512, 8),
    ("G z->512 1->4", GemmGradConvTranspose2d, 128, 512, 1),
    ("G 512->256 4->8", GemmGradConvTranspose2d, 512, 256, 4),
    ("G 256->128 8->16", GemmGradConvTranspose2d, 256, 128, 8),
    ("G 128->64 16->32", GemmGradConvTranspose2d, 128, 64, 16),
]


def median_ms(layer: torch.nn.Module, x: torch.Tensor, bf16: bool, reps: int) -> float:
    x = x.detach().clone().requires_grad_(True)
    times = []
    for i in range(reps + 3):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            y = layer(x)
        y.float().sum().backward()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2] * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--reps", type=int, default=20)
    args = p.parse_args()
    bf16 = args.precision == "bf16"
    gemm_grad.SMALL_MAP = 10**9  # time every layer both ways, whatever the rule picks
    torch.manual_seed(0)
    for name, cls, c_in, c_out, side in LAYERS:
        k, s, pad = (4, 1, 0) if side == 1 else (4, 2, 1)
        layer = cls(c_in, c_out, k, s, pad, bias=False).to(memory_format=torch.channels_last)
        x = torch.randn(args.batch, c_in, side, side).to(memory_format=torch.channels_last)
        ms = {}
        for on in (False, True):
            layer.gemm_grad = on
            ms[on] = median_ms(layer, x.bfloat16() if bf16 else x, bf16, args.reps)
        line = {
            "benchmark": "gemm_grad_layers",
            "layer": name,
            "precision": args.precision,
            "batch": args.batch,
            "onednn_ms": round(ms[False], 2),
            "gemm_ms": round(ms[True], 2),
            "speedup": round(ms[False] / ms[True], 2),
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
