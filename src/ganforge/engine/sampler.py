"""Endless, resumable, shardable minibatch indices.

Epoch ``e`` shuffles with ``torch.randperm(n)`` seeded ``seed * 1_000_003 + e``. With
``world_size`` ranks the permutation is cut to a multiple of ``world_size`` and rank ``r`` takes
``perm[r::world_size]``: ranks see disjoint samples and the same number of batches per epoch.
Each epoch's incomplete last batch is dropped. The whole state is two integers (epoch and
position within the epoch), so resuming from ``state_dict()`` continues the exact sequence.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ganforge.errors import DataError


class BatchSampler:
    """Yields LongTensors of exactly ``batch_size`` dataset indices, epoch after epoch."""

    def __init__(
        self, n: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1
    ) -> None:
        if n < 1:
            raise DataError("the dataset is empty; check data.spec")
        if batch_size < 1:
            raise DataError(f"batch size must be at least 1, got {batch_size}; fix train.batch")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"bad rank {rank} for world_size {world_size}")
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.per_rank = self.n // self.world_size
        if self.batch_size > self.per_rank:
            where = f" per rank ({world_size} ranks)" if world_size > 1 else ""
            raise DataError(
                f"batch size {batch_size} is larger than the dataset ({self.per_rank} samples"
                f"{where}); lower train.batch to at most {self.per_rank}"
            )
        self.batches_per_epoch = self.per_rank // self.batch_size
        self.epoch = 0
        self.position = 0  # index into this rank's shard where the next batch starts
        self._shard_epoch = -1
        self._shard = torch.empty(0, dtype=torch.long)

    def _epoch_shard(self, epoch: int) -> torch.Tensor:
        if epoch != self._shard_epoch:
            seed = (self.seed * 1_000_003 + epoch) & 0xFFFF_FFFF_FFFF_FFFF
            perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(seed))
            self._shard = perm[: self.per_rank * self.world_size][self.rank :: self.world_size]
            self._shard_epoch = epoch
        return self._shard

    def next_indices(self) -> torch.Tensor:
        """The next batch of indices (int64, shape (batch_size,))."""
        if self.position + self.batch_size > self.per_rank:
            self.epoch += 1
            self.position = 0
        shard = self._epoch_shard(self.epoch)
        idx = shard[self.position : self.position + self.batch_size].clone()
        self.position += self.batch_size
        return idx

    def __iter__(self) -> Iterator[torch.Tensor]:
        while True:
            yield self.next_indices()

    def state_dict(self) -> dict[str, int]:
        """The sampler's whole state: ``{"epoch": e, "position": p}``."""
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue from a ``state_dict()``; the following batches are those it would have given."""
        epoch, position = int(state["epoch"]), int(state["position"])
        if epoch < 0 or not 0 <= position <= self.per_rank:
            raise DataError(
                f"saved data position (epoch {epoch}, sample {position}) does not fit this "
                f"dataset ({self.per_rank} samples per epoch); resume with the data the run "
                "started with"
            )
        self.epoch, self.position = epoch, position
