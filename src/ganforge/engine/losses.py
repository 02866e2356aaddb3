"""Adversarial objectives, computed from D's raw outputs (logits) with stable functions.

Each loss gives the discriminator's loss from real and fake logits and the generator's loss
from fake logits; both are minimised. With D(x) = sigmoid(logit):

* ``minimax`` (Goodfellow et al. 2014, the saturating game):
  D: -E[log D(x)] - E[log(1 - D(G(z)))];  G: E[log(1 - D(G(z)))]
* ``nonsaturating`` (the default; the same D, and G maximises E[log D(G(z))]):
  G: -E[log D(G(z))]
* ``hinge`` (Lim & Ye 2017; Miyato et al. 2018):
  D: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))];  G: -E[D(G(z))]
* ``wasserstein`` (Arjovsky et al. 2017; pair with a gradient penalty):
  D: E[D(G(z))] - E[D(x)];  G: -E[D(G(z))]
* ``least-squares`` (Mao et al. 2017, a=0, b=c=1):
  D: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2];  G: 1/2 E[(D(G(z)) - 1)^2]

log(sigmoid(t)) = -softplus(-t) and log(1 - sigmoid(t)) = -softplus(t) keep the BCE games
finite for any logit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


@dataclass(frozen=True)
class GANLoss:
    """A named pair of objectives: ``d(real_logits, fake_logits)`` and ``g(fake_logits)``."""

    name: str
    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Tensor], Tensor]
    bce: bool  # True when D(x) = sigmoid(logit) is a probability (the BCE games)


def _bce_d(real: Tensor, fake: Tensor) -> Tensor:
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _minimax_g(fake: Tensor) -> Tensor:
    return -F.softplus(fake).mean()


def _nonsaturating_g(fake: Tensor) -> Tensor:
    return F.softplus(-fake).mean()


def _hinge_d(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _critic_g(fake: Tensor) -> Tensor:
    return -fake.mean()


def _wasserstein_d(real: Tensor, fake: Tensor) -> Tensor:
    return fake.mean() - real.mean()


def _lsgan_d(real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * (real - 1.0).square().mean() + 0.5 * fake.square().mean()


def _lsgan_g(fake: Tensor) -> Tensor:
    return 0.5 * (fake - 1.0).square().mean()


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss("minimax", _bce_d, _minimax_g, bce=True),
    "nonsaturating": GANLoss("nonsaturating", _bce_d, _nonsaturating_g, bce=True),
    "hinge": GANLoss("hinge", _hinge_d, _critic_g, bce=False),
    "wasserstein": GANLoss("wasserstein", _wasserstein_d, _critic_g, bce=False),
    "least-squares": GANLoss("least-squares", _lsgan_d, _lsgan_g, bce=False),
}


def get_loss(name: str | GANLoss) -> GANLoss:
    """Look up a loss by name (``minimax``, ``nonsaturating``, ``hinge``, ...)."""
    if isinstance(name, GANLoss):
        return name
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss '{name}'; choose one of {', '.join(LOSSES)}") from None


def game_value(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] of the BCE game, from logits."""
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def js_lower_bound(value: Tensor | float) -> Tensor | float:
    """Lower bound on JSD(p_data || p_g) implied by V: for every D, V <= -log 4 + 2 JSD."""
    return (value + 2.0 * 0.6931471805599453) / 2.0
