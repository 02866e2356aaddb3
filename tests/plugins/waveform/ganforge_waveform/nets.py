"""``wave-conv``: G upsamples a code to a wave with 1-D transposed convolutions; D reads
it with strided 1-D convolutions. Both follow ganforge's Generator / Discriminator contract."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ganforge.nets.base import Discriminator, Generator


class WaveGenerator(Generator):
    def __init__(
        self, z_dim: int, out_shape: tuple[int, ...], num_classes: int = 0, width: int = 32
    ) -> None:
        super().__init__(z_dim, out_shape, num_classes)
        channels, length = out_shape
        if length % 4:
            raise ValueError(f"wave-conv needs a length divisible by 4; got {length}")
        self.width, self.start = width, length // 4
        self.fc = nn.Linear(self.in_dim, width * self.start)
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose1d(width, width // 2, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose1d(width // 2, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def body(self, h: Tensor) -> Tensor:
        return self.net(self.fc(h).view(-1, self.width, self.start))


class WaveDiscriminator(Discriminator):
    def __init__(self, in_shape: tuple[int, ...], num_classes: int = 0, width: int = 32) -> None:
        channels, length = in_shape
        super().__init__(in_shape, width * (length // 4), num_classes)
        self.net = nn.Sequential(
            nn.Conv1d(channels, width // 2, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(width // 2, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )

    def features(self, x: Tensor) -> Tensor:
        return self.net(x)


def build_wave_conv(cfg: Any, shape: tuple[int, ...], num_classes: int):
    """The registered builder: ``model.g_width`` / ``d_width`` are the channel widths."""
    if len(shape) != 2:
        raise ValueError(f"wave-conv needs samples of shape (channels, length); got {shape}")
    G = WaveGenerator(cfg.model.z_dim, shape, num_classes, width=cfg.model.g_width or 32)
    D = WaveDiscriminator(shape, num_classes, width=cfg.model.d_width or 32)
    return G, D
