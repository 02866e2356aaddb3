"""Dates as the table wrote them: the text format of a date column, its resolution, and
dates <-> whole numbers of that resolution.

A column written ``Mar-2018`` is read with ``%b-%Y``, modelled as a count of months and
written back as ``Apr-2019``, never ``2019-04-17``: each column keeps its format (found by
parsing a sample with every known format and writing it back unchanged) and its unit (the
coarsest of year, month, day, minute, second that every value sits on).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd

_DAYS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d-%m-%Y", "%m-%d-%Y", "%d.%m.%Y")
_DAYS_TEXT = ("%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")
_TIMES = (
    " %H:%M:%S.%f", " %H:%M:%S", " %H:%M", "T%H:%M:%S.%f", "T%H:%M:%S", "T%H:%M",
    "T%H:%M:%SZ", "T%H:%M:%S.%fZ",
)  # fmt: skip
_MONTHS = ("%b-%Y", "%b %Y", "%B %Y", "%B-%Y", "%Y-%m", "%m/%Y", "%m-%Y", "%Y/%m", "%b-%y")
FORMATS = (
    tuple(d + t for d in _DAYS for t in _TIMES) + _DAYS + _DAYS_TEXT + _MONTHS
)  # with a time first: "%Y-%m-%d" would read "2020-01-02 10:00" as a mixed-format miss
UNITS = ("year", "month", "day", "minute", "second")
_UNPADDED = (("%d", "%-d"), ("%m", "%-m"), ("%H", "%-H"))


def _parse_format(fmt: str) -> str:
    """The parsing form of a writing format (``%-d`` writes ``3``, ``%3f`` milliseconds;
    ``%d`` and ``%f`` read them)."""
    return re.sub(r"%\df", "%f", fmt.replace("%-", "%"))


def strftime(dates: pd.Series, fmt: str) -> pd.Series:
    """``dates.dt.strftime`` that also writes ``%3f`` (a fraction of a second in 3 digits,
    only at the end of a format)."""
    digits = re.search(r"%(\d)f$", fmt)
    if digits is None:
        return dates.dt.strftime(fmt)
    return dates.dt.strftime(fmt[: digits.start()] + "%f").str[: int(digits.group(1)) - 6]


def detect_format(values: pd.Series, sample: int = 500) -> str | None:
    """The strftime format that reads every sampled value and writes it back unchanged
    (non-padded days / months as ``%-d`` / ``%-m``), or None."""
    text = values.dropna()
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or text.empty:
        return None
    text = text.astype(str)
    if len(text) > sample:
        text = text.sample(sample, random_state=0)
    text = text.reset_index(drop=True)
    first = text.iloc[0]
    for fmt in FORMATS:
        try:  # one value through strptime first: most formats fail here, cheaply
            datetime.strptime(first, _parse_format(fmt))
        except ValueError:
            continue
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.isna().any():
            continue
        for write in (fmt, *_unpadded_variants(fmt), *_fraction_variants(fmt, text)):
            if (strftime(parsed, write) == text).all():
                return write
    return None


def _fraction_variants(fmt: str, text: pd.Series) -> list[str]:
    """``%f`` at the end written with as many digits as the values have (1 to 5)."""
    if not fmt.endswith("%f"):
        return []
    digits = text.str.extract(r"\.(\d+)$")[0].str.len()
    if digits.isna().any() or digits.nunique() != 1 or not 1 <= digits.iloc[0] <= 5:
        return []
    return [f"{fmt[:-2]}%{int(digits.iloc[0])}f"]


def _unpadded_variants(fmt: str) -> list[str]:
    out = fmt
    variants = []
    for padded, bare in _UNPADDED:
        if padded in out:
            out = out.replace(padded, bare)
            variants.append(out)
    return variants


def parse(values: pd.Series, fmt: str | None) -> pd.Series:
    """Dates of a column (text through ``fmt`` when given, else any format; time zones
    converted to UTC and dropped), NaT for missing or unreadable values."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates = values
    elif fmt is not None:
        dates = pd.to_datetime(values, format=_parse_format(fmt), errors="coerce")
        odd = dates.isna() & values.notna()
        if odd.any():  # a few rows written another way: read them as they come
            dates[odd] = pd.to_datetime(values[odd], errors="coerce", format="mixed")
    else:
        dates = pd.to_datetime(values, errors="coerce", format="mixed")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)
    return dates.astype("datetime64[ns]")


def unit_of(dates: pd.Series) -> str:
    """The coarsest unit every date sits on: ``year``, ``month``, ``day``, ``minute`` or
    ``second`` (fractions of a second stay as decimals of ``second``)."""
    d = dates.dropna()
    if d.empty:
        return "day"
    midnight = bool((d.dt.normalize() == d).all())
    if midnight and bool((d.dt.day == 1).all()):
        return "year" if bool((d.dt.month == 1).all()) and d.nunique() > 1 else "month"
    if midnight:
        return "day"
    whole_minutes = bool((d.dt.second == 0).all() and (d.dt.microsecond == 0).all())
    return "minute" if whole_minutes else "second"


def to_units(dates: pd.Series, unit: str) -> np.ndarray:
    """float64 count of ``unit`` since 1970-01-01 (whole for the unit the column sits on),
    NaN for missing."""
    missing = dates.isna().to_numpy()
    d = dates.fillna(pd.Timestamp(0))
    if unit == "year":
        x = (d.dt.year - 1970).to_numpy(np.float64)
    elif unit == "month":
        x = ((d.dt.year - 1970) * 12 + d.dt.month - 1).to_numpy(np.float64)
    else:
        ns = d.astype("datetime64[ns]").astype("int64").to_numpy()
        per = {"day": 86400 * 10**9, "minute": 60 * 10**9, "second": 10**9}[unit]
        whole, rest = np.divmod(ns, per)
        x = whole.astype(np.float64) + rest / per
    return np.where(missing, np.nan, x)


def from_units(x: np.ndarray, unit: str, decimals: int | None = None) -> pd.Series:
    """Dates (``datetime64[ns]``, NaT for NaN) from counts of ``unit`` since 1970
    (seconds' fractions rounded to ``decimals`` first, so milliseconds come back whole)."""
    missing = np.isnan(x)
    x = np.where(missing, 0, x)
    if unit in ("year", "month", "day", "minute"):
        code = {"year": "Y", "month": "M", "day": "D", "minute": "m"}[unit]
        dates = np.round(x).astype(np.int64).astype(f"datetime64[{code}]")
    else:  # whole seconds and the fraction apart: float64 ns since 1970 miss by ~200 ns
        whole = np.floor(x)
        frac = x - whole if decimals is None else np.round(x - whole, max(decimals, 0))
        ns = whole.astype(np.int64) * 10**9 + np.round(frac * 1e9).astype(np.int64)
        dates = ns.astype("datetime64[ns]")
    return pd.Series(pd.to_datetime(dates.astype("datetime64[ns]"))).mask(missing)


def write(dates: pd.Series, fmt: str | None, dtype: str, tz: str | None) -> pd.Series:
    """Dates as the real column held them: text in its format, or datetimes in its
    dtype and time zone."""
    if fmt is not None:
        return strftime(dates, fmt).astype(object).where(dates.notna(), np.nan)
    if tz:
        dates = dates.dt.tz_localize("UTC").dt.tz_convert(tz)
    elif dtype.startswith("datetime64["):
        try:
            dates = dates.astype(dtype)
        except (TypeError, ValueError):
            pass
    return dates
