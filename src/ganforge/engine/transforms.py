"""D-input transforms: a differentiable change applied to every input D sees.

DiffAugment and ADA are such transforms: the same random policy for real and fake inputs,
gradients flowing through it to G, in every step (alternating, simultaneous, penalties; R1
is taken with respect to the real batch before the transform, as ADA does). A transform
draws its randomness from the global torch RNG, so a resumed run continues exactly.
"""

from __future__ import annotations

from typing import Any

import torch

Tensor = torch.Tensor


class DInputTransform:
    """Base class: identity. Subclasses override :meth:`__call__` and what else they need."""

    #: whether each sample is transformed on its own (needed by the shared backward)
    independent_samples: bool = True

    def __call__(self, x: Tensor) -> Tensor:
        return x

    def observe(self, real_logits: Any) -> None:
        """Called after every D step with D's (detached) outputs on the real batch (ADA's
        overfitting heuristic adjusts its probability from them)."""

    def stats(self) -> dict[str, float]:
        """Numbers logged with the training statistics (e.g. ADA's ``p``)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state saved in checkpoints."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


def apply(transform: Any, x: Tensor) -> Tensor:
    return x if transform is None else transform(x)
