"""Evaluate a run: generated samples against real data, each score beside its real-data floor.

The floor is the same metric between two real samples (the training split and the test
split, or two halves where a dataset has no split): a generator cannot be expected to beat it,
so a score means something only next to it.
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

from ganforge.errors import ConfigError
from ganforge.metrics.classes import class_coverage
from ganforge.metrics.classifier import cache_dir
from ganforge.metrics.fid import fid, fid_bootstrap
from ganforge.metrics.inception import load_inception
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kid
from ganforge.metrics.prdc import density_coverage, precision_recall
from ganforge.metrics.swd import sliced_wasserstein
from ganforge.progress import iterate

ALL_METRICS = ("fid", "kid", "pr", "dc", "is", "classes", "swd")
INCEPTION_ENV = "GANFORGE_INCEPTION_WEIGHTS"


@dataclass
class Extractor:
    """A feature extractor: name (used in score labels), features and optional class probs."""

    name: str
    features: Callable[[torch.Tensor], torch.Tensor]
    probs: Callable[[torch.Tensor], torch.Tensor] | None
    num_classes: int = 0


def parse_metrics(text: str | None) -> list[str]:
    """``"fid,kid"`` -> ``["fid", "kid"]``; unknown names are a ConfigError."""
    if not text:
        return list(ALL_METRICS)
    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in ALL_METRICS]
    if bad:
        raise ConfigError(
            f"unknown metric '{bad[0]}'; choose from {','.join(ALL_METRICS)} (comma-separated)"
        )
    return names


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


def feature_scores(
    real: dict[str, torch.Tensor],
    other: dict[str, torch.Tensor],
    metrics: list[str],
    extractor: Extractor | None,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Scores of ``other`` (generated or held-out real) against ``real`` on features."""
    out: dict[str, dict[str, float]] = {}
    tag = f"[{extractor.name}]" if extractor else ""
    if extractor is not None and "feats" in real:
        a, b = real["feats"].double(), other["feats"].double()
        if "fid" in metrics:
            # the value is the plain FID; resampling (which duplicates rows and so biases the
            # mean upwards) only gives its spread
            _, std = fid_bootstrap(a, b, seed=seed)
            out[f"FID{tag}"] = {"value": fid(a, b), "std": std}
        if "kid" in metrics:
            mean, std = kid(a, b, seed=seed)
            out[f"KID{tag}"] = {"value": mean, "std": std}
        if "pr" in metrics:
            pr = precision_recall(a, b)
            out[f"precision{tag}"] = {"value": float(pr["precision"])}
            out[f"recall{tag}"] = {"value": float(pr["recall"])}
        if "dc" in metrics:
            dc = density_coverage(a, b)
            out[f"density{tag}"] = {"value": float(dc["density"])}
            out[f"coverage{tag}"] = {"value": float(dc["coverage"])}
        if "is" in metrics and "probs" in other:
            mean, std = inception_score(other["probs"].double())
            out[f"IS{tag}"] = {"value": mean, "std": std}
        if "classes" in metrics and "probs" in other:
            cc = class_coverage(other["probs"].double(), extractor.num_classes)
            out[f"classes_covered{tag}"] = {"value": float(cc["classes_covered"])}
            out[f"class_entropy{tag}"] = {"value": float(cc["normalized_entropy"])}
    return out


def image_scores(
    real_images: torch.Tensor, other_images: torch.Tensor, metrics: list[str], seed: int = 0
) -> dict[str, dict[str, float]]:
    """Scores that need no pretrained network (SWD on Laplacian-pyramid patches)."""
    if "swd" not in metrics:
        return {}

    swd = sliced_wasserstein(real_images, other_images, seed=seed)
    return {"SWD": {"value": float(swd["mean"])}}


def merge_floor(scores: dict, floor: dict) -> dict:
    for name, entry in scores.items():
        if name in floor:
            entry["floor"] = floor[name]["value"]
    return scores


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0
