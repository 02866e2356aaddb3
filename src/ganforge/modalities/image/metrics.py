"""The image metrics, each declared once (:class:`ImageMetric`): its computation on an
:class:`ImagesCompared` (real images and their features beside the images scored), its
labels, whether it reads class probabilities or pixels. ``ganforge eval`` (through
:func:`feature_scores` and :func:`image_scores`), ``eval.every`` and ``--metrics`` all read
the image metrics registered; a new metric is one entry.

Feature labels carry the extractor's name (``FID[inception]``); the floor of every metric
is the same computation with held-out real images in place of the generated ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import torch

from ganforge.errors import ConfigError
from ganforge.metrics.classes import class_coverage
from ganforge.metrics.evaluate import Extractor, batched
from ganforge.metrics.fid import fid, fid_bootstrap
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kid
from ganforge.metrics.prdc import density_coverage, precision_recall
from ganforge.metrics.swd import sliced_wasserstein
from ganforge.registry import MetricSpec, modality_metrics

Entries = dict[str, dict[str, float]]  # label -> {"value", "std"?}
SWD_IMAGES = 2048  # SWD compares at most this many images of each side


@dataclass
class ImagesCompared:
    """What an image metric reads: real images beside the images scored (generated, or
    held-out real for a floor), both in model space, and their features on ``extractor``
    (``{"feats", "probs"?}``); the scored images' features are computed on first use where
    they are not given. ``spread``: whether a score's std is wanted (``eval``; training
    keeps only the value)."""

    real: torch.Tensor | None = None
    other: torch.Tensor | None = None
    extractor: Extractor | None = None
    real_features: dict[str, torch.Tensor] | None = None
    other_features: dict[str, torch.Tensor] | None = None
    seed: int = 0
    spread: bool = True

    @property
    def tag(self) -> str:
        """The extractor's name as a label suffix: ``[inception]``."""
        return f"[{self.extractor.name}]" if self.extractor else ""

    @cached_property
    def feats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(real, scored) features in float64."""
        if self.other_features is None:
            self.other_features = {"feats": batched(self.extractor.features, self.other)}
        return self.real_features["feats"].double(), self.other_features["feats"].double()

    @property
    def probs(self) -> torch.Tensor | None:
        """The scored images' class probabilities (float64), None without them."""
        given = self.other_features or {}
        return given["probs"].double() if "probs" in given else None


@dataclass(frozen=True)
class ImageMetric(MetricSpec):
    """An image :class:`MetricSpec`: ``measure(compared) -> {label: {"value", "std"?}}``
    (its ``score`` is the values); ``probs``: it needs the extractor's class probabilities
    (skipped without them); ``pixels``: it reads the images, not their features."""

    measure: Callable[[ImagesCompared], Entries] | None = None
    probs: bool = False
    pixels: bool = False

    def __post_init__(self) -> None:
        if self.score is None and self.measure is not None:
            measure = self.measure

            def score(c: ImagesCompared) -> dict[str, float]:
                return {label: entry["value"] for label, entry in measure(c).items()}

            object.__setattr__(self, "score", score)


def _fid(c: ImagesCompared) -> Entries:
    a, b = c.feats
    entry = {"value": fid(a, b)}
    if c.spread:
        # the value is the plain FID; resampling (which duplicates rows and so biases the
        # mean upwards) only gives its spread
        entry["std"] = fid_bootstrap(a, b, seed=c.seed)[1]
    return {f"FID{c.tag}": entry}


def _kid(c: ImagesCompared) -> Entries:
    mean, std = kid(*c.feats, seed=c.seed)
    return {f"KID{c.tag}": {"value": mean, "std": std}}


def _pr(c: ImagesCompared) -> Entries:
    pr = precision_recall(*c.feats)
    return {
        f"precision{c.tag}": {"value": float(pr["precision"])},
        f"recall{c.tag}": {"value": float(pr["recall"])},
    }


def _dc(c: ImagesCompared) -> Entries:
    dc = density_coverage(*c.feats)
    return {
        f"density{c.tag}": {"value": float(dc["density"])},
        f"coverage{c.tag}": {"value": float(dc["coverage"])},
    }


def _is(c: ImagesCompared) -> Entries:
    mean, std = inception_score(c.probs)
    return {f"IS{c.tag}": {"value": mean, "std": std}}


def _classes(c: ImagesCompared) -> Entries:
    cc = class_coverage(c.probs, c.extractor.num_classes)
    return {
        f"classes_covered{c.tag}": {"value": float(cc["classes_covered"])},
        f"class_entropy{c.tag}": {"value": float(cc["normalized_entropy"])},
    }


def _swd(c: ImagesCompared) -> Entries:
    m = min(len(c.real), len(c.other), SWD_IMAGES)
    swd = sliced_wasserstein(c.real[:m], c.other[:m], seed=c.seed)
    return {"SWD": {"value": float(swd["mean"])}}


def _metric(name: str, description: str, **kw) -> ImageMetric:
    return ImageMetric(name, "image", description, **kw)


METRICS = (
    _metric(
        "fid", "Frechet distance of classifier / Inception features", periodic=True, measure=_fid
    ),
    _metric(
        "kid",
        "kernel inception distance (unbiased MMD^2, cubic kernel)",
        periodic=True,
        measure=_kid,
    ),
    _metric("pr", "improved precision and recall (k-NN manifolds)", measure=_pr),
    _metric("dc", "density and coverage", measure=_dc),
    _metric(
        "is", "inception score on the extractor's class probabilities", measure=_is, probs=True
    ),
    _metric("classes", "classes covered and their entropy", measure=_classes, probs=True),
    _metric(
        "swd",
        "sliced Wasserstein distance of Laplacian-pyramid patches",
        periodic=True,
        measure=_swd,
        pixels=True,
    ),
)


def image_metrics() -> tuple[ImageMetric, ...]:
    """Every image metric registered (the built-in ones and a plug-in's), in order."""
    return tuple(m for m in modality_metrics("image") if isinstance(m, ImageMetric))


def parse_metrics(text: str | None) -> list[str]:
    """``"fid,kid"`` -> ``["fid", "kid"]`` (None: every image metric); an unknown name is a
    ConfigError."""
    known = [m.name for m in image_metrics()]
    if not text:
        return known
    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in known]
    if bad:
        raise ConfigError(
            f"unknown metric '{bad[0]}'; choose from {','.join(known)} (comma-separated)"
        )
    return names


def measure(metrics: list[str], compared: ImagesCompared, pixels: bool) -> Entries:
    """The entries of the image metrics named in ``metrics`` that read pixels (``pixels``)
    or features, in the order registered; one needing class probabilities is skipped
    without them."""
    out: Entries = {}
    for m in image_metrics():
        if m.name in metrics and m.pixels == pixels and m.measure is not None:
            if m.probs and compared.probs is None:
                continue
            out.update(m.measure(compared))
    return out


def feature_scores(
    real: dict[str, torch.Tensor],
    other: dict[str, torch.Tensor],
    metrics: list[str],
    extractor: Extractor | None,
    seed: int = 0,
) -> Entries:
    """Scores of ``other`` (generated or held-out real) against ``real`` on features."""
    if extractor is None or "feats" not in real:
        return {}
    compared = ImagesCompared(
        extractor=extractor, real_features=real, other_features=other, seed=seed
    )
    return measure(metrics, compared, pixels=False)


def image_scores(
    real_images: torch.Tensor, other_images: torch.Tensor, metrics: list[str], seed: int = 0
) -> Entries:
    """Scores that need no pretrained network (SWD on Laplacian-pyramid patches)."""
    return measure(metrics, ImagesCompared(real_images, other_images, seed=seed), pixels=True)
