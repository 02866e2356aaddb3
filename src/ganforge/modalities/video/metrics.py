"""The video metrics, each declared once (:class:`VideoMetric`): its computation on a
:class:`VideoCompared` (a run's :class:`VideoReference` beside the clips scored) and the
real training clips' figure where one means something alone. ``ganforge eval``
(:func:`score`), ``eval.every`` and ``--metrics`` all read the video metrics registered; a
new metric is one entry.

The floor of every score is the same computation on held-out real clips at the same count
against the same training clips ("real": a fixed sample of them, :meth:`VideoReference.real`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ganforge.metrics.declared import chosen_metrics, scores_with_floors
from ganforge.metrics.fid import fid
from ganforge.metrics.kid import kid
from ganforge.modalities.video.features import clip_features
from ganforge.modalities.video.motion import ks_distance
from ganforge.modalities.video.reference import VideoReference, clip_stats
from ganforge.progress import stage
from ganforge.registry import MetricSpec


@dataclass
class VideoCompared:
    """What a video metric reads: the reference beside the clips scored (generated or
    held-out real, uint8 (N, C, T, H, W); floats in [-1, 1] while training), ``seed`` for
    KID's draws; ``periodic``: the score training keeps (FVD against :meth:`real`)."""

    reference: VideoReference
    clips: Any
    seed: int = 0
    periodic: bool = False

    @cached_property
    def stats(self) -> dict[str, Any]:
        """The clips' motion statistics, frame outputs and clip features."""
        return clip_stats(self.reference, self.clips)

    def statistics(self) -> dict[str, Any]:
        """:attr:`stats`, computed now (a long stage of its own in ``eval``)."""
        return self.stats

    @property
    def real(self) -> dict[str, Any]:
        """The same of the real training clips."""
        return self.reference.real_stats()

    @property
    def cnn(self) -> str:
        return f"{self.reference.name}-cnn"


@dataclass(frozen=True)
class VideoMetric(MetricSpec):
    """A video :class:`MetricSpec`; ``baseline(compared) -> {label: value}``: the real
    training clips' figure for the table's "real" column (None: no such figure)."""

    baseline: Callable[[VideoCompared], dict[str, float]] | None = None


def _mean(x: Any) -> float:
    return float(np.nanmean(np.asarray(x, dtype=float))) if len(x) else float("nan")


def _frames(c: VideoCompared) -> dict[str, float]:
    g, r = c.stats, c.real
    if "frame_features" not in r:
        return {}
    return {
        f"frame FID[{c.cnn}]": fid(g["frame_features"], r["frame_features"]),
        f"frame KID[{c.cnn}]": kid(g["frame_features"], r["frame_features"], seed=c.seed)[0],
        "confidence %": 100 * float(g["confidence"].mean()),
    }


def _real_confidence(c: VideoCompared) -> dict[str, float]:
    r = c.real
    return {"confidence %": 100 * float(r["confidence"].mean())} if "confidence" in r else {}


ACD = (("acd", "ACD[{cnn}]"), ("acd_colour", "ACD[colour]"))  # clip_stats key, label


def _acd(c: VideoCompared, stats: dict[str, Any] | None = None) -> dict[str, float]:
    s = c.stats if stats is None else stats
    return {label.format(cnn=c.cnn): _mean(s[key]) for key, label in ACD if key in c.real}


def _movement(s: dict[str, Any], box: int) -> dict[str, float]:
    out = {"speed px/frame": s["speed"]}
    if box:
        out["physics %"] = 100 * s["physics"]
    out["freeze %"] = 100 * s["freeze"]
    return out


def _motion(c: VideoCompared) -> dict[str, float]:
    s, box = c.stats, c.reference.box
    return {"speed KS": ks_distance(s["speeds"], c.real["speeds"]), **_movement(s, box)}


def _fvd(c: VideoCompared) -> dict[str, float]:
    ref = c.reference
    if c.periodic:  # training: generated clips against the real clips' memoised features
        net = ref.clipnet()[0]
        real = ref.memo("real_clip_features", lambda: clip_features(net, ref.real()))
        return {"fvd": fid(clip_features(net, c.clips), real)}
    return {f"FVD[{ref.name}-c3d]": fid(c.stats["clip_features"], c.real["clip_features"])}


def _metric(name: str, description: str, **kw) -> VideoMetric:
    return VideoMetric(name, "video", description, **kw)


METRICS = (
    _metric(
        "frames",
        "frame FID / KID on object crops read by the data's classifier CNN, and its "
        "confidence, beside held-out real clips",
        score=_frames,
        baseline=_real_confidence,
    ),
    _metric(
        "acd",
        "MoCoGAN's Average Content Distance: content consistency across a clip's frames",
        score=_acd,
        baseline=lambda c: _acd(c, c.real),
    ),
    _metric(
        "motion",
        "object speed distribution (KS distance), bounce physics, freeze rate",
        score=_motion,
        baseline=lambda c: _movement(c.real, c.reference.box),
    ),
    _metric(
        "fvd",
        "FVD[<data>-c3d]: Frechet distance on a 3-D CNN trained here on the real clips "
        "(not FVD's I3D)",
        periodic=True,
        score=_fvd,
    ),
)


def score(
    gen: np.ndarray, ref: VideoReference, names: tuple[str, ...] | None = None, seed: int = 0
) -> dict[str, dict[str, float]]:
    """The score table of the metrics ``names`` names (None: all) for generated clips
    ``gen`` (uint8): per label the value, the floor (as many held-out clips) and the real
    training clips' figure where the metric declares one."""
    count = min(len(gen), len(ref.heldout))
    held = ref.heldout[np.random.default_rng(seed).permutation(len(ref.heldout))[:count]]
    value, floor = VideoCompared(ref, gen[:count], seed), VideoCompared(ref, held, seed)
    stage("real clips' statistics")
    ref.real_stats()
    for name, compared in (("generated", value), ("held-out", floor)):
        stage(f"{name} clips' statistics")
        compared.statistics()
    stage("scores")

    def real(m: MetricSpec) -> dict[str, float]:
        base = getattr(m, "baseline", None)
        return base(value) if base is not None else {}

    return scores_with_floors(chosen_metrics("video", names), value, floor, real)
