"""Per-column codecs: a table column <-> the columns of numbers the networks see.

* :class:`NumericCodec` (continuous, integer, datetime; :mod:`.numeric`): spikes (values
  holding 5%+ of the rows, decoded exactly) beside CTGAN's mode-specific normalisation.
* :class:`DiscreteCodec` (categorical, boolean): one-hot over the ``max_categories`` most
  frequent values, one ``(other)`` slot for the rest (drawn back by their frequency, so a
  5,000-value column costs 101 outputs, not 5,000) and one slot for missing values, never
  folded into ``(other)``. The slots hold the values as the table wrote them (``yes`` /
  ``no`` stay text, ``'01'`` keeps its zero, ``3`` stays an int).
* :class:`IdCodec`: keys unique per row are not modelled; fresh ones are made on output.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pandas as pd

from ganforge.modalities.table.numeric import NumericCodec

__all__ = ["OTHER", "DiscreteCodec", "IdCodec", "NumericCodec"]

OTHER = "(other)"


def _plain(values: np.ndarray) -> list[Any]:
    """NumPy scalars as JSON-able Python values."""
    return [v.item() if hasattr(v, "item") else v for v in values]


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
        # runs written before booleans kept their own labels hold True / False slots
        self.as_bool = kind == "boolean" and bool(state.get("as_bool", True))

    @classmethod
    def fit(cls, name: str, kind: str, values: pd.Series, max_categories: int) -> DiscreteCodec:
        counts = values.value_counts(dropna=True)
        counts = counts[counts > 0]  # a categorical dtype lists its unused categories
        top, rest = counts.iloc[:max_categories], counts.iloc[max_categories:]
        n_missing = int(values.isna().sum())
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
            "as_bool": False,
        }
        return cls(name, kind, state)

    def state(self) -> dict[str, Any]:
        out = {
            "values": self.values,
            "frequencies": self.frequencies.tolist(),
            "rare": self.rare,
            "rare_weights": self.rare_weights.tolist(),
            "missing": self.missing,
            "numeric": self.numeric,
        }
        if self.kind == "boolean":
            out["as_bool"] = self.as_bool
        return out

    @property
    def labels(self) -> list[Any]:
        """What each output slot stands for (``(other)``, None for missing)."""
        return self.values + ([OTHER] if self.rare else []) + ([None] if self.missing else [])

    def spans(self) -> list[dict[str, Any]]:
        size = len(self.labels)
        return [{"column": self.name, "role": "category", "size": size, "activation": "softmax"}]

    def codes(self, values: pd.Series) -> np.ndarray:
        """int64 slot of every value (unseen values go to ``(other)`` or the first slot)."""
        series = _normalise_bool(values) if self.as_bool else values
        known = pd.Index(self.values, dtype=object)
        codes = known.get_indexer(pd.Index(series.to_numpy(), dtype=object))
        slot_other = len(self.values) if self.rare else 0
        codes = np.where(codes < 0, slot_other, codes)
        if self.missing:
            codes = np.where(series.isna().to_numpy(), len(self.labels) - 1, codes)
        return codes.astype(np.int64)

    def encode(
        self, values: pd.Series, rng: np.random.Generator, dtype: Any = np.float32
    ) -> np.ndarray:
        codes = self.codes(values)
        out = np.zeros((len(codes), len(self.labels)), dtype)
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
            out[other] = np.array(self.rare + [None], dtype=object)[:-1][picks]
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
