"""What kind of data each column of a table holds, detected from a pandas DataFrame.

Kinds: ``continuous`` (floats), ``integer`` (whole numbers, rounded on output),
``categorical`` (labels; numbers with few distinct values too), ``boolean``, ``datetime``
and ``id`` (a key unique per row: regenerated, never modelled). Any detection can be
overridden per column (``tabular.columns.NAME=categorical``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ganforge.errors import ConfigError
from ganforge.modalities.table.dates import detect_format, parse, to_units

KINDS = ("continuous", "integer", "categorical", "boolean", "datetime", "id")
_BOOL_TEXT = {"true", "false", "yes", "no", "t", "f", "y", "n"}
FEW_VALUES = 10  # a number column with at most this many distinct values is categorical


@dataclass
class ColumnKind:
    """A column's name, its kind and why (for ``ganforge`` to say what it detected)."""

    name: str
    kind: str
    reason: str


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(200)
    if sample.empty:
        return False
    if detect_format(sample) is not None:  # one known format reads every value
        return True
    if not sample.str.contains(r"[-/:]").mean() > 0.9:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def _is_id(values: pd.Series, max_categories: int) -> bool:
    present = values.dropna()
    n = len(present)
    return n >= 50 and present.nunique() >= 0.95 * n and present.nunique() > max_categories


def detect_kind(values: pd.Series, max_categories: int = 100) -> ColumnKind:
    """The kind of one column, with the reason in a few words."""
    name = str(values.name)
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnKind(name, "boolean", "bool values")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return ColumnKind(name, "datetime", "datetime values")
    if pd.api.types.is_numeric_dtype(dtype):
        present = values.dropna().to_numpy(dtype=np.float64)
        if present.size == 0:
            return ColumnKind(name, "categorical", "no values (all missing)")
        distinct = np.unique(present)
        whole = bool(np.all(np.mod(present, 1) == 0))
        if whole and _is_id(values, max_categories) and _is_sequence(distinct):
            return ColumnKind(name, "id", "a distinct whole number per row")
        if len(distinct) <= FEW_VALUES:
            return ColumnKind(name, "categorical", f"{len(distinct)} distinct numbers")
        if whole:
            return ColumnKind(name, "integer", "whole numbers")
        return ColumnKind(name, "continuous", "real numbers")
    text = values.dropna().astype(str)
    if text.empty:
        return ColumnKind(name, "categorical", "no values (all missing)")
    lowered = set(text.str.strip().str.lower().unique())
    if len(lowered) <= 2 and lowered <= _BOOL_TEXT:
        return ColumnKind(name, "boolean", "true/false text")
    if _looks_like_dates(values):
        return ColumnKind(name, "datetime", "text that parses as dates")
    if _is_id(values, max_categories):
        return ColumnKind(name, "id", "a distinct value per row")
    return ColumnKind(name, "categorical", f"{text.nunique()} distinct labels")


def _is_sequence(distinct: np.ndarray) -> bool:
    """Whole numbers that step by one most of the way (row numbers, counters)."""
    if len(distinct) < 2:
        return False
    return bool(np.mean(np.diff(distinct) == 1) > 0.9)


def detect_columns(
    frame: pd.DataFrame, overrides: dict[str, str] | None = None, max_categories: int = 100
) -> list[ColumnKind]:
    """Every column's kind; ``overrides`` (name -> kind) win over detection."""
    overrides = dict(overrides or {})
    names = [str(c) for c in frame.columns]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(
            f"tabular.columns: the table has no column {', '.join(map(repr, unknown))}; "
            f"its columns are {', '.join(names)}"
        )
    out = []
    for col in frame.columns:
        name = str(col)
        if name in overrides:
            kind = str(overrides[name]).lower()
            if kind not in KINDS:
                raise ConfigError(
                    f"tabular.columns.{name}={kind!r} is not a column kind; use one of "
                    f"{', '.join(KINDS)}"
                )
            out.append(ColumnKind(name, kind, "set in tabular.columns"))
        else:
            out.append(detect_kind(frame[col], max_categories))
    return out


def describe(kinds: list[ColumnKind]) -> str:
    """One line: ``carat continuous, cut categorical, ...``."""
    return ", ".join(f"{k.name} {k.kind}" for k in kinds)


def as_numbers(values: pd.Series, kind: str) -> np.ndarray:
    """A numeric column (or dates, as seconds since 1970) as float64 with NaN for missing."""
    if kind == "datetime":
        return to_units(parse(values, None), "second")
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        example = values[bad].iloc[0]
        raise ConfigError(
            f"column {values.name!r} is {kind} but holds {example!r}; set "
            f"tabular.columns.{values.name}=categorical or clean the table"
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
