"""Rows that hold several asked values at once (``--condition cut=Ideal --condition
color=E``). G's condition vector holds one column, so the rarest asked value goes through it
(every row holds that one exactly) and rows are drawn in rounds until enough also hold the
others; a combination too rare to find is one clear error, not a long wait."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from ganforge.errors import ConfigError
from ganforge.modalities.table.conditions import frequencies_from_info
from ganforge.modalities.table.transform import decode, transformer

MAX_DRAWN = 200_000  # rows drawn at most for one request


def sample_several(
    modality: Any, run: Any, n: int, asked: dict[str, Any], seed: int = 0
) -> tuple[torch.Tensor, dict[str, Any]]:
    """``n`` rows of ``run`` (model space) holding every ``asked`` value, and their info."""
    info = dict(run.info)
    tr, freqs = transformer(info), frequencies_from_info(info)
    spelled, share, vector = {}, {}, {}
    for column, value in asked.items():
        # one row's condition vector; also the one-line errors for a bad column or value
        vector[column], spelled[column] = modality.asked_conditions(info, {column: value}, 1)
        j, codec = tr.condition_codec(column)
        share[column] = float(freqs[j][codec.code_of(spelled[column])])
    lead = min(share, key=share.get)  # the rarest value: the vector makes it exact
    kept: list[torch.Tensor] = []
    found, drawn, rnd = 0, 0, 0
    while found < n and drawn < MAX_DRAWN:
        m = min(MAX_DRAWN - drawn, max(256, 4 * (n - found)))
        labels = vector[lead].expand(m, -1)
        rows = run.sample(m, seed=seed + 7919 * rnd, labels=labels)
        frame = decode(rows, {**info, "asked": {lead: spelled[lead]}}, seed=seed + rnd)
        ok = np.ones(m, dtype=bool)
        for column, value in spelled.items():
            ok &= _equal(frame[column], value)
        kept.append(rows[torch.from_numpy(ok)])
        found += int(ok.sum())
        drawn += m
        rnd += 1
    if found < n:
        wanted = ", ".join(f"{c}={v}" for c, v in spelled.items())
        raise ConfigError(
            f"only {found} of {drawn} generated rows held {wanted} (asked for {n}); the "
            "combination is too rare for this model: ask for fewer rows or fewer conditions"
        )
    info["asked"] = spelled
    return torch.cat(kept)[:n], info


def _equal(column: pd.Series, value: Any) -> np.ndarray:
    """Which cells equal ``value`` (as the data spells it; missing never does)."""
    return (column.astype(str) == str(value)).to_numpy() & column.notna().to_numpy()
