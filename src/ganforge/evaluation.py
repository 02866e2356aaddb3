"""``ganforge eval``: score a run's generator, write ``eval.json`` and ``report.html``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from ganforge.data import load_dataset
from ganforge.data.images import convert_channels, resize_images
from ganforge.engine.checkpoint import atomic_write_text
from ganforge.errors import ConfigError
from ganforge.metrics.evaluate import (
    INCEPTION_ENV,
    batched,
    cached_features,
    classifier_extractor,
    feature_scores,
    image_scores,
    inception_extractor,
    merge_floor,
    parse_metrics,
)
from ganforge.metrics.extractors import dataset_key, labelled_splits
from ganforge.modalities import get_modality
from ganforge.report import write_report
from ganforge.run import Run


def _real_pair(run: Run, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Two disjoint real image sets (uint8, at the run's size): train-side and held-out."""
    cfg = run.config.data
    gen = torch.Generator().manual_seed(seed)
    if dataset_key(cfg.spec):
        s = labelled_splits(cfg.spec)
        a_idx = s.train_index[torch.randperm(len(s.train_index), generator=gen)[:n]]
        b_idx = s.test_index[torch.randperm(len(s.test_index), generator=gen)[:n]]
        a, b, how = s.train.data[a_idx], s.test.data[b_idx], "train split vs test split"
    else:
        ds = load_dataset(cfg.spec, image_size=cfg.image_size, channels=cfg.channels, seed=seed)
        perm = torch.randperm(len(ds), generator=gen)
        half = len(ds) // 2
        a, b = ds.data[perm[:half][:n]], ds.data[perm[half:][:n]]
        how = "two disjoint halves of the data"
    shape = tuple(run.meta["sample_shape"])
    return fit_to_shape(a, shape), fit_to_shape(b, shape), how


def fit_to_shape(images: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """uint8 real images brought to the generator's (channels, size)."""
    if images.shape[1] != shape[0]:
        images = convert_channels(images, shape[0])
    if tuple(images.shape[-2:]) != tuple(shape[-2:]):
        images = resize_images(images, shape[-1])
    return images


def _to_model(x: torch.Tensor) -> torch.Tensor:
    return x.float().div(127.5).sub(1.0)


def _points_eval(run: Run, n: int, seed: int) -> dict[str, Any]:
    from ganforge.metrics.toy import mode_metrics

    info = run.info
    if "centers" not in info:
        raise ConfigError("this run's data has no known modes to evaluate against")
    centers, std = torch.tensor(info["centers"]), float(info["std"])
    fake = mode_metrics(run.sample(n, seed=seed), centers, std)
    real_ds = load_dataset(run.config.data.spec, seed=seed + 1)
    real = mode_metrics(real_ds.data[:n], centers, std)
    return {
        "modes_covered": {"value": float(fake["modes_covered"]), "floor": real["modes_covered"]},
        "high_quality": {"value": float(fake["high_quality"]), "floor": real["high_quality"]},
    }


def evaluate(
    run_dir: str | Path,
    metrics: str | None = None,
    n: int = 10000,
    inception_weights: str | None = None,
    seed: int = 0,
    progress: bool = True,
    write: bool = True,
) -> dict[str, Any]:
    """Score the run's generator on ``n`` samples against real data, with real-data floors.

    Writes ``RUN/eval.json`` and ``RUN/report.html`` (``write=False`` skips both).
    """
    from ganforge.api import load_run

    if n < 10:
        raise ConfigError(f"--n must be at least 10; got {n}")
    names = parse_metrics(metrics)
    run = load_run(run_dir)
    t0 = time.perf_counter()
    notes: list[str] = []
    extractor = None
    if run.modality == "points":
        scores = _points_eval(run, n, seed)
        real_pic = None
    else:
        weights = inception_weights or os.environ.get(INCEPTION_ENV)
        spec = run.config.data.spec
        wants_features = any(m != "swd" for m in names)
        if wants_features and weights:
            extractor = inception_extractor(weights)
        elif wants_features and dataset_key(spec):
            extractor = classifier_extractor(spec, progress=progress)
        elif wants_features:
            notes.append(
                f"no feature extractor for '{spec}': FID/KID/PR/DC/IS need "
                "--inception-weights PATH; only SWD was computed"
            )
        real_a, real_b, how = _real_pair(run, n, seed)
        notes.append(f"real-data floor: {how}")
        fake = run.sample(n, seed=seed)
        scores = {}
        if extractor is not None:
            desc = "features" if progress else None

            def feats(x: torch.Tensor) -> dict[str, torch.Tensor]:
                out = {"feats": batched(extractor.features, x, desc=desc)}
                if extractor.probs is not None:
                    out["probs"] = batched(extractor.probs, x)
                return out

            key = (spec, extractor.name, tuple(real_a.shape), seed)
            real_f = cached_features(key + ("a",), lambda: feats(_to_model(real_a)))
            held_f = cached_features(key + ("b",), lambda: feats(_to_model(real_b)))
            fake_f = feats(fake)
            scores = feature_scores(real_f, fake_f, names, extractor, seed)
            floor = feature_scores(real_f, held_f, names, extractor, seed)
            scores = merge_floor(scores, floor)
        m = min(len(real_a), len(real_b), 2048)
        swd = image_scores(_to_model(real_a[:m]), fake[:m], names, seed)
        swd_floor = image_scores(_to_model(real_a[:m]), _to_model(real_b[:m]), names, seed)
        scores.update(merge_floor(swd, swd_floor))
        real_pic = get_modality("image").picture(_to_model(real_a[:64]), run.info)
    result = {
        "run": str(run.paths.root),
        "step": run.step,
        "n": n,
        "extractor": extractor.name if extractor else None,
        "scores": scores,
        "notes": notes,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if write:
        atomic_write_text(run.paths.root / "eval.json", json.dumps(result, indent=1))
        generated = get_modality(run.modality).picture(run.sample(64, seed=seed), run.info)
        write_report(
            run.paths.root / "report.html",
            f"ganforge report: {run.paths.root.name}",
            result,
            generated,
            real_pic,
            run.paths.equilibrium,
        )
    return result


class PeriodicEval:
    """Trainer hook: ``eval.metric`` every ``eval.every`` steps; the best checkpoint is kept
    in ``RUN/best/`` (lower is better for FID, KID and SWD)."""

    def __init__(self, run_root: Path, cfg: Any, sample_shape: tuple[int, ...]) -> None:
        self.root = Path(run_root)
        self.cfg = cfg
        self.every = cfg.eval.every
        self.metric = cfg.eval.metric
        self.shape = sample_shape
        self.extractor = None
        self._real: torch.Tensor | None = None
        self._real_feats: dict | None = None
        self.best = self._stored_best()

    @staticmethod
    def check(cfg: Any, modality: str) -> None:
        """Refuse, before anything is written, what periodic evaluation cannot do."""
        if modality != "image":
            raise ConfigError(
                "eval.every works for image runs; toy runs log their mode metrics every "
                "log.sample_every steps"
            )
        if cfg.eval.metric != "swd" and not (
            dataset_key(cfg.data.spec) or os.environ.get(INCEPTION_ENV)
        ):
            raise ConfigError(
                f"eval.metric={cfg.eval.metric} needs features for '{cfg.data.spec}' "
                f"(fashion-mnist, mnist5k, digits, or {INCEPTION_ENV}); use eval.metric=swd"
            )

    def _stored_best(self) -> float | None:
        from ganforge.engine import checkpoint as ckpt

        last = ckpt.latest_checkpoint(self.root / "best")
        if last is None:
            return None
        return ckpt.load_checkpoint(last)[2].get("eval_score")

    def _prepare(self) -> None:
        n, seed = self.cfg.eval.n, self.cfg.train.seed
        spec = self.cfg.data.spec
        gen = torch.Generator().manual_seed(seed)
        if dataset_key(spec):
            s = labelled_splits(spec)
            idx = s.train_index[torch.randperm(len(s.train_index), generator=gen)[:n]]
            real = s.train.data[idx]
        else:
            cfg = self.cfg.data
            ds = load_dataset(spec, image_size=cfg.image_size, channels=cfg.channels, seed=seed)
            real = ds.data[torch.randperm(len(ds), generator=gen)[:n]]
        real = fit_to_shape(real, self.shape)
        self._real = _to_model(real)
        if self.metric != "swd":
            weights = os.environ.get(INCEPTION_ENV)
            self.extractor = inception_extractor(weights) if weights else classifier_extractor(spec)
            key = (spec, self.extractor.name, tuple(real.shape), seed, "periodic")
            self._real_feats = cached_features(
                key, lambda: {"feats": batched(self.extractor.features, self._real)}
            )

    def __call__(self, trainer: Any, step: int) -> dict[str, Any]:
        from ganforge.engine import checkpoint as ckpt

        if self._real is None:
            self._prepare()
        gen = torch.Generator().manual_seed(self.cfg.train.seed + 999)
        z = torch.randn(len(self._real), trainer.G.z_dim, generator=gen)
        labels = None
        if trainer.fixed_labels is not None:
            labels = torch.arange(len(z)) % int(trainer.fixed_labels.max().item() + 1)
        fake = torch.cat(
            [
                trainer.generate(z[i : i + 500], None if labels is None else labels[i : i + 500])
                .float()
                .cpu()
                for i in range(0, len(z), 500)
            ]
        )
        names = [self.metric]
        if self.metric == "swd":
            m = min(len(fake), 2048)
            score = image_scores(self._real[:m], fake[:m], names)["SWD"]["value"]
            label = "SWD"
        else:
            fake_f = {"feats": batched(self.extractor.features, fake)}
            scores = feature_scores(self._real_feats, fake_f, names, self.extractor)
            label, entry = next(iter(scores.items()))
            score = entry["value"]
        improved = self.best is None or score < self.best
        if improved:
            self.best = score
            weights, extra, state = trainer.state_tensors()
            state["eval_score"], state["eval_metric"] = score, label
            ckpt.save_checkpoint(self.root / "best", step, weights, extra, state, keep=1)
        return {label: score, "best_" + label: self.best}
