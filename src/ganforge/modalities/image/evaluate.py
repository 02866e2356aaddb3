"""Image evaluation: the metrics of :mod:`.metrics` (FID / KID / PR / DC / IS / classes on a
feature extractor, SWD on pixels), each beside the same score between two real samples (the
floor); and what ``eval.every`` compares generated images with."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import torch

from ganforge.data import load_dataset
from ganforge.errors import ConfigError
from ganforge.metrics.evaluate import (
    INCEPTION_ENV,
    Extractor,
    batched,
    cached_features,
    inception_extractor,
    merge_floor,
)
from ganforge.modalities.image.datasets import convert_channels, resize_images
from ganforge.modalities.image.extractors import classifier_extractor, dataset_key, labelled_splits
from ganforge.modalities.image.metrics import (
    SWD_IMAGES,
    ImagesCompared,
    feature_scores,
    image_metrics,
    image_scores,
    parse_metrics,
)
from ganforge.modalities.image.render import make_grid
from ganforge.modality import Evaluation
from ganforge.periodic import Comparison
from ganforge.progress import plan, stage


def fit_to_shape(images: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """uint8 real images brought to the generator's (channels, size)."""
    if images.shape[1] != shape[0]:
        images = convert_channels(images, shape[0])
    if tuple(images.shape[-2:]) != tuple(shape[-2:]):
        images = resize_images(images, shape[-1])
    return images


def to_model(x: torch.Tensor) -> torch.Tensor:
    return x.float().div(127.5).sub(1.0)


def _load(cfg: Any, seed: int) -> Any:
    img = cfg.section("image")
    return load_dataset(cfg.data.spec, seed=seed, image_size=img.size, channels=img.channels)


def real_pair(
    cfg: Any, shape: tuple[int, ...], n: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Two disjoint real image sets (uint8, at the run's size): train-side and held-out."""
    gen = torch.Generator().manual_seed(seed)
    if dataset_key(cfg.data.spec):
        s = labelled_splits(cfg.data.spec)
        a_idx = s.train_index[torch.randperm(len(s.train_index), generator=gen)[:n]]
        b_idx = s.test_index[torch.randperm(len(s.test_index), generator=gen)[:n]]
        a, b, how = s.train.data[a_idx], s.test.data[b_idx], "train split vs test split"
    else:
        ds = _load(cfg, seed)
        perm = torch.randperm(len(ds), generator=gen)
        half = len(ds) // 2
        a, b = ds.data[perm[:half][:n]], ds.data[perm[half:][:n]]
        how = "two disjoint halves of the data"
    return fit_to_shape(a, shape), fit_to_shape(b, shape), how


def evaluate_images(
    run: Any,
    metrics: str | None,
    n: int,
    seed: int,
    progress: bool = True,
    inception_weights: str | None = None,
) -> Evaluation:
    """The image modality's ``evaluate`` (see :func:`ganforge.evaluation.evaluate`)."""
    names = parse_metrics(metrics)
    notes: list[str] = []
    extractor = None
    weights = inception_weights or os.environ.get(INCEPTION_ENV)
    spec = run.config.data.spec
    wants_features = any(not _reads_pixels(name) for name in names)
    plan("feature network", "real images", "generated images", "features", "scores", "SWD")
    stage("feature network")
    if wants_features and weights:
        extractor = inception_extractor(weights)
    elif wants_features and dataset_key(spec):
        extractor = classifier_extractor(spec, progress=progress)
    elif wants_features:
        notes.append(
            f"no feature extractor for '{spec}': FID/KID/PR/DC/IS need "
            "--inception-weights PATH; only SWD was computed"
        )
    shape = tuple(run.meta["sample_shape"])
    stage("real images")
    real_a, real_b, how = real_pair(run.config, shape, n, seed)
    notes.append(f"real-data floor: {how}")
    stage("generated images")
    fake = run.sample(n, seed=seed)
    scores: dict[str, dict[str, float]] = {}
    if extractor is not None:
        desc = "features" if progress else None

        def feats(x: torch.Tensor) -> dict[str, torch.Tensor]:
            out = {"feats": batched(extractor.features, x, desc=desc)}
            if extractor.probs is not None:
                out["probs"] = batched(extractor.probs, x)
            return out

        key = (spec, extractor.name, tuple(real_a.shape), seed)
        stage("features")
        real_f = cached_features(key + ("a",), lambda: feats(to_model(real_a)))
        held_f = cached_features(key + ("b",), lambda: feats(to_model(real_b)))
        fake_f = feats(fake)
        stage("scores")
        scores = feature_scores(real_f, fake_f, names, extractor, seed)
        floor = feature_scores(real_f, held_f, names, extractor, seed)
        scores = merge_floor(scores, floor)
    stage("SWD")
    m = min(len(real_a), len(real_b), SWD_IMAGES)
    swd = image_scores(to_model(real_a[:m]), fake[:m], names, seed)
    swd_floor = image_scores(to_model(real_a[:m]), to_model(real_b[:m]), names, seed)
    scores.update(merge_floor(swd, swd_floor))
    return Evaluation(
        scores=scores,
        notes=notes,
        extractor=extractor.name if extractor else None,
        real_picture=make_grid(to_model(real_a[:64])),
    )


def _reads_pixels(name: str) -> bool:
    return any(m.name == name and m.pixels for m in image_metrics())


def check_periodic(cfg: Any) -> None:
    """What periodic image evaluation cannot do, refused before anything is written."""
    periodic = {m.name: m for m in image_metrics() if m.periodic}
    if cfg.eval.metric not in periodic:
        raise ConfigError(
            f"eval.metric={cfg.eval.metric} is not an image metric; use one of "
            f"{', '.join(periodic)}"
        )
    if not periodic[cfg.eval.metric].pixels and not (
        dataset_key(cfg.data.spec) or os.environ.get(INCEPTION_ENV)
    ):
        raise ConfigError(
            f"eval.metric={cfg.eval.metric} needs features for '{cfg.data.spec}' "
            f"(fashion-mnist, mnist5k, digits, or {INCEPTION_ENV}); use eval.metric=swd"
        )


def comparison(cfg: Any, sample_shape: tuple[int, ...]) -> Comparison:
    """``eval.every``: generated images against ``eval.n`` real training images, loaded (and
    their features computed, cached) when the first score asks how many to draw."""
    metric, spec = cfg.eval.metric, cfg.data.spec
    shape = tuple(sample_shape)

    @cache
    def prepared() -> tuple[torch.Tensor, Extractor | None, dict | None]:
        n, seed = cfg.eval.n, cfg.train.seed
        gen = torch.Generator().manual_seed(seed)
        if dataset_key(spec):
            s = labelled_splits(spec)
            idx = s.train_index[torch.randperm(len(s.train_index), generator=gen)[:n]]
            real = s.train.data[idx]
        else:
            ds = _load(cfg, seed)
            real = ds.data[torch.randperm(len(ds), generator=gen)[:n]]
        real = fit_to_shape(real, shape)
        in_model = to_model(real)
        if _reads_pixels(metric):
            return in_model, None, None
        weights = os.environ.get(INCEPTION_ENV)
        extractor = inception_extractor(weights) if weights else classifier_extractor(spec)
        key = (spec, extractor.name, tuple(real.shape), seed, "periodic")
        features = cached_features(key, lambda: {"feats": batched(extractor.features, in_model)})
        return in_model, extractor, features

    def view(fake: torch.Tensor) -> ImagesCompared:
        real, extractor, features = prepared()
        # training keeps only the value: no bootstrap spread
        return ImagesCompared(real, fake, extractor, features, spread=False)

    return Comparison(count=lambda: len(prepared()[0]), view=view)
