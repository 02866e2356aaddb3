"""The table metrics, each declared once (:class:`MetricSpec`): its computation on a
:class:`Compared` (training rows beside the rows scored), its real-data floor, whether it
can score while training, and its direction. ``ganforge eval`` (:func:`evaluate_tables`),
``eval.every`` and ``--metrics`` all read :data:`METRICS`; a new metric is one entry.

While training, rows are scored against *training* rows, so the held-out rows stay unseen
until ``ganforge eval`` gives the floors; there an efficacy model is tested on other
training rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ganforge.modalities.table.quality import (
    column_shapes,
    combined,
    copy_share,
    detection,
    efficacy,
    missing_rate_error,
    pair_trends,
    privacy,
    spike_mass_error,
    spike_masses,
)
from ganforge.progress import plan, stage
from ganforge.registry import MetricSpec


@dataclass
class Compared:
    """What a table metric reads: training rows (``ref``) beside the rows scored
    (``other``: synthetic, or held-out real rows for a floor). An efficacy model is fitted to
    ``fit_on()`` and tested on ``test``; ``train`` and ``holdout`` are every training and
    held-out row (``ganforge eval`` only). Each score is computed once per comparison."""

    ref: pd.DataFrame
    other: pd.DataFrame
    kinds: dict[str, str]
    target: str | None
    seed: int
    fit_on: Callable[[], pd.DataFrame]
    test: pd.DataFrame
    train: pd.DataFrame | None = None
    holdout: pd.DataFrame | None = None
    every: pd.DataFrame | None = None  # every row of the kind scored (eval: shares)
    columns: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = [c for c, k in self.kinds.items() if k != "id"]

    @cached_property
    def shapes(self) -> float:
        return column_shapes(self.ref, self.other, self.kinds)

    @cached_property
    def pairs(self) -> float:
        return pair_trends(self.ref, self.other, self.kinds)

    @cached_property
    def detected(self) -> tuple[float, float]:
        """(ROC AUC, log loss) of the detector (:func:`quality.detection`)."""
        return detection(self.ref, self.other, self.kinds, self.seed)


def _efficacy(c: Compared) -> dict[str, float]:
    if c.target is None:
        return {}
    value, name = efficacy(c.fit_on(), c.test, c.kinds, c.target, c.seed)
    return {f"efficacy_{name}[{c.target}]": value}


def _masses(c: Compared) -> dict[str, float]:
    out, spikes = {}, spike_masses(c.train, c.kinds)
    if spikes:
        out["spike_mass_error"] = spike_mass_error(spikes, c.every)[0]
    out["missing_rate_error"] = missing_rate_error(c.train, c.every, c.kinds)[0]
    return out


def _quality_parts(c: Compared) -> dict[str, float]:
    auc, loss = c.detected
    return {
        "column_shapes": c.shapes,
        "pair_trends": c.pairs,
        "detection_auc": auc,
        "detection_log_loss": loss,
    }


def _metric(name: str, description: str, **kw) -> MetricSpec:
    return MetricSpec(name, "tabular", description, **kw)


METRICS = (
    _metric(
        "shapes",
        "column shapes: mean KS (numbers) / total variation (labels) per column",
        periodic=True,
        score=lambda c: {"column_shapes": c.shapes},
    ),
    _metric(
        "pairs",
        "pair trends: correlation and contingency differences over all column pairs",
        periodic=True,
        score=lambda c: {"pair_trends": c.pairs},
    ),
    _metric(
        "detection",
        "ROC AUC of a classifier telling real from synthetic rows (0.5 ideal)",
        periodic=True,
        score=lambda c: {"detection_auc": c.detected[0]},
    ),
    _metric(
        "efficacy",
        "train a gradient-boosted model on synthetic rows, test on real held-out rows",
        periodic=True,
        score=_efficacy,  # floor: a model fitted to as many real training rows
        higher_is_better=True,
        label="efficacy_loss",
    ),
    _metric(
        "privacy",
        "DCR: share of rows nearer a training row than a held-out one; exact copies",
        score=lambda c: privacy(c.train, c.holdout, c.other, c.kinds, c.seed),
        floor=lambda c: {
            "dcr_closer_to_train": 0.5,  # as near the training rows as unseen rows are
            "exact_copies": copy_share(c.train, c.other, c.columns),
        },
    ),
    _metric(
        "masses",
        "largest error of a number column's spike share and of a column's missing rate",
        score=_masses,  # shares: every row given counts (more rows, less noise)
    ),
    _metric(
        "quality",
        "mean of shapes, pairs and detection log loss (0 ideal); ranks where AUC is 1.0",
        periodic=True,
        score=lambda c: {"quality": combined(c.shapes, c.pairs, c.detected[1])},
        details=_quality_parts,
        parts=("shapes", "pairs", "detection"),
    ),
)


def names() -> tuple[str, ...]:
    """Every table metric's name."""
    return tuple(m.name for m in METRICS)


def chosen(asked: tuple[str, ...] | None = None) -> tuple[MetricSpec, ...]:
    """The metrics ``asked`` names (None: all), with the parts a composite is made of."""
    wanted = set(names() if asked is None else asked)
    for m in METRICS:
        if m.name in wanted:
            wanted.update(m.parts)
    return tuple(m for m in METRICS if m.name in wanted)


def evaluate_tables(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synth: pd.DataFrame,
    kinds: dict[str, str],
    target: str | None,
    seed: int = 0,
    metrics: tuple[str, ...] | None = None,
) -> dict[str, dict[str, float]]:
    """Every score of ``metrics`` (None: all) for ``synth`` beside its real floor: the same
    score of as many held-out rows (the metric's own floor where it declares one)."""
    n = min(len(holdout), len(synth))
    if n < 10:
        raise ValueError("evaluation needs at least 10 held-out and 10 synthetic rows")
    rng = np.random.default_rng(seed)
    ref = train.iloc[rng.choice(len(train), min(n, len(train)), replace=False)]
    ho = holdout.iloc[rng.choice(len(holdout), n, replace=False)]
    sy = synth.iloc[rng.choice(len(synth), n, replace=False)]
    m = min(len(synth), len(train))

    def real_rows() -> pd.DataFrame:  # drawn after the samples above, when efficacy runs
        return train.iloc[rng.choice(len(train), m, replace=False)]

    common = {"kinds": kinds, "target": target, "seed": seed, "test": holdout}
    value = Compared(
        ref, sy, fit_on=lambda: synth.iloc[:m], train=train, holdout=holdout, every=synth, **common
    )
    floor = Compared(
        ref, ho, fit_on=real_rows, train=train, holdout=holdout, every=holdout, **common
    )
    picked = chosen(metrics)
    staged = ("shapes", "pairs", "detection", "privacy") + (("efficacy",) if target else ())
    steps = [s.name for s in picked if s.name in staged]
    plan(*steps)
    out: dict[str, dict[str, float]] = {}
    for metric in picked:
        if metric.name in steps:
            stage(metric.name)
        values = metric.score(value)
        floors = (metric.floor or metric.score)(floor)
        out.update({k: {"value": v, "floor": floors[k]} for k, v in values.items()})
    return out
