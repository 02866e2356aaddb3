"""The few contracts the engine holds its parts to; everything else is the modality's.

* training data: ``next_batch(n) -> Batch`` (the data picks samples *and* conditions, as
  CTGAN's training-by-sampling does), ``fixed_conditions(n)`` for the picture batch,
  ``state_dict()`` / ``load_state_dict()`` (saved in checkpoints: exact resume);
  :class:`ganforge.data.InMemoryData` is the default.
* latents: ``G.sample_latent(n, generator=None, device=None)`` returns a tensor or a dict of
  tensors; ``G.interpolate_latent(z0, z1, t)`` walks between two (see :mod:`.latent`).
* D's output: a logit tensor (B,), or a dict of named outputs; the adversarial heads are
  weighted by ``loss.head_weights`` (see :mod:`.heads`).
* D-input transforms and auxiliary losses: :mod:`.transforms`, :mod:`.aux`.

Conditions and latents are opaque: the engine only moves them to a device and slices them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch

Tensor = torch.Tensor


# samples in a training picture where neither log.samples nor the modality names a number:
# the trainer's fixed latent batch (images)
PICTURE_SAMPLES = 64


@dataclass
class Batch:
    """One training batch: real samples, their condition for D, and the condition G draws
    the fakes for (and D judges them under). ``fake_cond`` None means "the same as cond"."""

    real: Tensor
    cond: Any = None
    fake_cond: Any = None

    def __post_init__(self) -> None:
        if self.fake_cond is None:
            self.fake_cond = self.cond


@runtime_checkable
class TrainingData(Protocol):
    """Where the trainer's batches come from (one per rank under ``torchrun``)."""

    def next_batch(self, n: int) -> Batch:
        """The next ``n`` real samples and conditions. Random choices come from the global
        torch RNG (saved in checkpoints) or from state ``state_dict`` returns."""
        ...

    def fixed_conditions(self, n: int) -> Any:
        """Conditions for the ``n`` samples of the training pictures (None: unconditional)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state; with ``load_state_dict`` the batches continue exactly."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def to_device(tree: Any, device: torch.device | str) -> Any:
    """Tensors (alone, or in dicts / lists / tuples) moved to ``device``; other leaves as is."""
    if torch.is_tensor(tree):
        return tree.to(device, non_blocking=True)
    if isinstance(tree, dict):
        return {k: to_device(v, device) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_device(v, device) for v in tree)
    return tree


def take(tree: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of every tensor in ``tree`` (conditions and latents in chunks)."""
    if torch.is_tensor(tree):
        return tree[start:stop]
    if isinstance(tree, dict):
        return {k: take(v, start, stop) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(take(v, start, stop) for v in tree)
    return tree


def batch_size(tree: Any) -> int:
    """The leading dimension of the first tensor in ``tree``."""
    if torch.is_tensor(tree):
        return int(tree.shape[0])
    values = tree.values() if isinstance(tree, dict) else tree
    for v in values:
        return batch_size(v)
    raise ValueError("no tensor to take a batch size from")
