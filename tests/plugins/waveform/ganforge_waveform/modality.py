"""The waveform modality: its config section, pictures, ``.wav`` files and spectral metric."""

from __future__ import annotations

import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ganforge.data import load_dataset
from ganforge.modality import Evaluation, Modality
from ganforge.periodic import Comparison, Generated
from ganforge.progress import plan, stage
from ganforge.registry import MetricSpec

SAMPLE_RATE = 8000


@dataclass
class WaveformOptions:
    """The ``waveform`` config section."""

    length: int = field(default=64, metadata={"range": (8, 4096, True)})
    max_cycles: float = field(default=4.0, metadata={"range": (1, 64, True)})


def spectrum(x: torch.Tensor) -> torch.Tensor:
    """Mean power spectrum of a batch of waves, normalised to sum 1."""
    p = torch.fft.rfft(x.float().flatten(1), dim=1).abs().square().mean(0)
    return p / p.sum().clamp_min(1e-12)


def spectral_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Total-variation distance between two batches' mean power spectra (0 = same)."""
    return float(0.5 * (spectrum(a) - spectrum(b)).abs().sum())


# declared once: what it computes (on a view of generated samples beside real ones), for
# `ganforge eval` (its floor: the same score of other real waves) and for eval.every
SPECTRAL = MetricSpec(
    "spectral",
    "waveform",
    "TV distance of mean power spectra",
    periodic=True,
    score=lambda c: {"spectral_distance": spectral_distance(c.reference, c.samples)},
    label="spectral",  # the name training logs it under
)


class WaveformModality(Modality):
    name = "waveform"
    description = "1-D waves (channels, length) in [-1, 1]: plots, .wav, spectral distance"
    options = WaveformOptions
    raw_formats = (".npy", ".wav")
    default_preset = "waveform"  # what `ganforge train --data sines:N` trains

    def load_options(self, cfg: Any) -> dict[str, Any]:
        opts = cfg.section("waveform")
        return {"length": opts.length, "max_cycles": opts.max_cycles}

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        waves = samples.detach().float().cpu().clamp(-1, 1)[:16, 0].numpy()
        w, h = 160, 60
        cols = 4
        rows = max(1, -(-len(waves) // cols))
        img = Image.new("RGB", (cols * w, rows * h + 16), "white")
        draw = ImageDraw.Draw(img)
        draw.text((4, 2), str(info.get("title", "")), fill="black")
        for i, y in enumerate(waves):
            x0, y0 = (i % cols) * w, 16 + (i // cols) * h
            xs = x0 + np.linspace(4, w - 4, len(y))
            ys = y0 + h / 2 - y * (h / 2 - 4)
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill="#1f77b4", width=2)
        return img

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".wav":
            return super().save(samples, path, info)
        pcm = (samples.detach().float().cpu().clamp(-1, 1).flatten() * 32767).short().numpy()
        with wave.open(str(path), "wb") as fh:
            fh.setnchannels(1)
            fh.setsampwidth(2)
            fh.setframerate(SAMPLE_RATE)
            fh.writeframes(pcm.tobytes())
        return path

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        return {"peak_amplitude": float(samples.abs().amax(dim=(1, 2)).mean())}

    def evaluate(
        self, run: Any, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Evaluation:
        plan("real waves", "generated waves", "scores")
        stage("real waves")
        opts = self.load_options(run.config)  # the run's config.yaml, as trained
        real = load_dataset(run.config.data.spec, seed=seed + 1, **opts).data[:n]
        held = load_dataset(run.config.data.spec, seed=seed + 2, **opts).data[:n]
        stage("generated waves", say=f"drawing {len(real)} waves of step {run.step}")
        fake = run.sample(len(real), seed=seed)
        stage("scores")
        value, floor = SPECTRAL.score(Generated(real, fake)), SPECTRAL.score(Generated(real, held))
        return Evaluation(
            scores={k: {"value": v, "floor": floor[k]} for k, v in value.items()},
            notes=[f"real-data floor: two independent draws of {len(real)} waves"],
            real_picture=self.picture(real[:16], {"title": "real"}),
        )

    def periodic_comparison(
        self, cfg: Any, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Comparison:
        real = load_dataset(cfg.data.spec, seed=cfg.train.seed + 1, **self.load_options(cfg))
        waves = real.data[: cfg.eval.n]  # eval.n real waves of another draw
        return Comparison(count=len(waves), view=lambda fake: Generated(waves, fake))
