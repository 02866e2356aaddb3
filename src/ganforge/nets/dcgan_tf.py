"""The TensorFlow DCGAN tutorial's pair for 28x28 grey images, with Keras' defaults.

Keras differs from PyTorch in ways that matter for a faithful port, all kept as parameters:
LeakyReLU slope 0.3 (not 0.01), BatchNormalization eps 1e-3 and momentum 0.99 (PyTorch's
``momentum`` is 1 - Keras'), Glorot-uniform kernels with zero biases, NHWC reshape/flatten
order, and TF's 'same' padding, which is asymmetric for even inputs (see below).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.nets.base import Discriminator, Generator, apply_spectral_norm, positive
from ganforge.nets.dropout import FastDropout
from ganforge.nets.init import init_weights
from ganforge.nets.spectral_conv import (
    spectral_conv2d,
    spectral_conv_transpose2d,
    spectral_macs,
    spectral_pays,
)

TF_SHAPE = (1, 28, 28)


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF 'same' padding (before, after) for a conv on ``size`` inputs: output ceil(size/s).

    TF puts the odd pixel after: a 5x5 stride-2 conv on 28 pads 1 before and 2 after,
    where PyTorch's symmetric ``padding=2`` would shift every window by one pixel.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _spectral_wins(
    transposed: bool, conv: nn.modules.conv._ConvNd, x: Tensor, pads: tuple[int, int]
) -> bool:
    in_hw = (x.shape[-2], x.shape[-1])
    out_hw = (
        (in_hw[0] * conv.stride[0], in_hw[1] * conv.stride[0])
        if transposed
        else (-(-in_hw[0] // conv.stride[0]), -(-in_hw[1] // conv.stride[0]))
    )
    channels = (conv.in_channels, conv.out_channels)
    k, s = conv.kernel_size[0], conv.stride[0]
    low = x.dtype in (torch.bfloat16, torch.float16) or torch.is_autocast_enabled(x.device.type)
    return spectral_pays(*spectral_macs(transposed, in_hw, out_hw, channels, k, s, pads), low)


class TFSameConv2d(nn.Conv2d):
    """``Conv2d`` with TensorFlow's 'same' padding (zero-pad asymmetrically, then pad 0).

    With ``spectral`` set (``train.spectral_conv``), maps small enough for the frequency
    domain to pay (``spectral_pays``) are convolved there (same result).
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, bias: bool = True):
        super().__init__(in_ch, out_ch, kernel, stride, padding=0, bias=bias)
        self.spectral = False

    def forward(self, x: Tensor) -> Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = _same_pads(x.shape[-2], k, s)
        left, right = _same_pads(x.shape[-1], k, s)
        pads = (left, right, top, bottom)
        if self.spectral and _spectral_wins(False, self, x, (top, left)):
            return spectral_conv2d(x, self.weight, self.bias, s, pads)
        return super().forward(F.pad(x, pads))


class TFSameConvTranspose2d(nn.ConvTranspose2d):
    """``ConvTranspose2d`` with TensorFlow's 'same' padding: output is ``stride * input``.

    A transposed conv is the gradient of the conv it undoes, so it crops what that conv
    (on a ``stride * n`` input) would have padded: ``before`` rows/cols at the start and
    ``after`` at the end of the full output. PyTorch's ``padding`` crops the same amount at
    both ends, so it is set to ``before`` (TF's smaller side) and only the ``after - before``
    extra rows are cut afterwards: none for 5x5 stride 1, one for 5x5 stride 2. (Computing
    the full output and slicing it wasted 2.5x the work of the 7x7 layer.) ``spectral`` as
    in :class:`TFSameConv2d`.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, bias: bool = False):
        super().__init__(in_ch, out_ch, kernel, stride, padding=0, bias=bias)
        self.spectral = False

    def forward(self, x: Tensor) -> Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        h, w = x.shape[-2] * s, x.shape[-1] * s
        top, _ = _same_pads(h, k, s)
        left, _ = _same_pads(w, k, s)
        if self.spectral and _spectral_wins(True, self, x, (top, left)):
            return spectral_conv_transpose2d(x, self.weight, self.bias, s, (top, left), (h, w))
        y = F.conv_transpose2d(
            x, self.weight, self.bias, s, (top, left), 0, self.groups, self.dilation
        )
        if y.shape[-2] == h and y.shape[-1] == w:
            return y
        fmt = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else None
        y = y[..., :h, :w]
        return y.contiguous(memory_format=fmt) if fmt else y.contiguous()


def _check_shape(shape: tuple[int, ...]) -> None:
    if tuple(shape) != TF_SHAPE:
        raise ValueError(
            f"dcgan-tf is the TF tutorial's net for 28x28 grey images and needs samples of "
            f"shape {TF_SHAPE}; got {tuple(shape)}: use arch dcgan or resnet"
        )


class TFTutorialGenerator(Generator):
    """Dense(7*7*4w) - BN - LeakyReLU - ConvT(2w, s1) - BN - LReLU - ConvT(w, s2) - BN - LReLU
    - ConvT(1, s2) - tanh, all 5x5 'same' without biases. ``base_channels`` w=64 is the tutorial.
    """

    def __init__(
        self,
        z_dim: int = 100,
        out_shape: tuple[int, ...] = TF_SHAPE,
        base_channels: int = 64,
        num_classes: int = 0,
        leaky_slope: float = 0.3,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.01,
        init: str = "glorot",
        embed_dim: int | None = None,
    ) -> None:
        _check_shape(out_shape)
        super().__init__(z_dim, out_shape, num_classes, embed_dim)
        w = positive("base_channels", base_channels)
        self.top_channels = 4 * w
        n_dense = 7 * 7 * self.top_channels

        def bn2(c: int) -> nn.BatchNorm2d:
            return nn.BatchNorm2d(c, eps=bn_eps, momentum=bn_momentum)

        self.dense = nn.Sequential(
            nn.Linear(self.in_dim, n_dense, bias=False),
            nn.BatchNorm1d(n_dense, eps=bn_eps, momentum=bn_momentum),
            nn.LeakyReLU(leaky_slope),
        )
        self.convs = nn.Sequential(
            TFSameConvTranspose2d(4 * w, 2 * w, 5, 1),
            bn2(2 * w),
            nn.LeakyReLU(leaky_slope),
            TFSameConvTranspose2d(2 * w, w, 5, 2),
            bn2(w),
            nn.LeakyReLU(leaky_slope),
            TFSameConvTranspose2d(w, 1, 5, 2),
            nn.Tanh(),
        )
        init_weights(self, init)

    def body(self, h: Tensor) -> Tensor:
        # Keras' Reshape((7, 7, 256)) reads the Dense units in NHWC order.
        x = self.dense(h).view(h.shape[0], 7, 7, self.top_channels).permute(0, 3, 1, 2)
        return self.convs(x)


class TFTutorialDiscriminator(Discriminator):
    """Conv(w, s2) - LeakyReLU - Dropout - Conv(2w, s2) - LeakyReLU - Dropout - Flatten,
    5x5 'same' with biases; then the base head Dense(1). w=64 is the tutorial.
    """

    def __init__(
        self,
        in_shape: tuple[int, ...] = TF_SHAPE,
        base_channels: int = 64,
        num_classes: int = 0,
        leaky_slope: float = 0.3,
        dropout: float = 0.3,
        spectral_norm: bool = False,
        init: str = "glorot",
    ) -> None:
        _check_shape(in_shape)
        w = positive("base_channels", base_channels)
        super().__init__(in_shape, 7 * 7 * 2 * w, num_classes)
        self.convs = nn.Sequential(
            TFSameConv2d(1, w, 5, 2),
            nn.LeakyReLU(leaky_slope),
            FastDropout(dropout),
            TFSameConv2d(w, 2 * w, 5, 2),
            nn.LeakyReLU(leaky_slope),
            FastDropout(dropout),
        )
        init_weights(self, init)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: Tensor) -> Tensor:
        # Keras' Flatten reads NHWC.
        return self.convs(x).permute(0, 2, 3, 1).flatten(1)
