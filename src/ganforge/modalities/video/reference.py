"""A run's real clips, built once per process: training and held-out clips made again
exactly as training made them, the feature networks that read them, and their statistics
(a sample of ``REAL_CLIPS`` training clips stands for "real")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganforge.data.dataset import Dataset
from ganforge.data.held_out import Memo, References
from ganforge.metrics.classifier import (
    cached_classifier,
    save_classifier,
    split_indices,
    train_classifier,
    weights_path,
)
from ganforge.modalities.image.extractors import get_classifier
from ganforge.modalities.video.datasets import GENERATED, clips_of, generated, split_settings
from ganforge.modalities.video.features import (
    clip_features,
    clipnet_for,
    frame_outputs,
    object_crops,
)
from ganforge.modalities.video.motion import LIT, brightness, motion_stats
from ganforge.modalities.video.motion_sets import SHAPE_SIZE, SHAPES

REAL_CLIPS = 2000


@dataclass
class VideoReference(Memo):
    settings: dict[str, Any]
    train: np.ndarray  # (N, C, T, H, W) uint8
    heldout: np.ndarray
    labels: np.ndarray | None  # training clips' classes (generated sets)
    box: int  # object size on the 64 canvas (0: unknown, a user's folder)
    name: str

    @property
    def objects(self) -> int:
        return int(self.settings["objects"])

    @property
    def generated(self) -> bool:
        return self.settings["source"][0] in GENERATED

    def real(self) -> np.ndarray:
        """The fixed sample of training clips every score compares with."""
        return self.memo("real", self._real)

    def _real(self) -> np.ndarray:
        pick = np.random.default_rng(0).permutation(len(self.train))[:REAL_CLIPS]
        return self.train[np.sort(pick)]

    def frame_net(self) -> tuple[Any, dict] | None:
        """The frame classifier of this data (None for a user's folder)."""
        return self.memo("frame_net", self._frame_net) if self.generated else None

    def _frame_net(self) -> tuple[Any, dict]:
        with torch.random.fork_rng(devices=[]):  # training one must not move the caller's RNG
            if self.settings["source"][0] == "moving-mnist":
                spec = "fashion-mnist" if self.settings["digits"] == "fashion" else "mnist5k"
                return get_classifier(spec, progress=False)
            return shape_classifier(self)

    def clipnet(self) -> tuple[Any, dict]:
        return self.memo("clipnet", lambda: clipnet_for(self.train, self.labels, self.name))

    def real_stats(self) -> dict[str, Any]:
        """Motion statistics, frame outputs and clip features of :meth:`real`."""
        return self.memo("stats", lambda: clip_stats(self, self.real()))


def clip_stats(ref: VideoReference, clips: np.ndarray) -> dict[str, Any]:
    """Everything the scores need from one set of clips (uint8, or floats in [-1, 1])."""
    out: dict[str, Any] = {"n": len(clips)}
    box = ref.box or 28
    out.update(motion_stats(clips, ref.objects, box))
    net = ref.frame_net()
    if net is not None:
        crops = object_crops(clips, ref.objects, box)
        n, t, o = crops.shape[:3]
        feats, probs = frame_outputs(net[0], crops)
        out["frame_features"] = feats
        out["confidence"] = probs.max(1).values.view(n, t * o)
        out["acd"] = acd(feats.view(n, t, o, -1))
    if int(ref.settings["channels"]) == 3:
        out["acd_colour"] = acd_colour(clips)
    out["clip_features"] = clip_features(ref.clipnet()[0], clips)
    return out


def acd(feats: torch.Tensor) -> np.ndarray:
    """MoCoGAN's Average Content Distance per clip: the mean L2 distance between the
    features of every two frames of a clip (per object, averaged); (N, T, O, D) -> (N,)."""
    f = feats.permute(0, 2, 1, 3)  # (N, O, T, D)
    d = torch.cdist(f, f)  # (N, O, T, T)
    t = f.shape[2]
    return (d.sum((-1, -2)) / (t * (t - 1))).mean(1).numpy()


def acd_colour(clips: np.ndarray, chunk: int = 256) -> np.ndarray:
    """ACD as MoCoGAN computes it on its shape-motion set: each frame's mean colour of its
    object (pixels within 80% of the frame's brightest: anti-aliased edges left out), the
    mean L2 distance (0-255 units) between every two frames' colours."""
    if len(clips) > chunk:
        return np.concatenate(
            [acd_colour(clips[i : i + chunk]) for i in range(0, len(clips), chunk)]
        )

    x = np.asarray(clips, dtype=np.float32)
    x = x if np.asarray(clips).dtype == np.uint8 else (x + 1.0) * 127.5
    b = brightness(clips)
    peak = b.max(axis=(-1, -2), keepdims=True)
    lit = ((b >= 0.8 * peak) & (b > LIT))[:, None]  # (N, 1, T, H, W)
    colour = (x * lit).sum((-1, -2)) / np.maximum(lit.sum((-1, -2)), 1)  # (N, C, T)
    c = torch.from_numpy(colour.transpose(0, 2, 1).copy()).double()
    d = torch.cdist(c, c)
    t = c.shape[1]
    return (d.sum((-1, -2)) / (t * (t - 1))).numpy()


def shape_classifier(ref: VideoReference) -> tuple[Any, dict]:
    """The project's classifier CNN trained here on object crops of real shapes-motion
    frames (3 shapes), cached like the image classifiers."""
    key = f"shapes-motion-{ref.settings['size']}px-{ref.settings['channels']}ch"
    path = weights_path(key)
    cached = cached_classifier(path)
    if cached is not None:
        return cached
    s = {**ref.settings, "clips": 3000, "objects": 1, "seed": 12345}
    made = generated(s, "train")
    crops = object_crops(made.clips[:, :, ::4], 1, ref.box)  # (N, T/4, 1, 1, 28, 28)
    n, t = crops.shape[:2]
    data = ((crops.reshape(n * t, 1, 28, 28) + 1) * 127.5).round().clamp(0, 255).byte()
    labels = torch.from_numpy(np.repeat(made.labels, t)).long()
    ds = Dataset(key, data, "image", labels, len(SHAPES), list(SHAPES))
    by_clip_tr, by_clip_te = split_indices(n, 0.2, seed=0)  # a clip's crops on one side
    frame = torch.arange(t)
    tr = (by_clip_tr[:, None] * t + frame).flatten()
    te = (by_clip_te[:, None] * t + frame).flatten()
    net, acc = train_classifier(ds, tr, ds, te, epochs=2, progress=False)
    meta = {"dataset": key, "test_accuracy": acc, "num_classes": len(SHAPES)}
    save_classifier(net, path, meta)
    return net.eval(), meta


def _build(settings: dict[str, Any]) -> VideoReference:
    train, held, _, labels = clips_of(settings)
    kind = settings["source"][0]
    box = {"moving-mnist": 28, "shapes-motion": SHAPE_SIZE}.get(kind, 0)
    name = kind if kind in GENERATED else "video"
    return VideoReference(settings, train, held, labels, box, name)


REFERENCES = References(split_settings, _build)


def reference_for(info: dict[str, Any]) -> VideoReference:
    """The run's :class:`VideoReference` (from ``info['video']``), cached per process."""
    return REFERENCES.of_info(info)
