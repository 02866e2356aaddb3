"""Conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018): every batch norm of
G gets a per-class scale and shift, so the label steers every layer, not only the input.

``use_conditional_norm(G)`` wraps each batch norm of any generator (DCGAN, ResNet, the TF
tutorial's) in place; the generator hands its labels to the wrapped layers before each
forward pass (:meth:`ganforge.nets.base.Generator.forward`).
"""

from __future__ import annotations

from torch import Tensor, nn


class ConditionalBatchNorm(nn.Module):
    """``bn(x) * (1 + gain[y]) + bias[y]``: the batch norm's own affine shared by all
    classes, a per-class change on top (zero at the start, so training starts as plain BN)."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm, num_classes: int) -> None:
        super().__init__()
        self.bn = bn
        self.gain = nn.Embedding(num_classes, bn.num_features)
        self.bias = nn.Embedding(num_classes, bn.num_features)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)
        self.labels: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        h = self.bn(x)
        if self.labels is None:
            raise ValueError("conditional batch norm needs the labels (set by the generator)")
        shape = (x.shape[0], -1) + (1,) * (x.dim() - 2)
        gain = self.gain(self.labels).to(h.dtype).view(shape)
        return h * (1 + gain) + self.bias(self.labels).to(h.dtype).view(shape)


def use_conditional_norm(net: nn.Module, num_classes: int) -> list[ConditionalBatchNorm]:
    """Wrap every batch norm under ``net``; returns the wrappers (a ValueError if none)."""
    wrapped: list[ConditionalBatchNorm] = []
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                cbn = ConditionalBatchNorm(child, num_classes)
                setattr(parent, name, cbn)
                wrapped.append(cbn)
    if not wrapped:
        raise ValueError(
            "model.g_conditioning=cbn needs a generator with batch norm (dcgan, dcgan-tf, "
            "resnet); use g_conditioning=embedding"
        )
    return wrapped
