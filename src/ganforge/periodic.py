"""The one scorer ``eval.every`` calls for every modality: the run's ``eval.metric``, as its
:class:`~ganforge.registry.MetricSpec` declares it, on generated samples beside what the
modality compares them with (its :class:`Comparison`).

A modality supplies only what differs: how many samples a score takes and what a metric
reads (the generated samples decoded, beside the real ones); the metric declares the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ganforge.registry import MetricSpec


@dataclass
class Comparison:
    """What a modality's periodic metrics compare: ``count``, the generated samples a score
    takes (a number, or a function called once, on first use: it may load the real data),
    and ``view(fake)``, what a metric's ``score`` reads for those samples."""

    count: int | Callable[[], int]
    view: Callable[[Any], Any]


@dataclass
class Generated:
    """A plain view: the modality's real reference beside the generated samples."""

    reference: Any
    samples: Any


class PeriodicScorer:
    """``sample_count() -> n`` and ``__call__(fake) -> (label, score)``, lower is better, for
    :class:`ganforge.evaluation.PeriodicEval`; ``details``: the last score's parts."""

    def __init__(self, metric: MetricSpec, comparison: Comparison) -> None:
        if metric.score is None:
            raise ValueError(f"the metric '{metric.name}' declares no score to compute")
        self.metric = metric
        self.comparison = comparison
        self._count: int | None = None
        self.details: dict[str, float] = {}

    def sample_count(self) -> int:
        if self._count is None:
            count = self.comparison.count
            self._count = int(count() if callable(count) else count)
        return self._count

    def __call__(self, fake: Any) -> tuple[str, float]:
        compared = self.comparison.view(fake)
        scores = self.metric.score(compared)
        first, value = next(iter(scores.items()))
        if self.metric.details is not None:
            self.details = dict(self.metric.details(compared))
        if self.metric.higher_is_better:
            value = 1.0 - value
        return self.metric.label or first, float(value)
