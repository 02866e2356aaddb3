"""The video modality: clips (``moving-mnist``, ``shapes-motion``, ``video:FOLDER``) from
MoCoGAN or a TGAN-style GAN, written as animated GIF / MP4 grids, drawn as filmstrips,
scored by frame, content, motion and clip metrics beside held-out real clips. Registered
by :func:`register` (entry point ``video``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganforge.errors import ConfigError
from ganforge.generating import draw
from ganforge.modalities.video.augment import ClipDiffAugment
from ganforge.modalities.video.clipio import grid_frames, save_gif, save_mp4
from ganforge.modalities.video.evaluate import comparison, evaluate_run
from ganforge.modalities.video.motion import motion_stats
from ganforge.modalities.video.render import animated_grid, as_uint8, clips_picture
from ganforge.modalities.video.specs import register_specs
from ganforge.modality import Modality


@dataclass
class VideoOptions:
    """The ``video`` config section."""

    size: int = field(default=32, metadata={"choices": (16, 32, 64, 128)})
    frames: int = field(default=16, metadata={"range": (4, 64, True)})
    objects: int = field(default=1, metadata={"range": (1, 2, True)})  # digits / shapes
    clips: int = field(default=10000, metadata={"range": (100, 200000, True)})  # generated
    source: str = field(default="mnist", metadata={"choices": ("mnist", "fashion")})
    channels: int = field(default=0, metadata={"choices": (0, 1, 3)})  # 0: the data's own
    stride: int = field(default=0, metadata={"range": (0, None, True)})  # folder: 0 = frames
    fps: float = field(default=8.0, metadata={"range": (1.0, 60.0, True)})  # GIF / MP4
    augment: str = ""  # DiffAugment ops for D, e.g. "translation,cutout" (same for all frames)


MOVIE = (".gif", ".mp4", ".webm", ".mov", ".mkv")


class VideoModality(Modality):
    """Clips (C, frames, size, size) in [-1, 1]: filmstrips, GIF / MP4, clip metrics."""

    name = "video"
    description = "clips (channels x frames x size x size): .gif, .mp4, ACD, motion, FVD-c3d"
    options = VideoOptions
    raw_formats = (*MOVIE, "folder/", ".npy")
    picture_samples = 8
    holdout_share = 0.1

    def load_options(self, cfg: Any) -> dict[str, Any]:
        o = cfg.section("video")
        keys = ("size", "frames", "objects", "clips", "source", "channels", "stride", "fps")
        return {**{k: getattr(o, k) for k in keys}, "holdout": self.holdout(cfg)}

    def d_transform(self, cfg: Any) -> Any:
        policy = cfg.section("video").augment
        if not policy:
            return None

        try:
            return ClipDiffAugment(policy)
        except ValueError as exc:
            raise ConfigError(f"video.augment: {exc}") from None

    # ------------------------------------------------------------------ output
    def interpolation_count(self, cfg: Any) -> int:
        return 4

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        return clips_picture(samples, info.get("title", ""))

    def caption(self, step: int, metrics: dict[str, Any]) -> str:
        if "speed" not in metrics:
            return f"step {step}"
        return (
            f"step {step}: speed {metrics['speed']:.1f} px/frame, frozen {metrics['freeze']:.0f}%"
        )

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        """Motion statistics of the picture's clips (real values: ``eval``)."""
        v = info["video"]
        s = motion_stats(as_uint8(samples), int(v["objects"]), float(v.get("box") or 28))
        out = {"speed": s["speed"], "freeze": 100 * s["freeze"]}
        if v.get("box"):
            out["physics"] = 100 * s["physics"]
        return {k: round(float(x), 3) for k, x in out.items() if np.isfinite(x)}

    generate_knobs = ("upsample", "truncation")

    def generate(
        self, run: Any, n: int, seed: int, upsample: str | None = None, **knobs: Any
    ) -> list[np.ndarray]:
        """``upsample``: how a layered generator trained with ``arch.supersample`` above 1
        brings its canvas to the finer one (``nearest`` as trained, or ``bilinear``)."""
        settings = None
        if upsample is not None:
            if getattr(run.generator, "supersample", 1) <= 1:
                raise ConfigError(
                    "generate: upsample is for layered video runs trained with "
                    "arch.supersample above 1"
                )
            if upsample not in ("nearest", "bilinear"):
                raise ConfigError(
                    f"generate: upsample must be nearest or bilinear; got {upsample!r}"
                )
            settings = {"upsample": upsample}
        return self.decode(*draw(run, n, seed, settings=settings, **knobs))

    def decode(self, samples: torch.Tensor, info: dict[str, Any]) -> list[np.ndarray]:
        """One uint8 clip (frames, height, width, channels) per sample."""
        return [np.ascontiguousarray(c.transpose(1, 2, 3, 0)) for c in as_uint8(samples)]

    def run_properties(self, info: dict[str, Any]) -> dict[str, Any]:
        """``run.fps``: the frame rate the run's clips are played at (``video.fps``)."""
        return {"fps": float(info.get("video", {}).get("fps", 8.0))}

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        path = Path(path)
        suffix = path.suffix.lower()
        fps = float(info.get("video", {}).get("fps", 8.0))
        if suffix == ".npy":
            return super().save(samples, path, info)
        if suffix == ".gif":
            return save_gif(animated_grid(samples), path, fps)
        if suffix in MOVIE:
            return save_mp4(animated_grid(samples), path, fps)
        if not suffix:  # a folder: one GIF per clip, as video:FOLDER reads them back
            path.mkdir(parents=True, exist_ok=True)
            clips = as_uint8(samples)
            for i in range(len(clips)):
                frames = grid_frames(clips[i : i + 1], cols=1, pad=0)  # the clip's own pixels
                save_gif(frames, path / f"clip-{i:04d}.gif", fps)
            return path
        raise ConfigError(
            f"video samples are written as .gif, .mp4, .webm, .png, .npy or a folder; got "
            f"'{path.suffix}'"
        )

    def final_files(
        self, samples: torch.Tensor, folder: Path, info: dict[str, Any]
    ) -> dict[str, Path]:
        return {"final clips": self.save(samples, Path(folder) / "final.gif", info)}

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, run: Any, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Any:
        return evaluate_run(run, metrics, n, seed, kw.get("i3d_weights"))

    def periodic_comparison(
        self, cfg: Any, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Any:
        return comparison(self, cfg, info)


def register() -> None:
    """Register the video modality, its datasets, metrics and the ``mocogan`` / ``tgan``
    nets."""
    register_specs(VideoModality())
