"""Per-dataset classifier features: a small CNN trained by ganforge on a labelled image set.

The standard Inception weights cannot be downloaded here, so FID and friends are computed on
the penultimate layer (128 features) of a CNN trained on the dataset itself. Scores on these
features are labelled by extractor, e.g. ``FID[fashion-mnist-cnn]``, never as Inception FID.
Weights are stored as safetensors (with accuracy and provenance in the metadata) under the
feature cache, ``$GANFORGE_CACHE`` or ``~/.cache/ganforge``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from ganforge.data.dataset import Dataset
from ganforge.errors import DataError
from ganforge.progress import advance, note

FEATURE_DIM = 128
INPUT_SIZE = 28


def cache_dir() -> Path:
    """Where features and feature-extractor weights are cached."""
    root = os.environ.get("GANFORGE_CACHE") or Path.home() / ".cache" / "ganforge"
    return Path(root)


class ClassifierNet(nn.Module):
    """Conv(32)x2 - pool - Conv(64)x2 - pool - FC(128) - FC(classes), on 28x28 grey input.

    ``features`` gives the 128-d penultimate activations; ``forward`` the class logits.
    Inputs in [-1, 1] of any square size and 1 or 3 channels are brought to 28x28 grey.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.body = nn.Sequential(block(1, 32), block(32, 64), nn.Flatten())
        self.fc = nn.Sequential(nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.ReLU(inplace=True))
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(FEATURE_DIM, num_classes)
        self.num_classes = num_classes

    @staticmethod
    def prepare(x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if x.shape[1] == 3:
            w = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
            x = (x * w).sum(1, keepdim=True)
        if x.shape[-1] != INPUT_SIZE or x.shape[-2] != INPUT_SIZE:
            x = F.interpolate(
                x,
                size=(INPUT_SIZE, INPUT_SIZE),
                mode="bilinear",
                align_corners=False,
                antialias=x.shape[-1] > INPUT_SIZE,
            )
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(self.prepare(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(self.features(x)))


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random (train, test) split of ``range(n)`` for datasets without one."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = int(round(n * test_fraction))
    return perm[n_test:], perm[:n_test]


@torch.no_grad()
def accuracy(net: ClassifierNet, data: Dataset, index: torch.Tensor, batch: int = 1000) -> float:
    """Top-1 accuracy of ``net`` on the rows ``index`` of ``data``."""
    net.eval()
    correct = 0
    for i in range(0, len(index), batch):
        x, y = data.batch(index[i : i + batch])
        correct += int((net(x).argmax(1) == y).sum())
    return correct / max(1, len(index))


def train_classifier(
    train: Dataset,
    train_index: torch.Tensor,
    test: Dataset,
    test_index: torch.Tensor,
    epochs: int = 6,
    batch: int = 128,
    seed: int = 0,
    progress: bool = True,
) -> tuple[ClassifierNet, float]:
    """Train a :class:`ClassifierNet` reproducibly; returns (net, test accuracy)."""
    if train.labels is None or train.num_classes < 2:
        raise DataError(f"dataset '{train.name}' has no class labels to train a classifier on")
    torch.manual_seed(seed)
    net = ClassifierNet(train.num_classes)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    steps_per_epoch = len(train_index) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(seed)
    bar = tqdm(
        total=epochs * steps_per_epoch,
        disable=not progress or None,
        unit="step",
        desc=f"classifier[{train.name}]",
        mininterval=0.5,
    )
    for epoch in range(epochs):
        net.train()
        perm = train_index[torch.randperm(len(train_index), generator=gen)]
        for i in range(steps_per_epoch):
            x, y = train.batch(perm[i * batch : (i + 1) * batch])
            # light augmentation: random shifts of up to 2 px
            if x.shape[-1] >= 16:
                dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
                x = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            advance((epoch * steps_per_epoch + i + 1) / (epochs * steps_per_epoch))
        bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    return net, accuracy(net, test, test_index)


def weights_path(name: str) -> Path:
    return cache_dir() / "extractors" / f"{name}-cnn.safetensors"


def save_weights(net: nn.Module, path: Path, meta: dict) -> Path:
    """A module's weights as safetensors, ``meta`` (JSON) in its metadata; written
    atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(tmp), metadata={"ganforge": json.dumps(meta)})
    tmp.replace(path)
    return path


def read_meta(path: Path) -> dict:
    """The JSON metadata :func:`save_weights` stored (no code is unpickled)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return json.loads((fh.metadata() or {}).get("ganforge", "{}"))


def load_cached(
    path: Path, build: Any, needs: tuple[str, ...] = ()
) -> tuple[nn.Module, dict] | None:
    """A cached net: ``build(meta)`` makes the module, the file fills its weights; None
    when there is no file, or it is damaged or its metadata lacks a key of ``needs`` (then
    deleted: rebuilt, never trusted). Every caller trains the net on None: said first, as
    a :func:`ganforge.progress.note` (a line off a terminal)."""
    if path.is_file():
        try:
            meta = read_meta(path)
            if any(k not in meta for k in needs):
                raise KeyError("stale cache file")
            net = build(meta)
            net.load_state_dict(load_file(str(path)))
            return net.eval(), meta
        except Exception:
            path.unlink(missing_ok=True)
    note(f"training the feature network {path.stem} (first use, cached after in {path})")
    return None


def save_classifier(net: ClassifierNet, path: Path, meta: dict) -> Path:
    """Weights as safetensors, provenance in its metadata; written atomically."""
    return save_weights(net, path, meta)


def load_classifier(path: Path) -> tuple[ClassifierNet, dict]:
    """A stored classifier and its metadata (no code is unpickled)."""
    meta = read_meta(path)
    net = ClassifierNet(int(meta.get("num_classes", 10)))
    net.load_state_dict(load_file(str(path)))
    return net.eval(), meta


def cached_classifier(path: Path) -> tuple[ClassifierNet, dict] | None:
    """The classifier stored at ``path``, or None (missing, or damaged and deleted)."""
    return load_cached(path, lambda meta: ClassifierNet(int(meta.get("num_classes", 10))))


def describe_training(
    name: str,
    accuracy_value: float,
    epochs: int,
    seed: int,
    seconds: float,
    n_train: int,
    n_test: int,
    num_classes: int,
) -> dict:
    return {
        "dataset": name,
        "test_accuracy": round(accuracy_value, 5),
        "epochs": epochs,
        "seed": seed,
        "train_seconds": round(seconds, 1),
        "n_train": n_train,
        "n_test": n_test,
        "num_classes": num_classes,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
