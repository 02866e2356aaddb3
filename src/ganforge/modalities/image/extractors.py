"""Which feature extractor fits which labelled image dataset, and the reproducible training of
ours.

The labelled datasets are registered (:func:`register_labelled`; the image modality's
fashion-mnist, mnist5k, digits from its specs), so another modality can add its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ganforge.data.dataset import Dataset
from ganforge.errors import DataError
from ganforge.metrics.classifier import (
    ClassifierNet,
    cached_classifier,
    describe_training,
    save_classifier,
    split_indices,
    train_classifier,
    weights_path,
)
from ganforge.metrics.evaluate import Extractor
from ganforge.registry import Registry


@dataclass
class LabelledSplits:
    """A labelled image dataset with a train and a test part (index tensors into each)."""

    name: str
    train: Dataset
    train_index: torch.Tensor
    test: Dataset
    test_index: torch.Tensor


# dataset name -> its splits, from the text after the spec's colon (None when there is none)
LABELLED: Registry[Callable[[str | None], LabelledSplits]] = Registry("labelled dataset")


def register_labelled(
    name: str, splits: Callable[[str | None], LabelledSplits], *, replace: bool = False
) -> None:
    """Register a labelled dataset whose classifier gives feature metrics (``name``: the
    data spec's name; ``splits(arg)``: its train and test parts)."""
    LABELLED.add(name, splits, replace=replace)


def fixed_split(name: str, ds: Dataset) -> LabelledSplits:
    """A dataset without a split of its own, split 80/20 the same way every time."""
    train, test = split_indices(len(ds), 0.2, seed=0)
    return LabelledSplits(name, ds, train, ds, test)


def dataset_key(spec: str) -> str | None:
    """The classifier name for a data spec (``fashion-mnist:/x`` -> ``fashion-mnist``)."""
    name = spec.strip().split(":", 1)[0].lower()
    return name if name in LABELLED else None


def labelled_splits(spec: str) -> LabelledSplits:
    """The train/test splits of the labelled dataset ``spec`` names."""
    key = dataset_key(spec)
    if key is None:
        raise DataError(
            f"no classifier features for '{spec}': they exist for {', '.join(LABELLED.names())}; "
            "use --metrics swd (no pretrained network) or --inception-weights PATH"
        )
    return LABELLED.get(key)(spec.split(":", 1)[1] if ":" in spec else None)


def train_features(
    spec: str, epochs: int = 6, seed: int = 0, progress: bool = True
) -> tuple[ClassifierNet, dict]:
    """Train the dataset's classifier, store it in the cache, return (net, metadata)."""
    splits = labelled_splits(spec)
    t0 = time.perf_counter()
    net, acc = train_classifier(
        splits.train,
        splits.train_index,
        splits.test,
        splits.test_index,
        epochs=epochs,
        seed=seed,
        progress=progress,
    )
    meta = describe_training(
        splits.name,
        acc,
        epochs,
        seed,
        time.perf_counter() - t0,
        len(splits.train_index),
        len(splits.test_index),
        splits.train.num_classes,
    )
    save_classifier(net, weights_path(splits.name), meta)
    return net.eval(), meta


def get_classifier(spec: str, progress: bool = True) -> tuple[ClassifierNet, dict]:
    """The cached classifier for ``spec``, trained first (reproducibly) if it is missing."""
    key = dataset_key(spec)
    if key is None:
        labelled_splits(spec)  # raises the explanatory error
    cached = cached_classifier(weights_path(key))
    if cached is not None:
        return cached
    return train_features(spec, progress=progress)


def classifier_extractor(spec: str, progress: bool = True) -> Extractor:
    net, meta = get_classifier(spec, progress=progress)
    name = f"{meta.get('dataset', 'dataset')}-cnn"
    return Extractor(
        name=name,
        features=net.features,
        probs=lambda x: torch.softmax(net(x), dim=1),
        num_classes=net.num_classes,
    )
