"""The text metrics, each declared once (:class:`TextMetric`): its computation on a
:class:`TextCompared` (a run's :class:`TextReference` beside the character ids scored) and,
for the quality-diversity curve, the picture it draws. ``ganforge eval``
(:func:`with_floors`, :func:`metric_pictures`), ``eval.every`` and ``--metrics`` all read the
text metrics registered; a new metric is one entry.

The floor of every score is the same computation on held-out real text at the same count,
and the Markov baseline's the same on the chain's samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ganforge.metrics.declared import chosen_metrics, scores_with_floors
from ganforge.modalities.text.bleu import bleu, distinct, self_bleu
from ganforge.modalities.text.curve import curve_picture
from ganforge.modalities.text.scoring import SMALL, TextReference
from ganforge.progress import stage
from ganforge.registry import MetricSpec

# a model's sampler at a temperature, and the temperatures the curve sweeps
Sweep = tuple[Callable[[float], np.ndarray], tuple[float, ...]]
CURVE_SAMPLES = 640


@dataclass
class TextCompared:
    """What a text metric reads: the reference beside the ids scored (N, L): generated
    samples, held-out real text (a floor) or a baseline's samples. ``periodic``: the score
    training keeps (JS-4 of all the samples); ``sweeps``: each model's sampler over
    temperatures (``eval``, for the curve)."""

    reference: TextReference
    ids: np.ndarray
    periodic: bool = False
    sweeps: dict[str, Sweep] = field(default_factory=dict)

    @cached_property
    def small(self) -> list[str]:
        """The first ``min(640, N)`` samples as text (as many as there are floor samples,
        at most): what BLEU, self-BLEU, distinct-n and copies read."""
        ref = self.reference
        return ref.vocab.decode(self.ids[: min(SMALL, len(self.ids), len(ref.floor_ids))])


@dataclass(frozen=True)
class TextMetric(MetricSpec):
    """A text :class:`MetricSpec`; ``picture(compared) -> (caption, picture)``: what it
    draws in the report (None: it only scores)."""

    picture: Callable[[TextCompared], tuple[str, Any]] | None = None


def _js(c: TextCompared) -> dict[str, float]:
    ngrams = c.reference.ngrams
    if c.periodic:
        return {"js4": ngrams.js(c.ids)[4]}
    return {
        f"JS-{n}@{count}": v
        for count in c.reference.counts(len(c.ids))
        for n, v in ngrams.js(c.ids[:count]).items()
    }


def _bleu(c: TextCompared) -> dict[str, float]:
    refs = c.reference.references
    return {f"BLEU-{n}": bleu(c.small, refs, n) for n in (4, 5)} if refs else {}


def _self_bleu(c: TextCompared) -> dict[str, float]:
    return {f"self-BLEU-{n}": self_bleu(c.small, n) for n in (4, 5)}


def _distinct(c: TextCompared) -> dict[str, float]:
    return {f"distinct-{n}": distinct(c.small, n) for n in (2, 4)}


def _copies(c: TextCompared) -> dict[str, float]:
    return {"copies": float(np.mean([s in c.reference.train_text for s in c.small]))}


def quality_diversity(ref: TextReference, ids: np.ndarray) -> tuple[float, float]:
    """(self-BLEU-4, BLEU-4) of ``ids``: a point of the curve."""
    c = TextCompared(ref, ids)
    return _self_bleu(c)["self-BLEU-4"], _bleu(c)["BLEU-4"]


def _curve(c: TextCompared) -> tuple[str, Any]:
    ref = c.reference
    curves = {
        name: [(t, *quality_diversity(ref, draw(t))) for t in temperatures]
        for name, (draw, temperatures) in c.sweeps.items()
    }
    real = quality_diversity(ref, ref.floor_ids[:CURVE_SAMPLES])
    return (
        "quality vs diversity: BLEU-4 against self-BLEU-4 over sampling temperatures",
        curve_picture(curves, real),
    )


def _metric(name: str, description: str, **kw) -> TextMetric:
    return TextMetric(name, "text", description, **kw)


METRICS = (
    _metric(
        "js",
        "JS-1..4: Jensen-Shannon divergence of character n-grams against the training text",
        periodic=True,  # while training: JS-4 of the samples against the training text
        score=_js,
    ),
    _metric("bleu", "BLEU-4/5 of samples against held-out text (whitespace tokens)", score=_bleu),
    _metric(
        "self-bleu",
        "self-BLEU-4/5: each sample against the others (lower: more diverse)",
        score=_self_bleu,
    ),
    _metric(
        "distinct",
        "distinct-2/4: distinct word n-grams over all word n-grams",
        score=_distinct,
    ),
    _metric("copies", "share of samples equal to a training sample (memorisation)", score=_copies),
    _metric(
        "curve",
        "quality-diversity curve: BLEU-4 vs self-BLEU-4 over sampling temperatures",
        score=lambda c: {},  # a picture, no score of its own
        picture=_curve,
    ),
)


def text_scores(
    ref: TextReference, ids: np.ndarray, names: tuple[str, ...] | None = None
) -> dict[str, float]:
    """The scores of samples ``ids`` (N, L) by the metrics ``names`` names (None: all);
    JS at each count of :meth:`TextReference.counts`, the rest on the first
    ``min(640, N)``."""
    compared, out = TextCompared(ref, ids), {}
    for m in chosen_metrics("text", names):
        out.update(m.score(compared))
    return out


def with_floors(
    ref: TextReference,
    ids: np.ndarray,
    names: tuple[str, ...] | None = None,
    baseline: np.ndarray | None = None,
) -> dict[str, dict[str, Any]]:
    """``{label: {"value", "floor", "baseline"?}}``: the samples, held-out real text and
    (when given) a baseline's samples, scored alike at the same counts (a metric's own
    ``floor`` where it declares one)."""
    n = min(len(ids), len(ref.floor_ids))
    base = TextCompared(ref, baseline[:n]) if baseline is not None else None
    return scores_with_floors(
        chosen_metrics("text", names),
        TextCompared(ref, ids[:n]),
        TextCompared(ref, ref.floor_ids[:n]),
        (lambda m: m.score(base)) if base is not None else None,
    )


def metric_pictures(compared: TextCompared, names: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(caption, picture) of each metric ``names`` names that draws one (a stage each)."""
    out = []
    for m in chosen_metrics("text", names):
        if getattr(m, "picture", None) is not None:
            stage(m.name)
            out.append(m.picture(compared))
    return out
