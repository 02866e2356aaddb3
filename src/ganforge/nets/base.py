"""The contract every generator and discriminator follows.

* :class:`Generator` ``G(z, y=None) -> (B, *out_shape)``. A conditional G embeds the label
  and concatenates it to ``z``; subclasses only write :meth:`Generator.body`.
* :class:`Discriminator` ``D(x, y=None) -> (B,)`` logits. Subclasses write
  :meth:`Discriminator.features`; the base holds the linear head and, when conditional, the
  projection embedding of Miyato & Koyama (2018): ``logit = head(h) + <embed(y), h>``.

Unconditional networks ignore ``y``; conditional ones raise a ValueError without it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ganforge.engine.latent import slerp, standard_normal
from ganforge.nets.conditional_norm import use_conditional_norm
from ganforge.nets.layers import WEIGHTED_LAYERS

_SN_TYPES = WEIGHTED_LAYERS


def positive(name: str, value: int) -> int:
    """``value`` as an int, or a ValueError naming ``name`` unless it is >= 1."""
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    return int(value)


def _check_counts(num_classes: int, **dims: int) -> None:
    for name, value in dims.items():
        positive(name, value)
    if int(num_classes) != num_classes or num_classes < 0:
        raise ValueError(f"num_classes must be >= 0 (0: unconditional); got {num_classes}")


def _check_labels(y: Tensor | None, batch: int, num_classes: int, who: str) -> Tensor:
    if y is None:
        raise ValueError(
            f"this {who} is conditional (num_classes={num_classes}) and needs labels y "
            "(int64, shape (B,))"
        )
    if y.shape != (batch,):
        raise ValueError(f"labels y must have shape ({batch},); got {tuple(y.shape)}")
    return y.long()


class Generator(nn.Module, ABC):
    """Maps latent codes ``z`` (B, z_dim) and optional labels ``y`` (B,) to samples.

    Images come out in [-1, 1] (tanh); flat data is unbounded (linear output).
    """

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        num_classes: int = 0,
        embed_dim: int | None = None,
    ) -> None:
        super().__init__()
        _check_counts(num_classes, z_dim=z_dim)
        self.z_dim = int(z_dim)
        self.num_classes = int(num_classes)
        self.out_shape = tuple(int(s) for s in out_shape)
        if self.num_classes:
            self.embed_dim = int(embed_dim) if embed_dim else min(self.z_dim, 50)
            self.embed: nn.Embedding | None = nn.Embedding(self.num_classes, self.embed_dim)
        else:
            self.embed_dim = 0
            self.embed = None

    def use_conditional_norm(self) -> Generator:
        """Conditional batch norm: a per-class scale and shift in every batch norm of G
        (:mod:`ganforge.nets.conditional_norm`), besides the label embedding at the input."""
        if not self.num_classes:
            raise ValueError("conditional batch norm needs class labels (data.conditional=true)")
        self._cond_norms = use_conditional_norm(self, self.num_classes)
        return self

    def sample_latent(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """``n`` codes of N(0, I) in ``z_dim`` dimensions (a family with a structured latent
        overrides this and :meth:`interpolate_latent`)."""
        return standard_normal(n, self.z_dim, device, generator)

    def interpolate_latent(self, z0: Tensor, z1: Tensor, t: float) -> Tensor:
        """The code a fraction ``t`` of the way from ``z0`` to ``z1`` (spherical)."""
        return slerp(z0, z1, t)

    @property
    def in_dim(self) -> int:
        """Width of the body's input: ``z_dim`` plus the label embedding (if any)."""
        return self.z_dim + self.embed_dim

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """Samples of shape ``(B, *out_shape)``."""
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape (B, {self.z_dim}); got {tuple(z.shape)}")
        h = z
        if self.embed is not None:
            y = _check_labels(y, z.shape[0], self.num_classes, "generator")
            h = torch.cat([z, self.embed(y).to(z.dtype)], dim=1)
        for norm in self.__dict__.get("_cond_norms", ()):
            norm.labels = y
        return self.body(h)

    @abstractmethod
    def body(self, h: Tensor) -> Tensor:
        """The network proper: (B, in_dim) -> (B, *out_shape); each family defines it."""


class Discriminator(nn.Module, ABC):
    """Maps samples ``x`` (B, *in_shape) and optional labels ``y`` (B,) to logits (B,)."""

    def __init__(self, in_shape: tuple[int, ...], feature_dim: int, num_classes: int = 0) -> None:
        super().__init__()
        _check_counts(num_classes, feature_dim=feature_dim)
        self.in_shape = tuple(int(s) for s in in_shape)
        self.num_classes = int(num_classes)
        self.feature_dim = int(feature_dim)
        self.head = nn.Linear(self.feature_dim, 1)
        self.classifier: nn.Linear | None = None  # ACGAN's class head (see use_classifier)
        self.head_weights: dict[str, float] | None = None  # the adversarial heads, if a dict
        self.embed: nn.Embedding | None = (
            nn.Embedding(self.num_classes, self.feature_dim) if self.num_classes else None
        )

    @property
    def independent_samples(self) -> bool:
        """Whether each sample's logit depends on that sample alone (in training mode).

        True unless the net holds batch norm. A subclass that mixes samples some other way
        (minibatch standard deviation, minibatch discrimination) must return False: the
        simultaneous step's shared backward relies on it (``ganforge.engine.step``).
        """
        return not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.modules())

    def use_classifier(self) -> Discriminator:
        """ACGAN (Odena et al. 2017): D classifies its input over the classes (output
        ``class``) beside its real-vs-fake logit (``adv``), instead of projecting the label;
        an auxiliary class loss (``engine.aux.ClassLoss``) trains both players on it."""
        if not self.num_classes:
            raise ValueError("ACGAN conditioning needs class labels (data.conditional=true)")
        self.embed = None
        self.classifier = nn.Linear(self.feature_dim, self.num_classes)
        if parametrize.is_parametrized(self.head, "weight"):
            spectral_norm(self.classifier)
        self.head_weights = {"adv": 1.0}
        return self

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor | dict[str, Tensor]:
        """Real-vs-fake logits of shape (B,); with a class head, ``{"adv", "class"}``."""
        if tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(
                f"x must have shape (B, {', '.join(map(str, self.in_shape))}); got {tuple(x.shape)}"
            )
        h = self.features(x)
        logit = self.head(h).squeeze(1)
        if self.classifier is not None:
            return {"adv": logit, "class": self.classifier(h)}
        if self.embed is not None:
            y = _check_labels(y, x.shape[0], self.num_classes, "discriminator")
            logit = logit + (self.embed(y).to(h.dtype) * h).sum(dim=1)
        return logit

    @abstractmethod
    def features(self, x: Tensor) -> Tensor:
        """The network proper: (B, *in_shape) -> (B, feature_dim); each family defines it."""


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalise every Conv/ConvTranspose/Linear/Embedding weight in ``module``.

    Uses ``torch.nn.utils.parametrizations.spectral_norm`` (one power iteration per forward
    pass in train mode). Layers already normalised are left alone. Returns ``module``.
    """
    for m in list(module.modules()):
        if isinstance(m, _SN_TYPES) and not parametrize.is_parametrized(m, "weight"):
            spectral_norm(m)
    return module
