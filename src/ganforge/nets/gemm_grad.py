"""2-D convolutions whose weight gradient is one matrix product over gathered patches.

On the CPU, oneDNN's bf16 weight gradient of a convolution onto a small map (DCGAN's
256 -> 512 channels, 8x8 -> 4x4) runs far below the machine's matmul peak: 20.5 ms where
gathering the input's patches and one GEMM take 8.8 ms. Transposed convolutions out of a
small map (G's 512 -> 256, 4x4 -> 8x8) have the same weight gradient with the roles of
input and output gradient swapped. The layers here keep ``nn.Conv2d`` /
``nn.ConvTranspose2d``'s parameters (state dicts, spectral norm and layouts unchanged) and,
when ``gemm_grad`` is on and the small side of the layer is at most :data:`SMALL_MAP`
positions, run the forward with oneDNN and compute in the backward:

    conv:        dW (O, kh kw C)    = dY^T (O, N L_out) @ patches(X)  (N L_out, kh kw C)
    transposed:  dW (C_in, kh kw O) = X^T  (C_in, N L_in) @ patches(dY) (N L_in, kh kw O)

``patches`` is one strided gather of a padded NHWC map. The input gradient is the ordinary
oneDNN convolution of the other kind. Every op in the backward is differentiable, so
gradient penalties (R1, WGAN-GP) differentiate through it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SMALL_MAP = 16  # positions per image (4x4) at or below which the GEMM path pays (measured)


def patches(t: Tensor, kernel: int, stride: int, pad: int, out_hw: tuple[int, int]) -> Tensor:
    """(N * Ho * Wo, kernel * kernel * C): the ``kernel`` x ``kernel`` windows of ``t``
    (N, C, H, W) zero-padded by ``pad``, at ``stride``, ordered (kh, kw, C) per row."""
    n, c = t.shape[:2]
    ho, wo = out_hw
    nhwc = t.permute(0, 2, 3, 1)
    if pad:
        nhwc = F.pad(nhwc, (0, 0, pad, pad, pad, pad))
    nhwc = nhwc.contiguous()
    sn, sh, sw, sc = nhwc.stride()
    win = nhwc.as_strided(
        (n, ho, wo, kernel, kernel, c), (sn, sh * stride, sw * stride, sh, sw, sc)
    )
    return win.reshape(n * ho * wo, kernel * kernel * c)


def _rows(t: Tensor) -> Tensor:
    """(N * H * W, C) view of an (N, C, H, W) map (a copy unless it is NHWC already)."""
    return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])


def _weight_grad(small: Tensor, big: Tensor, kernel: int, stride: int, pad: int) -> Tensor:
    """(A, B, k, k): the weight gradient from the small-side map ``small`` (N, A, h, w) and
    the windows of the large-side map ``big`` (N, B, H, W) that each of its positions sees.
    Conv: small = dY, big = X; transposed: small = X, big = dY."""
    a, b = small.shape[1], big.shape[1]
    cols = patches(big, kernel, stride, pad, (small.shape[2], small.shape[3]))
    return (_rows(small).t() @ cols).reshape(a, kernel, kernel, b).permute(0, 3, 1, 2)


class _GemmConv(torch.autograd.Function):
    """A convolution (``extra`` None) or a transposed one (``extra``: its output padding)
    whose backward takes the weight gradient from :func:`_weight_grad`."""

    @staticmethod
    def forward(
        ctx, x: Tensor, w: Tensor, b: Tensor | None, stride: int, pad: int, extra: list | None
    ) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, pad, b is not None, extra is not None)
        if extra is None:
            return F.conv2d(x, w, b, stride, pad)
        return F.conv_transpose2d(x, w, b, stride, pad, extra)

    @staticmethod
    def backward(ctx, gy: Tensor):
        x, w = ctx.saved_tensors
        stride, pad, has_bias, transposed = ctx.conf
        gx = gw = gb = None
        k = w.shape[2]
        if ctx.needs_input_grad[0]:
            if transposed:
                gx = F.conv2d(gy, w, None, stride, pad)
            else:
                expect = [(gy.shape[i] - 1) * stride - 2 * pad + k for i in (2, 3)]
                extra = [x.shape[2] - expect[0], x.shape[3] - expect[1]]
                gx = F.conv_transpose2d(gy, w, None, stride, pad, extra)
        if ctx.needs_input_grad[1]:
            gw = (
                _weight_grad(x, gy, k, stride, pad)
                if transposed
                else _weight_grad(gy, x, k, stride, pad)
            )
        if has_bias and ctx.needs_input_grad[2]:
            gb = gy.sum((0, 2, 3))
        return gx, gw, gb, None, None, None


def _plain(m: nn.Module) -> bool:
    """The shapes the GEMM path handles: square kernel and stride, symmetric padding, no
    dilation or groups."""
    k, s, p = m.kernel_size, m.stride, m.padding
    return (
        k[0] == k[1]
        and s[0] == s[1]
        and not isinstance(p, str)
        and p[0] == p[1]
        and m.dilation == (1, 1)
        and m.groups == 1
    )


def _cast(x: Tensor, w: Tensor, b: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
    """Inputs as autocast would hand them to the convolution (the Function runs outside it)."""
    kind = x.device.type
    if torch.is_autocast_enabled(kind):
        dt = torch.get_autocast_dtype(kind)
        return x.to(dt), w.to(dt), None if b is None else b.to(dt)
    return x, w, b


class GemmGradConv2d(nn.Conv2d):
    """``nn.Conv2d`` with the GEMM weight gradient when ``gemm_grad`` is on and the output
    map has at most :data:`SMALL_MAP` positions (same parameters and results)."""

    gemm_grad = False

    def _conv_forward(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        h = (x.shape[-2] + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        w = (x.shape[-1] + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        if not (
            self.gemm_grad
            and x.dim() == 4
            and h * w <= SMALL_MAP
            and self.padding_mode == "zeros"
            and _plain(self)
            and torch.is_grad_enabled()
        ):
            return super()._conv_forward(x, weight, bias)
        x, weight, bias = _cast(x, weight, bias)
        with torch.autocast(x.device.type, enabled=False):
            return _GemmConv.apply(x, weight, bias, self.stride[0], self.padding[0], None)


class GemmGradConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` with the GEMM weight gradient when ``gemm_grad`` is on and
    the input map has at most :data:`SMALL_MAP` positions (same parameters and results)."""

    gemm_grad = False

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        if not (
            self.gemm_grad
            and x.dim() == 4
            and x.shape[-2] * x.shape[-1] <= SMALL_MAP
            and _plain(self)
            and torch.is_grad_enabled()
        ):
            return super().forward(x, output_size)
        extra = self._output_padding(
            x, output_size, self.stride, self.padding, self.kernel_size, 2, self.dilation
        )
        x, weight, bias = _cast(x, self.weight, self.bias)
        with torch.autocast(x.device.type, enabled=False):
            return _GemmConv.apply(x, weight, bias, self.stride[0], self.padding[0], list(extra))
