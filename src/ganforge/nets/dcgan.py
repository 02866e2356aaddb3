"""DCGAN (Radford et al. 2016) for square images of 16, 28, 32, 64 or 128 pixels.

G projects z to a ``start`` x ``start`` map (7 for 28 px, else 4) with ``base * 2^(k-1)``
channels and doubles the size ``k`` times with 4x4 stride-2 transposed convs, halving the
channels; D mirrors it with 4x4 stride-2 convs and flattens the last map into features.
The layers offer the GEMM weight gradient on small maps (``ganforge.nets.gemm_grad``).
"""

from __future__ import annotations

from torch import Tensor, nn

from ganforge.nets.base import Discriminator, Generator, apply_spectral_norm, positive
from ganforge.nets.gemm_grad import GemmGradConv2d, GemmGradConvTranspose2d
from ganforge.nets.init import init_weights
from ganforge.nets.layout import image_layout


class DCGANGenerator(Generator):
    """ConvT(start) - BN - ReLU, then [ConvT 4x4 s2 - BN - ReLU] blocks, last to C + tanh."""

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        base_channels: int = 64,
        num_classes: int = 0,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        init: str = "dcgan",
        embed_dim: int | None = None,
    ) -> None:
        layout = image_layout(out_shape, "dcgan")
        super().__init__(z_dim, out_shape, num_classes, embed_dim)
        ch = positive("base_channels", base_channels) * 2 ** (layout.steps - 1)
        layers: list[nn.Module] = [
            GemmGradConvTranspose2d(self.in_dim, ch, layout.start, 1, 0, bias=False),
            nn.BatchNorm2d(ch, eps=bn_eps, momentum=bn_momentum),
            nn.ReLU(),
        ]
        for _ in range(layout.steps - 1):
            layers += [
                GemmGradConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch // 2, eps=bn_eps, momentum=bn_momentum),
                nn.ReLU(),
            ]
            ch //= 2
        layers += [GemmGradConvTranspose2d(ch, layout.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self, init)

    def body(self, h: Tensor) -> Tensor:
        return self.net(h[:, :, None, None])


class DCGANDiscriminator(Discriminator):
    """[Conv 4x4 s2 - (BN) - LeakyReLU] blocks down to ``start`` x ``start``, flattened.

    The first block has no BN; with ``spectral_norm`` no block has BN.
    """

    def __init__(
        self,
        in_shape: tuple[int, ...],
        base_channels: int = 64,
        num_classes: int = 0,
        spectral_norm: bool = False,
        leaky_slope: float = 0.2,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        init: str = "dcgan",
    ) -> None:
        layout = image_layout(in_shape, "dcgan")
        top = positive("base_channels", base_channels) * 2 ** (layout.steps - 1)
        super().__init__(in_shape, top * layout.start**2, num_classes)
        layers: list[nn.Module] = []
        c_in, c_out = layout.channels, int(base_channels)
        for i in range(layout.steps):
            use_bn = i > 0 and not spectral_norm
            layers.append(GemmGradConv2d(c_in, c_out, 4, 2, 1, bias=not use_bn))
            if use_bn:
                layers.append(nn.BatchNorm2d(c_out, eps=bn_eps, momentum=bn_momentum))
            layers.append(nn.LeakyReLU(leaky_slope))
            c_in, c_out = c_out, c_out * 2
        self.net = nn.Sequential(*layers, nn.Flatten())
        init_weights(self, init)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: Tensor) -> Tensor:
        return self.net(x)
