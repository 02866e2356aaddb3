"""Generated values written as the real column held them: its pandas dtype (``int64``,
nullable ``Int64``, ``category`` with its categories and order, ``bool``, ``str`` /
``object`` text with the same missing marker) and, for dates, their format and unit
(:mod:`.dates`). :func:`output_of` records what a column needs (plain JSON, kept beside
its codec in ``run.json``); :func:`as_dtype` applies it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from ganforge.modalities.table import dates


def output_of(values: pd.Series, kind: str) -> dict[str, Any]:
    """What writing ``values``' column back needs beyond its dtype name."""
    out: dict[str, Any] = {}
    if values.dtype == object and values.isna().any():
        out["none"] = bool(values[values.isna()].map(lambda v: v is None).all())
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = [v.item() if hasattr(v, "item") else v for v in values.cat.categories]
        try:
            json.dumps(categories)
        except TypeError:
            categories = None  # categories JSON cannot hold: the output infers them
        if categories is not None:
            out["categories"] = categories
            out["ordered"] = bool(values.cat.ordered)
    if kind == "datetime":
        fmt = dates.detect_format(values)
        out["format"] = fmt
        out["unit"] = dates.unit_of(dates.parse(values, fmt))
        tz = getattr(values.dt, "tz", None) if hasattr(values, "dt") else None
        out["tz"] = str(tz) if tz is not None else None
    return out


def numeric_dtype(dtype: str) -> bool:
    """Whether ``dtype`` (a dtype's name) holds numbers."""
    try:
        return bool(pd.api.types.is_numeric_dtype(pd.api.types.pandas_dtype(dtype)))
    except (TypeError, ValueError):
        return False


def as_dtype(values: np.ndarray, dtype: str, output: dict[str, Any]) -> pd.Series:
    """``values`` (NaN or None for missing) as a Series of the real column's ``dtype``;
    a value the dtype cannot hold leaves the Series as it is."""
    series = pd.Series(values, dtype=object if values.dtype == object else None)
    missing = series.isna().to_numpy()
    try:
        target = pd.api.types.pandas_dtype(dtype)
    except (TypeError, ValueError):
        return series.infer_objects()
    try:
        if isinstance(target, pd.CategoricalDtype):
            cats = pd.Categorical(
                series.where(~missing, None),
                categories=output.get("categories"),
                ordered=bool(output.get("ordered", False)),
            )
            return pd.Series(cats)
        if not isinstance(target, np.dtype):  # Int64, boolean, Float64, string, str
            return series.where(~missing, None).astype(target)
        if target.kind in "iu":
            if not missing.any():
                return series.astype(target)
            return series.astype(f"{'U' if target.kind == 'u' else ''}Int{target.itemsize * 8}")
        if target.kind == "b":
            return series.astype("boolean" if missing.any() else bool)
        if target.kind in "fc":
            return series.astype(target)
        if target.kind == "M":
            return pd.Series(pd.to_datetime(series)).astype(target)
        if target.kind == "O":
            marker = None if output.get("none") else np.nan
            return series.astype(object).where(~missing, marker)
    except (TypeError, ValueError, OverflowError):
        pass
    return series
