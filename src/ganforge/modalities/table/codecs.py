"""Per-column codecs: a table column <-> the columns of numbers the networks see.

* :class:`NumericCodec` (continuous, integer, datetime): CTGAN's mode-specific
  normalisation (Xu et al. 2019). A variational Gaussian mixture (scikit-learn's
  ``BayesianGaussianMixture``) is fitted on a subsample of at most ``fit_rows`` values, not
  on every row; each value becomes a scalar ``alpha = (x - mu_k) / (4 sigma_k)`` in
  (-1, 1) and a one-hot mode ``k`` drawn from its posterior, computed for all rows at once
  in NumPy. Missing values get a two-way indicator span. Decoding keeps the column's bounds
  and rounds whole-number columns.
* :class:`DiscreteCodec` (categorical, boolean): one-hot over the ``max_categories`` most
  frequent values, one ``(other)`` slot for the rest (drawn back by their frequency, so a
  5,000-value column costs 101 outputs, not 5,000) and one slot for missing values.
* :class:`IdCodec`: keys unique per row are not modelled; fresh ones are made on output.
"""

from __future__ import annotations

import string
import warnings
from typing import Any

import numpy as np
import pandas as pd

_MODE_WEIGHT_FLOOR = 0.005  # mixture components lighter than this are dropped (as CTGAN)


def _plain(values: np.ndarray) -> list[Any]:
    """NumPy scalars as JSON-able Python values."""
    return [v.item() if hasattr(v, "item") else v for v in values]


class NumericCodec:
    """Mode-specific normalisation of one numeric column (see the module docstring)."""

    def __init__(self, name: str, kind: str, state: dict[str, Any]) -> None:
        self.name, self.kind = name, kind
        self.means = np.asarray(state["means"], dtype=np.float64)
        self.stds = np.asarray(state["stds"], dtype=np.float64)
        self.weights = np.asarray(state["weights"], dtype=np.float64)
        self.low, self.high = float(state["low"]), float(state["high"])
        self.whole = bool(state["whole"])
        self.fill = float(state["fill"])
        self.missing = bool(state["missing"])
        self.day_resolution = bool(state.get("day_resolution", False))
        self.decimals = state.get("decimals")

    @classmethod
    def fit(
        cls, name: str, kind: str, x: np.ndarray, rng: np.random.Generator, **opts: Any
    ) -> NumericCodec:
        """Fit on ``x`` (float64, NaN for missing)."""
        present = x[~np.isnan(x)]
        if present.size == 0:
            present = np.zeros(1)
        fit_rows, max_modes = int(opts.get("fit_rows", 10000)), int(opts.get("modes", 10))
        sub = present if present.size <= fit_rows else rng.choice(present, fit_rows, False)
        means, stds, weights = _fit_modes(sub, max_modes, int(rng.integers(2**31)))
        state = {
            "means": means.tolist(),
            "stds": stds.tolist(),
            "weights": weights.tolist(),
            "low": float(present.min()),
            "high": float(present.max()),
            "whole": bool(kind in ("integer",) or np.all(np.mod(present, 1) == 0)),
            "fill": float(np.median(present)),
            "missing": bool(np.isnan(x).any()),
            "day_resolution": bool(kind == "datetime" and np.all(np.mod(present, 86400) == 0)),
            "decimals": _decimals(sub),
        }
        return cls(name, kind, state)

    def state(self) -> dict[str, Any]:
        return {
            "means": self.means.tolist(),
            "stds": self.stds.tolist(),
            "weights": self.weights.tolist(),
            "low": self.low,
            "high": self.high,
            "whole": self.whole,
            "fill": self.fill,
            "missing": self.missing,
            "day_resolution": self.day_resolution,
            "decimals": self.decimals,
        }

    def spans(self) -> list[dict[str, Any]]:
        out = [
            {"column": self.name, "role": "alpha", "size": 1, "activation": "tanh"},
            {"column": self.name, "role": "mode", "size": len(self.means), "activation": "softmax"},
        ]
        if self.missing:
            out.append({"column": self.name, "role": "missing", "size": 2, "activation": "softmax"})
        return out

    def posterior(self, x: np.ndarray) -> np.ndarray:
        """(N, modes) probabilities of each mode for values ``x``."""
        z = (x[:, None] - self.means[None]) / self.stds[None]
        logp = -0.5 * z * z - np.log(self.stds)[None] + np.log(self.weights)[None]
        logp -= logp.max(1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(1, keepdims=True)

    def encode(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(N, width) float32: alpha, the one-hot mode drawn from its posterior, missing."""
        missing = np.isnan(x)
        x = np.where(missing, self.fill, x)
        k = len(self.means)
        out = np.zeros((len(x), 1 + k + (2 if self.missing else 0)), np.float32)
        for start in range(0, len(x), 262144):  # bounded memory on millions of rows
            part = x[start : start + 262144]
            p = self.posterior(part)
            # modes that cannot write the value within alpha's (-1, 1) are not drawn
            # (CTGAN draws them and clips: heavy tails came back cut off)
            reach = np.abs(part[:, None] - self.means[None]) < 3.96 * self.stds[None]
            p = np.where(reach.any(1, keepdims=True), p * reach, p)
            p = p / np.maximum(p.sum(1, keepdims=True), 1e-300)
            u = rng.random(len(part))[:, None]
            mode = np.minimum((np.cumsum(p, 1) < u).sum(1), k - 1)
            alpha = (part - self.means[mode]) / (4 * self.stds[mode])
            rows = np.arange(start, start + len(part))
            out[rows, 0] = np.clip(alpha, -0.99, 0.99)
            out[rows, 1 + mode] = 1.0
        if self.missing:
            out[np.arange(len(x)), 1 + k + missing.astype(np.int64)] = 1.0
        return out

    def decode(self, block: np.ndarray) -> np.ndarray:
        """float64 values (NaN for missing) from a block of generated columns."""
        k = len(self.means)
        mode = block[:, 1 : 1 + k].argmax(1)
        x = np.clip(block[:, 0], -1, 1) * 4 * self.stds[mode] + self.means[mode]
        x = np.clip(x, self.low, self.high)
        if self.kind == "datetime" and self.day_resolution:
            x = np.round(x / 86400) * 86400
        elif self.whole:
            x = np.round(x)
        elif self.decimals is not None:
            x = np.round(x, self.decimals)
        if self.missing:
            x = np.where(block[:, 1 + k : 3 + k].argmax(1) == 1, np.nan, x)
        return x


def _decimals(x: np.ndarray) -> int | None:
    """The fewest decimals (up to 6) that write every value of ``x`` exactly, else None."""
    for d in range(7):
        scaled = x * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return None


def _fit_modes(x: np.ndarray, max_modes: int, seed: int):
    """(means, stds, weights) of the mixture's components that carry weight."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    spread = float(np.std(x))
    floor = max(spread * 1e-3, 1e-6 * max(1.0, float(np.abs(x).max())), 1e-12)
    distinct = np.unique(x)
    if len(distinct) <= 1 or spread == 0:
        return np.array([float(x.mean())]), np.array([max(floor, 1.0)]), np.array([1.0])
    gm = BayesianGaussianMixture(
        n_components=min(max_modes, len(distinct)),
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        n_init=1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(x.reshape(-1, 1))
    keep = gm.weights_ > _MODE_WEIGHT_FLOOR
    means = gm.means_.reshape(-1)[keep]
    stds = np.maximum(np.sqrt(gm.covariances_.reshape(-1)[keep]), floor)
    weights = gm.weights_[keep] / gm.weights_[keep].sum()
    return means, stds, weights


OTHER = "(other)"


class DiscreteCodec:
    """One-hot of the most frequent values, ``(other)`` for the rest, a missing slot."""

    def __init__(self, name: str, kind: str, state: dict[str, Any]) -> None:
        self.name, self.kind = name, kind
        self.values = list(state["values"])
        self.frequencies = np.asarray(state["frequencies"], dtype=np.float64)
        self.rare = list(state.get("rare", []))
        self.rare_weights = np.asarray(state.get("rare_weights", []), dtype=np.float64)
        self.missing = bool(state["missing"])
        self.numeric = bool(state.get("numeric", False))

    @classmethod
    def fit(cls, name: str, kind: str, values: pd.Series, max_categories: int) -> DiscreteCodec:
        series = _normalise_bool(values) if kind == "boolean" else values
        counts = series.value_counts(dropna=True)
        top, rest = counts.iloc[:max_categories], counts.iloc[max_categories:]
        n_missing = int(series.isna().sum())
        freq = top.to_numpy(np.float64).tolist()
        if len(rest):
            freq.append(float(rest.sum()))
        if n_missing:
            freq.append(float(n_missing))
        total = max(sum(freq), 1.0)
        state = {
            "values": _plain(top.index.to_numpy()),
            "frequencies": [f / total for f in freq],
            "rare": _plain(rest.index.to_numpy()[:20000]),
            "rare_weights": rest.to_numpy(np.float64)[:20000].tolist(),
            "missing": bool(n_missing),
            "numeric": bool(pd.api.types.is_numeric_dtype(values.dtype) and kind != "boolean"),
        }
        return cls(name, kind, state)

    def state(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "frequencies": self.frequencies.tolist(),
            "rare": self.rare,
            "rare_weights": self.rare_weights.tolist(),
            "missing": self.missing,
            "numeric": self.numeric,
        }

    @property
    def labels(self) -> list[Any]:
        """What each output slot stands for (``(other)``, None for missing)."""
        return self.values + ([OTHER] if self.rare else []) + ([None] if self.missing else [])

    def spans(self) -> list[dict[str, Any]]:
        size = len(self.labels)
        return [{"column": self.name, "role": "category", "size": size, "activation": "softmax"}]

    def codes(self, values: pd.Series) -> np.ndarray:
        """int64 slot of every value (unseen values go to ``(other)`` or the first slot)."""
        series = _normalise_bool(values) if self.kind == "boolean" else values
        known = pd.Index(self.values)
        codes = known.get_indexer(series.to_numpy())
        slot_other = len(self.values) if self.rare else 0
        codes = np.where(codes < 0, slot_other, codes)
        if self.missing:
            codes = np.where(series.isna().to_numpy(), len(self.labels) - 1, codes)
        return codes.astype(np.int64)

    def encode(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        codes = self.codes(values)
        out = np.zeros((len(codes), len(self.labels)), np.float32)
        out[np.arange(len(codes)), codes] = 1.0
        return out

    def decode(self, block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        codes = block.argmax(1)
        labels = np.array(self.labels + [None], dtype=object)[:-1]
        out = labels[codes]
        if self.rare:
            other = codes == len(self.values)
            p = self.rare_weights / self.rare_weights.sum()
            picks = rng.choice(len(self.rare), int(other.sum()), p=p)
            out[other] = np.array(self.rare, dtype=object)[picks]
        return out

    def code_of(self, value: Any) -> int:
        """The slot of ``value`` for a condition; ValueError when it was never seen."""
        for i, v in enumerate(self.values):
            if v == value or str(v) == str(value):
                return i
        raise ValueError(value)


def _normalise_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values
    text = values.astype(str).str.strip().str.lower()
    mapped = text.map({"true": True, "t": True, "yes": True, "y": True, "1": True, "1.0": True})
    mapped = mapped.fillna(False).astype(object)
    return mapped.where(values.notna(), None)


class IdCodec:
    """Keys unique per row: fresh numbers after the largest seen, or text shaped like the
    real keys (digits for digits, letters for letters)."""

    def __init__(self, name: str, kind: str, state: dict[str, Any]) -> None:
        self.name, self.kind = name, kind
        self.numeric = bool(state["numeric"])
        self.start = int(state.get("start", 0))
        self.templates = list(state.get("templates", []))

    @classmethod
    def fit(cls, name: str, kind: str, values: pd.Series, rng: np.random.Generator) -> IdCodec:
        present = values.dropna()
        if pd.api.types.is_numeric_dtype(values.dtype):
            top = int(present.max()) + 1 if len(present) else 0
            return cls(name, kind, {"numeric": True, "start": top})
        picks = rng.choice(len(present), min(50, len(present)), replace=False)
        return cls(
            name, kind, {"numeric": False, "templates": present.astype(str).iloc[picks].tolist()}
        )

    def state(self) -> dict[str, Any]:
        return {"numeric": self.numeric, "start": self.start, "templates": list(self.templates)}

    def spans(self) -> list[dict[str, Any]]:
        return []

    def decode(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.numeric:
            return np.arange(self.start, self.start + n, dtype=np.int64)
        if not self.templates:
            return np.array([f"id{i}" for i in range(n)], dtype=object)
        out = np.array([self._one(t, rng) for t in rng.choice(self.templates, n)], dtype=object)
        for _ in range(20):  # keys are unique: redraw the collisions
            dup = pd.Series(out).duplicated().to_numpy()
            if not dup.any():
                return out
            out[dup] = [self._one(t, rng) for t in rng.choice(self.templates, int(dup.sum()))]
        dup = pd.Series(out).duplicated().to_numpy()
        out[dup] = [f"{v}-{i}" for i, v in enumerate(out[dup])]
        return out

    @staticmethod
    def _one(template: str, rng: np.random.Generator) -> str:
        letters = not any(ch.isdigit() for ch in template)  # keep prefixes ("C-" of "C-0042")
        return "".join(_random_like(ch, rng, letters) for ch in template)


def _random_like(ch: str, rng: np.random.Generator, letters: bool) -> str:
    if ch.isdigit():
        return string.digits[rng.integers(10)]
    if letters and ch.isalpha() and ch.isascii():
        pool = string.ascii_uppercase if ch.isupper() else string.ascii_lowercase
        return pool[rng.integers(26)]
    return ch
