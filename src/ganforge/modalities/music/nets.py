"""MuseGAN-class networks (Dong et al. 2018; binarisation after Dong & Yang 2018).

G, the hybrid model: four latents per phrase, ``shared`` (one per phrase), ``shared_t``
(through a temporal network, one code per bar), ``private`` (one per track) and
``private_t`` (a temporal network per track, one per bar per track). Each (track, bar)
gets the four codes concatenated; a bar generator shared by all tracks turns them into
features over (16 steps, octaves), up-sampled in time, and a private last stage per track
(grouped convolutions, the last one octaves -> 12 pitches each) writes that track's bar.
Outputs tanh; ``binarize`` hard-thresholds at 0 (``threshold``) or draws Bernoulli((x + 1) / 2)
(``bernoulli``, its uniforms in the latent so seeds reproduce), both with
straight-through gradients, or leaves the tanh for D (``none``, MuseGAN's choice);
``voice`` makes each track a voice: one pitch or a rest per step (a softmax over the
pitches and a rest, its argmax forward, straight-through), as in the chorales.

D: the roll and its onset/offset map (the change from step to step, MuseGAN's onset
stream) per track, read by a pitch-then-time and a time-then-pitch stream, plus a chroma
stream per bar; merged at bar level, then a linear score (WGAN-GP critic, no norms). With
``key_stream`` it also reads the phrase's pitch-class histograms (sounding and struck) through
circular templates maxed over the 12 transpositions: a key-invariant view of how well the
whole phrase keeps to one scale, which the per-bar streams see only key by key. With
``interval_stream`` it reads each track's moves from one step to the next (a histogram of
intervals up to two octaves either way): how a voice moves, by step or by leap, which
convolutions one octave wide cannot see.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganforge.config.parts import options_of
from ganforge.modalities.music.arch_options import MuseOptions
from ganforge.modalities.music.pianoroll import STEPS_PER_BAR

BINARIZE = ("none", "threshold", "bernoulli", "voice")
INTERVALS = 24  # the interval stream's widest move, in semitones either way


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


class MuseGenerator(nn.Module):
    """(B, tracks, bars * 16, pitches) piano-rolls in [-1, 1] from a dict latent."""

    def __init__(
        self,
        tracks: int,
        bars: int,
        pitches: int,
        z_dim: int = 32,
        width: int = 128,
        binarize: str = "none",
        ranges: list[list[int]] | None = None,
        hold: float = 0.0,
    ) -> None:
        super().__init__()
        if pitches % 12:
            raise ValueError(f"pitches must be whole octaves (a multiple of 12); got {pitches}")
        self.K, self.bars, self.P, self.z_dim = tracks, bars, pitches, z_dim
        self.octaves, self.width = pitches // 12, width
        self.binarize, self.hold = binarize, float(hold)
        # (tracks, pitches) True where a track may sound: the data's range per voice
        allowed = torch.ones(tracks, pitches, dtype=torch.bool)
        for k, (lo, hi) in enumerate(ranges or []):
            if k < tracks and 0 <= lo <= hi:
                allowed[k] = False
                allowed[k, lo : hi + 1] = True
        self.register_buffer("allowed", allowed, persistent=False)
        # ``voice``: the same with the rest, always allowed
        rest = torch.ones(tracks, 1, dtype=torch.bool)
        self.register_buffer("voice_allowed", torch.cat([allowed, rest], 1), persistent=False)
        self.shared_temporal = nn.Sequential(
            nn.Linear(z_dim, 256), _act(), nn.Linear(256, bars * z_dim)
        )
        # one temporal network per track: weights (tracks, z, bars * z)
        self.private_temporal = nn.Parameter(torch.randn(tracks, z_dim, bars * z_dim) / z_dim**0.5)
        c = width
        self.bar_input = nn.Sequential(
            nn.Linear(4 * z_dim, c * 4 * self.octaves),
            nn.BatchNorm1d(c * 4 * self.octaves),
            nn.ReLU(),
        )
        self.time_up = nn.Sequential(  # (c, 4, octaves) -> (c/2, 16, octaves)
            nn.Upsample(scale_factor=(2, 1)),
            nn.Conv2d(c, c, (3, 1), padding=(1, 0)),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Upsample(scale_factor=(2, 1)),
            nn.Conv2d(c, c // 2, (3, 1), padding=(1, 0)),
            nn.BatchNorm2d(c // 2),
            nn.ReLU(),
        )
        q = c // 2
        f = tracks * q // 2
        self.private = nn.Sequential(  # per track (groups = tracks)
            nn.Conv2d(tracks * q, f, (3, 3), padding=1, groups=tracks),
            nn.BatchNorm2d(f),
            nn.ReLU(),
        )
        # octaves -> 12 pitches each; for ``voice``, a rest logit per track and step too
        self.to_pitch = nn.ConvTranspose2d(f, tracks, (1, 12), (1, 12), groups=tracks)
        self.to_rest = nn.Conv2d(f, tracks, (1, self.octaves), groups=tracks)

    def sample_latent(self, n: int, generator=None, device=None) -> dict[str, Tensor]:
        z, k = self.z_dim, self.K
        out = {
            "shared": torch.randn(n, z, generator=generator),
            "shared_t": torch.randn(n, z, generator=generator),
            "private": torch.randn(n, k, z, generator=generator),
            "private_t": torch.randn(n, k, z, generator=generator),
        }
        if self.binarize == "bernoulli":
            steps = self.bars * STEPS_PER_BAR
            out["uniform"] = torch.rand(n, k, steps, self.P, generator=generator)
        return {name: v.to(device or "cpu") for name, v in out.items()}

    def codes(self, latent: dict[str, Tensor]) -> Tensor:
        """(n * tracks * bars, 4 z) bar codes from the latent."""
        n, k, b, z = latent["shared"].shape[0], self.K, self.bars, self.z_dim
        shared = latent["shared"][:, None, None].expand(n, k, b, z)
        shared_t = self.shared_temporal(latent["shared_t"]).view(n, 1, b, z).expand(n, k, b, z)
        private = latent["private"][:, :, None].expand(n, k, b, z)
        private_t = torch.einsum("nkz,kzo->nko", latent["private_t"], self.private_temporal)
        private_t = private_t.reshape(n, k, b, z)
        return torch.cat([shared, shared_t, private, private_t], -1).reshape(n * k * b, 4 * z)

    @torch.no_grad()
    def _choose(self, logits: Tensor) -> Tensor:
        """Each step's pitch (or rest): the argmax, or with ``hold`` > 0 the last step's
        choice kept unless another's logit beats it by more than ``hold`` (hysteresis,
        against one-step flicker between near-equal pitches)."""
        if self.hold <= 0:
            return logits.argmax(-1)
        steps = logits.unbind(2)
        last = steps[0].argmax(-1)
        out = [last]
        for now in steps[1:]:
            kept = now.gather(-1, last[..., None]).squeeze(-1) + self.hold
            best, arg = now.max(-1)
            last = torch.where(best > kept, arg, last)
            out.append(last)
        return torch.stack(out, 2)

    def forward(self, latent: dict[str, Tensor], cond: Any = None) -> Tensor:
        n, k, b = latent["shared"].shape[0], self.K, self.bars
        h = self.bar_input(self.codes(latent)).view(n * k * b, self.width, 4, self.octaves)
        h = self.time_up(h)  # (n k b, q, 16, octaves)
        q = h.shape[1]
        h = h.view(n, k, b, q, STEPS_PER_BAR, self.octaves).permute(0, 2, 1, 3, 4, 5)
        f = self.private(h.reshape(n * b, k * q, STEPS_PER_BAR, self.octaves))
        h = self.to_pitch(f)  # (n b, k, 16, P)
        if self.binarize == "voice":  # one pitch or a rest per track and step
            h = torch.cat([h, self.to_rest(f)], -1).float()
            h = h.view(n, b, k, STEPS_PER_BAR, self.P + 1).permute(0, 2, 1, 3, 4)
            logits = h.reshape(n, k, b * STEPS_PER_BAR, self.P + 1)
            logits = logits.masked_fill(~self.voice_allowed[:, None], -1e4)
            soft = logits.softmax(-1)
            hard = nn.functional.one_hot(self._choose(logits), self.P + 1).to(soft.dtype)
            return (hard + (soft - soft.detach()))[..., : self.P] * 2 - 1
        h = torch.tanh(h)
        x = h.view(n, b, k, STEPS_PER_BAR, self.P).permute(0, 2, 1, 3, 4)
        x = x.reshape(n, k, b * STEPS_PER_BAR, self.P)
        x = torch.where(self.allowed[:, None], x, -1.0)  # silent outside each voice's range
        if self.binarize == "threshold":
            hard = torch.where(x > 0, 1.0, -1.0).to(x.dtype)
            x = hard + (x - x.detach())  # exactly +-1 forward
        elif self.binarize == "bernoulli":
            hard = torch.where(latent["uniform"] < (x + 1) / 2, 1.0, -1.0).to(x.dtype)
            x = hard + (x - x.detach())  # exactly +-1 forward
        return x


class MuseCritic(nn.Module):
    """A score per phrase (B, tracks, bars * 16, pitches) -> (B,)."""

    def __init__(
        self,
        tracks: int,
        bars: int,
        pitches: int,
        width: int = 64,
        key_stream: bool = False,
        interval_stream: bool = False,
    ) -> None:
        super().__init__()
        c, o = width, pitches // 12
        self.bars = bars
        inp = 2 * tracks  # the roll and its onset/offset map
        self.pitch_time = nn.Sequential(
            nn.Conv2d(inp, c, (1, 12), (1, 12)),
            _act(),  # octaves
            nn.Conv2d(c, c, (4, 1), (4, 1)),
            _act(),  # beats
        )
        self.time_pitch = nn.Sequential(
            nn.Conv2d(inp, c, (4, 1), (4, 1)),
            _act(),  # beats
            nn.Conv2d(c, c, (1, 12), (1, 12)),
            _act(),  # octaves
        )
        self.merge = nn.Sequential(
            nn.Conv2d(2 * c, 2 * c, (1, o)),
            _act(),  # (2c, beats, 1)
            nn.Conv2d(2 * c, 2 * c, (4, 1), (4, 1)),
            _act(),  # (2c, bars, 1)
        )
        self.chroma = nn.Sequential(
            nn.Conv2d(tracks, c, (1, 12)),
            _act(),  # (c, T, 1)
            nn.Conv2d(c, c, (STEPS_PER_BAR, 1), (STEPS_PER_BAR, 1)),
            _act(),  # (c, bars, 1)
        )
        self.pitch_class = torch.arange(pitches) % 12
        # 12 templates per channel, slid circularly over the pitch classes (rotation = key)
        self.key = nn.Conv1d(2, c, 12, padding=6, padding_mode="circular") if key_stream else None
        self.widest = min(INTERVALS, pitches - 1)
        moves = tracks * (2 * self.widest + 1)
        self.interval = nn.Linear(moves, c) if interval_stream else None
        extra = c * (int(key_stream) + int(interval_stream))
        self.out = nn.Sequential(nn.Linear(3 * c * bars + extra, 256), _act(), nn.Linear(256, 1))

    def _fold(self, on: Tensor) -> Tensor:
        """(..., pitches) in 0..1 summed onto the 12 pitch classes."""
        return on @ nn.functional.one_hot(self.pitch_class.to(on.device), 12).to(on.dtype)

    def _chroma(self, x: Tensor) -> Tensor:
        return self._fold((x + 1) / 2)  # (B, K, T, 12)

    def _key_features(self, chroma: Tensor, change: Tensor) -> Tensor:
        """(B, c): each template's best match over the 12 rotations of the phrase's
        normalised sounding and struck pitch-class histograms."""
        struck = self._fold(change.clamp(min=0))  # onsets, folded to 12
        hist = torch.stack([chroma.sum((1, 2)), struck.sum((1, 2))], 1)  # (B, 2, 12)
        hist = hist / hist.sum(-1, keepdim=True).clamp(min=1.0)
        return _act()(self.key(hist))[..., :12].amax(-1)

    def _interval_features(self, x: Tensor) -> Tensor:
        """(B, c) from each track's share of step-to-step moves by d semitones, |d| <= 24:
        pairs (pitch at t, pitch at t + 1) counted along the diagonals of their product."""
        on = (x + 1) / 2
        b, k, t, p = on.shape
        now, before = on[:, :, 1:].reshape(b * k, t - 1, p), on[:, :, :-1].reshape(b * k, t - 1, p)
        pairs = before.transpose(1, 2) @ now  # (B K, from pitch, to pitch)
        w = self.widest
        moves = torch.stack([pairs.diagonal(d, -2, -1).sum(-1) for d in range(-w, w + 1)], -1).view(
            b, k, 2 * w + 1
        )
        moves = moves / moves.sum(-1, keepdim=True).clamp(min=1.0)
        return _act()(self.interval(moves.flatten(1)))

    def forward(self, x: Tensor, cond: Any = None) -> Tensor:
        change = torch.cat([x[:, :, :1] + 1, x[:, :, 1:] - x[:, :, :-1]], 2) / 2
        h = torch.cat([x, change], 1)
        h = self.merge(torch.cat([self.pitch_time(h), self.time_pitch(h)], 1))
        chroma = self._chroma(x)
        h = torch.cat([h, self.chroma(chroma)], 1).flatten(1)
        if self.key is not None:
            h = torch.cat([h, self._key_features(chroma, change)], 1)
        if self.interval is not None:
            h = torch.cat([h, self._interval_features(x)], 1)
        return self.out(h).squeeze(1)


def build(
    cfg: Any, sample_shape: tuple[int, ...], num_classes: int, info: dict | None = None
) -> tuple[nn.Module, ...]:
    """(G, D) for phrases of shape (tracks, bars * 16, pitches); ``info['music']['ranges']``
    (the data's pitch range per track, when given) holds each track to its range."""
    if len(sample_shape) != 3 or sample_shape[1] % STEPS_PER_BAR or sample_shape[2] % 12:
        raise ValueError(
            "the musegan architecture trains on piano-roll phrases (a chorales / midi: spec)"
        )
    tracks, steps, pitches = (int(s) for s in sample_shape)
    m, o = cfg.model, options_of(cfg, "arch", MuseOptions)
    interval = bool(getattr(cfg.experimental, "interval_stream", False))
    ranges = (info or {}).get("music", {}).get("ranges") if o.ranges else None
    G = MuseGenerator(
        tracks,
        steps // STEPS_PER_BAR,
        pitches,
        m.z_dim,
        m.g_width or 128,
        o.binarize,
        ranges,
        o.hold,
    )
    D = MuseCritic(tracks, steps // STEPS_PER_BAR, pitches, m.d_width or 64, o.key_stream, interval)
    return G, D
