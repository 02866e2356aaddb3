"""Columns another column determines, found when the transformer is fitted and rebuilt
from that column on output instead of being modelled.

Real tables hold such columns often: an approve / reject pair, the 0/1 dummies of a
label (``edlevel`` beside ``edlevel1`` ... ``edlevel4``), a flag read off a count, a
number beside its logarithm. A generator learns them only approximately, and a detector
or a downstream model finds every row where the two disagree; rebuilt from their source
they hold exactly, as in the real rows.

Two rules, each checked on every training row:

* ``lookup``: the source is a label column (categorical or boolean) with at most one
  value per ``MIN_ROWS_PER_VALUE`` rows, and each of its values (missing included) comes
  with one value of the column, which is then read from a table.
* ``monotone``: two number columns (continuous or integer, missing in the same rows) with
  as many distinct values as distinct pairs, in the same or the reverse order: the
  column is interpolated (monotone cubic) through at most ``MAX_KNOTS`` of the real pairs.

The earlier column of a pair is the source; a derived column is never a source, so no
chain or cycle forms. A column named in ``tabular.columns`` is always modelled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganforge.modalities.table.numeric import decimals_of

MIN_ROWS_PER_VALUE = 10  # a source label needs this many rows per distinct value
MAX_KNOTS = 2000  # monotone pairs kept for the interpolation
SCREEN_ROWS = 10000  # pairs are screened on this many rows, then checked on all
_LABELS = ("categorical", "boolean")
_NUMBERS = ("continuous", "integer")


def find_derived(
    frame: pd.DataFrame, kinds: dict[str, str], fixed: set[str], seed: int = 0
) -> dict[str, dict[str, Any]]:
    """``{column: rule}`` for every column another column of ``frame`` determines;
    ``kinds`` maps each column to its kind, ``fixed`` names columns never derived."""
    if len(frame) < 2 * MIN_ROWS_PER_VALUE:
        return {}
    screen = frame if len(frame) <= SCREEN_ROWS else frame.sample(SCREEN_ROWS, random_state=seed)
    names = [str(c) for c in frame.columns]
    codes = {c: _codes(screen[c]) for c in names if kinds[c] != "id"}
    most = len(screen) / MIN_ROWS_PER_VALUE
    sorted_by = {
        c: np.argsort(codes[c], kind="stable")
        for c in names
        if kinds[c] in _LABELS and 2 <= codes[c].max() + 1 <= most
    }
    # number columns pair only with one of as many distinct values, missing in the same rows
    shape = {
        c: (int(codes[c].max()), screen[c].isna().to_numpy().tobytes())
        for c in names
        if kinds[c] in _NUMBERS
    }
    found: dict[str, dict[str, Any]] = {}
    for b in reversed(names):  # the earlier column of a one-to-one pair stays the source
        sources = {r["source"] for r in found.values()}
        # dates keep their own codec (their format and unit); a constant needs no rule
        if b in fixed or b in sources or kinds[b] not in _LABELS + _NUMBERS or codes[b].max() < 1:
            continue
        for a in names:
            if a == b or a in found:
                continue
            rule = None
            if a in sorted_by and _determines(codes[a], codes[b], sorted_by[a]):
                rule = _lookup(frame[a], frame[b])
            elif a in shape and shape.get(b) == shape[a] and _same_order(screen[a], screen[b]):
                if screen is frame or _same_order(frame[a], frame[b]):
                    rule = _monotone(frame[a], frame[b])
            if rule is not None:
                found[b] = {"source": a, **rule}
                break
    return found


class DerivedCodec:
    """A column rebuilt from its source: no span of the matrix, a rule on output."""

    def __init__(self, name: str, kind: str, state: dict[str, Any]) -> None:
        self.name, self.kind, self.rule = name, kind, dict(state)
        self.source = str(state["source"])
        self.whole = kind == "integer"
        self.decimals = state.get("decimals")

    def state(self) -> dict[str, Any]:
        return dict(self.rule)

    def spans(self) -> list[dict[str, Any]]:
        return []

    def decode(self, source: np.ndarray) -> np.ndarray:
        return derive(self.rule, source)


def derive(rule: dict[str, Any], source: np.ndarray) -> np.ndarray:
    """The derived column's values (as the table wrote them; None / NaN for missing) from
    its source's generated values."""
    if rule["rule"] == "monotone":
        x = np.asarray(source, dtype=np.float64)
        xs, ys = np.asarray(rule["xs"]), np.asarray(rule["ys"])
        if len(xs) < 3:
            out = np.interp(x, xs, ys)
        else:  # monotone cubic: a curve (exp, log) between knots, never overshooting them
            from scipy.interpolate import PchipInterpolator  # 0.7 s to import: on use only

            out = PchipInterpolator(xs, ys)(np.clip(x, xs[0], xs[-1]))
        if rule.get("decimals") is not None:
            out = np.round(out, rule["decimals"])
        return np.where(np.isnan(x), np.nan, out)
    series = pd.Series(source, dtype=object)
    at = pd.Index(rule["keys"], dtype=object).get_indexer(pd.Index(series, dtype=object))
    # an unseen value (-1) takes the last slot: the column's most frequent value
    out = np.array([*rule["values"], rule.get("fallback")], dtype=object)[at]
    out[series.isna().to_numpy()] = rule.get("if_missing")
    return out


def _codes(values: pd.Series) -> np.ndarray:
    """int64 code of each row's value, missing as a value of its own."""
    return pd.factorize(values, use_na_sentinel=False)[0].astype(np.int64)


def _determines(a: np.ndarray, b: np.ndarray, order: np.ndarray) -> bool:
    """Whether each value of ``a`` comes with one value of ``b`` (``order`` sorts ``a``)."""
    sa, sb = a[order], b[order]
    return bool(np.all((np.diff(sb) == 0) | (np.diff(sa) != 0)))


def _same_order(a: pd.Series, b: pd.Series) -> bool:
    """Whether two number columns are missing together and are a one-to-one monotone map."""
    if not a.isna().equals(b.isna()):
        return False
    x = pd.to_numeric(a, errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(b, errors="coerce").to_numpy(np.float64)
    keep = ~np.isnan(x)
    x, y = x[keep], y[keep]
    distinct = np.unique(x).size
    if distinct < MIN_ROWS_PER_VALUE or np.unique(y).size != distinct:
        return False
    if np.unique(np.stack([x, y]), axis=1).shape[1] != distinct:
        return False
    order = np.argsort(x, kind="stable")
    step = np.diff(y[order])[np.diff(x[order]) > 0]
    return bool(np.all(step > 0) or np.all(step < 0))


def _lookup(a: pd.Series, b: pd.Series) -> dict[str, Any] | None:
    """The table of ``b`` by value of ``a``, or None where some value of ``a`` meets two."""
    pairs = pd.DataFrame({"a": a.astype(object), "b": b.astype(object)})
    present = pairs[pairs["a"].notna()]
    per = present.groupby("a", sort=False, dropna=False)["b"]
    if (per.nunique(dropna=False) > 1).any():
        return None
    if_missing = pairs.loc[pairs["a"].isna(), "b"]
    if if_missing.nunique(dropna=False) > 1:
        return None
    first = per.first()  # a group's one value (NaN where that value is missing)
    counts = b.value_counts(dropna=True)
    return {
        "rule": "lookup",
        "keys": _plain(first.index.to_numpy()),
        "values": _plain(first.to_numpy()),
        "if_missing": _plain(if_missing.to_numpy()[:1])[0] if len(if_missing) else None,
        "fallback": _plain(counts.index.to_numpy()[:1])[0] if len(counts) else None,
    }


def _monotone(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    """Interpolation knots from ``a`` to ``b`` (a one-to-one monotone pair)."""
    x = pd.to_numeric(a, errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(b, errors="coerce").to_numpy(np.float64)
    keep = ~np.isnan(x)
    xs, first = np.unique(x[keep], return_index=True)
    ys = y[keep][first]
    if len(xs) > MAX_KNOTS:
        pick = np.unique(np.linspace(0, len(xs) - 1, MAX_KNOTS).round().astype(int))
        xs, ys = xs[pick], ys[pick]
    return {
        "rule": "monotone",
        "xs": xs.tolist(),
        "ys": ys.tolist(),
        "decimals": decimals_of(np.unique(y[keep])),
    }


def _plain(values: np.ndarray) -> list[Any]:
    """NumPy scalars as JSON-able Python values, NaN as None."""
    out = []
    for v in values:
        v = v.item() if hasattr(v, "item") else v
        out.append(None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
    return out
