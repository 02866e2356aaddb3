"""Fully connected G and D (Goodfellow et al. 2014 style), for points or flattened images."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ganforge.nets.base import Discriminator, Generator, apply_spectral_norm, positive
from ganforge.nets.init import init_weights

_ACTIVATIONS = ("relu", "leaky_relu")
_OUTPUTS = ("auto", "linear", "tanh")


def _numel(shape: tuple[int, ...], what: str) -> int:
    if not shape or any(int(s) < 1 for s in shape):
        raise ValueError(f"{what} must be a non-empty tuple of positive sizes; got {shape}")
    return math.prod(int(s) for s in shape)


class MLPGenerator(Generator):
    """``depth`` hidden layers of ``hidden`` units, then a linear map to ``out_shape``.

    ``out="auto"`` means tanh for images (3-d shapes) and a linear output for flat data.
    """

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        hidden: int = 256,
        depth: int = 3,
        num_classes: int = 0,
        activation: str = "relu",
        out: str = "auto",
        leaky_slope: float = 0.2,
        init: str = "default",
        embed_dim: int | None = None,
    ) -> None:
        super().__init__(z_dim, out_shape, num_classes, embed_dim)
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {_ACTIVATIONS}; got {activation!r}")
        if out not in _OUTPUTS:
            raise ValueError(f"out must be one of {_OUTPUTS}; got {out!r}")
        hidden, depth = positive("hidden", hidden), positive("depth", depth)
        n_out = _numel(self.out_shape, "out_shape")
        layers: list[nn.Module] = []
        width = self.in_dim
        for _ in range(depth):
            layers.append(nn.Linear(width, hidden))
            layers.append(nn.ReLU() if activation == "relu" else nn.LeakyReLU(leaky_slope))
            width = hidden
        layers.append(nn.Linear(width, n_out))
        if out == "tanh" or (out == "auto" and len(self.out_shape) == 3):
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        init_weights(self, init)

    def body(self, h: Tensor) -> Tensor:
        return self.net(h).view(h.shape[0], *self.out_shape)


class MLPDiscriminator(Discriminator):
    """Flatten, then ``depth`` hidden layers of ``hidden`` units (LeakyReLU, optional dropout).

    ``pack`` > 1 is PacGAN (Lin et al. 2018): D judges ``pack`` samples at once, concatenated,
    and returns one logit per pack; a generator that drops modes makes packs that do not
    look like real ones, which counters mode collapse. The batch must divide into packs.
    """

    def __init__(
        self,
        in_shape: tuple[int, ...],
        hidden: int = 256,
        depth: int = 3,
        num_classes: int = 0,
        leaky_slope: float = 0.2,
        dropout: float = 0.0,
        spectral_norm: bool = False,
        init: str = "default",
        pack: int = 1,
    ) -> None:
        hidden, depth = positive("hidden", hidden), positive("depth", depth)
        self_pack = positive("pack", pack)
        if self_pack > 1 and num_classes:
            raise ValueError("pack > 1 (PacGAN) works for unconditional D only; set model.pack=1")
        super().__init__(in_shape, hidden, num_classes)
        self.pack = self_pack
        layers: list[nn.Module] = [nn.Flatten()]
        width = _numel(self.in_shape, "in_shape") * self.pack
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(leaky_slope)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        self.net = nn.Sequential(*layers)
        init_weights(self, init)
        if spectral_norm:
            apply_spectral_norm(self)

    @property
    def independent_samples(self) -> bool:
        return self.pack == 1 and super().independent_samples

    def features(self, x: Tensor) -> Tensor:
        if self.pack > 1:
            if x.shape[0] % self.pack:
                raise ValueError(
                    f"a batch of {x.shape[0]} does not divide into packs of {self.pack}; "
                    "make train.batch a multiple of model.pack"
                )
            x = x.reshape(x.shape[0] // self.pack, -1)
        return self.net(x)
