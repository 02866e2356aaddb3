"""A critic of a clip's track: where its bright mass lies, frame by frame.

A 3-D convolutional critic sees motion through windows of a few pixels and frames, so a
speed slightly off (1.5 px a frame where the data never goes below 2) or a path that
slows down hardly shows in its features. This critic reads a summary of each frame
instead: its brightness moments (how much is lit, the centre of the lit mass, its spread
along x and y and their correlation), and their change from frame to frame, with 1-D
convolutions over time. The moments are differentiable, so G learns from it where its
objects go and how fast. For one object on a plain background the centre is the object's
path; for two, their midpoint and spread. It measures much what the motion scores measure
(objects found as the centre of the lit mass), so with it on those scores are a less
independent check: the clip distance and the frame scores still are.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganforge.nets.mbstd import MinibatchStd

FEATURES = 6  # lit size, centre x, y, spread x, y, correlation


def moments(clips: Tensor) -> Tensor:
    """(N, C, T, H, W) clips in [-1, 1] -> (N, 6, T) per-frame brightness moments, in
    pixels of the clip: the square root of the summed brightness (0..1 a pixel), its
    centre (x, y, from the frame's centre), its standard deviation along x and y, and
    their correlation."""
    # every pixel counts by its brightness: a threshold (as the motion scores use) would
    # cut the gradient of a dark G, which then never lights up again
    b = ((clips.float() + 1.0) / 2.0).clamp(0.0, 1.0).amax(1)  # the brightest channel
    h, w = b.shape[-2:]
    ys = (torch.arange(h, device=b.device, dtype=b.dtype) - (h - 1) / 2)[:, None]
    xs = (torch.arange(w, device=b.device, dtype=b.dtype) - (w - 1) / 2)[None]
    mass = b.sum((-2, -1))
    m = mass.clamp_min(1e-3)  # an empty frame's centre is the frame's centre
    cx = (b * xs).sum((-2, -1)) / m
    cy = (b * ys).sum((-2, -1)) / m
    dx, dy = xs - cx[..., None, None], ys - cy[..., None, None]
    vx = (b * dx**2).sum((-2, -1)) / m
    vy = (b * dy**2).sum((-2, -1)) / m
    cov = (b * dx * dy).sum((-2, -1)) / m
    sx, sy = (vx + 1e-4).sqrt(), (vy + 1e-4).sqrt()
    size = (mass + 1e-4).sqrt()
    return torch.stack([size, cx, cy, sx, sy, cov / (sx * sy)], 1)


class TrackCritic(nn.Module):
    """A clip (N, C, T, H, W) -> a logit from its moments' track (:func:`moments`) and
    their steps from frame to frame (1-D convolutions over time); ``mbstd`` adds the
    batch's spread (:class:`MinibatchStd`)."""

    def __init__(self, frames: int, width: int = 64, mbstd: bool = False) -> None:
        super().__init__()
        c = 2 * width
        layers: list[nn.Module] = [
            nn.Conv1d(2 * FEATURES, width, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(width, c, 3, padding=1),
            nn.LeakyReLU(0.2),
        ]
        if mbstd:
            layers.append(MinibatchStd())
            c += 1
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * frames, 1))

    def forward(self, clips: Tensor) -> Tensor:
        track = moments(clips)
        steps = torch.cat([torch.zeros_like(track[..., :1]), track.diff(dim=-1)], -1)
        return self.body(torch.cat([track, steps], 1)).squeeze(1)
