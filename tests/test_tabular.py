"""The tabular modality: column kinds, codecs, training-by-sampling, the synthesizer API,
the CLI and the table metrics on cases whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge.cli import main
from ganforge.errors import ConfigError, DataError
from ganforge.modalities.table.columns import detect_columns
from ganforge.modalities.table.conditions import TableData
from ganforge.modalities.table.datasets import load_table, remember_frame
from ganforge.modalities.table.quality import (
    column_shapes,
    detection_auc,
    pair_trends,
    privacy,
)
from ganforge.modalities.table.transform import TableTransformer
from ganforge.tabular import TableSynthesizer

TINY = ["model.g_width=64", "model.d_width=64", "log.sample_every=400", "log.checkpoint_every=100"]


def messy(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """NaNs, dates, a key per row, a 600-value label column, skewed and zero-inflated
    amounts, booleans: what a real export looks like."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer": [f"C-{i:06d}" for i in rng.permutation(n)],
            "zip": rng.integers(0, 600, n).astype(str),
            "amount": np.round(rng.lognormal(3, 1.5, n), 2),
            "refund": np.where(rng.random(n) < 0.8, 0.0, rng.gamma(2, 30, n)).round(2),
            "signup": pd.to_datetime("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
            "plan": rng.choice(["free", "pro", "team", None], n, p=[0.6, 0.25, 0.1, 0.05]),
            "age": np.where(rng.random(n) < 0.1, np.nan, rng.integers(18, 90, n)),
            "active": rng.random(n) < 0.3,
        }
    )


def correlated(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = rng.choice(["small", "large"], n, p=[0.8, 0.2])
    weight = np.where(size == "large", 10.0, 2.0) + rng.normal(0, 0.5, n)
    return pd.DataFrame(
        {
            "size": size,
            "weight": weight.round(3),
            "height": (weight * 3 + rng.normal(0, 0.3, n)).round(3),
        }
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A small synthesizer on a correlated two-class table (trained once for the module)."""
    synth = TableSynthesizer(steps=800, batch=200, overrides=TINY)
    synth.fit(correlated(), out=tmp_path_factory.mktemp("table") / "run")
    return synth


def test_detects_every_column_kind():
    kinds = {k.name: k.kind for k in detect_columns(messy())}
    assert kinds == {
        "customer": "id",
        "zip": "categorical",
        "amount": "continuous",
        "refund": "continuous",
        "signup": "datetime",
        "plan": "categorical",
        "age": "integer",
        "active": "boolean",
    }
    text_dates = pd.DataFrame({"d": ["2021-03-04", "2022-11-30"] * 30})
    assert detect_columns(text_dates)[0].kind == "datetime"
    assert detect_columns(pd.DataFrame({"n": [1, 2, 3] * 20}))[0].kind == "categorical"


def test_overrides_win_and_bad_ones_say_what_to_do():
    df = messy(200)
    kinds = {k.name: k.kind for k in detect_columns(df, {"age": "categorical"})}
    assert kinds["age"] == "categorical"
    with pytest.raises(ConfigError, match="no column 'agee'"):
        detect_columns(df, {"agee": "categorical"})
    with pytest.raises(ConfigError, match="not a column kind"):
        detect_columns(df, {"age": "text"})


def test_round_trip_keeps_missing_values_dates_bounds_and_whole_numbers():
    df = messy()
    tr = TableTransformer.fit(df)
    back = tr.decode(tr.encode(df))
    for c in ("amount", "refund", "age"):
        pd.testing.assert_series_equal(
            back[c].astype(float),
            df[c].astype(float),
            check_exact=False,
            atol=1e-3,
            check_names=False,
        )
    assert back["age"].isna().sum() == df["age"].isna().sum()
    assert (back["signup"] == df["signup"]).all()
    assert (back["plan"].isna() == df["plan"].isna()).all()
    assert back["active"].dtype == bool and (back["active"] == df["active"]).all()
    assert back["customer"].is_unique and back["customer"].str.match(r"C-\d{6}$").all()
    # any generated rows: inside the real bounds, whole numbers stay whole
    noise = np.random.default_rng(0).normal(0, 3, (500, tr.width))
    out = tr.decode(noise)
    assert out["amount"].between(df["amount"].min(), df["amount"].max()).all()
    ages = out["age"].dropna().astype(float)
    assert (ages == ages.round()).all() and ages.between(18, 89).all()


def test_rare_labels_share_one_slot_and_come_back_by_frequency():
    df = messy()
    tr = TableTransformer.fit(df, max_categories=20)
    zip_span = next(s for s in tr.spans() if s["column"] == "zip")
    assert zip_span["size"] == 21  # 20 most frequent + (other)
    out = tr.decode(tr.encode(df))
    assert set(out["zip"]) <= set(df["zip"])


def test_training_by_sampling_gives_rows_that_hold_their_condition():
    df = pd.DataFrame({"c": ["a"] * 950 + ["b"] * 50, "x": np.arange(1000.0)})
    spec = remember_frame(df, "sampling-test")
    ds = load_table("frame", spec.split(":")[1], holdout=0.0)
    data = TableData(ds, batch=4000, seed=1)
    b = data.next_batch()
    spans = ds.info["table"]["spans"]
    i = next(i for i, s in enumerate(spans) if s["role"] == "category")
    start = sum(s["size"] for s in spans[:i])
    real_cat = b.real[:, start : start + spans[i]["size"]].argmax(1)
    assert torch.equal(real_cat, b.cond.argmax(1))
    share_b = (b.cond.argmax(1) == 1).float().mean().item()
    expected = np.log1p(50) / (np.log1p(50) + np.log1p(950))  # log-frequency, not 5%
    assert abs(share_b - expected) < 0.03
    state = data.state_dict()
    nxt = data.next_batch()
    data.load_state_dict(state)
    assert torch.equal(data.next_batch().real, nxt.real)


def test_target_loss_prefers_rows_whose_label_follows_their_features():
    """The target term is low for real rows and high for the same rows with their labels
    shuffled; a number target is refused in one line."""
    from ganforge.modalities.table.target import TargetLoss

    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    df = pd.DataFrame({"x": x, "c": np.where(rng.random(3000) < 0.5, "a", "b")})
    df["y"] = np.where(x + (df["c"] == "a") > 0.5, "yes", "no")
    spec = remember_frame(df, "target-test")
    ds = load_table("frame", spec.split(":")[1], holdout=0.0)
    spans = ds.info["table"]["spans"]
    term = TargetLoss(ds.data, spans, "y", weight=1.0, seed=0)
    rows = ds.data.clone()
    real = term.g(rows, None, None).item()
    shuffled = rows.clone()
    shuffled[:, term.label] = rows[torch.randperm(len(rows))][:, term.label]
    assert real < 0.25 < 0.5 < term.g(shuffled, None, None).item()
    assert torch.equal(
        TargetLoss(ds.data, spans, "y", 1.0, seed=0).net[0].weight, term.net[0].weight
    )
    with pytest.raises(ConfigError, match="labelled target"):
        TargetLoss(ds.data, spans, "x", weight=1.0)


def test_conditional_sampling_holds_the_value_and_follows_frequencies(fitted):
    rows = fitted.sample(300, conditions={"size": "large"})
    assert (rows["size"] == "large").all()
    small = fitted.sample(300, conditions={"size": "small"})
    # the rest of the row follows the condition (real means: 10 and 2)
    assert rows["weight"].mean() > small["weight"].mean() + 2
    free = fitted.sample(3000, seed=1)
    share = (free["size"] == "large").mean()
    assert abs(share - 0.2) < 0.06, share
    with pytest.raises(ConfigError, match="never occurs"):
        fitted.sample(5, conditions={"size": "huge"})
    with pytest.raises(ConfigError, match="continuous column"):
        fitted.sample(5, conditions={"weight": 2})


def test_save_load_round_trip_gives_the_same_rows(fitted, tmp_path):
    before = fitted.sample(50, seed=3)
    fitted.save(tmp_path / "saved")
    again = TableSynthesizer.load(tmp_path / "saved").sample(50, seed=3)
    pd.testing.assert_frame_equal(before, again)
    assert not list((tmp_path / "saved").rglob("*.pkl"))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a saved synthesizer"):
        fitted.save(tmp_path / "notes")


def test_evaluate_scores_each_beside_its_floor(fitted):
    scores = fitted.evaluate(n=400)
    assert set(scores) >= {
        "column_shapes",
        "pair_trends",
        "detection_auc",
        "dcr_closer_to_train",
        "exact_copies",
    }
    assert any(k.startswith("efficacy_") for k in scores)
    for entry in scores.values():
        assert np.isfinite(entry["value"]) and np.isfinite(entry["floor"])
    assert scores["detection_auc"]["floor"] < 0.65  # held-out real rows look real


def test_metrics_on_known_cases():
    kinds = {"size": "categorical", "weight": "continuous", "height": "continuous"}
    a, b = correlated(2000, 0), correlated(2000, 1)
    assert column_shapes(a, a, kinds) == 0 and pair_trends(a, a, kinds) == 0
    shuffled = pd.DataFrame(
        {c: a[c].sample(frac=1, random_state=i).to_numpy() for i, c in enumerate(a.columns)}
    )
    assert column_shapes(a, shuffled, kinds) == 0  # same marginals
    assert pair_trends(a, shuffled, kinds) > 0.3  # the links between columns are gone
    assert detection_auc(a, b, kinds, 0) < 0.6
    assert detection_auc(a, shuffled, kinds, 0) > 0.9
    copies = privacy(a, b, a, kinds, 0)
    assert copies["exact_copies"] == 1.0 and copies["dcr_closer_to_train"] > 0.99
    fresh = privacy(a, b, correlated(2000, 3), kinds, 0)
    assert 0.4 < fresh["dcr_closer_to_train"] < 0.6


def test_messy_table_trains_without_a_traceback(tmp_path):
    synth = TableSynthesizer(steps=40, batch=100, overrides=TINY)
    synth.fit(messy(600), out=tmp_path / "run")
    out = synth.sample(500)
    assert list(out.columns) == list(messy(5).columns)
    assert out["customer"].is_unique and out["signup"].dtype.kind == "M"
    assert 0 < out["age"].isna().mean() < 0.4  # missing values modelled


def test_cli_trains_samples_and_refuses_bad_input(tmp_path, capsys):
    csv = tmp_path / "t.csv"
    correlated(600).to_csv(csv, index=False)
    run = tmp_path / "run"
    args = [
        "train",
        "tabular",
        "--data",
        f"csv:{csv}",
        "--steps",
        "30",
        "--out",
        str(run),
        "--no-progress",
        *sum((["--set", s] for s in [*TINY, "train.batch=100"]), []),
    ]
    assert main(args) == 0
    assert (run / "samples" / "final.png").is_file()
    out = tmp_path / "s.csv"
    assert (
        main(["sample", str(run), "--n", "200", "--out", str(out), "--condition", "size=small"])
        == 0
    )
    got = pd.read_csv(out)
    assert len(got) == 200 and (got["size"] == "small").all()
    capsys.readouterr()
    assert main(["sample", str(run), "--n", "5", "--out", str(out), "--condition", "size"]) == 2
    assert "COLUMN=VALUE" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage\x00")
    assert main(["train", "tabular", "--data", f"csv:{bad}", "--out", str(tmp_path / "r2")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "Traceback" not in err
    assert (
        main(
            [
                "train",
                "tabular",
                "--data",
                f"csv:{csv}",
                "--out",
                str(tmp_path / "r3"),
                "--set",
                "tabular.columns.nope=categorical",
            ]
        )
        == 2
    )
    assert "no column 'nope'" in capsys.readouterr().err


def test_empty_and_missing_tables_are_one_line_errors(tmp_path):
    from ganforge.modalities.table.datasets import read_table

    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "none.csv")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty|cannot read"):
        read_table(empty)


def test_table_run_resumes_bit_for_bit(tmp_path):
    """Training-by-sampling's generator state travels in the checkpoint: 20 + 20 steps
    give the weights of 40 straight."""
    from ganforge.engine.checkpoint import latest_checkpoint, load_checkpoint
    from ganforge.training import train

    csv = tmp_path / "t.csv"
    correlated(400).to_csv(csv, index=False)
    over = [*TINY, "train.batch=100", "log.checkpoint_every=20"]
    train(
        "tabular", data=f"csv:{csv}", out=tmp_path / "a", steps=40, overrides=over, progress=False
    )
    train(
        "tabular", data=f"csv:{csv}", out=tmp_path / "b", steps=20, overrides=over, progress=False
    )
    train(None, out=tmp_path / "b", steps=40, resume=True, overrides=over, progress=False)
    wa = load_checkpoint(latest_checkpoint(tmp_path / "a" / "checkpoints"))[0]
    wb = load_checkpoint(latest_checkpoint(tmp_path / "b" / "checkpoints"))[0]
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_a_batch_that_does_not_split_into_packs_is_rounded_and_said(tmp_path, capsys):
    from ganforge.training import train

    csv = tmp_path / "t.csv"
    correlated(300).to_csv(csv, index=False)
    res = train(
        "tabular",
        data=f"csv:{csv}",
        out=tmp_path / "r",
        steps=2,
        overrides=[*TINY, "train.batch=105"],
        progress=False,
    )
    assert res.samples_seen == 2 * 100
    assert "training with train.batch=100" in capsys.readouterr().out


def test_torchrun_trains_a_table_on_two_processes(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    csv = tmp_path / "t.csv"
    correlated(600).to_csv(csv, index=False)
    run = tmp_path / "run"
    sets = sum((["--set", s] for s in [*TINY, "train.batch=200"]), [])
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "ganforge",
        "train",
        "tabular",
        "--data",
        f"csv:{csv}",
        "--steps",
        "20",
        "--out",
        str(run),
        "--no-progress",
        *sets,
    ]
    env = {
        "OMP_NUM_THREADS": "1",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path("src").resolve()),
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((run / "run.json").read_text())
    assert meta["processes"] == 2 and meta["modality"] == "tabular"
    synth = TableSynthesizer.load(run).sample(100)
    assert list(synth.columns) == ["size", "weight", "height"]


def test_periodic_scores_tell_real_rows_from_noise():
    """Each ``eval.metric`` a table run can keep its best checkpoint by: real training rows
    (encoded, as G's output is) score far better than noise; lower is better."""
    from ganforge.modalities.table import TableModality
    from ganforge.registry import metric_names
    from ganforge.training import resolve_config

    spec = remember_frame(correlated(1500))
    data = load_table("frame", spec.split(":", 1)[1], holdout=0.2)
    real = data.data[:500]
    noise = torch.randn_like(real)
    periodic = metric_names("tabular", periodic=True)
    assert periodic == ("shapes", "pairs", "detection", "efficacy", "quality")
    for metric in periodic:
        cfg = resolve_config(
            "tabular", data=spec, overrides=[f"eval.metric={metric}", "eval.n=500"]
        )
        scorer = TableModality().periodic_scorer(cfg, data.sample_shape, data.info)
        assert scorer.sample_count() == 500
        (label, good), (_, bad) = scorer(real), scorer(noise)
        assert good < bad, (metric, good, bad)
        if metric == "detection":
            assert label == "detection_auc" and good < 0.65 and bad > 0.9
        if metric == "efficacy":  # 1 - accuracy of a model fitted to the rows, on others
            assert label == "efficacy_loss" and good < 0.05


def test_early_stopping_keeps_and_samples_the_best_checkpoint(tmp_path, capsys):
    from ganforge.errors import RunError
    from ganforge.plots import read_metrics
    from ganforge.run import Run

    out = tmp_path / "run"
    synth = TableSynthesizer(
        steps=2000, batch=200, overrides=TINY, eval_every=25, patience=2, metric="shapes"
    ).fit(correlated(800), out=out)
    scores = {
        r["step"]: r["column_shapes"]
        for r in read_metrics(out / "metrics.jsonl", kind="eval")
        if "column_shapes" in r
    }
    best = min(scores, key=scores.get)
    last = max(scores)
    assert "column_shapes has not improved for 2 evaluations" in synth.stopped_early
    assert last - best == 2 * 25 and last < 2000
    assert synth.best_step == best and Run(out).step == last
    # what the synthesizer samples comes from the best weights, saved or loaded
    assert not torch.equal(Run(out, best=True).sample(8), Run(out).sample(8))
    pd.testing.assert_frame_equal(
        synth.sample(40, seed=2), TableSynthesizer.load(out).sample(40, seed=2)
    )
    assert main(["eval", str(out), "--best", "--n", "150", "--metrics", "shapes"]) == 0
    assert f"best checkpoint (step {best})" in capsys.readouterr().out
    assert main(["sample", str(out), "--best", "--n", "20", "--out", str(tmp_path / "s.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == 20
    plain = tmp_path / "plain"
    never = [*TINY, "eval.every=0"]  # the preset scores every 250 steps (and at the end)
    TableSynthesizer(steps=5, batch=200, overrides=never).fit(correlated(300), out=plain)
    with pytest.raises(RunError, match="no best checkpoint"):
        Run(plain, best=True)
    with pytest.raises(ConfigError, match="patience needs eval_every"):
        TableSynthesizer(patience=3)


def test_several_conditions_hold_together_and_too_rare_ones_say_so(tmp_path, monkeypatch, capsys):
    from ganforge.modalities.table import asked

    frame = correlated(1200)
    frame["colour"] = np.random.default_rng(1).choice(["red", "blue"], len(frame))
    synth = TableSynthesizer(steps=800, batch=200, overrides=[*TINY, "eval.every=0"])
    synth.fit(frame, out=tmp_path / "run")
    rows = synth.sample(200, conditions={"size": "large", "colour": "red"}, seed=4)
    assert len(rows) == 200
    assert (rows["size"] == "large").all() and (rows["colour"] == "red").all()
    # the rarer value (large: 20%) goes through G's condition vector; red is G's own
    # output in every row kept, not a value written over it
    from ganforge.modalities.table import decode

    run = synth.run
    kept, info = run.modality_obj.sample_asked(run, 100, {"size": "large", "colour": "red"})
    assert info["asked"] == {"size": "large", "colour": "red"}
    assert (decode(kept, run.info)["colour"] == "red").all()
    out = tmp_path / "both.csv"
    args = ["sample", str(tmp_path / "run"), "--n", "50", "--out", str(out)]
    assert main(args + ["--condition", "size=large", "--condition", "colour=blue"]) == 0
    got = pd.read_csv(out)
    assert len(got) == 50 and set(got["size"]) == {"large"} and set(got["colour"]) == {"blue"}
    monkeypatch.setattr(asked, "MAX_DRAWN", 300)  # a budget the request cannot fit in
    with pytest.raises(ConfigError, match="too rare for this model"):
        synth.sample(5000, conditions={"size": "large", "colour": "red"})
    with pytest.raises(ConfigError, match="continuous column"):
        synth.sample(5, conditions={"size": "large", "weight": 2})


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_not_separated_by_commas_is_read_by_its_separator_and_said(tmp_path, sep):
    from ganforge.modalities.table.datasets import load_table, read_table

    rows = [f"{i}{sep}{'ab'[i % 2]}{sep}{i * 0.5:.1f}" for i in range(40)]
    path = tmp_path / "semi.csv"
    path.write_text(sep.join(["n", "kind", "x"]) + "\n" + "\n".join(rows) + "\n")
    frame = read_table(path)
    assert list(frame.columns) == ["n", "kind", "x"]
    assert frame["x"].iloc[3] == 1.5
    notes = load_table("csv", str(path)).info["notes"]
    assert notes[0] == f"semi.csv: columns are separated by {sep!r}, not commas; read so"
    single = tmp_path / "one.csv"
    single.write_text("only\n1\n2\n3\n")
    assert read_table(single).shape == (3, 1) and "read_note" not in read_table(single).attrs
