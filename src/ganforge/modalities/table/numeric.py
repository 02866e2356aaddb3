"""The codec of a numeric column (continuous, integer, datetime as a count of its unit).

CTGAN's mode-specific normalisation (Xu et al. 2019) with CTAB-GAN's point masses (Zhao
et al. 2021): every value holding at least ``SPIKE_SHARE`` of the present rows (the 0 of a
debt column that is 0 in 82% of rows, a round 100) is a *spike*, a mode of its own that
decodes to exactly that value; the other values are fitted by a variational Gaussian
mixture (scikit-learn's ``BayesianGaussianMixture``, on a subsample of at most
``fit_rows``), where each value becomes ``alpha = (x - mu_k) / (4 sigma_k)`` in (-1, 1) and
a one-hot mode ``k`` drawn from its posterior. Values no component reaches within alpha's
range get a component of their own (heavy tails come back whole, not clipped). A missing
value is one more mode (runs written before kept a two-way indicator span and filled the
value in, which tied missing rows to the mode of the filled value: that value came out too
often). Decoding keeps the column's bounds and its precision (the fewest decimals, or tens
/ hundreds for round numbers, that write every real value); a component's values stay in
the range of the values that are not spikes and off the spike values (moved a step of the
precision), so a spike comes back at its mode's share alone.

In float64 the encoding inverts exactly for every value whose precision is known; in the
float32 matrix training uses, alpha carries 24 bits, so a value comes back to within
``4 sigma 2**-24`` before rounding to the column's precision.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

SPIKE_SHARE = 0.05  # a value held by at least this share of the present rows is a spike
_MODE_WEIGHT_FLOOR = 0.005  # mixture components lighter than this are dropped (as CTGAN)
_REACH = 3.96  # a component writes values within this many sigmas (alpha's +-0.99)


class NumericCodec:
    """Spikes and mode-specific normalisation of one column (see the module docstring)."""

    def __init__(self, name: str, kind: str, state: dict[str, Any]) -> None:
        self.name, self.kind = name, kind
        self.means = np.asarray(state["means"], dtype=np.float64)
        self.stds = np.asarray(state["stds"], dtype=np.float64)
        self.weights = np.asarray(state["weights"], dtype=np.float64)
        self.spikes = np.asarray(state.get("spikes", []), dtype=np.float64)
        self.spike_shares = np.asarray(state.get("spike_shares", []), dtype=np.float64)
        self.low, self.high = float(state["low"]), float(state["high"])
        # the range of the values that are not spikes (runs written before: none kept)
        self.rest = (state["rest_low"], state["rest_high"]) if "rest_low" in state else None
        self.whole = bool(state["whole"])
        self.fill = float(state["fill"])
        self.missing = bool(state["missing"])
        self.day_resolution = bool(state.get("day_resolution", False))
        self.decimals = state.get("decimals")
        self.missing_mode = self.missing and bool(state.get("missing_mode", False))

    @classmethod
    def fit(
        cls, name: str, kind: str, x: np.ndarray, rng: np.random.Generator, **opts: Any
    ) -> NumericCodec:
        """Fit on ``x`` (float64, NaN for missing)."""
        present = x[~np.isnan(x)]
        if present.size == 0:
            present = np.zeros(1)
        fit_rows, max_modes = int(opts.get("fit_rows", 10000)), int(opts.get("modes", 10))
        distinct, counts = np.unique(present, return_counts=True)
        is_spike = counts >= SPIKE_SHARE * present.size
        spikes = distinct[is_spike]
        rest = present[~np.isin(present, spikes)]
        rest_range = (rest.min(), rest.max()) if rest.size else (present.min(), present.max())
        means = stds = weights = np.zeros(0)
        if rest.size:
            sub = rest if rest.size <= fit_rows else rng.choice(rest, fit_rows, False)
            means, stds, weights = _fit_modes(sub, max_modes, int(rng.integers(2**31)))
            means, stds, weights = _cover(rest, means, stds, weights)
        state = {
            "means": means.tolist(),
            "stds": stds.tolist(),
            "weights": weights.tolist(),
            "spikes": spikes.tolist(),
            "spike_shares": (counts[is_spike] / present.size).tolist(),
            "low": float(present.min()),
            "high": float(present.max()),
            "rest_low": float(rest_range[0]),
            "rest_high": float(rest_range[1]),
            "whole": bool(kind == "integer" or np.all(np.mod(distinct, 1) == 0)),
            "fill": float(np.median(present)),
            "missing": bool(np.isnan(x).any()),
            "missing_mode": True,
            "decimals": decimals_of(distinct, coarser=kind != "datetime"),
        }
        return cls(name, kind, state)

    def state(self) -> dict[str, Any]:
        return {
            "means": self.means.tolist(),
            "stds": self.stds.tolist(),
            "weights": self.weights.tolist(),
            "spikes": self.spikes.tolist(),
            "spike_shares": self.spike_shares.tolist(),
            "low": self.low,
            "high": self.high,
            **({"rest_low": self.rest[0], "rest_high": self.rest[1]} if self.rest else {}),
            "whole": self.whole,
            "fill": self.fill,
            "missing": self.missing,
            "day_resolution": self.day_resolution,
            "decimals": self.decimals,
            "missing_mode": self.missing_mode,
        }

    @property
    def modes(self) -> int:
        """Width of the mode span: the mixture's components, the spikes, missing."""
        return len(self.means) + len(self.spikes) + int(self.missing_mode)

    def spans(self) -> list[dict[str, Any]]:
        out = [
            {"column": self.name, "role": "alpha", "size": 1, "activation": "tanh"},
            {"column": self.name, "role": "mode", "size": self.modes, "activation": "softmax"},
        ]
        if self.missing and not self.missing_mode:
            out.append({"column": self.name, "role": "missing", "size": 2, "activation": "softmax"})
        return out

    def posterior(self, x: np.ndarray) -> np.ndarray:
        """(N, components) probabilities of each mixture component for values ``x``."""
        z = (x[:, None] - self.means[None]) / self.stds[None]
        logp = -0.5 * z * z - np.log(self.stds)[None] + np.log(self.weights)[None]
        logp -= logp.max(1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(1, keepdims=True)

    def spike_of(self, x: np.ndarray) -> np.ndarray:
        """int64 index of each value's spike, -1 where it is none."""
        if not self.spikes.size:
            return np.full(len(x), -1, np.int64)
        at = np.clip(np.searchsorted(self.spikes, x), 0, len(self.spikes) - 1)
        return np.where(self.spikes[at] == x, at, -1)

    def encode(
        self, x: np.ndarray, rng: np.random.Generator, dtype: Any = np.float32
    ) -> np.ndarray:
        """(N, width): alpha and the one-hot mode (a spike's own, missing's own, else a
        component drawn from its posterior)."""
        missing = np.isnan(x)
        x = np.where(missing, self.fill, x)
        k, modes = len(self.means), self.modes
        flag = 2 if self.missing and not self.missing_mode else 0
        out = np.zeros((len(x), 1 + modes + flag), dtype)
        spike = np.where(missing & self.missing_mode, -2, self.spike_of(x))
        out[spike >= 0, 1 + k + spike[spike >= 0]] = 1.0
        if self.missing_mode:
            out[missing, modes] = 1.0
        rows = np.flatnonzero(spike == -1) if k else np.zeros(0, np.int64)
        for start in range(0, len(rows), 262144):  # bounded memory on millions of rows
            at = rows[start : start + 262144]
            part = x[at]
            p = self.posterior(part)
            # components that cannot write the value within alpha's (-1, 1) are left out
            # (CTGAN draws them and clips: heavy tails came back cut off)
            reach = np.abs(part[:, None] - self.means[None]) < _REACH * self.stds[None]
            p = np.where(reach.any(1, keepdims=True), p * reach, p)
            p = p / np.maximum(p.sum(1, keepdims=True), 1e-300)
            u = rng.random(len(part))[:, None]
            mode = np.minimum((np.cumsum(p, 1) < u).sum(1), k - 1)
            alpha = (part - self.means[mode]) / (4 * self.stds[mode])
            out[at, 0] = np.clip(alpha, -0.99, 0.99)
            out[at, 1 + mode] = 1.0
        if flag:
            out[np.arange(len(x)), 1 + modes + missing.astype(np.int64)] = 1.0
        return out

    def decode(self, block: np.ndarray) -> np.ndarray:
        """float64 values (NaN for missing) from a block of generated columns: a spike's
        exact value, or alpha through its component, in the real bounds and precision."""
        k, modes = len(self.means), self.modes
        mode = block[:, 1 : 1 + modes].argmax(1)
        x = np.full(len(block), self.fill)
        if k:
            comp = np.minimum(mode, k - 1)
            x = np.clip(block[:, 0], -1, 1) * 4 * self.stds[comp] + self.means[comp]
            if self.rest is not None:
                # a component writes the values that are not spikes, within their range:
                # clipped to the column's bounds, the tail of a component beside a 0 spike
                # at the bound came out as 0 (AER/CreditCard: 29% zeros for 24%)
                x = np.clip(x, *self.rest)
        raw = x
        if self.spikes.size:
            spike = np.clip(mode - k, 0, len(self.spikes) - 1)
            x = np.where(mode >= k, self.spikes[spike], x)
        x = np.clip(x, self.low, self.high)
        if self.kind == "datetime" and self.day_resolution:
            x = np.round(x / 86400) * 86400
        elif self.decimals is not None:
            x = np.round(x, self.decimals)
        elif self.whole:
            x = np.round(x)
        if self.rest is not None and k and self.spikes.size:
            x = self._off_spikes(x, raw, mode < k)
        if self.missing_mode:
            x = np.where(mode == modes - 1, np.nan, x)
        elif self.missing:
            x = np.where(block[:, 1 + modes : 3 + modes].argmax(1) == 1, np.nan, x)
        return x

    def _off_spikes(self, x: np.ndarray, raw: np.ndarray, written: np.ndarray) -> np.ndarray:
        """Values ``written`` by a component that rounded onto a spike, moved a step of
        the column's precision toward their unrounded value: a spike's share is its
        mode's alone (a component of whole numbers around 12 months wrote 12s too)."""
        if self.kind == "datetime" and self.day_resolution:
            step, digits = 86400.0, None
        elif self.decimals is not None:
            step, digits = 10.0 ** -int(self.decimals), int(self.decimals)
        elif self.whole:
            step, digits = 1.0, 0
        else:
            return x  # no fixed precision: landing on a spike exactly is left as it is
        x = x.copy()
        hit = written & np.isin(x, self.spikes)
        way = np.where(raw < x, -step, step)
        for _ in range(len(self.spikes)):  # past a run of spikes one step apart
            moved = x[hit] + way[hit]
            x[hit] = moved if digits is None else np.round(moved, digits)
            hit = written & np.isin(x, self.spikes)
            if not hit.any():
                break
        return x


def decimals_of(distinct: np.ndarray, coarser: bool = True) -> int | None:
    """The fewest decimals (-6 to 15) that round every value to itself, else None; below
    zero (tens, hundreds: round amounts) only with ``coarser`` and 5+ distinct values."""
    finite = distinct[np.isfinite(distinct)]
    start = -6 if coarser and finite.size >= 5 else 0
    for d in range(start, 16):
        if np.array_equal(np.round(finite, d), finite):
            return d
    return None


def _fit_modes(x: np.ndarray, max_modes: int, seed: int):
    """(means, stds, weights) of the mixture's components that carry weight."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    spread = float(np.std(x))
    floor = _std_floor(x)
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


def _std_floor(x: np.ndarray) -> float:
    return max(float(np.std(x)) * 1e-3, 1e-6 * max(1.0, float(np.abs(x).max())), 1e-12)


def _cover(x: np.ndarray, means: np.ndarray, stds: np.ndarray, weights: np.ndarray):
    """The mixture plus one component per run of values no component reaches (a tail the
    subsample missed, a gap between narrow modes), so every value can be written."""
    distinct, counts = np.unique(x, return_counts=True)
    reached = np.zeros(len(distinct), bool)
    for mu, sd in zip(means, stds, strict=True):
        reached |= np.abs(distinct - mu) < _REACH * sd
    if reached.all():
        return means, stds, weights
    floor = _std_floor(x)
    missed = np.flatnonzero(~reached)
    runs = np.split(missed, np.flatnonzero(np.diff(missed) > 1) + 1)
    new_means, new_stds, new_weights = [], [], []
    for run in runs:
        lo, hi = distinct[run[0]], distinct[run[-1]]
        new_means.append((lo + hi) / 2)
        new_stds.append(max((hi - lo) / 7.0, floor))  # the ends at alpha +-0.875
        new_weights.append(counts[run].sum() / x.size)
    weights = np.concatenate([weights * (1 - sum(new_weights)), new_weights])
    return (
        np.concatenate([means, new_means]),
        np.concatenate([stds, new_stds]),
        weights / weights.sum(),
    )
