"""A whole table <-> one float matrix: every column through its codec, in column order.

``TableTransformer.fit(frame)`` detects (or takes) the column kinds and fits the codecs;
``encode`` gives the ``(N, width)`` float32 matrix the networks train on; ``decode`` turns
generated rows back into a DataFrame with the real table's columns, bounds and missing
values, each column written as the table wrote it: its dtype (``int64``, nullable
``Int64``, ``category`` with its categories, ``bool``, text), its labels and, for text
dates, its format. A column another column determines (:mod:`.derived`) takes no part of
the matrix and is rebuilt from that column on decoding. ``state()`` is plain JSON (saved
in the run's ``run.json``; fields added later have defaults, so older runs load); nothing
is pickled.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from ganforge.errors import ConfigError, DataError
from ganforge.modalities.table import dates
from ganforge.modalities.table.codecs import DiscreteCodec, IdCodec, NumericCodec
from ganforge.modalities.table.columns import ColumnKind, as_numbers, detect_columns
from ganforge.modalities.table.derived import DerivedCodec, find_derived
from ganforge.modalities.table.output import as_dtype, numeric_dtype, output_of

_NUMERIC = ("continuous", "integer", "datetime")
_DISCRETE = ("categorical", "boolean")


class TableTransformer:
    """Codecs of every column, fitted to one table (see the module docstring)."""

    def __init__(self, columns: list[dict[str, Any]], dtypes: dict[str, str]) -> None:
        self.columns = columns  # [{"name", "kind", "reason", "state", "output"}] in order
        self.dtypes = dtypes
        self.codecs = [_codec(c) for c in columns]
        self.timings: dict[str, float] = {}

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        overrides: dict[str, str] | None = None,
        max_categories: int = 100,
        fit_rows: int = 10000,
        modes: int = 10,
        seed: int = 0,
    ) -> TableTransformer:
        """Detect kinds and fit every column's codec on ``frame``."""
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise DataError("the table is empty (no rows or no columns); give a table with data")
        start = time.perf_counter()
        kinds = detect_columns(frame, overrides, max_categories)
        derived = find_derived(frame, {k.name: k.kind for k in kinds}, set(overrides or {}), seed)
        rng = np.random.default_rng(seed)
        columns = []
        for kind in kinds:
            values = frame[kind.name]
            output = output_of(values, kind.kind)
            if kind.name in derived:
                rule = derived[kind.name]
                columns.append(
                    {**vars(kind), "derived": rule["source"], "state": rule, "output": output}
                )
                continue
            state = _fit(kind, values, rng, max_categories, output, fit_rows=fit_rows, modes=modes)
            columns.append({**vars(kind), "state": state, "output": output})
        if all(c["kind"] == "id" or c.get("derived") for c in columns):
            raise DataError("every column of the table is a key unique per row; nothing to learn")
        out = cls(columns, {str(c): str(t) for c, t in frame.dtypes.items()})
        out.timings["fit_s"] = time.perf_counter() - start
        return out

    # ------------------------------------------------------------------ layout
    @property
    def kinds(self) -> list[ColumnKind]:
        return [ColumnKind(c["name"], c["kind"], c["reason"]) for c in self.columns]

    def spans(self) -> list[dict[str, Any]]:
        """The matrix's column groups in order: column, role, size, activation."""
        return [s for codec in self.codecs for s in codec.spans()]

    @property
    def width(self) -> int:
        return sum(s["size"] for s in self.spans())

    @property
    def derived(self) -> dict[str, str]:
        """``{column: source}`` of the columns rebuilt from another column."""
        return {c.name: c.source for c in self.codecs if isinstance(c, DerivedCodec)}

    def discrete(self) -> list[DiscreteCodec]:
        """The codecs a condition can name (categorical and boolean columns)."""
        return [c for c in self.codecs if isinstance(c, DiscreteCodec)]

    def state(self) -> dict[str, Any]:
        """Plain JSON; :meth:`from_state` rebuilds the transformer."""
        cols = [
            {**c, "state": codec.state()}
            for c, codec in zip(self.columns, self.codecs, strict=True)
        ]
        return {"columns": cols, "dtypes": self.dtypes, "spans": self.spans()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TableTransformer:
        return cls(list(state["columns"]), dict(state.get("dtypes", {})))

    # ------------------------------------------------------------------ encode / decode
    def encode(self, frame: pd.DataFrame, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
        """``(N, width)`` rows of ``frame`` (which has the fitted columns); in float64
        :meth:`decode` gives the rows back exactly (to each column's precision)."""
        missing = [c["name"] for c in self.columns if c["name"] not in frame.columns]
        if missing:
            raise DataError(f"the table has no column {', '.join(map(repr, missing))}")
        start = time.perf_counter()
        rng = np.random.default_rng(seed)
        blocks = []
        for c, codec in zip(self.columns, self.codecs, strict=True):
            values = frame[c["name"]]
            if isinstance(codec, NumericCodec):
                blocks.append(codec.encode(_numbers(values, c), rng, dtype))
            elif isinstance(codec, DiscreteCodec):
                blocks.append(codec.encode(values, rng, dtype))
        out = np.concatenate(blocks, 1) if blocks else np.zeros((len(frame), 0), dtype)
        self.timings["encode_s"] = time.perf_counter() - start
        return out

    def decode(self, matrix: np.ndarray, seed: int = 0) -> pd.DataFrame:
        """A DataFrame with the real table's columns from generated rows."""
        rng = np.random.default_rng(seed)
        matrix = np.asarray(matrix, dtype=np.float64)
        data: dict[str, Any] = {}
        raw: dict[str, np.ndarray] = {}  # values before their dtype: what a rule reads
        at = 0
        for c, codec in zip(self.columns, self.codecs, strict=True):
            width = sum(s["size"] for s in codec.spans())
            block = matrix[:, at : at + width]
            at += width
            if isinstance(codec, NumericCodec):
                raw[c["name"]] = codec.decode(block)
            elif isinstance(codec, DiscreteCodec):
                raw[c["name"]] = codec.decode(block, rng)
            elif isinstance(codec, IdCodec):
                raw[c["name"]] = codec.decode(len(matrix), rng)
        for c, codec in zip(self.columns, self.codecs, strict=True):
            if isinstance(codec, DerivedCodec):
                raw[c["name"]] = codec.decode(raw[codec.source])
        for c, codec in zip(self.columns, self.codecs, strict=True):
            values = raw[c["name"]]
            dtype, output = self.dtypes.get(c["name"], ""), c.get("output") or {}
            if isinstance(codec, NumericCodec) or (
                isinstance(codec, DerivedCodec) and codec.kind in _NUMERIC
            ):
                values = np.asarray(values, dtype=np.float64)
                data[c["name"]] = _numeric_out(values, codec, dtype, output)
            elif isinstance(codec, DiscreteCodec):
                data[c["name"]] = _discrete_out(values, codec, dtype, output)
            else:
                data[c["name"]] = as_dtype(values, dtype, output)
        return pd.DataFrame(data)

    def condition_codec(self, column: str) -> tuple[int, DiscreteCodec]:
        """(index among the discrete codecs, codec) of a column a condition names."""
        names = [c["name"] for c in self.columns]
        if column not in names:
            raise ConfigError(
                f"condition: the table has no column {column!r}; its columns are {', '.join(names)}"
            )
        for i, codec in enumerate(self.discrete()):
            if codec.name == column:
                return i, codec
        if column in self.derived:
            source = self.derived[column]
            raise ConfigError(
                f"condition: {column!r} follows from {source!r} (each value of {source!r} "
                f"comes with one of {column!r}); ask for the value of {source!r} instead"
            )
        kind = self.columns[names.index(column)]["kind"]
        raise ConfigError(
            f"condition: {column!r} is a {kind} column; conditions name categorical or "
            f"boolean columns ({', '.join(c.name for c in self.discrete()) or 'none here'})"
        )


def _codec(column: dict[str, Any]) -> Any:
    kind = column["kind"]
    if column.get("derived"):
        return DerivedCodec(column["name"], kind, column["state"])
    if kind in _NUMERIC:
        return NumericCodec(column["name"], kind, column["state"])
    if kind in _DISCRETE:
        return DiscreteCodec(column["name"], kind, column["state"])
    return IdCodec(column["name"], kind, column["state"])


def _numbers(values: pd.Series, column: dict[str, Any]) -> np.ndarray:
    """A numeric column as float64 (dates as counts of their unit), NaN for missing."""
    if column["kind"] != "datetime":
        return as_numbers(values, column["kind"])
    output = column.get("output") or {}
    return dates.to_units(dates.parse(values, output.get("format")), output.get("unit", "second"))


def _fit(
    kind: ColumnKind,
    values: pd.Series,
    rng: np.random.Generator,
    max_categories: int,
    output: dict[str, Any],
    **opts,
) -> dict[str, Any]:
    if kind.kind in _NUMERIC:
        x = _numbers(values, {"kind": kind.kind, "output": output})
        return NumericCodec.fit(kind.name, kind.kind, x, rng, **opts).state()
    if kind.kind in _DISCRETE:
        return DiscreteCodec.fit(kind.name, kind.kind, values, max_categories).state()
    return IdCodec.fit(kind.name, kind.kind, values, rng).state()


def _numeric_out(
    x: np.ndarray, codec: NumericCodec | DerivedCodec, dtype: str, output: dict[str, Any]
) -> pd.Series:
    if codec.kind == "datetime":
        unit = output.get("unit", "second")
        when = dates.from_units(x, unit, codec.decimals if unit == "second" else 0)
        text = dates.write(when, output.get("format"), dtype, output.get("tz"))
        return as_dtype(text.to_numpy(), dtype, output) if output.get("format") else text
    if not numeric_dtype(dtype):
        dtype = ""  # numbers read from a text column stay numbers
    if not dtype and codec.whole:
        dtype = "int64"
    return as_dtype(x, dtype or "float64", output)


def _discrete_out(
    values: np.ndarray, codec: DiscreteCodec, dtype: str, output: dict[str, Any]
) -> pd.Series:
    if codec.as_bool:  # a run written before labels were kept: True / False slots
        series = pd.Series(values, dtype=object)
        return series if codec.missing else series.astype(bool)
    return as_dtype(values, dtype, output)


def transformer(info: dict[str, Any]) -> TableTransformer:
    """The run's fitted transformer, from its ``info``."""
    return TableTransformer.from_state(info["table"])


def decode(samples: torch.Tensor, info: dict[str, Any], seed: int = 0) -> pd.DataFrame:
    """Generated rows (model space) as a DataFrame with the real table's columns; values a
    condition asked for (``info['asked']``) are set exactly."""
    frame = transformer(info).decode(samples.detach().float().cpu().numpy(), seed=seed)
    for column, value in (info.get("asked") or {}).items():
        frame[column] = pd.Series([value] * len(frame), dtype=frame[column].dtype)
    return frame
