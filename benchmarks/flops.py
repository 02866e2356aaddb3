"""FLOPs of one training step, nominal and useful, and the machine's matmul peak.

Nominal FLOPs are what PyTorch's ``FlopCounterMode`` counts for one ``simultaneous`` /
alternating step (convolutions and matmuls, forward and backward). Useful FLOPs leave out
the multiply-adds on zero padding (TF 'same' pads, the transposed convs' cropped borders):
each convolution's count is scaled by the share of its kernel taps that land on real input,
found by running the same convolution on all-ones tensors.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ganforge.nets.dcgan_tf import TFSameConv2d, TFSameConvTranspose2d, _same_pads


def _tap_share(conv: nn.Module, in_hw: tuple[int, int]) -> float:
    """Share of this conv's multiply-adds that touch real (not padded) input."""
    k, s = conv.kernel_size, conv.stride
    ones_k = torch.ones(1, 1, *k, dtype=torch.float64)
    x = torch.ones(1, 1, *in_hw, dtype=torch.float64)
    if isinstance(conv, TFSameConvTranspose2d):
        h, w = in_hw[0] * s[0], in_hw[1] * s[1]
        top, left = _same_pads(h, k[0], s[0])[0], _same_pads(w, k[1], s[1])[0]
        out = F.conv_transpose2d(x, ones_k, stride=s, padding=(top, left))
        return float(out[..., :h, :w].sum()) / (in_hw[0] * in_hw[1] * k[0] * k[1])
    if isinstance(conv, nn.ConvTranspose2d):
        out = F.conv_transpose2d(x, ones_k, stride=s, padding=conv.padding)
        return float(out.sum()) / (in_hw[0] * in_hw[1] * k[0] * k[1])
    if isinstance(conv, TFSameConv2d):
        (t, b), (lft, r) = (_same_pads(in_hw[i], k[i], s[i]) for i in (0, 1))
        x, pad = F.pad(x, (lft, r, t, b)), 0
    else:
        pad = conv.padding
    out = F.conv2d(x, ones_k, stride=s, padding=pad)
    return float(out.sum()) / (out.shape[-2] * out.shape[-1] * k[0] * k[1])


def step_flops(step, *nets: nn.Module) -> tuple[float, float]:
    """(nominal, useful) FLOPs of calling ``step()`` once, for convs/matmuls in ``nets``."""
    shapes: dict[nn.Module, tuple[int, int]] = {}

    def record(mod: nn.Module, inputs: tuple) -> None:
        shapes.setdefault(mod, tuple(inputs[0].shape[-2:]))

    hooks = [
        m.register_forward_pre_hook(record)
        for net in nets
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
    ]
    try:
        with FlopCounterMode(display=False, depth=None) as counter:
            step()
    finally:
        for h in hooks:
            h.remove()
    nominal = float(counter.get_total_flops())
    names = {}
    for net in nets:
        for name, m in net.named_modules():
            if m in shapes:
                names[m] = name
    by_module = counter.get_flop_counts()
    waste = 0.0
    for mod, hw in shapes.items():
        # FlopCounterMode keys modules by their path under the root module's class name
        key = next((k for k in by_module if k.endswith("." + names[mod])), None)
        if key is None:
            continue
        flops = float(sum(by_module[key].values()))
        waste += flops * (1.0 - _tap_share(mod, hw))
    return nominal, nominal - waste


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """Best FLOP/s of an n x n x n ``torch.mm`` in ``dtype`` over a few repeats."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2 * n**3 / (time.perf_counter() - t0))
    return best
