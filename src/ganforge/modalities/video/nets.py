"""Video GANs: MoCoGAN (Tulyakov et al. 2018) and a TGAN-style model (Saito et al. 2017).

Both draw each frame with one DCGAN-style image generator from a per-frame code:

- MoCoGAN: the code is a content part, fixed for the whole clip, and a motion part, one
  per frame from a GRU fed a fresh noise vector each frame. Its latent is a dict
  ``{"content": (n, z_dim), "motion": (n, frames, motion_dim)}``, so ``interpolate --keep
  motion`` walks the content with the motion fixed, and ``--keep content`` the reverse.
  Two critics: an image D on one random frame per clip (head ``image``) and a video D of
  3-D convolutions on the whole clip (head ``video``), weights from ``loss.head_weights``.
- TGAN: a temporal generator turns one latent into a code per frame (1-D convolutions
  over time); the image generator takes the latent and the frame's code; a video D only.

Critics use spectral norm and no batch norm (every clip is scored on its own).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.errors import ConfigError
from ganforge.modalities.video.track import TrackCritic
from ganforge.nets.mbstd import MinibatchStd

MOTION_DIM = 10  # MoCoGAN's motion noise and code size


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


class FrameGenerator(nn.Module):
    """A per-frame code (N, code) -> a frame (N, C, size, size) in [-1, 1] (DCGAN: a 4x4
    map, transposed convolutions doubling the side, batch norm, tanh)."""

    def __init__(self, code: int, size: int, channels: int, width: int = 64) -> None:
        super().__init__()
        ups = int(math.log2(size // 4))
        if 4 * 2**ups != size:
            raise ConfigError(f"video frames must be 4 x a power of two pixels; got {size}")
        c = width * 2 ** (ups - 1)
        self.start = nn.Sequential(nn.Linear(code, c * 16), nn.BatchNorm1d(c * 16), nn.ReLU())
        layers: list[nn.Module] = []
        for _ in range(ups - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.c0 = width * 2 ** (ups - 1)

    def forward(self, code: Tensor) -> Tensor:
        return self.body(self.start(code).view(code.shape[0], self.c0, 4, 4))


def _clips(frames: Tensor, n: int, t: int) -> Tensor:
    """(n t, C, H, W) frames -> (n, C, t, H, W) clips."""
    return frames.view(n, t, *frames.shape[1:]).transpose(1, 2)


def content_motion_latent(
    n: int, z_dim: int, frames: int, generator=None, device=None
) -> dict[str, Tensor]:
    """MoCoGAN's latent: a content code per clip and a motion noise per frame."""
    out = {
        "content": torch.randn(n, z_dim, generator=generator),
        "motion": torch.randn(n, frames, MOTION_DIM, generator=generator),
    }
    return {k: v.to(device or "cpu") for k, v in out.items()}


class MoCoGenerator(nn.Module):
    """MoCoGAN's G: content fixed per clip, a GRU's motion code per frame."""

    def __init__(
        self, frames: int, size: int, channels: int, z_dim: int = 50, width: int = 64
    ) -> None:
        super().__init__()
        self.frames, self.z_dim = frames, z_dim
        self.gru = nn.GRU(MOTION_DIM, MOTION_DIM, batch_first=True)
        self.image = FrameGenerator(z_dim + MOTION_DIM, size, channels, width)

    def sample_latent(self, n: int, generator=None, device=None) -> dict[str, Tensor]:
        return content_motion_latent(n, self.z_dim, self.frames, generator, device)

    def frame_codes(self, latent: dict[str, Tensor]) -> Tensor:
        """(n, frames, z_dim + motion) codes: the content repeated, the GRU's motion."""
        content, noise = latent["content"], latent["motion"]
        motion, _ = self.gru(noise.to(self.gru.weight_ih_l0.dtype))
        n, t = noise.shape[:2]
        return torch.cat([content[:, None].expand(n, t, -1).to(motion.dtype), motion], -1)

    def forward(self, latent: dict[str, Tensor], cond: Any = None) -> Tensor:
        codes = self.frame_codes(latent)
        n, t = codes.shape[:2]
        return _clips(self.image(codes.reshape(n * t, -1)), n, t)


class TemporalGenerator(nn.Module):
    """TGAN's G: a temporal generator maps the latent to a code per frame (1-D convs over
    time); each frame is drawn from the latent and its frame's code."""

    def __init__(
        self, frames: int, size: int, channels: int, z_dim: int = 100, width: int = 64
    ) -> None:
        super().__init__()
        self.frames, self.z_dim = frames, z_dim
        c = 2 * z_dim
        self.to_time = nn.Linear(z_dim, c * frames)
        self.temporal = nn.Sequential(
            nn.BatchNorm1d(c),
            nn.ReLU(),
            nn.Conv1d(c, c, 3, padding=1),
            nn.BatchNorm1d(c),
            nn.ReLU(),
            nn.Conv1d(c, z_dim, 3, padding=1),
            nn.Tanh(),
        )
        self.image = FrameGenerator(2 * z_dim, size, channels, width)

    def forward(self, z: Tensor, cond: Any = None) -> Tensor:
        n, t = z.shape[0], self.frames
        h = self.to_time(z).view(n, -1, t)
        codes = self.temporal(h).transpose(1, 2)  # (n, t, z)
        both = torch.cat([z[:, None].expand(n, t, -1), codes], -1)
        return _clips(self.image(both.reshape(n * t, -1)), n, t)


def _spread(mbstd: bool, c: int) -> tuple[list[nn.Module], int]:
    """The minibatch-std layer (or none) before a critic's head, and the channels after it."""
    return ([MinibatchStd()], c + 1) if mbstd else ([], c)


class ImageCritic(nn.Module):
    """One frame (N, C, size, size) -> a logit (DCGAN critic, spectral norm); with ``mbstd``
    the batch's spread is one more channel of the last map (:class:`MinibatchStd`)."""

    def __init__(self, size: int, channels: int, width: int = 64, mbstd: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, s = channels, size
        out = width
        while s > 4:
            layers += [nn.Conv2d(c, out, 4, 2, 1), _act()]
            c, out, s = out, out * 2, s // 2
        spread, c = _spread(mbstd, c)
        self.body = nn.Sequential(*layers, *spread, nn.Flatten(), nn.Linear(c * 16, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x).squeeze(1)


class VideoCritic(nn.Module):
    """A clip (N, C, T, size, size) -> a logit: 3-D convolutions halving the side (and the
    time while it is 4 frames or more), then a linear score. With ``differences`` it also
    reads each frame's change from the last (a motion stream, as MuseGAN's critic reads
    onsets): a shape that changes while it moves shows there at once. ``mbstd`` as for
    :class:`ImageCritic`."""

    def __init__(
        self,
        frames: int,
        size: int,
        channels: int,
        width: int = 64,
        differences: bool = False,
        mbstd: bool = False,
    ) -> None:
        super().__init__()
        self.differences = differences
        layers: list[nn.Module] = []
        c, s, t, out = channels * (2 if differences else 1), size, frames, width
        while s > 4:
            kt, st = (4, 2) if t >= 4 else (1, 1)
            layers += [nn.Conv3d(c, out, (kt, 4, 4), (st, 2, 2), (kt // 4, 1, 1)), _act()]
            t = (t + 2 * (kt // 4) - kt) // st + 1
            c, out, s = out, out * 2, s // 2
        spread, c = _spread(mbstd, c)
        self.body = nn.Sequential(*layers, *spread, nn.Flatten(), nn.Linear(c * t * 16, 1))

    def forward(self, x: Tensor) -> Tensor:
        if self.differences:
            change = torch.cat([torch.zeros_like(x[:, :, :1]), x[:, :, 1:] - x[:, :, :-1]], 2)
            x = torch.cat([x, change], 1)
        return self.body(x).squeeze(1)


class ClipCritics(nn.Module):
    """Named critics of a clip: ``video`` (3-D convs) and, for MoCoGAN, ``image`` (one random
    frame per clip, drawn from the global RNG so resumes are exact). With ``mbstd`` both
    see the batch's spread, so samples are no longer scored one by one."""

    def __init__(
        self,
        frames: int,
        size: int,
        channels: int,
        width: int,
        image: bool,
        differences: bool = False,
        mbstd: bool = False,
        track: bool = False,
    ) -> None:
        super().__init__()
        self.independent_samples = not mbstd
        self.video = VideoCritic(frames, size, channels, width, differences, mbstd)
        self.image = ImageCritic(size, channels, width, mbstd) if image else None
        self.track = TrackCritic(frames, width, mbstd) if track else None
        heads = (("video", True), ("image", image), ("track", track))
        self.head_weights = {name: 1.0 for name, on in heads if on}

    def forward(self, x: Tensor, cond: Any = None) -> dict[str, Tensor]:
        out = {"video": self.video(x)}
        if self.track is not None:
            out["track"] = self.track(x)
        if self.image is not None:
            n, t = x.shape[0], x.shape[2]
            pick = torch.randint(0, t, (n,), device=x.device)
            out["image"] = self.image(x[torch.arange(n, device=x.device), :, pick])
        return out
