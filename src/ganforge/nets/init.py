"""Weight initialisation schemes, applied to a whole network at once."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ganforge.nets.layers import WEIGHTED_LAYERS

INIT_SCHEMES = ("default", "glorot", "xavier", "dcgan", "orthogonal")

# Layers with a weight worth initialising: the same set spectral norm applies to.
_WEIGHTED = WEIGHTED_LAYERS
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _raw_weight(m: nn.Module) -> torch.Tensor:
    # Under spectral norm ``m.weight`` is computed; the stored tensor is ``original``.
    if parametrize.is_parametrized(m, "weight"):
        return m.parametrizations.weight.original
    return m.weight


@torch.no_grad()
def init_weights(module: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise ``module`` in place and return it.

    * ``"default"``: keep PyTorch's initialisation.
    * ``"glorot"`` / ``"xavier"``: Keras' default, Glorot-uniform weights and zero biases.
    * ``"dcgan"``: Radford et al., weights N(0, 0.02), BatchNorm scale N(1, 0.02), zero biases.
    * ``"orthogonal"``: orthogonal weights, zero biases.

    BatchNorm layers get scale 1 and shift 0 except under ``"dcgan"``.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; use one of {', '.join(INIT_SCHEMES)}")
    if scheme == "default":
        return module
    for m in module.modules():
        if isinstance(m, _WEIGHTED):
            w = _raw_weight(m)
            if scheme in ("glorot", "xavier"):
                nn.init.xavier_uniform_(w)
            elif scheme == "dcgan":
                nn.init.normal_(w, 0.0, 0.02)
            else:
                nn.init.orthogonal_(w)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and m.affine:
            if scheme == "dcgan":
                nn.init.normal_(m.weight, 1.0, 0.02)
            else:
                nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return module
