"""Convolutions on small feature maps computed as products in the frequency domain.

On a 7x7 map a 5x5 convolution costs 25 multiply-adds per output pixel and channel pair,
and oneDNN runs the strided ones (and the weight gradients) well below the machine's matmul
peak. In the frequency domain the same layer is one small complex matrix product per
frequency: for the seed's 256->128 transposed conv 45 frequencies x 4 real products instead
of 49 x 25 taps, 6.8x fewer multiply-adds. On maps this small the DFT itself is a dense
matrix product too, so the whole layer (and, through autograd, its gradients) is a handful
of GEMMs, which is what the CPU does best.

How: a stride-``s`` convolution is a sum of stride-1 correlations between the ``s*s``
polyphase components of its input (space-to-depth, phases become channels); a stride-``s``
transposed convolution produces ``s*s`` output phases (depth-to-space). A stride-1
correlation is exact as a circular one of size ``N`` when ``N`` leaves room for the taps
that reach past the map's edges (:func:`_axis`), so each layer is:

    x -> phases -> DFT (matrix A) -> per frequency: [Xr; Xi] @ [Wr Wi]
      -> (XrWr - XiWi, XrWi + XiWr) -> inverse DFT (matrix S) -> phases -> y

with ``W`` the DFT of the kernel taps (matrix H times the weights, every call, so the
weights stay ordinary parameters). Only half the spectrum is kept (the signals are real).
The results equal ``F.conv2d`` / ``F.conv_transpose2d`` to float rounding (tested against
float64); in bf16 the error is of the same order as oneDNN's bf16 convolution.
:func:`spectral_pays` says from a multiply-add count when a layer is worth it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import torch
from torch import Tensor


@dataclass(frozen=True)
class _Axis:
    """One spatial axis of a layer: phase counts, lengths, circular size and taps."""

    p_in: int  # input phases (the stride for a conv, 1 for a transposed conv)
    p_out: int  # output phases (1 for a conv, the stride for a transposed conv)
    len_in: int  # length of each input phase
    len_out: int  # length of each output phase
    n_out: int  # output length
    size: int  # circular DFT size N
    taps: tuple[tuple[int, int, int, int], ...]  # (out phase, in phase, offset a, kernel k)

    @property
    def n_half(self) -> int:
        return self.size // 2 + 1


@lru_cache(maxsize=64)
def _axis(transposed: bool, n_in: int, n_out: int, kernel: int, stride: int, before: int) -> _Axis:
    """Describe one axis as ``y_ro[m] = sum x_ri[m + a] * w[k]`` over the taps.

    conv:       y[o] = sum_k x[s*o + k - before] w[k]   (input zero outside [0, n_in))
    transposed: y[o] = sum x[i] w[k] over s*i + k - before = o
    """
    taps = []
    if not transposed:
        p_in, p_out = stride, 1
        len_in, len_out = -(-n_in // stride), n_out
        for k in range(kernel):
            d = k - before
            r = d % stride
            taps.append((0, r, (d - r) // stride, k))
    else:
        p_in, p_out = 1, stride
        len_in, len_out = n_in, -(-n_out // stride)
        for ro in range(stride):
            for k in range(kernel):
                if (k - ro - before) % stride == 0:
                    taps.append((ro, 0, -((k - ro - before) // stride), k))
    offsets = [a for *_, a, _ in taps]
    lo, hi = min(min(offsets), 0), max(max(offsets), 0)
    # Wrapped reads must land on zeros: below 0 they wrap to N + (m + a) >= len_in, above
    # len_in they must not wrap at all (m + a < N); outputs need N >= len_out.
    size = max(len_in - lo, len_out + hi, len_in, len_out)
    return _Axis(p_in, p_out, len_in, len_out, n_out, size, tuple(taps))


@dataclass(frozen=True)
class _Transforms:
    """The real matrices of one layer (float64, cast per call)."""

    analysis: Tensor  # (n_freq * 2, len_in_h * len_in_w): rows (freq, re/im)
    synthesis: Tensor  # (len_out_h * len_out_w, n_freq * 2): cols (freq, re/im)
    kernel: Tensor  # (n_freq * 2 * p_out * p_in, kh * kw): rows (freq, re/im, out, in phase)
    n_freq: int
    p_in: int  # phases of both axes together
    p_out: int
    cast: dict = field(default_factory=dict, compare=False)  # (name, dtype, device) -> Tensor

    def get(self, name: str, like: Tensor) -> Tensor:
        """Matrix ``name`` in ``like``'s dtype and device (converted once)."""
        key = (name, like.dtype, like.device)
        got = self.cast.get(key)
        if got is None:
            got = self.cast[key] = getattr(self, name).to(dtype=like.dtype, device=like.device)
        return got


def _dft(length: int, size: int, sign: float, scale: float = 1.0) -> Tensor:
    """Complex (size, length) matrix exp(sign * 2 pi i p m / size) * scale."""
    p = torch.arange(size, dtype=torch.float64)[:, None]
    m = torch.arange(length, dtype=torch.float64)[None, :]
    magnitude = torch.full((size, length), scale, dtype=torch.float64)
    return torch.polar(magnitude, sign * 2 * math.pi * p * m / size)


def _kernel_dft(ax: _Axis, kernel: int) -> Tensor:
    """Complex (size, p_out, p_in, kernel): each tap's response e^{+2 pi i p a / N}."""
    h = torch.zeros(ax.size, ax.p_out, ax.p_in, kernel, dtype=torch.complex128)
    p = torch.arange(ax.size, dtype=torch.float64)
    for ro, ri, a, k in ax.taps:
        h[:, ro, ri, k] += torch.polar(torch.ones_like(p), 2 * math.pi * p * a / ax.size)
    return h


@lru_cache(maxsize=64)
def _transforms(ay: _Axis, ax: _Axis, kh: int, kw: int) -> _Transforms:
    # Height uses the full spectrum, width the half one (real signals: conjugate symmetry).
    a_h = _dft(ay.len_in, ay.size, -1.0)
    a_w = _dft(ax.len_in, ax.size, -1.0)[: ax.n_half]
    analysis = torch.einsum("pi,qj->pqij", a_h, a_w).reshape(-1, ay.len_in * ax.len_in)
    # Synthesis: y = Re sum_f c_q Y_f e^{+...} / (Nh Nw), c_q = 2 for the folded half.
    c = torch.full((ax.n_half,), 2.0, dtype=torch.float64)
    c[0] = 1.0
    if ax.size % 2 == 0:
        c[-1] = 1.0
    s_h = _dft(ay.len_out, ay.size, 1.0, 1.0 / ay.size).T  # (len_out, size)
    s_w = _dft(ax.len_out, ax.size, 1.0, 1.0 / ax.size).T[:, : ax.n_half] * c
    synthesis = torch.einsum("ip,jq->ijpq", s_h, s_w).reshape(ay.len_out * ax.len_out, -1)
    h_h, h_w = _kernel_dft(ay, kh), _kernel_dft(ax, kw)[: ax.n_half]
    # (p, q, out phase h, out phase w, in phase h, in phase w, kh, kw)
    kern = torch.einsum("pabk,qcdl->pqacbdkl", h_h, h_w)
    n_freq = ay.size * ax.n_half
    kern = kern.reshape(n_freq, 1, -1, kh * kw)
    return _Transforms(
        analysis=torch.stack([analysis.real, analysis.imag], 1).reshape(-1, analysis.shape[1]),
        synthesis=torch.stack([synthesis.real, -synthesis.imag], 2).reshape(synthesis.shape[0], -1),
        kernel=torch.cat([kern.real, kern.imag], 1).reshape(-1, kh * kw),
        n_freq=n_freq,
        p_in=ay.p_in * ax.p_in,
        p_out=ay.p_out * ax.p_out,
    )


def _nhwc_to_phases(x: Tensor, p_h: int, p_w: int, len_h: int, len_w: int) -> Tensor:
    """(B, H, W, C) -> (len_h * len_w, B * p_h * p_w * C): space-to-depth, spatial-major."""
    b, h, w, c = x.shape
    if p_h * len_h != h or p_w * len_w != w:  # pad to whole phases with zeros
        x = torch.nn.functional.pad(x, (0, 0, 0, p_w * len_w - w, 0, p_h * len_h - h))
    x = x.reshape(b, len_h, p_h, len_w, p_w, c)
    return x.permute(1, 3, 0, 2, 4, 5).reshape(len_h * len_w, b * p_h * p_w * c)


def _phases_to_nhwc(
    y: Tensor, b: int, p_h: int, p_w: int, len_h: int, len_w: int, n_h: int, n_w: int
) -> Tensor:
    """(len_h * len_w, B * p_h * p_w * D) -> contiguous (B, n_h, n_w, D): the inverse."""
    d = y.shape[1] // (b * p_h * p_w)
    out = y.view(len_h, len_w, b, p_h, p_w, d).permute(2, 0, 3, 1, 4, 5)
    out = out.reshape(b, len_h * p_h, len_w * p_w, d)
    return out[:, :n_h, :n_w].contiguous()


class _ToPhases(torch.autograd.Function):
    """(B, C, H, W) -> (len_h * len_w, B * p_h * p_w * C), its gradient in channels_last.

    Autograd's own backward of the permutes hands back a gradient in the spectra's
    spatial-major order; every element-wise op after it (dropout, LeakyReLU, batch norm
    backward) then mixes two memory orders and falls off PyTorch's vectorised path (5 ms
    instead of 0.4 ms per op on the seed's discriminator). So both directions meet the rest
    of the net in channels_last.
    """

    @staticmethod
    def forward(ctx, x: Tensor, p_h: int, p_w: int, len_h: int, len_w: int) -> Tensor:  # type: ignore[override]
        ctx.shape = (x.shape[0], p_h, p_w, len_h, len_w, x.shape[2], x.shape[3])
        return _nhwc_to_phases(x.permute(0, 2, 3, 1), p_h, p_w, len_h, len_w)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        return _FromPhases.apply(grad, *ctx.shape), None, None, None, None


class _FromPhases(torch.autograd.Function):
    """(len_h * len_w, B * p_h * p_w * D) -> (B, D, n_h, n_w) in channels_last; see above."""

    @staticmethod
    def forward(ctx, y, b, p_h, p_w, len_h, len_w, n_h, n_w) -> Tensor:  # type: ignore[override]
        ctx.phases = (p_h, p_w, len_h, len_w)
        return _phases_to_nhwc(y, b, p_h, p_w, len_h, len_w, n_h, n_w).permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        return (_ToPhases.apply(grad, *ctx.phases),) + (None,) * 7


class _ComplexParts(torch.autograd.Function):
    """[[XrWr XrWi]; [XiWr XiWi]] (F, 2B, 2D) -> [XrWr - XiWi; XrWi + XiWr] (F, 2, B, D).

    Written out because autograd's slicing backward would zero-fill four full-size
    gradients; this backward writes the one it needs.
    """

    @staticmethod
    def forward(ctx, prod: Tensor) -> Tensor:  # type: ignore[override]
        f, b2, d2 = prod.shape
        b, d = b2 // 2, d2 // 2
        out = prod.new_empty(f, 2, b, d)
        torch.sub(prod[:, :b, :d], prod[:, b:, d:], out=out[:, 0])
        torch.add(prod[:, :b, d:], prod[:, b:, :d], out=out[:, 1])
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        re, im = grad[:, 0], grad[:, 1]
        if torch.is_grad_enabled():  # create_graph (e.g. R1): stay differentiable
            return torch.cat([torch.cat([re, im], 2), torch.cat([im, -re], 2)], 1)
        f, b, d = re.shape
        g = grad.new_empty(f, 2 * b, 2 * d)
        g[:, :b, :d] = re
        g[:, :b, d:] = im
        g[:, b:, :d] = im
        torch.neg(re, out=g[:, b:, d:])
        return g


def _spectral(x: Tensor, weight_kcd: Tensor, ay: _Axis, ax: _Axis, kh: int, kw: int) -> Tensor:
    """The layer described by ``ay``/``ax``; ``weight_kcd`` is (kh*kw, C, D)."""
    t = _transforms(ay, ax, kh, kw)
    b, c = x.shape[:2]
    d = weight_kcd.shape[2]
    f, pc, pd = t.n_freq, t.p_in * c, t.p_out * d
    xp = _ToPhases.apply(x, ay.p_in, ax.p_in, ay.len_in, ax.len_in)  # (L_in, B P_in C)
    # rows (freq, re/im) by columns (batch, phase, channel): per frequency [Xr; Xi]
    xf = torch.matmul(t.get("analysis", xp), xp).view(f, 2 * b, pc)
    w2 = weight_kcd.reshape(kh * kw, c * d)
    wf = torch.matmul(t.get("kernel", w2), w2).view(f, 2, t.p_out, t.p_in, c, d)
    wf = wf.permute(0, 3, 4, 1, 2, 5).reshape(f, pc, 2 * pd)  # per frequency [Wr Wi]
    # [Xr; Xi] @ [Wr Wi] = [[XrWr XrWi]; [XiWr XiWi]]: the four real products of XW.
    prod = torch.bmm(xf, wf.to(xf.dtype))
    yf = _ComplexParts.apply(prod).view(2 * f, b * pd)  # rows (freq, re/im)
    y = torch.matmul(t.get("synthesis", yf), yf)  # (L_out, B P_out D)
    return _FromPhases.apply(y, b, ay.p_out, ax.p_out, ay.len_out, ax.len_out, ay.n_out, ax.n_out)


def spectral_conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: int, pads: tuple[int, int, int, int]
) -> Tensor:
    """``F.conv2d(F.pad(x, pads), weight, bias, stride)``; ``pads`` = (left, right, top, bottom)."""
    left, right, top, bottom = pads
    d, c, kh, kw = weight.shape
    h, w = x.shape[-2:]
    ay = _axis(False, h, (h + top + bottom - kh) // stride + 1, kh, stride, top)
    ax = _axis(False, w, (w + left + right - kw) // stride + 1, kw, stride, left)
    y = _spectral(x, weight.permute(2, 3, 1, 0).reshape(kh * kw, c, d), ay, ax, kh, kw)
    return y if bias is None else y + bias.view(1, -1, 1, 1).to(y.dtype)


def spectral_conv_transpose2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int,
    crop: tuple[int, int],
    out_size: tuple[int, int],
) -> Tensor:
    """``F.conv_transpose2d(x, weight, bias, stride)`` with ``crop`` = (top, left) rows/cols
    cut from the start of the full output and ``out_size`` kept."""
    c, d, kh, kw = weight.shape
    h, w = x.shape[-2:]
    ay = _axis(True, h, out_size[0], kh, stride, crop[0])
    ax = _axis(True, w, out_size[1], kw, stride, crop[1])
    y = _spectral(x, weight.permute(2, 3, 0, 1).reshape(kh * kw, c, d), ay, ax, kh, kw)
    return y if bias is None else y + bias.view(1, -1, 1, 1).to(y.dtype)


@lru_cache(maxsize=256)  # asked on every forward of a switched layer
def spectral_macs(
    transposed: bool,
    in_hw: tuple[int, int],
    out_hw: tuple[int, int],
    channels: tuple[int, int],
    kernel: int,
    stride: int,
    before: tuple[int, int],
) -> tuple[int, int]:
    """(direct, spectral) multiply-adds per sample of one forward pass."""
    c, d = channels
    ay = _axis(transposed, in_hw[0], out_hw[0], kernel, stride, before[0])
    ax = _axis(transposed, in_hw[1], out_hw[1], kernel, stride, before[1])
    n_freq = ay.size * ax.n_half
    p_in, p_out = ay.p_in * ax.p_in, ay.p_out * ax.p_out
    taps = kernel * kernel
    direct = (in_hw[0] * in_hw[1] if transposed else out_hw[0] * out_hw[1]) * taps * c * d
    spectral = (
        2 * n_freq * ay.len_in * ax.len_in * p_in * c  # analysis
        + n_freq * (2 * p_in * c) * (2 * p_out * d)  # per-frequency products
        + ay.len_out * ax.len_out * 2 * n_freq * p_out * d  # synthesis
    )
    return direct, spectral


def spectral_pays(direct: int, spectral: int, low_precision: bool) -> bool:
    """Whether the frequency domain is worth it, from the multiply-adds of one pass.

    Its GEMMs are small and its layout shuffles cost memory traffic, so it must save a
    margin, measured per precision on a 2-core AVX-512 CPU (``benchmarks/throughput.py``):
    in bf16 the seed's layers at 0.67 of the direct count ran 1.3-1.5x faster; in fp32
    (PyTorch's fp32 GEMMs are slower than oneDNN's fp32 convolutions there) the same layers
    broke even or lost, and only the one at 0.19 won (2.3x).
    """
    return spectral < (0.75 if low_precision else 0.5) * direct
