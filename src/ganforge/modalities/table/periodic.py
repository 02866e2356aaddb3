"""What a table's ``eval.every`` metric compares: generated rows, decoded, beside *training*
rows (the held-out rows stay unseen until ``ganforge eval`` gives the floors); an efficacy
model is tested on other training rows. The metrics themselves are in :mod:`.metrics`."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import torch

from ganforge.errors import ConfigError
from ganforge.modalities.table.evaluate import default_target, split_table
from ganforge.modalities.table.metrics import Compared
from ganforge.modalities.table.transform import decode
from ganforge.periodic import Comparison


def comparison(cfg: Any, info: dict[str, Any]) -> Comparison:
    """The :class:`Comparison` of ``cfg.eval.metric`` for the table ``info`` describes."""
    seed, n = int(cfg.train.seed), int(cfg.eval.n)
    kinds = {c["name"]: c["kind"] for c in info["table"]["columns"]}
    target = default_target(kinds, cfg.section("tabular").target)
    efficacy = cfg.eval.metric == "efficacy"
    if efficacy and target is None:
        raise ConfigError("eval.metric=efficacy needs a column to predict: set tabular.target")
    spec = cfg.data.spec

    @cache
    def rows() -> tuple[pd.DataFrame, pd.DataFrame]:
        """(rows to compare with, rows to test an efficacy model on): disjoint draws of the
        training rows, read once."""
        train = split_table(spec, info["table"])[0]
        pick = np.random.default_rng(seed + 17).permutation(len(train))
        half = len(pick) // 2 if efficacy else len(pick)
        a, b = pick[:half][:n], pick[half:][:n]
        return train.iloc[a].reset_index(drop=True), train.iloc[b].reset_index(drop=True)

    def view(fake: torch.Tensor) -> Compared:
        synth = decode(fake, info, seed=seed)
        ref, test = rows()
        return Compared(ref, synth, kinds, target, seed, fit_on=lambda: synth, test=test)

    return Comparison(count=lambda: min(n, len(rows()[0])), view=view)
