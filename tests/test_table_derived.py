"""Columns another column determines: found when the transformer is fitted, left out of
the matrix, rebuilt exactly from their source, and never found where no rule holds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ganforge.errors import ConfigError
from ganforge.modalities.table.columns import detect_columns
from ganforge.modalities.table.derived import find_derived
from ganforge.modalities.table.transform import TableTransformer


def dependent(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """A loan table's kinds of determined columns, beside columns nothing determines."""
    rng = np.random.default_rng(seed)
    action = rng.choice(["approve", "deny", "withdraw"], n, p=[0.7, 0.2, 0.1])
    level = pd.Series(rng.choice(["school", "college", "degree", None], n, p=[0.4, 0.3, 0.2, 0.1]))
    log_income = np.round(rng.normal(10.5, 0.6, n), 4)
    return pd.DataFrame(
        {
            "action": action,
            "approved": np.where(action == "approve", "yes", "no"),
            "level": level,
            "has_degree": np.where(level == "degree", 1, 0),
            "level_points": level.map({"school": 1.5, "college": 2.25, "degree": 4.0}),
            "log_income": log_income,
            "income": np.round(np.exp(log_income), 2),
            "debt_ratio": -np.round(log_income * 3.0, 4),  # reversed order
            "noise": rng.choice(["a", "b"], n),
            "age": rng.integers(18, 80, n),
        }
    )


@pytest.fixture(scope="module")
def fitted():
    df = dependent()
    return df, TableTransformer.fit(df, fit_rows=600, modes=4)


def test_determined_columns_are_found_with_their_source(fitted):
    _, tr = fitted
    assert tr.derived == {
        "approved": "action",
        "has_degree": "level",
        "level_points": "level",
        "income": "log_income",
        "debt_ratio": "log_income",
    }
    spans = {s["column"] for s in tr.spans()}
    assert not spans & set(tr.derived)  # the matrix leaves them out


def test_real_rows_come_back_exactly_through_json(fitted):
    df, tr = fitted
    back = tr.decode(tr.encode(df, dtype=np.float64))
    pd.testing.assert_frame_equal(back, df)
    again = TableTransformer.from_state(json.loads(json.dumps(tr.state())))
    pd.testing.assert_frame_equal(again.decode(again.encode(df, dtype=np.float64)), df)


def test_generated_rows_hold_every_rule_exactly(fitted):
    df, tr = fitted
    out = tr.decode(np.random.default_rng(3).normal(0, 2, (4000, tr.width)))
    assert out.dtypes.astype(str).to_dict() == df.dtypes.astype(str).to_dict()
    assert (out["approved"] == np.where(out["action"] == "approve", "yes", "no")).all()
    assert (out["has_degree"] == (out["level"] == "degree").astype(int)).all()
    points = out["level"].map({"school": 1.5, "college": 2.25, "degree": 4.0})
    pd.testing.assert_series_equal(out["level_points"], points, check_names=False)
    assert out["level"].isna().mean() > 0.02 and out["level_points"].isna().equals(
        out["level"].isna()
    )
    # a monotone cubic through the real pairs: exp to 0.1% where the knots are furthest apart
    gap = (out["income"] - np.exp(out["log_income"])).abs() / out["income"]
    assert gap.max() < 1e-3 and gap.median() < 1e-6
    assert (out["income"] == out["income"].round(2)).all()
    assert np.corrcoef(out["log_income"], out["debt_ratio"])[0, 1] < -0.9999
    lo, hi = df["income"].min(), df["income"].max()
    assert out["income"].between(lo, hi).all()


def test_no_rule_is_found_where_none_holds():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "x": x,  # a distinct value per row determines anything: not a source
            "sign": np.where(x > 0, "pos", "neg"),
            "nearly": np.where(rng.random(n) < 0.99, np.exp(x), 0.0),  # one row breaks it
            "city": rng.choice([f"c{i}" for i in range(60)], n),  # 60 values in 400 rows
            "flag": rng.choice(["y", "n"], n),
            "x_sq": x**2,  # a function of x, but not one-to-one
        }
    )
    df["by_city"] = df["city"].map({f"c{i}": i % 2 for i in range(60)}).astype(str)
    df["opened"] = df["flag"].map({"y": "2020-01-31", "n": "2021-06-30"})  # dates stay dates
    kinds = {k.name: k.kind for k in detect_columns(df)}
    assert find_derived(df, kinds, set()) == {}


def test_a_column_named_in_tabular_columns_is_modelled():
    df = dependent()
    tr = TableTransformer.fit(df, {"approved": "categorical"}, fit_rows=600, modes=4)
    assert "approved" not in tr.derived and "has_degree" in tr.derived
    assert "approved" in {s["column"] for s in tr.spans()}


def test_a_condition_on_a_derived_column_names_its_source(fitted):
    _, tr = fitted
    with pytest.raises(ConfigError, match="'approved' follows from 'action'.*'action' instead"):
        tr.condition_codec("approved")
    assert tr.condition_codec("action")[1].name == "action"


def test_a_run_says_which_columns_it_rebuilds():
    from ganforge.modalities.table.datasets import load_table, remember_frame

    spec = remember_frame(dependent(), "derived-notes")
    ds = load_table("frame", spec.split(":")[1], holdout=0.0, fit_rows=600, modes=4)
    note = next(n for n in ds.info["notes"] if n.startswith("rebuilt from"))
    assert "approved from action" in note and "income from log_income" in note
    modelled = {s["column"] for s in ds.info["table"]["spans"]}
    assert ds.data.shape[1] == sum(s["size"] for s in ds.info["table"]["spans"])
    assert "approved" not in modelled and "action" in modelled
