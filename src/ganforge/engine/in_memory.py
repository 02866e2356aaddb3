"""The default training data: uniform minibatches of an in-memory :class:`Dataset`.

It implements the engine's training-data protocol (:mod:`ganforge.engine.protocols`):
batches from a :class:`BatchSampler` (seeded epoch permutations, rank shards), the rows'
labels as the condition of real and fake samples alike when ``conditional``, and the
sampler's position as its state, counted over all ranks so that a checkpoint resumes at
the same point of the epoch with any number of processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ganforge.engine.distributed import per_rank_batch
from ganforge.engine.protocols import Batch
from ganforge.engine.sampler import BatchSampler

if TYPE_CHECKING:  # pragma: no cover
    from ganforge.data.dataset import Dataset


class InMemoryData:
    """Minibatches of ``dataset`` for one rank; labels as conditions when ``conditional``."""

    def __init__(
        self,
        dataset: Dataset,
        batch: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        conditional: bool = False,
    ) -> None:
        self.dataset = dataset
        self.world_size = int(world_size)
        self.conditional = bool(conditional and getattr(dataset, "conditional", False))
        self.num_classes = int(getattr(dataset, "num_classes", 0)) if self.conditional else 0
        self.sampler = BatchSampler(
            len(dataset), batch, seed=seed, rank=rank, world_size=world_size
        )

    @classmethod
    def from_config(cls, dataset: Dataset, cfg: Any, dist: Any) -> InMemoryData:
        """This rank's share of ``train.batch``, the run's seed, ``data.conditional``."""
        return cls(
            dataset,
            per_rank_batch(cfg.train.batch, dist),
            seed=cfg.train.seed,
            rank=dist.rank,
            world_size=dist.world_size,
            conditional=cfg.data.conditional,
        )

    @property
    def batch_size(self) -> int:
        return self.sampler.batch_size

    def next_batch(self, n: int | None = None) -> Batch:
        """The sampler's next batch (``n`` must be its batch size: batches are fixed)."""
        if n is not None and n != self.sampler.batch_size:
            raise ValueError(f"this data gives batches of {self.sampler.batch_size}, not {n}")
        x, y = self.dataset.batch(self.sampler.next_indices())
        return Batch(real=x, cond=y if self.conditional else None)

    def fixed_conditions(self, n: int) -> torch.Tensor | None:
        """Class ids cycling through every class (None when unconditional)."""
        return torch.arange(n) % self.num_classes if self.conditional else None

    def state_dict(self) -> dict[str, Any]:
        state = self.sampler.state_dict()
        state["position"] *= self.world_size  # in samples of the whole job
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["position"] = int(state["position"]) // self.world_size
        self.sampler.load_state_dict(state)
