"""A table metric is one entry: declared once in ``table.metrics.METRICS``, it is scored by
``ganforge eval`` beside its floor and, registered, by ``eval.every``; a composite brings
its parts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganforge.modalities.table import TableModality
from ganforge.modalities.table import metrics as table_metrics
from ganforge.modalities.table.datasets import load_table, remember_frame
from ganforge.registry import MetricSpec, registered
from ganforge.training import resolve_config

MEANS = MetricSpec(
    "means",
    "tabular",
    "gap between the mean weights",
    periodic=True,
    score=lambda c: {"mean_gap": abs(c.other["weight"].mean() - c.ref["weight"].mean())},
)


def frame(n: int, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"weight": rng.normal(shift, 1.0, n), "size": rng.choice(["s", "l"], n)})


@pytest.fixture
def with_means(monkeypatch):
    monkeypatch.setattr(table_metrics, "METRICS", (*table_metrics.METRICS, MEANS))
    with registered(MEANS):
        yield


def test_a_new_metric_is_scored_beside_its_floor(with_means):
    kinds = {"weight": "continuous", "size": "categorical"}
    train, holdout = frame(400), frame(100, seed=1)
    scores = table_metrics.evaluate_tables(
        train, holdout, frame(100, 5.0, 2), kinds, None, 0, ("means",)
    )
    assert list(scores) == ["mean_gap"]
    assert scores["mean_gap"]["value"] > 4 and scores["mean_gap"]["floor"] < 0.5
    assert "means" in TableModality().metric_names


def test_a_new_periodic_metric_scores_while_training(with_means):
    spec = remember_frame(frame(500))
    data = load_table("frame", spec.split(":", 1)[1], holdout=0.2)
    cfg = resolve_config("tabular", data=spec, overrides=["eval.metric=means", "eval.n=200"])
    scorer = TableModality().periodic_scorer(cfg, data.sample_shape, data.info)
    assert scorer.sample_count() == 200
    label, value = scorer(data.data[:200])
    assert label == "mean_gap" and value < 0.5


def test_a_composite_brings_its_parts():
    picked = [m.name for m in table_metrics.chosen(("quality",))]
    assert picked == ["shapes", "pairs", "detection", "quality"]
    assert [m.name for m in table_metrics.chosen()] == list(table_metrics.names())
