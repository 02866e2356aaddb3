"""Auxiliary loss terms added to G's and D's objectives in every step.

CTGAN's condition cross-entropy (G's output must show the condition it was given) and
ACGAN's class loss (D classifies real and fake, G wants its fakes classified as asked) are
such terms. Each returns a scalar or None, is multiplied by ``weight`` and is logged in
``metrics.jsonl`` as ``g_aux.NAME`` / ``d_aux.NAME``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


class AuxLoss:
    """Base class: contributes nothing. Override :meth:`g` and / or :meth:`d`."""

    name: str = "aux"
    weight: float = 1.0

    def bind(self, G: torch.nn.Module, D: torch.nn.Module) -> None:
        """Called once by the trainer with the players (not their DDP wrappers), for terms
        that need them, e.g. a likelihood term on G's own model. Default: nothing."""

    def g(self, fake: Tensor, fake_out: Any, fake_cond: Any) -> Tensor | None:
        """G's extra loss from its fakes, D's outputs on them and their condition."""
        return None

    def d(self, real_out: Any, fake_out: Any, cond: Any, fake_cond: Any) -> Tensor | None:
        """D's extra loss from its outputs on the real and the fake batch."""
        return None


class ClassLoss(AuxLoss):
    """ACGAN's class loss (Odena et al. 2017): D's ``class`` output learns to name the class
    of real and fake samples; G learns to make fakes of the class it was asked for. The
    conditions are class ids."""

    name = "class"

    def __init__(self, weight: float = 1.0, output: str = "class") -> None:
        self.weight, self.output = float(weight), output

    def d(self, real_out: Any, fake_out: Any, cond: Any, fake_cond: Any) -> Tensor:
        real = F.cross_entropy(real_out[self.output].float(), cond.long())
        return real + F.cross_entropy(fake_out[self.output].float(), fake_cond.long())

    def g(self, fake: Tensor, fake_out: Any, fake_cond: Any) -> Tensor:
        return F.cross_entropy(fake_out[self.output].float(), fake_cond.long())


def _weighted(prefix: str, values: list[tuple[AuxLoss, Tensor | None]]):
    total, stats = None, {}
    for term, value in values:
        if value is None:
            continue
        value = value.float()
        stats[f"{prefix}.{term.name}"] = value.detach()
        total = term.weight * value if total is None else total + term.weight * value
    return total, stats


def g_terms(aux: list[AuxLoss], fake: Tensor, fake_out: Any, fake_cond: Any):
    """(weighted sum or None, stats) of the G terms."""
    return _weighted("g_aux", [(t, t.g(fake, fake_out, fake_cond)) for t in aux])


def d_terms(aux: list[AuxLoss], real_out: Any, fake_out: Any, cond: Any, fake_cond: Any):
    """(weighted sum or None, stats) of the D terms."""
    return _weighted("d_aux", [(t, t.d(real_out, fake_out, cond, fake_cond)) for t in aux])
