"""A layered MoCoGAN generator: content drawn once per clip, motion as moving layers.

MoCoGAN draws every frame anew from (content, motion_t), so nothing stops the content from
drifting (a 4 becoming a 9 within a clip). Here the content code draws, once per clip, a
background and ``layers`` sprites, each with an alpha mask (one DCGAN image generator,
``C + layers * (C + 1)`` channels); MoCoGAN's motion GRU gives each sprite a position per
frame, and every frame is the sprites shifted to their positions (``grid_sample``) and
laid over the background in order (VGAN's foreground over a static background, with
several moving layers). A position is a start plus the running sum of per-frame steps (a
velocity per clip plus a change per frame), folded back into the frame (a triangle wave),
and sprites move by whole pixels: a bounded path that reflects at the edges,
so a constant step bounces as real objects do, and any path inside the frame is still
expressible. With ``supersample`` s the drawn background and sprites are upsampled
(nearest) to a canvas s times the clip's side, moved there by whole pixels and averaged
down (as the generated data sets are drawn on their 64x64 canvas): on a 32-pixel clip a
sprite then moves by half pixels, so a speed of 1.7 px a frame no longer shows as steps of
1 and 2. Upsampled ``nearest`` (the default), a sprite is blocky on the finer canvas, so
its look alternates between sharp (whole-pixel places) and soft (half-pixel ones); drawn
``bilinear`` it looks alike everywhere. Smooth canvases in training went dark or froze
within a few hundred steps in 4 of 5 short probes (G painted a still texture into the
background), so it is a drawing setting: train nearest, draw either way. The latent is
MoCoGAN's ``{content, motion}`` dict: ``interpolate --keep content`` walks the motion with
the look held.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganforge.modalities.video.nets import MOTION_DIM, FrameGenerator, content_motion_latent


def fold(x: Tensor) -> Tensor:
    """The triangle wave of period 4 through (0, 0): identity on [-1, 1], reflected beyond."""
    return 1.0 - ((x + 1.0).remainder(4.0) - 2.0).abs()


def place(src: Tensor, grid: Tensor) -> Tensor:
    """``src`` resampled at ``grid``: moved by whole pixels forward (the nearest pixel, so a
    sprite looks the same wherever it stands: bilinear resampling would blur it at
    half-pixel places only), with bilinear sampling's gradient towards its position
    (straight through)."""
    soft = nn.functional.grid_sample(src, grid, align_corners=False)
    hard = nn.functional.grid_sample(src, grid, mode="nearest", align_corners=False)
    return hard + (soft - soft.detach())


class LayeredGenerator(nn.Module):
    """Clips (N, C, frames, size, size) in [-1, 1]: sprites moved over a background."""

    def __init__(
        self,
        frames: int,
        size: int,
        channels: int,
        z_dim: int = 50,
        width: int = 64,
        layers: int = 1,
        supersample: int = 1,
        upsample: str = "nearest",
    ) -> None:
        super().__init__()
        self.frames, self.z_dim, self.C, self.layers = frames, z_dim, channels, layers
        self.supersample = int(supersample)
        self.upsample = upsample  # how the canvas reaches the finer one (a drawing setting)
        self.gru = nn.GRU(MOTION_DIM, MOTION_DIM, batch_first=True)
        self.image = FrameGenerator(z_dim, size, channels + layers * (channels + 1), width)
        size = size * self.supersample  # the canvas sprites are moved on
        self.start = nn.Linear(MOTION_DIM, 2 * layers)  # each layer's first position
        # its move each frame: a steady velocity from the first motion state (so clips move
        # from the first step: sprites moved by per-frame steps alone froze in a first run)
        # plus a per-frame change, small at first
        self.velocity = nn.Linear(MOTION_DIM, 2 * layers)
        self.step = nn.Linear(MOTION_DIM, 2 * layers)
        nn.init.normal_(self.step.weight, std=0.02)
        nn.init.zeros_(self.step.bias)
        # how far a sprite's centre may go from the frame's centre (a share of the half-side)
        self.reach = nn.Parameter(torch.zeros(layers))
        # a sprite's extent: its alpha fades out beyond this radius (grid units, learnt), so
        # a sprite is an object that moves, not a texture over the whole frame (in a first
        # run one grew over the frame, where moving it changed nothing a critic could see)
        self.radius = nn.Parameter(torch.full((layers,), 0.5))
        side = torch.linspace(-1 + 1 / size, 1 - 1 / size, size)
        self.register_buffer("r2", side[:, None] ** 2 + side[None] ** 2, persistent=False)

    def sample_latent(self, n: int, generator=None, device=None) -> dict[str, Tensor]:
        return content_motion_latent(n, self.z_dim, self.frames, generator, device)

    def positions(self, motion: Tensor) -> Tensor:
        """(n, frames, layers, 2) sprite offsets in grid units ([-1, 1] spans the frame)."""
        h, _ = self.gru(motion.to(self.gru.weight_ih_l0.dtype))
        n, t = h.shape[:2]
        start = self.start(h[:, 0]).view(n, 1, self.layers, 2)
        velocity = self.velocity(h[:, 0]).view(n, 1, self.layers, 2)
        steps = velocity + self.step(h[:, 1:]).view(n, t - 1, self.layers, 2)
        path = torch.cat([start, start + steps.cumsum(1)], 1)
        return fold(path) * torch.sigmoid(self.reach)[:, None]

    def forward(self, latent: dict[str, Tensor], cond: Any = None) -> Tensor:
        content = latent["content"]
        n, t, k, c = content.shape[0], self.frames, self.layers, self.C
        canvas = self.image(content)  # (n, C + k (C + 1), s, s) in [-1, 1]
        if self.supersample > 1:
            up = self.supersample
            canvas = nn.functional.interpolate(canvas, scale_factor=up, mode=self.upsample)
        size = canvas.shape[-1]
        frames = canvas[:, None, :c].expand(n, t, c, size, size)
        pos = self.positions(latent["motion"]).float()
        eye = torch.eye(2, device=content.device).expand(n * t, 2, 2)
        for i in range(k):
            part = canvas[:, c + i * (c + 1) : c + (i + 1) * (c + 1)].float()
            # colour and alpha in [0, 1], so the zero padding outside is transparent black
            part = (part + 1) / 2
            fade = torch.exp(-((self.r2 / self.radius[i].abs().clamp_min(0.05) ** 2) ** 2))
            part = torch.cat([part[:, :c], part[:, c:] * fade], 1)
            theta = torch.cat([eye, -pos[:, :, i].reshape(n * t, 2, 1)], 2)
            grid = nn.functional.affine_grid(theta, [n * t, c + 1, size, size], False)
            src = part[:, None].expand(n, t, c + 1, size, size).reshape(n * t, c + 1, size, size)
            moved = place(src, grid)
            moved = moved.view(n, t, c + 1, size, size)
            colour, alpha = moved[:, :, :c] * 2 - 1, moved[:, :, c:]
            frames = alpha * colour + (1 - alpha) * frames.float()
        clips = frames.transpose(1, 2)
        if self.supersample > 1:
            up = self.supersample
            clips = nn.functional.avg_pool3d(clips, (1, up, up))
        return clips.contiguous()
