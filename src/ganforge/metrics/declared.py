"""A modality's declared metrics (:class:`ganforge.registry.MetricSpec`) as ``eval`` reports
them: the registered ones ``--metrics`` names, each label's value beside its real-data
floor and, where there is one, a baseline's figure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganforge.progress import stage
from ganforge.registry import MetricSpec, modality_metrics


def chosen_metrics(modality: str, names: tuple[str, ...] | None = None) -> tuple[MetricSpec, ...]:
    """The metrics of ``modality`` registered with a ``score`` (a plug-in's too) that
    ``names`` names (None: all), in the order registered."""
    return tuple(
        m
        for m in modality_metrics(modality)
        if m.score is not None and (names is None or m.name in names)
    )


def scores_with_floors(
    metrics: tuple[MetricSpec, ...],
    value: Any,
    floor: Any,
    baseline: Callable[[MetricSpec], dict[str, float]] | None = None,
    staged: bool = False,
) -> dict[str, dict[str, Any]]:
    """``{label: {"value", "floor", "baseline"?}}``: each metric's ``score`` of ``value``
    (the generated samples' comparison) beside the same score of ``floor`` (held-out real
    samples in their place; the metric's own ``floor`` where it declares one) and
    ``baseline(metric)``'s figure of the label where it gives one. ``staged``: each metric
    is a progress stage of its name."""
    out: dict[str, dict[str, Any]] = {}
    for m in metrics:
        if staged:
            stage(m.name)
        values = m.score(value)
        floors = (m.floor or m.score)(floor)
        bases = baseline(m) if baseline is not None else {}
        for k, v in values.items():
            out[k] = {"value": v, "floor": floors.get(k)}
            if k in bases:
                out[k]["baseline"] = bases[k]
    return out
