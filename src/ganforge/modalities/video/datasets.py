"""Clips as datasets: (N, C, frames, size, size) ``uint8``; the networks see [-1, 1].

- ``moving-mnist``: digits of the MNIST 5k subset (or Fashion-MNIST with
  ``video.source=fashion``) bouncing on a 64x64 canvas (:mod:`.motion_sets`). The digits
  are split as the image classifier splits them (80/20, seed 0): training clips are drawn
  from the training digits, the held-out clips (the real-data floor of every metric) from
  the others, with another seed.
- ``shapes-motion``: coloured circles, squares and triangles moving the same way.
- ``video:FOLDER``: a user's clips (GIF, MP4/WebM/MOV, folders of frames), cut into
  clips of ``video.frames``; the held-out share is taken by source file.

Everything that decides a run's clips sits in ``info['video']`` so evaluation can build
the same training and held-out clips again (:func:`clips_of`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from ganforge.data.dataset import Dataset
from ganforge.data.held_out import SplitSettings
from ganforge.errors import DataError
from ganforge.metrics.classifier import split_indices
from ganforge.modalities.image.datasets import (
    FASHION_MNIST_CLASSES,
    load_fashion_mnist,
    load_mnist5k,
)
from ganforge.modalities.video.clipio import read_video_folder
from ganforge.modalities.video.motion_sets import SHAPE_SIZE, SHAPES, moving_digits, moving_shapes

GENERATED = ("moving-mnist", "shapes-motion")
SOURCES = ("mnist", "fashion")


def _channels(settings: dict[str, Any]) -> dict[str, Any]:
    if settings["channels"] == 0:  # the source's own: grey digits, coloured shapes
        settings["channels"] = 1 if settings["source"][0] == "moving-mnist" else 3
    return settings


# what decides a run's clips and their split (``info['video']`` holds it); the digits a
# moving-mnist clip draws (option ``source``) are kept as ``digits``
split_settings = SplitSettings(
    "video",
    {
        "digits": "mnist",
        "size": 32,
        "frames": 16,
        "objects": 1,
        "clips": 10000,
        "channels": 0,
        "holdout": 0.1,
        "stride": 0,
    },
    renamed={"source": "digits"},
    complete=_channels,
)


def _digits(source: str, part: str) -> tuple[np.ndarray, np.ndarray]:
    if source == "fashion":
        ds = load_fashion_mnist(split="train" if part == "train" else "test")
        return ds.data[:, 0].numpy(), ds.labels.numpy()
    ds = load_mnist5k()
    train, test = split_indices(len(ds), 0.2, seed=0)
    idx = (train if part == "train" else test).numpy()
    return ds.data[idx, 0].numpy(), ds.labels[idx].numpy()


def _grey(clips: np.ndarray, channels: int) -> np.ndarray:
    if channels == clips.shape[1]:
        return clips
    if channels == 3:
        return np.repeat(clips, 3, axis=1)
    w = np.array([0.299, 0.587, 0.114], dtype=np.float32).reshape(1, 3, 1, 1, 1)
    return np.rint((clips * w).sum(1, keepdims=True)).clip(0, 255).astype(np.uint8)


def generated(settings: dict[str, Any], part: str) -> Any:
    """The :class:`MotionSet` of a generated source's ``part`` ("train" or "heldout")."""
    kind = settings["source"][0]
    n = settings["clips"]
    seed = settings["seed"]
    if part != "train":
        n, seed = max(int(round(n * settings["holdout"])), 500), seed + 7919
    t, s, k = settings["frames"], settings["size"], settings["objects"]
    if kind == "moving-mnist":
        digits, labels = _digits(settings["digits"], part)
        out = moving_digits(digits, labels, n, t, s, k, seed)
    else:
        out = moving_shapes(n, t, s, k, seed)
    out.clips = _grey(out.clips, settings["channels"])
    return out


def _folder(settings: dict[str, Any]) -> tuple[np.ndarray, list[str], list[str]]:
    return read_video_folder(
        settings["source"][1],
        settings["size"],
        settings["frames"],
        settings["channels"],
        stride=settings["stride"] or None,
    )


def split_by_source(names: list[str], seed: int, holdout: float) -> np.ndarray:
    """True for the clips of the held-out source files: a source is held out when a hash
    of (seed, its path) falls under ``holdout``, so adding or removing other files never
    moves a source across the split; at least one source on each side when there are two."""
    import hashlib

    sources = sorted({n.rsplit("#", 1)[0] for n in names})
    draw = {
        src: int(hashlib.sha256(f"{seed}:{src}".encode()).hexdigest()[:12], 16) / 16**12
        for src in sources
    }
    held = {src for src, u in draw.items() if u < holdout}
    if holdout > 0 and len(sources) >= 2:
        if not held:
            held = {min(draw, key=draw.get)}
        if len(held) == len(sources):
            held.discard(max(draw, key=draw.get))
    return np.array([n.rsplit("#", 1)[0] in held for n in names], dtype=bool)


@lru_cache(maxsize=2)
def _clips_cached(key: str) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    import json

    settings = json.loads(key)
    if settings["source"][0] in GENERATED:
        train, held = generated(settings, "train"), generated(settings, "heldout")
        return train.clips, held.clips, [], train.labels
    clips, names, skipped = _folder(settings)
    held = split_by_source(names, settings["seed"], settings["holdout"])
    return clips[~held], clips[held], skipped, None


def clips_of(
    settings: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """(training clips, held-out clips, skipped files, training labels or None) of these
    settings, built once per process."""
    import json

    return _clips_cached(json.dumps(settings, sort_keys=True))


def load_video(kind: str, arg: str, seed: int = 0, fps: float = 8.0, **options: Any) -> Dataset:
    """The training clips of a video source as a :class:`Dataset` (``fps``: the rate its
    GIF and MP4 files play at)."""
    settings = split_settings(kind, arg, seed, **options)
    if kind in GENERATED and 64 % settings["size"]:
        raise DataError(f"{kind} clips are 16, 32 or 64 pixels; got video.size={settings['size']}")
    train, held, skipped, train_labels = clips_of(settings)
    if len(train) < 2:
        raise DataError(
            f"{kind}:{arg} gives {len(train)} training clip(s) of {settings['frames']} frames; "
            "give more or longer clips, or set video.frames lower"
        )
    labels, classes = None, None
    if kind in GENERATED:
        labels = torch.from_numpy(train_labels.astype(np.int64))
        classes = [str(i) for i in range(10)] if kind == "moving-mnist" else list(SHAPES)
        if settings["digits"] == "fashion" and kind == "moving-mnist":
            classes = list(FASHION_MNIST_CLASSES)
    box = {"moving-mnist": 28, "shapes-motion": SHAPE_SIZE}.get(kind, 0)
    name = kind if kind in GENERATED else f"video:{arg}"
    notes = [
        f"video: {len(train)} training clips and {len(held)} held-out, {settings['frames']} "
        f"frames of {settings['size']}x{settings['size']}, {settings['channels']} channel(s)"
        + (f"; {len(skipped)} file(s) skipped" if skipped else "")
    ]
    info = {
        "video": {**settings, "box": box, "fps": float(fps), "class_names": classes},
        "notes": notes,
    }
    return Dataset(
        name=name,
        data=torch.from_numpy(np.ascontiguousarray(train)),
        modality="video",
        labels=labels,
        num_classes=len(classes) if classes else 0,
        class_names=classes,
        skipped=skipped,
        info=info,
    )
