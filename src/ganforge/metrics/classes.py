"""Class coverage of generated samples as judged by a classifier: covered classes and entropy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ganforge.metrics.fid import Array


def class_coverage(
    probs_or_labels: Array, num_classes: int, min_share: float | None = None
) -> dict[str, Any]:
    """Histogram of predicted classes, how many classes it covers, and its entropy.

    ``probs_or_labels`` is ``(N, C)`` class scores (probabilities or logits: the argmax is the
    prediction) or ``(N,)`` integer labels. A class is *covered* when its share of the N
    predictions is at least ``min_share``, by default ``1 / (10 * C)``: a tenth of the share a
    uniform generator gives it (with N = 10 C samples, one sample). ``entropy`` is in nats,
    ``normalized_entropy = entropy / log C`` is 1 for a uniform histogram and 0 for one class.
    Returns ``classes_covered``, ``num_classes``, ``entropy``, ``normalized_entropy``,
    ``histogram`` (list of ints) and ``min_share``.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    x = probs_or_labels
    x = x.detach().cpu() if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
    if x.ndim == 2:
        if x.shape[1] != num_classes:
            raise ValueError(f"scores have {x.shape[1]} columns, expected {num_classes}")
        labels = x.argmax(dim=1)
    elif x.ndim == 1:
        if x.is_floating_point() and not torch.equal(x, x.round()):
            raise ValueError("1-D input must hold integer class labels")
        labels = x.long()
    else:
        raise ValueError(f"expected (N, C) scores or (N,) labels, got shape {tuple(x.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes - 1}]")
    if min_share is None:
        min_share = 1.0 / (10 * num_classes)
    hist = torch.bincount(labels, minlength=num_classes)
    n = int(hist.sum())
    share = hist.double() / max(n, 1)
    nz = share[share > 0]
    entropy = float(-(nz * nz.log()).sum())
    return {
        "classes_covered": int((share >= min_share).sum()) if n else 0,
        "num_classes": num_classes,
        "entropy": entropy,
        "normalized_entropy": entropy / math.log(num_classes),
        "histogram": hist.tolist(),
        "min_share": float(min_share),
    }
