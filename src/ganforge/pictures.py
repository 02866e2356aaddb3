"""Training pictures: the sample picture every ``log.sample_every`` steps, the final one and
the progress GIF, each drawn by the run's modality."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.artifacts import save_gif, save_png
from ganforge.config import Config
from ganforge.engine.latent import sample_latent
from ganforge.engine.protocols import PICTURE_SAMPLES
from ganforge.run import RunPaths


class SampleHook:
    """Trainer hook: the modality's picture (and its metrics) of a fixed batch of samples."""

    def __init__(
        self,
        paths: RunPaths,
        modality: Any,
        info: dict[str, Any],
        cfg: Config,
        G: torch.nn.Module,
        data: Any,
    ) -> None:
        self.paths, self.modality, self.info = paths, modality, info
        self.shown_cond: Any = None
        self.files: dict[str, Path] = {}  # the modality's final files, by label
        n = modality.picture_count(cfg)
        # the trainer's fixed batch (its latents and conditions)
        if n == (cfg.log.samples or PICTURE_SAMPLES):
            self.z, self.cond = None, None
        else:  # its own fixed batch (e.g. 2500 toy points), from its own RNG stream
            gen = torch.Generator().manual_seed(cfg.train.seed + 777)
            self.z, self.cond = sample_latent(G, n, generator=gen), data.fixed_conditions(n)

    def draw(self, trainer: Any) -> torch.Tensor:
        if self.z is None:
            self.shown_cond = trainer.fixed_cond
            return trainer.generate(trainer.fixed_z, trainer.fixed_cond)
        self.shown_cond = self.cond
        return trainer.generate(self.z, self.cond)

    def picture(self, samples: torch.Tensor, step: int, metrics: dict[str, Any]):
        title = self.modality.caption(step, metrics)
        cond = self.shown_cond.cpu() if torch.is_tensor(self.shown_cond) else self.shown_cond
        info = {**self.info, "title": title, "conditions": cond}
        return self.modality.picture(samples, info)

    def __call__(self, trainer: Any, step: int) -> dict[str, Any]:
        samples = self.draw(trainer)
        metrics = self.modality.metrics(samples, self.info)
        self.paths.samples.mkdir(parents=True, exist_ok=True)
        save_png(self.picture(samples, step, metrics), self.paths.samples / f"step-{step:08d}.png")
        return metrics

    def final(self, trainer: Any, last_eval: dict[str, Any]) -> Path:
        """``samples/final.png``, captioned with the last logged metrics, and the modality's
        own final files (``self.files``)."""
        samples = self.draw(trainer)
        picture = self.picture(samples, trainer.step, last_eval)
        path = save_png(picture, self.paths.samples / "final.png")
        self.files = self.modality.final_files(samples, self.paths.samples, self.info)
        return path


def build_gif(paths: RunPaths, max_frames: int = 60) -> Path | None:
    """The progress GIF from the run's sample pictures (fixed latents, in step order)."""
    from PIL import Image

    frames = sorted(paths.samples.glob("step-*.png"))
    if not frames:
        return None
    if len(frames) > max_frames:
        idx = torch.linspace(0, len(frames) - 1, max_frames).round().long().unique().tolist()
        frames = [frames[i] for i in idx]
    images = []
    for f in frames:
        with Image.open(f) as im:
            images.append(im.convert("RGB"))
    return save_gif(images, paths.gif)
