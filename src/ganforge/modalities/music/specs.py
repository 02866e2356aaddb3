"""The music modality's registrations: dataset specs, metrics (:mod:`.scores`) and the
MuseGAN nets."""

from __future__ import annotations

from functools import partial
from typing import Any

from ganforge.data.dataset import Dataset
from ganforge.modalities.music.arch_options import MuseExperimental, MuseOptions
from ganforge.modalities.music.datasets import load_music
from ganforge.modalities.music.midi import MIDI_SUFFIXES
from ganforge.modalities.music.nets import build
from ganforge.modalities.music.scores import METRICS
from ganforge.registry import Architecture, DatasetSpec, register_parts


def _load(kind: str, arg: str, seed: int = 0, **options: Any) -> Dataset:
    return load_music(kind, arg, seed=seed, **options)


SPECS = (
    DatasetSpec(
        "chorales",
        "music",
        partial(_load, "chorales"),
        "313 Bach chorales in 4/4, four voices, as 4-bar piano-roll phrases",
        "the music21 wheel",
    ),
    DatasetSpec(
        "midi",
        "music",
        partial(_load, "midi"),
        "a folder of .mid files (a track per program, or music.by=track)",
        "your disk",
        arg="required",
        usage="midi:FOLDER",
        arg_help="a folder of MIDI files",
        file_suffixes=MIDI_SUFFIXES,
        folder_suffixes=MIDI_SUFFIXES,
        preset="chorales",
    ),
)


def _build(cfg: Any, shape: tuple[int, ...], num_classes: int, info: dict | None = None):
    return build(cfg, shape, num_classes, info)


def register_specs(modality: Any) -> None:
    register_parts(
        modality,
        SPECS,
        METRICS,
        architectures=(
            Architecture(
                "musegan",
                _build,
                "MuseGAN hybrid G (shared/private, temporal latents; bar generator; private "
                "per-track stage) and a critic with onset and chroma streams; music",
                ("g_width", "d_width"),
                takes_info=True,
                options=MuseOptions,
                experimental=MuseExperimental,
            ),
        ),
    )
