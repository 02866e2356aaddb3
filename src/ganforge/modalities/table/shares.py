"""G's share term: the shares of every one-hot span (a number column's modes, its spikes
and its missing slot; a label column's categories) in G's batch must match the real rows'
under the same conditions.

Training-by-sampling conditions each row on one label column, so G learns each column's
shares well where that column is the condition and only through the critic elsewhere. On
AER/CreditCard (default length, one seed) rows conditioned on ``card`` gave
``expenditure`` = 0 at its real 23.5%; rows conditioned on the other label columns at 14%
to 29%, with ``card`` = no at 11% to 24% (22% real). This term gives G that signal
directly: for the rows of a batch holding the same condition (column and category), the
mean of G's (Gumbel-softmax) one-hot outputs against the real shares among the rows with
that category (a table precomputed from the encoded rows), squared (an unbiased estimate
from the pairs of rows), summed over the slots and weighted by the rows' share of the
batch. Rows' individual values are left to the critic.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganforge.engine.aux import AuxLoss
from ganforge.modalities.table.conditions import ConditionSpans

ROLES = ("mode", "missing", "category")


def share_slots(spans: list[dict[str, Any]]) -> Tensor:
    """int64 positions in an encoded row of every slot of a one-hot span."""
    slots, at = [], 0
    for s in spans:
        if s["role"] in ROLES:
            slots.extend(range(at, at + int(s["size"])))
        at += int(s["size"])
    return torch.tensor(slots, dtype=torch.long)


def shares_given_conditions(data: Tensor, spans: list[dict[str, Any]]) -> Tensor:
    """(condition slots, share slots): the real mean of every one-hot slot among the rows
    holding each condition's category; one row (the overall means) without label columns."""
    cond = ConditionSpans(spans)
    values = data[:, share_slots(spans)].double()
    if not len(cond):
        return values.mean(0, keepdim=True).float()
    out = torch.zeros(cond.width, values.shape[1], dtype=torch.float64)
    for start, cstart, size in zip(cond.data_start, cond.cond_start, cond.sizes, strict=True):
        codes = data[:, start : start + size].argmax(1)
        sums = torch.zeros(size, values.shape[1], dtype=torch.float64).index_add_(0, codes, values)
        counts = torch.bincount(codes, minlength=size).clamp_min(1).double()
        out[cstart : cstart + size] = sums / counts[:, None]
    return out.float()


class ShareLoss(AuxLoss):
    """G's one-hot shares per condition against the real ones (module docstring)."""

    name = "shares"

    def __init__(self, data: Tensor, spans: list[dict[str, Any]], weight: float) -> None:
        self.weight = float(weight)
        self.slots = share_slots(spans)
        self.table = shares_given_conditions(data, spans)
        self.overall = data[:, self.slots].double().mean(0, keepdim=True).float()

    def g(self, fake: Tensor, fake_out: Any, fake_cond: Any) -> Tensor | None:
        if not len(self.slots):
            return None
        got = fake[:, self.slots.to(fake.device)].float()
        if fake_cond is None or fake_cond.shape[1] != self.table.shape[0]:  # unconditioned
            group = torch.zeros(len(fake), dtype=torch.long, device=fake.device)
            table = self.overall.to(fake.device)
        else:
            group = fake_cond.argmax(1)
            table = self.table.to(fake.device)
        diff = got - table[group]
        groups = table.shape[0]
        sums = diff.new_zeros(groups, diff.shape[1]).index_add(0, group, diff)
        squares = diff.new_zeros(groups).index_add(0, group, (diff**2).sum(1))
        n = torch.bincount(group, minlength=groups).float()
        # (sum d)^2 - sum d^2 over n (n - 1) is unbiased for |E[share] - real share|^2: no
        # pull toward rows that vary less, as a plain squared batch mean would have
        pairs = ((sums**2).sum(1) - squares) / (n * (n - 1)).clamp_min(1)
        return (pairs * n).sum() / len(fake)
