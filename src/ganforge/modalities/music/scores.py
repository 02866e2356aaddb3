"""The music metrics, each declared once (:class:`MusicMetric`): its computation on a
:class:`MusicCompared` (a run's :class:`MusicReference` beside the phrases scored) and the
real training phrases' figure beside it. ``ganforge eval`` (:func:`score`), ``eval.every``
and ``--metrics`` all read the music metrics registered; a new metric is one entry.

The floor of every score is the same computation on held-out phrases at the same count;
the baseline column ("real") is the training phrases' figure where the metric declares one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ganforge.metrics.declared import chosen_metrics, scores_with_floors
from ganforge.metrics.fid import fid
from ganforge.modalities.music.features import keynet_features
from ganforge.modalities.music.metrics import METRICS as PHRASE_METRICS
from ganforge.modalities.music.metrics import means, phrase_metrics
from ganforge.modalities.music.overlap import overlap_area
from ganforge.modalities.music.reference import MusicReference
from ganforge.registry import MetricSpec

KEYNET_REAL = 10000  # training phrases the key network's real features are taken from


@dataclass
class MusicCompared:
    """What a music metric reads: the reference beside the phrases scored (generated, or
    held-out real for a floor), (N, tracks, steps, pitches) 0/1; ``seed`` for the overlap's
    draws; ``periodic``: the score training keeps (the mean relative gap)."""

    reference: MusicReference
    rolls: np.ndarray
    seed: int = 0
    periodic: bool = False

    @cached_property
    def metrics(self) -> dict[str, np.ndarray]:
        """Every phrase metric per phrase scored."""
        return phrase_metrics(self.rolls, self.reference.low)


@dataclass(frozen=True)
class MusicMetric(MetricSpec):
    """A music :class:`MetricSpec`; ``baseline(compared) -> {label: value}``: the real
    training phrases' figure for the table's "real" column (None: no such figure)."""

    baseline: Callable[[MusicCompared], dict[str, float]] | None = None


def relative_gap(gen: dict[str, float], real: dict[str, float]) -> float:
    """Mean over the metrics of |generated - real| / |real| (%), the real value 0 counted
    as an absolute gap (EB is 0 % in the chorales)."""
    gaps = []
    for m in PHRASE_METRICS:
        g, r = gen.get(m, float("nan")), real[m]
        if np.isfinite(g) and np.isfinite(r):
            gaps.append(abs(g - r) / abs(r) if abs(r) > 1e-9 else abs(g - r) / 100.0)
        else:
            gaps.append(1.0)
    return 100.0 * float(np.mean(gaps))


def _metrics(c: MusicCompared) -> dict[str, float]:
    scored = means(c.metrics)
    if c.periodic:  # lower is better: the mean relative gap (%) to the training data
        return {"gap": relative_gap(scored, means(c.reference.train_metrics))}
    return {m: scored[m] for m in PHRASE_METRICS}


def _overlap(c: MusicCompared) -> dict[str, float]:
    train = c.reference.train_metrics
    return {f"OA[{m}]": overlap_area(train[m], c.metrics[m], c.seed) for m in PHRASE_METRICS}


def _real_keynet_features(ref: MusicReference):
    def compute():
        pick = np.random.default_rng(0).permutation(len(ref.train))[:KEYNET_REAL]
        return keynet_features(ref.keynet()[0], ref.train[np.sort(pick)])

    return ref.memo("keynet_real_features", compute)


def _fd(c: MusicCompared) -> dict[str, float]:
    ref = c.reference
    real = _real_keynet_features(ref)
    return {f"FD[{ref.name}-keynet]": fid(keynet_features(ref.keynet()[0], c.rolls), real)}


def _metric(name: str, description: str, **kw) -> MusicMetric:
    return MusicMetric(name, "music", description, **kw)


METRICS = (
    _metric(
        "metrics",
        "EB, UPC, QN, TD, pitch range, polyphony, pitch-class entropy, scale and groove "
        "consistency: generated, real and the held-out floor",
        periodic=True,  # while training: their mean relative gap to the training data (%)
        score=_metrics,
        baseline=lambda c: means(c.reference.train_metrics),
    ),
    _metric(
        "overlap",
        "Yang & Lerch distribution overlap of each metric (1 is best)",
        score=_overlap,
        baseline=lambda c: {f"OA[{m}]": 1.0 for m in PHRASE_METRICS},
    ),
    _metric(
        "copies",
        "share of bars and phrases copied verbatim from the training set",
        score=lambda c: c.reference.copies(c.rolls),
    ),
    _metric(
        "fd",
        "FD[<data>-keynet]: Frechet distance on a key classifier trained on the real phrases",
        score=_fd,
    ),
)


def held_out(ref: MusicReference, count: int, seed: int) -> np.ndarray:
    """``count`` held-out phrases drawn by ``seed``: what the floors score."""
    rng = np.random.default_rng(seed)
    return ref.heldout[rng.permutation(len(ref.heldout))[:count]]


def score(
    gen: np.ndarray, ref: MusicReference, names: tuple[str, ...] | None = None, seed: int = 0
) -> dict[str, dict[str, float]]:
    """The score table of the metrics ``names`` names (None: all): per label the generated
    phrases' value, the floor (as many held-out phrases, or the metric's own ``floor``) and
    the training phrases' figure (baseline column: real) where the metric declares one."""
    value = MusicCompared(ref, gen, seed)
    floor = MusicCompared(ref, held_out(ref, min(len(gen), len(ref.heldout)), seed), seed)

    def real(m: MetricSpec) -> dict[str, float]:
        base = getattr(m, "baseline", None)
        return base(value) if base is not None else {}

    return scores_with_floors(chosen_metrics("music", names), value, floor, real, staged=True)
