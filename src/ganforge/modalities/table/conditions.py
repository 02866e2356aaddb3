"""CTGAN's conditional vector and training-by-sampling, owned by the data side.

Every batch picks, per row, a discrete column uniformly and one of its categories with
probability proportional to the log of its frequency (so rare categories are trained on),
then a real row holding that category; the one-hot of that (column, category) is the row's
condition for D and for G. Lookups are precomputed once (rows sorted by category per
column): a batch is a few vectorised draws and one gather, never a copy of the table.
At generation time conditions follow the *true* frequencies unless a value is asked for.

:class:`ConditionLoss` is G's auxiliary term: its output for the conditioned column must
show the asked category (cross-entropy of the Gumbel-softmax output).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import torch

from ganforge.data.dataset import Dataset
from ganforge.engine.aux import AuxLoss
from ganforge.engine.protocols import Batch

Tensor = torch.Tensor


class ConditionSpans:
    """Where each discrete column sits in the data rows and in the condition vector."""

    def __init__(self, spans: list[dict[str, Any]]) -> None:
        self.data_start, self.cond_start, self.sizes, self.names = [], [], [], []
        at = cond_at = 0
        for s in spans:
            if s["role"] == "category":
                self.data_start.append(at)
                self.cond_start.append(cond_at)
                self.sizes.append(int(s["size"]))
                self.names.append(s["column"])
                cond_at += int(s["size"])
            at += int(s["size"])
        self.width = cond_at

    def __len__(self) -> int:
        return len(self.sizes)

    def one_hot(self, column: Tensor, category: Tensor) -> Tensor:
        """(n, width) condition vectors with slot ``category`` of discrete ``column`` set."""
        out = torch.zeros(len(column), self.width)
        starts = torch.tensor(self.cond_start, dtype=torch.long)[column]
        out[torch.arange(len(column)), starts + category] = 1.0
        return out


class TableData:
    """Training-by-sampling batches of an encoded table (the engine's training data)."""

    def __init__(
        self, dataset: Dataset, batch: int, seed: int = 0, rank: int = 0, conditioned: bool = True
    ) -> None:
        self.data = dataset.data  # (N, width) float32, never copied
        self.batch_size = int(batch)
        self.spans = ConditionSpans(dataset.info["table"]["spans"])
        self.conditioned = conditioned and len(self.spans) > 0
        self.generator = torch.Generator().manual_seed(int(seed) * 7919 + int(rank))
        self.order, self.starts, self.counts, self.train_p, self.true_p = [], [], [], [], []
        for st, size in zip(self.spans.data_start, self.spans.sizes, strict=True):
            codes = self.data[:, st : st + size].argmax(1)
            counts = torch.bincount(codes, minlength=size)
            self.order.append(torch.argsort(codes, stable=True))
            self.counts.append(counts)
            self.starts.append(torch.cumsum(counts, 0) - counts)
            log = torch.log1p(counts.double()) * (counts > 0)
            self.train_p.append(log / log.sum())
            self.true_p.append(counts.double() / counts.sum())

    def _draw(self, n: int, probs: list[Tensor], gen: torch.Generator) -> tuple[Tensor, Tensor]:
        column = torch.randint(len(self.spans), (n,), generator=gen)
        category = torch.zeros(n, dtype=torch.long)
        for j, p in enumerate(probs):
            rows = (column == j).nonzero().flatten()
            if len(rows):
                category[rows] = torch.multinomial(p.float(), len(rows), True, generator=gen)
        return column, category

    def next_batch(self, n: int | None = None) -> Batch:
        n = self.batch_size if n is None else int(n)
        if not self.conditioned:
            idx = torch.randint(len(self.data), (n,), generator=self.generator)
            return Batch(real=self.data[idx])
        column, category = self._draw(n, self.train_p, self.generator)
        idx = torch.empty(n, dtype=torch.long)
        u = torch.rand(n, generator=self.generator, dtype=torch.float64)
        for j in range(len(self.spans)):
            rows = (column == j).nonzero().flatten()
            if len(rows):
                cat = category[rows]
                pick = self.starts[j][cat] + (u[rows] * self.counts[j][cat]).long()
                idx[rows] = self.order[j][pick]
        return Batch(real=self.data[idx], cond=self.spans.one_hot(column, category))

    def fixed_conditions(self, n: int) -> Tensor | None:
        return true_conditions(self.spans, self.true_p, n, seed=0) if self.conditioned else None

    def state_dict(self) -> dict[str, Any]:
        raw = self.generator.get_state().numpy().tobytes()
        return {"generator": base64.b64encode(raw).decode("ascii")}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raw = base64.b64decode(state["generator"])
        self.generator.set_state(torch.from_numpy(np.frombuffer(raw, np.uint8).copy()))


def true_conditions(spans: ConditionSpans, true_p: list[Tensor], n: int, seed: int = 0) -> Tensor:
    """Conditions for generation: a random discrete column, its category by true frequency
    (so every column's categories come out at their real rates)."""
    gen = torch.Generator().manual_seed(int(seed))
    column = torch.randint(len(spans), (n,), generator=gen)
    category = torch.zeros(n, dtype=torch.long)
    for j, p in enumerate(true_p):
        rows = (column == j).nonzero().flatten()
        if len(rows):
            category[rows] = torch.multinomial(p.float(), len(rows), True, generator=gen)
    return spans.one_hot(column, category)


def frequencies_from_info(info: dict[str, Any]) -> list[Tensor]:
    """True category frequencies of every discrete column, from the saved transformer."""
    out = []
    for col in info["table"]["columns"]:
        if col["kind"] in ("categorical", "boolean") and not col.get("derived"):
            out.append(torch.tensor(col["state"]["frequencies"], dtype=torch.float64))
    return out


class ConditionLoss(AuxLoss):
    """G's output for the conditioned column must show the asked category (CTGAN)."""

    name = "condition"

    def __init__(self, spans: list[dict[str, Any]], weight: float = 1.0) -> None:
        self.spans, self.weight = ConditionSpans(spans), float(weight)

    def g(self, fake: Tensor, fake_out: Any, fake_cond: Any) -> Tensor | None:
        if fake_cond is None or not len(self.spans):
            return None
        total = fake.new_zeros((), dtype=torch.float32)
        for st, cst, size in zip(
            self.spans.data_start, self.spans.cond_start, self.spans.sizes, strict=True
        ):
            want = fake_cond[:, cst : cst + size].float()
            chosen = want.sum(1)
            if not bool(chosen.any()):
                continue
            logp = fake[:, st : st + size].float().clamp_min(1e-30).log()
            total = total + (-(logp * want).sum(1) * chosen).sum()
        return total / fake.shape[0]
