"""The points modality: flat vectors, with the toy 2-D mixtures (ring of 8, grid of 25) and
their mode-coverage metrics. Registered by :func:`register` (entry point ``points``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ganforge.data import load_dataset
from ganforge.errors import ConfigError
from ganforge.metrics.toy import mode_metrics
from ganforge.modalities.points.datasets import grid25, ring8
from ganforge.modalities.points.render import save_points, scatter_plot
from ganforge.modality import Evaluation, Modality
from ganforge.registry import (
    DatasetSpec,
    MetricSpec,
    register_dataset,
    register_metric,
    register_modality,
)


@dataclass
class Mixture:
    """What ``modes`` reads: points beside the toy mixture's mode centres and their std."""

    samples: torch.Tensor
    centers: torch.Tensor
    std: float


def _modes(c: Mixture) -> dict[str, float]:
    m = mode_metrics(c.samples, c.centers, c.std)
    return {k: m[k] for k in ("modes_covered", "high_quality")}


MODES = MetricSpec(
    "modes", "points", "modes covered and the high-quality share (toy mixtures)", score=_modes
)


def _mode_figures(samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
    m = mode_metrics(samples.detach().float().cpu(), torch.tensor(info["centers"]), info["std"])
    return {k: m[k] for k in ("modes_covered", "num_modes", "high_quality")}


class PointsModality(Modality):
    """Rows of numbers: scatter plots for people, ``.csv`` / ``.npy`` for tools."""

    name = "points"
    description = "flat vectors (D,): scatter plots, .csv/.npy, modes covered on toy mixtures"
    raw_formats = (".npy", ".csv")
    picture_samples = 2500

    def check_periodic(self, cfg: Any) -> None:
        raise ConfigError(
            "eval.every works for image runs; toy runs log their mode metrics every "
            "log.sample_every steps"
        )

    def interpolation_count(self, cfg: Any) -> int:
        return self.picture_count(cfg)

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        return scatter_plot(samples, info)

    def caption(self, step: int, metrics: dict[str, Any]) -> str:
        title = f"step {step}"
        if metrics.get("num_modes"):
            title += (
                f": {metrics['modes_covered']}/{metrics['num_modes']} modes, "
                f"{metrics['high_quality']:.0%} high quality"
            )
        return title

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        return save_points(samples, path)

    def decode(self, samples: torch.Tensor, info: dict[str, Any]) -> Any:
        """The points as one float32 array (N, D)."""
        return samples.detach().float().cpu().flatten(1).numpy()

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        return _mode_figures(samples, info) if "centers" in info else {}

    def evaluate(
        self, run: Any, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Evaluation:
        info = run.info
        if "centers" not in info:
            raise ConfigError("this run's data has no known modes to evaluate against")
        centers, std = torch.tensor(info["centers"]), float(info["std"])
        fake = MODES.score(Mixture(run.sample(n, seed=seed), centers, std))
        real_ds = load_dataset(run.config.data.spec, seed=seed + 1)
        real = MODES.score(Mixture(real_ds.data[:n], centers, std))
        scores = {k: {"value": float(v), "floor": real[k]} for k, v in fake.items()}
        return Evaluation(scores=scores, notes=["real-data floor: a fresh draw of the mixture"])


def _toy(make):
    def load(arg: str, seed: int = 0, **options: Any):
        return make(seed=seed)

    return load


def register() -> None:
    """Register the points modality and the toy mixtures (entry point ``points``)."""
    register_modality(PointsModality())
    register_metric(MODES)
    register_dataset(
        DatasetSpec(
            "toy:ring8",
            "points",
            _toy(ring8),
            "50000 points: 8 Gaussians on a circle of radius 2, std 0.02",
        )
    )
    register_dataset(
        DatasetSpec(
            "toy:grid25",
            "points",
            _toy(grid25),
            "50000 points: 25 Gaussians on a 5x5 grid, spacing 2, std 0.05",
        )
    )


__all__ = ["PointsModality", "register"]
