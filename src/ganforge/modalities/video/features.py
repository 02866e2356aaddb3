"""Feature networks for clip metrics, all trained here (nothing downloaded).

- Frames: each object is cut out of its frame around its centre (:func:`.motion.centres`),
  a window of the object's size, resampled to 28x28 and read by the dataset classifier:
  the project's MNIST / Fashion-MNIST CNN for ``moving-mnist``; for ``shapes-motion`` the
  same CNN trained here on crops of real frames to name the shape. These features feed the
  frame FID / KID, ACD and the classifier's confidence.
- Clips: ``ClipNet``, a small 3-D CNN trained here on a run's real training clips to tell
  clips in order from the same frames shuffled and from one frame held (and the clip's
  class where the data has one). Its 128 features feed ``FVD[<data>-c3d]``, a Frechet
  distance labelled as what it is: not FVD's I3D network.
Weights are cached as safetensors per data set.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.metrics.classifier import cache_dir, load_cached, save_weights
from ganforge.modalities.video.motion import centres
from ganforge.modalities.video.motion_sets import CANVAS
from ganforge.progress import iterate

FEATURES = 128
ORDER = ("in order", "shuffled", "held")  # ClipNet's order task


def _model(clips: np.ndarray | Tensor) -> Tensor:
    x = torch.as_tensor(np.asarray(clips)) if not torch.is_tensor(clips) else clips
    return x.float().div(127.5).sub(1.0) if x.dtype == torch.uint8 else x.float()


def object_crops(
    clips: np.ndarray, objects: int, box: int, out: int = 28, chunk: int = 256
) -> Tensor:
    """Every object of every frame as an ``out``-square grey crop in [-1, 1], resampled from
    a ``box``-canvas-px window around its centre: (N, T, objects, 1, out, out). Empty
    frames give a black crop. ``chunk`` clips at a time."""
    if len(clips) > chunk:
        parts = [
            object_crops(clips[i : i + chunk], objects, box, out)
            for i in range(0, len(clips), chunk)
        ]
        return torch.cat(parts)
    c = centres(clips, objects)  # (N, T, O, 2) canvas px
    x = _model(clips)
    n, ch, t, h, w = x.shape
    grey = x.amax(1) if ch == 3 else x[:, 0]  # (N, T, H, W): coloured objects at full
    frames = grey.reshape(n * t, 1, h, w) + 1.0  # black is 0: grid_sample pads with 0
    cc = torch.from_numpy(np.nan_to_num(c, nan=CANVAS / 2)).float().reshape(n * t, objects, 2)
    crops = []
    half = box / CANVAS  # the window's half side in [-1, 1] units
    lin = torch.linspace(-1, 1, out) * half
    for o in range(objects):
        centre = (cc[:, o] + 0.5) / CANVAS * 2 - 1  # align_corners=False coordinates
        gx = centre[:, 0, None, None] + lin[None, None, :]
        gy = centre[:, 1, None, None] + lin[None, :, None]
        grid = torch.stack([gx.expand(-1, out, out), gy.expand(-1, out, out)], -1)
        crops.append(F.grid_sample(frames, grid, align_corners=False) - 1.0)
    return torch.stack(crops, 1).view(n, t, objects, 1, out, out)


@torch.no_grad()
def frame_outputs(net: Any, crops: Tensor) -> tuple[Tensor, Tensor]:
    """(features (M, 128), class probabilities (M, K)) of crops (..., 1, 28, 28)."""
    flat = crops.reshape(-1, *crops.shape[-3:])
    feats, probs = [], []
    for i in range(0, len(flat), 2048):
        f = net.features(flat[i : i + 2048])
        feats.append(f)
        probs.append(net.out(f).softmax(1))
    return torch.cat(feats).double(), torch.cat(probs).double()


class ClipNet(nn.Module):
    """Clips (B, C, T, H, W) in [-1, 1] -> order logits (3) and class logits; ``features``
    -> 128 (3-D convolutions, global average pooling)."""

    def __init__(self, channels: int, classes: int = 0) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv3d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2, ceil_mode=True)]

        self.body = nn.Sequential(
            nn.Conv3d(channels, 32, (3, 4, 4), (1, 2, 2), (1, 1, 1)),  # halve the side first
            nn.ReLU(),
            *block(32, 32),
            *block(32, 64),
            *block(64, 128),
            nn.AdaptiveAvgPool3d(1),
            nn.Flatten(),
            nn.Linear(128, FEATURES),
            nn.ReLU(),
        )
        self.order = nn.Linear(FEATURES, len(ORDER))
        self.classes = nn.Linear(FEATURES, classes) if classes > 1 else None

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)


def order_task(x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """A third of the clips kept, a third with frames shuffled, a third one frame held."""
    n, _, t = x.shape[:3]
    kind = torch.randint(0, len(ORDER), (n,), generator=gen)
    perm = torch.randperm(t, generator=gen)
    if torch.equal(perm, torch.arange(t)):  # a shuffle that is no shuffle: move every frame
        perm = perm.roll(1)
    shuffled = x[:, :, perm]
    held = x[:, :, torch.randint(0, t, (1,), generator=gen).expand(t)]
    k = kind.view(n, 1, 1, 1, 1)
    return torch.where(k == 0, x, torch.where(k == 1, shuffled, held)), kind


def train_clipnet(
    clips: np.ndarray, labels: np.ndarray | None, seed: int = 0, steps: int | None = None
) -> tuple[ClipNet, dict[str, float]]:
    """A ClipNet fitted to 90% of ``clips`` (``steps`` of 32 clips: by default a step per 25
    clips, 150 to 500); its order and class accuracy on the other 10%. Leaves the global
    RNG as it found it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _train_clipnet(clips, labels, seed, steps or min(500, max(150, len(clips) // 25)))


def _train_clipnet(
    clips: np.ndarray, labels: np.ndarray | None, seed: int, steps: int
) -> tuple[ClipNet, dict[str, float]]:
    gen = torch.Generator().manual_seed(seed)
    classes = int(labels.max()) + 1 if labels is not None and len(labels) else 0
    y = torch.from_numpy(labels).long() if classes > 1 else None
    order = torch.randperm(len(clips), generator=gen)
    k = max(1, len(clips) // 10)
    test, fit = order[:k], order[k:]
    net = ClipNet(clips.shape[1], classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in iterate(range(steps)):
        idx = fit[torch.randint(len(fit), (32,), generator=gen)]
        x, kind = order_task(_model(clips[idx.numpy()]), gen)
        f = net.features(x)
        loss = F.cross_entropy(net.order(f), kind)
        if net.classes is not None:
            keep = kind == 0  # the class is only asked of clips in order
            if keep.any():
                loss = loss + F.cross_entropy(net.classes(f[keep]), y[idx][keep])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        x, kind = order_task(_model(clips[test.numpy()[:512]]), gen)
        f = net.features(x)
        acc = {"order_accuracy": float((net.order(f).argmax(1) == kind).float().mean())}
        if net.classes is not None:
            k0 = kind == 0
            pred = net.classes(f[k0]).argmax(1)
            acc["class_accuracy"] = float((pred == y[test[:512]][k0]).float().mean())
    return net, acc


def clipnet_for(clips: np.ndarray, labels: np.ndarray | None, name: str) -> tuple[ClipNet, dict]:
    """The ClipNet of these training clips, trained once and cached (safetensors)."""
    h = hashlib.sha256(np.ascontiguousarray(clips[:2000]).tobytes())
    h.update(str(clips.shape).encode())
    path = cache_dir() / "video" / f"clipnet-{h.hexdigest()[:16]}.safetensors"
    with torch.random.fork_rng(devices=[]):  # building a net draws its initial weights
        cached = load_cached(
            path, lambda meta: ClipNet(clips.shape[1], int(meta["classes"])), ("order_accuracy",)
        )
    if cached is not None:
        return cached
    net, acc = train_clipnet(clips, labels)
    classes = net.classes.out_features if net.classes is not None else 0
    meta = {"data": name, "clips": int(len(clips)), "classes": classes, **acc}
    save_weights(net, path, meta)
    return net, meta


@torch.no_grad()
def clip_features(net: ClipNet, clips: np.ndarray | Tensor) -> Tensor:
    out = [net.features(_model(clips[i : i + 256])) for i in range(0, len(clips), 256)]
    return torch.cat(out).double()
