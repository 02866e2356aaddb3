"""The text modality's registrations: dataset specs, metrics (:mod:`.metrics`) and the
anchor's nets."""

from __future__ import annotations

from functools import partial
from typing import Any

from ganforge.data.dataset import Dataset
from ganforge.modalities.text.datasets import load_text
from ganforge.modalities.text.metrics import METRICS
from ganforge.modalities.text.nets import build, build_recurrent
from ganforge.registry import Architecture, DatasetSpec, register_parts


def _load(kind: str, arg: str, seed: int = 0, **options: Any) -> Dataset:
    return load_text(kind, arg, seed=seed, **options)


SPECS = (
    DatasetSpec(
        "text",
        "text",
        partial(_load, "text"),
        "a UTF-8 text file (a sample per line, or text.split=chunks) or a folder of .txt",
        "your disk",
        arg="required",
        usage="text:PATH",
        arg_help="a file or folder",
        file_suffixes=(".txt",),
        folder_suffixes=(".txt",),
        preset="text",
    ),
    DatasetSpec(
        "wordnet",
        "text",
        partial(_load, "wordnet"),
        "WordNet 3.0 glosses and example sentences, ~184k lines",
        "Debian wordnet-base",
        preset="text",
    ),
    DatasetSpec(
        "python-docs",
        "text",
        partial(_load, "python-docs"),
        "the prose of Python's help topics, ~5.5k lines (in every Python)",
        "Python's pydoc_data",
        preset="text",
    ),
)


def _build(cfg: Any, shape: tuple[int, ...], num_classes: int):
    return build(cfg, shape, num_classes)


def _build_recurrent(cfg: Any, shape: tuple[int, ...], num_classes: int):
    return build_recurrent(cfg, shape, num_classes)


def register_specs(modality: Any) -> None:
    register_parts(
        modality,
        SPECS,
        METRICS,
        architectures=(
            Architecture(
                "gan-language",
                _build,
                "Gulrajani et al. 2017 text GAN: 1-D conv residual G (softmax) and critic; text",
                ("g_width", "d_width", "depth"),
            ),
            Architecture(
                "text-gru",
                _build_recurrent,
                "GRU G drawing characters (Gumbel-softmax straight-through, RelGAN-style MLE "
                "warm-up: text.pretrain_seconds) and the anchor's critic; text",
                ("g_width", "d_width", "depth"),
            ),
        ),
    )
