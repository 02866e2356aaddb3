"""SNGAN-style ResNets (Miyato et al. 2018) for square images of 16, 28, 32, 64 or 128 pixels.

Every block has ``base_channels`` channels, as in the paper's CIFAR-10 nets. G starts at
4x4 (7x7 for 28 px) and doubles with up blocks; D halves with down blocks to the same
size, adds one block there, and sums ReLU activations over space into its features.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.nets.base import Discriminator, Generator, apply_spectral_norm, positive
from ganforge.nets.init import init_weights
from ganforge.nets.layout import image_layout


def _conv3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, 1, 1)


class UpBlock(nn.Module):
    """BN-ReLU-Upsample-Conv3x3-BN-ReLU-Conv3x3, plus Upsample-Conv1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int, bn_eps: float, bn_momentum: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in, eps=bn_eps, momentum=bn_momentum)
        self.conv1 = _conv3(c_in, c_out)
        self.bn2 = nn.BatchNorm2d(c_out, eps=bn_eps, momentum=bn_momentum)
        self.conv2 = _conv3(c_out, c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class FirstDownBlock(nn.Module):
    """D's first block: Conv3x3-ReLU-Conv3x3-AvgPool, plus AvgPool-Conv1x1 shortcut.

    No ReLU before the first conv: the input is the image itself.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = _conv3(c_in, c_out)
        self.conv2 = _conv3(c_out, c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.avg_pool2d(self.conv2(F.relu(self.conv1(x))), 2)
        return h + self.shortcut(F.avg_pool2d(x, 2))


class DownBlock(nn.Module):
    """ReLU-Conv3x3-ReLU-Conv3x3-(AvgPool), plus Conv1x1-(AvgPool) shortcut when needed."""

    def __init__(self, c_in: int, c_out: int, downsample: bool) -> None:
        super().__init__()
        self.downsample = downsample
        self.conv1 = _conv3(c_in, c_out)
        self.conv2 = _conv3(c_out, c_out)
        learnable = downsample or c_in != c_out
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if learnable else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(F.relu(x))))
        s = self.shortcut(x)
        if self.downsample:
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(s, 2)
        return h + s


class ResNetGenerator(Generator):
    """Linear z -> start x start x ch, up blocks, then BN-ReLU-Conv3x3-tanh."""

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        base_channels: int = 64,
        num_classes: int = 0,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        init: str = "xavier",
        embed_dim: int | None = None,
    ) -> None:
        layout = image_layout(out_shape, "resnet")
        super().__init__(z_dim, out_shape, num_classes, embed_dim)
        ch = self.channels = positive("base_channels", base_channels)
        self.start = layout.start
        self.project = nn.Linear(self.in_dim, layout.start**2 * ch)
        self.blocks = nn.Sequential(
            *(UpBlock(ch, ch, bn_eps, bn_momentum) for _ in range(layout.steps))
        )
        self.out = nn.Sequential(
            nn.BatchNorm2d(ch, eps=bn_eps, momentum=bn_momentum),
            nn.ReLU(),
            _conv3(ch, layout.channels),
            nn.Tanh(),
        )
        init_weights(self, init)

    def body(self, h: Tensor) -> Tensor:
        x = self.project(h).view(h.shape[0], self.channels, self.start, self.start)
        return self.out(self.blocks(x))


class ResNetDiscriminator(Discriminator):
    """First down block, down blocks to the start size, one more block, ReLU, sum pooling.

    With ``spectral_norm`` (the default) every layer is normalised, head and projection too.
    """

    def __init__(
        self,
        in_shape: tuple[int, ...],
        base_channels: int = 64,
        num_classes: int = 0,
        spectral_norm: bool = True,
        init: str = "xavier",
    ) -> None:
        layout = image_layout(in_shape, "resnet")
        ch = positive("base_channels", base_channels)
        super().__init__(in_shape, ch, num_classes)
        blocks: list[nn.Module] = [FirstDownBlock(layout.channels, ch)]
        blocks += [DownBlock(ch, ch, downsample=True) for _ in range(layout.steps - 1)]
        blocks.append(DownBlock(ch, ch, downsample=False))
        self.blocks = nn.Sequential(*blocks)
        init_weights(self, init)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: Tensor) -> Tensor:
        return F.relu(self.blocks(x)).sum(dim=(2, 3))
