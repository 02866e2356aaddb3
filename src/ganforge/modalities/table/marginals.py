"""One column's distribution in a few numbers: a histogram of numbers (fixed edges) or the
frequencies of the most common labels, plus the missing rate. The training pictures draw
real and generated marginals side by side, and the training log carries their distance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MAX_LABELS = 30


def _numbers(values: pd.Series) -> np.ndarray | None:
    if pd.api.types.is_bool_dtype(values.dtype):
        return None
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates = values.astype("datetime64[ns]")
        out = dates.astype("int64").to_numpy(np.float64) / 1e9
        return np.where(dates.isna().to_numpy(), np.nan, out)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    return None


def marginal(values: pd.Series, bins: int = 20, kind: str | None = None) -> dict[str, Any]:
    """The real column's marginal (its bin edges or labels define the comparison)."""
    missing = float(values.isna().mean()) if len(values) else 0.0
    x = _numbers(values)
    if (
        x is not None
        and kind not in ("categorical", "boolean")
        and np.unique(x[~np.isnan(x)]).size > 10
    ):
        present = x[~np.isnan(x)]
        lo, hi = np.quantile(present, [0.005, 0.995]) if present.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
        freq = _hist(present, edges)
        return {
            "type": "numeric",
            "edges": edges.tolist(),
            "freq": freq.tolist(),
            "missing": missing,
            "datetime": bool(pd.api.types.is_datetime64_any_dtype(values.dtype)),
        }
    counts = values.dropna().astype(str).value_counts()
    top = counts.iloc[:MAX_LABELS]
    freq = (top / max(len(values.dropna()), 1)).to_numpy(np.float64)
    return {
        "type": "labels",
        "labels": top.index.tolist(),
        "freq": freq.tolist(),
        "missing": missing,
    }


def _hist(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Shares of ``x`` per bin, values outside the edges counted in the end bins."""
    if x.size == 0:
        return np.zeros(len(edges) - 1)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    return np.bincount(idx, minlength=len(edges) - 1) / x.size


def marginal_like(values: pd.Series, ref: dict[str, Any]) -> dict[str, Any]:
    """``values``' marginal on the bins or labels of ``ref`` (a real marginal)."""
    missing = float(values.isna().mean()) if len(values) else 0.0
    if ref["type"] == "numeric":
        x = _numbers(values)
        if x is None:
            x = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
        freq = _hist(x[~np.isnan(x)], np.asarray(ref["edges"]))
        return {**ref, "freq": freq.tolist(), "missing": missing}
    present = values.dropna().astype(str)
    counts = present.value_counts()
    total = max(len(present), 1)
    freq = [float(counts.get(label, 0)) / total for label in ref["labels"]]
    return {**ref, "freq": freq, "missing": missing}


def tv_distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Total variation between two marginals on the same bins / labels (0 same, 1 apart),
    the missing share counted as one more bin."""
    fa = np.append(np.asarray(a["freq"]) * (1 - a["missing"]), a["missing"])
    fb = np.append(np.asarray(b["freq"]) * (1 - b["missing"]), b["missing"])
    if a["type"] == "labels":  # labels beyond the listed ones: the rest of the mass
        fa = np.append(fa, max(0.0, 1 - fa.sum()))
        fb = np.append(fb, max(0.0, 1 - fb.sum()))
    return float(0.5 * np.abs(fa - fb).sum())
