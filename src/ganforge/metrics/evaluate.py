"""What evaluation on features needs besides the metrics: feature extractors, real
features cached, batched application, floors merged beside the scores.

The floor is the same metric between two real samples (the training split and the test
split, or two halves where a dataset has no split): a generator cannot be expected to beat it,
so a score means something only next to it. The image metrics themselves are declared in
:mod:`ganforge.modalities.image.metrics`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ganforge.metrics.classifier import cache_dir
from ganforge.metrics.inception import load_inception
from ganforge.progress import iterate

INCEPTION_ENV = "GANFORGE_INCEPTION_WEIGHTS"


@dataclass
class Extractor:
    """A feature extractor: name (used in score labels), features and optional class probs."""

    name: str
    features: Callable[[torch.Tensor], torch.Tensor]
    probs: Callable[[torch.Tensor], torch.Tensor] | None
    num_classes: int = 0


@torch.no_grad()
def batched(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    batch: int = 500,
    desc: str | None = None,
) -> torch.Tensor:
    """Apply ``fn`` to ``x`` in batches (bounded memory), concatenated on the CPU."""
    out = []
    for i in iterate(range(0, x.shape[0], batch), desc=desc, leave=False):
        out.append(fn(x[i : i + batch]).float().cpu())
    return torch.cat(out)


def inception_extractor(path: str | None) -> Extractor:
    net = load_inception(path)
    return Extractor(
        name="inception",
        features=net,
        probs=lambda x: torch.softmax(net.logits(x), dim=1),
        num_classes=1008,
    )


def _cache_key(*parts: Any) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def cached_features(key_parts: tuple, compute: Callable[[], dict[str, torch.Tensor]]) -> dict:
    """Features of real data, computed once per (dataset, extractor, split, n) and cached."""
    path = cache_dir() / "features" / f"{_cache_key(*key_parts)}.safetensors"
    if path.is_file():
        try:
            return load_file(str(path))
        except Exception:
            path.unlink(missing_ok=True)
    tensors = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
    tmp.replace(path)
    return tensors


def merge_floor(scores: dict, floor: dict) -> dict:
    for name, entry in scores.items():
        if name in floor:
            entry["floor"] = floor[name]["value"]
    return scores


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0
