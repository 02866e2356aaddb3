"""The one periodic scorer: a metric's declared score on what a modality compares, its
direction and label, its details, the count taken once; and the default
``Modality.periodic_scorer`` built from the registry's declarations."""

from __future__ import annotations

import torch

from ganforge.modality import Modality
from ganforge.periodic import Comparison, Generated, PeriodicScorer
from ganforge.registry import MetricSpec, find_metric, metric_names, registered
from ganforge.training import resolve_config


def mean_gap(c: Generated) -> dict[str, float]:
    return {"mean_gap": float((c.samples.mean() - c.reference.mean()).abs())}


def test_the_scorer_reads_the_view_and_keeps_lower_is_better():
    real = torch.zeros(8, 2)
    counted = []

    def count() -> int:
        counted.append(1)
        return len(real)

    metric = MetricSpec("gap", "m", "mean gap", periodic=True, score=mean_gap)
    scorer = PeriodicScorer(metric, Comparison(count, lambda fake: Generated(real, fake)))
    assert scorer.sample_count() == 8 and scorer.sample_count() == 8 and len(counted) == 1
    assert scorer(torch.full((8, 2), 3.0)) == ("mean_gap", 3.0)
    assert scorer.details == {}


def test_a_higher_is_better_score_is_kept_as_one_minus_it_under_its_label():
    def accuracy(c: Generated) -> dict[str, float]:
        return {"accuracy[x]": float((c.samples == c.reference).float().mean())}

    metric = MetricSpec(
        "acc",
        "m",
        "agreement",
        periodic=True,
        score=accuracy,
        higher_is_better=True,
        label="acc_loss",
        details=lambda c: {"n": float(len(c.samples))},
    )
    real = torch.tensor([1, 1, 0, 0])
    scorer = PeriodicScorer(metric, Comparison(4, lambda fake: Generated(real, fake)))
    assert scorer(torch.tensor([1, 0, 0, 0])) == ("acc_loss", 0.25)
    assert scorer.details == {"n": 4.0}


class Shifted(Modality):
    name = "shifted"

    def periodic_comparison(self, cfg, sample_shape, info=None):
        return Comparison(cfg.eval.n, lambda fake: Generated(torch.zeros(1), fake))


def test_a_modality_declares_its_metric_once_and_gets_the_scorer():
    gap = MetricSpec("gap", "shifted", "mean gap", periodic=True, score=mean_gap)
    listed = MetricSpec("listed", "shifted", "only in eval")
    with registered(Shifted(), gap, listed):
        assert metric_names("shifted") == ("gap", "listed")
        assert metric_names("shifted", periodic=True) == ("gap",)
        assert find_metric("shifted", "gap") is gap and find_metric("shifted", "nope") is None
        cfg = resolve_config("demo", overrides=["eval.metric=swd", "eval.n=16"])
        assert Shifted().periodic_scorer(cfg, (2,)) is None  # not one of its metrics
        cfg.eval.metric = "listed"
        assert Shifted().periodic_scorer(cfg, (2,)) is None  # not periodic
        cfg.eval.metric = "gap"
        scorer = Shifted().periodic_scorer(cfg, (2,))
        assert scorer.sample_count() == 16
        assert scorer(torch.full((16, 2), -2.0)) == ("mean_gap", 2.0)


def test_every_built_in_periodic_metric_declares_its_score():
    for modality in ("image", "tabular", "text", "music", "video"):
        names = metric_names(modality, periodic=True)
        assert names, modality
        for name in names:
            assert find_metric(modality, name).score is not None, (modality, name)
