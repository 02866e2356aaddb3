"""``eval.every`` for tables: generated rows scored against *training* rows while training
runs, so the held-out rows stay unseen until ``ganforge eval`` gives its floors. Lower is
better for each, as the best checkpoint and ``eval.patience`` need:

- ``shapes``: column shapes (mean KS / total variation per column);
- ``pairs``: pair trends (correlation / contingency differences over all pairs);
- ``detection``: ROC AUC of a classifier telling real from synthetic rows (0.5 ideal);
- ``efficacy``: 1 - the score (accuracy, or R^2 for a number) on training rows of a model
  fitted to the synthetic rows, for ``tabular.target``;
- ``quality``: the mean of shapes, pairs and the detector's separability (1 - its log loss
  / ln 2). Where every AUC is 1.0 (a detector tells the rows apart at every step) the AUC
  cannot pick a checkpoint; this still ranks them. Its parts are logged beside it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from ganforge.errors import ConfigError
from ganforge.modalities.table.evaluate import default_target, split_table
from ganforge.modalities.table.quality import (
    column_shapes,
    combined,
    detection,
    efficacy,
    pair_trends,
)
from ganforge.modalities.table.transform import decode

PERIODIC = ("shapes", "pairs", "detection", "efficacy", "quality")


class PeriodicTableScore:
    """The scorer :class:`ganforge.evaluation.PeriodicEval` calls every ``eval.every``."""

    def __init__(self, cfg: Any, info: dict[str, Any]) -> None:
        self.metric = cfg.eval.metric
        self.spec, self.info = cfg.data.spec, info
        self.seed, self.n = int(cfg.train.seed), int(cfg.eval.n)
        self.kinds = {c["name"]: c["kind"] for c in info["table"]["columns"]}
        self.target = default_target(self.kinds, cfg.section("tabular").target)
        if self.metric == "efficacy" and self.target is None:
            raise ConfigError("eval.metric=efficacy needs a column to predict: set tabular.target")
        self._rows: tuple[pd.DataFrame, pd.DataFrame] | None = None
        self.details: dict[str, float] = {}  # the last score's parts, logged beside it

    def sample_count(self) -> int:
        return min(self.n, len(self.rows()[0]))

    def rows(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(rows to compare with, rows to test an efficacy model on): disjoint draws of the
        training rows, read once."""
        if self._rows is None:
            train = split_table(self.spec, self.info["table"])[0]
            pick = np.random.default_rng(self.seed + 17).permutation(len(train))
            half = len(pick) // 2 if self.metric == "efficacy" else len(pick)
            a, b = pick[:half][: self.n], pick[half:][: self.n]
            self._rows = train.iloc[a].reset_index(drop=True), train.iloc[b].reset_index(drop=True)
        return self._rows

    def __call__(self, fake: torch.Tensor) -> tuple[str, float]:
        synth = decode(fake, self.info, seed=self.seed)
        ref, test = self.rows()
        if self.metric == "shapes":
            return "column_shapes", column_shapes(ref, synth, self.kinds)
        if self.metric == "pairs":
            return "pair_trends", pair_trends(ref, synth, self.kinds)
        if self.metric == "detection":
            return "detection_auc", detection(ref, synth, self.kinds, self.seed)[0]
        if self.metric == "quality":
            auc, loss = detection(ref, synth, self.kinds, self.seed)
            shapes = column_shapes(ref, synth, self.kinds)
            pairs = pair_trends(ref, synth, self.kinds)
            self.details = {
                "column_shapes": shapes,
                "pair_trends": pairs,
                "detection_auc": auc,
                "detection_log_loss": loss,
            }
            return "quality", combined(shapes, pairs, loss)
        value, name = efficacy(synth, test, self.kinds, self.target, self.seed)
        return "efficacy_loss", 1.0 - value
