"""G's share term: the shares of every one-hot span (a number column's modes, its spikes
and its missing slot; a label column's values) among G's rows must match the real shares
among the rows holding the same condition.

Training-by-sampling draws a label column's rare values at their log frequency, and with
them whatever goes with them: AER/CreditCard's training batches hold ``expenditure`` = 0
in 29% of rows where the table has 24% (``card`` = no, always 0, is drawn at 45% when
``card`` is the condition). G learns a column's shares given a condition through the
critic alone, and early on gives back the batches' mix: after 1,500 steps 30% to 34%
zeros under every condition column, ``card`` = no at 17% to 31% (22% real) when another
column was the condition. This term gives G the signal directly: the batch's rows are
grouped by their condition (column and value), and each group's mean one-hot outputs
(Gumbel-softmax) are compared with the real shares among the rows with that value (a
table precomputed from the encoded rows): the squared difference summed over the slots,
estimated without bias from the pairs of rows of a group, weighted by the group's share
of the batch. A row's own values are left to the critic.
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
        slots = share_slots(spans)
        self.mask = torch.zeros(data.shape[1])
        self.mask[slots] = 1.0
        # the real shares over the whole row width (0 beyond the one-hot slots), so a batch
        # needs two matrix products, not gathers
        self.table = torch.zeros(max(ConditionSpans(spans).width, 1), data.shape[1])
        self.table[:, slots] = shares_given_conditions(data, spans)
        self.overall = torch.zeros(1, data.shape[1])
        self.overall[:, slots] = data[:, slots].double().mean(0).float()
        self.any = bool(len(slots))

    def g(self, fake: Tensor, fake_out: Any, fake_cond: Any) -> Tensor | None:
        if not self.any:
            return None
        fake = fake.float()
        if self.mask.device != fake.device:  # moved once, not every step
            self.mask, self.table = self.mask.to(fake.device), self.table.to(fake.device)
            self.overall = self.overall.to(fake.device)
        if fake_cond is None or fake_cond.shape[1] != self.table.shape[0]:  # unconditioned
            group = fake.new_ones(len(fake), 1)
            table = self.overall
        else:
            group = fake_cond.float()  # one condition slot per row: the rows' groups
            table = self.table
        diff = (fake - group @ table) * self.mask
        sums = group.t() @ diff  # (groups, width)
        squares = group.t() @ (diff * diff).sum(1, keepdim=True)
        n = group.sum(0)
        # (sum d)^2 - sum d^2 over n (n - 1) is unbiased for |E[share] - real share|^2: no
        # pull toward rows that vary less, as a plain squared batch mean would have
        pairs = ((sums * sums).sum(1) - squares[:, 0]) / (n * (n - 1)).clamp_min(1)
        return (pairs * n).sum() / len(fake)
