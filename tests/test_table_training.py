"""How a table trains and the synthesizer API: early stopping that a tie cannot fool, a
training length sized to the rows, a critic's scores said as such, and the CTGAN / SDV
calls (discrete_columns, unseeded sampling, small atomic saves, SDV metadata)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import ganforge
from ganforge.cli import main
from ganforge.errors import ConfigError
from ganforge.modalities.table.datasets import remember_frame
from ganforge.modalities.table.length import planned_steps
from ganforge.modalities.table.quality import combined, detection
from ganforge.plots import read_metrics
from ganforge.run import Run
from ganforge.tabular import TableSynthesizer

TINY = ["model.g_width=32", "model.d_width=32", "log.pictures=false", "log.every=5", "eval.n=300"]
QUIET = [*TINY, "eval.every=0"]


def table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Two linked numbers, a label, a small integer code, a yes/no flag and an R-style
    dotted column name."""
    rng = np.random.default_rng(seed)
    size = rng.choice(["small", "large"], n, p=[0.8, 0.2])
    weight = np.where(size == "large", 10.0, 2.0) + rng.normal(0, 0.5, n)
    return pd.DataFrame(
        {
            "size": size,
            "weight": weight.round(3),
            "Sepal.Length": (weight * 3 + rng.normal(0, 0.3, n)).round(3),
            "grade": rng.integers(1, 40, n),
            "smoker": rng.choice(["yes", "no"], n),
        }
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A synthesizer fitted for a few steps (scores off), shared by the API tests."""
    synth = TableSynthesizer(steps=20, batch=100, overrides=QUIET)
    return synth.fit(table(), ["grade"], out=tmp_path_factory.mktemp("t") / "run")


# ------------------------------------------------------------------ early stopping
def test_a_score_that_cannot_rank_keeps_the_latest_checkpoint(tmp_path, monkeypatch):
    """Every score 1.0 (a detector that tells the rows apart at every step): no step is
    better, so the best is the latest, and patience never ends training on ties."""
    from ganforge.periodic import PeriodicScorer

    monkeypatch.setattr(PeriodicScorer, "__call__", lambda self, fake: ("detection_auc", 1.0))
    out = tmp_path / "run"
    synth = TableSynthesizer(
        steps=60, batch=100, overrides=TINY, eval_every=10, patience=2, metric="detection"
    ).fit(table(), out=out)
    scores = [r for r in read_metrics(out / "metrics.jsonl", kind="eval") if "detection_auc" in r]
    assert [r["step"] for r in scores][-1] == 60 and len(scores) >= 6
    assert synth.stopped_early is None and Run(out).step == 60
    assert synth.best_step == 60 and Run(out, best=True).step == 60


def test_quality_ranks_tables_a_saturated_detector_cannot():
    kinds = {"size": "categorical", "weight": "continuous", "Sepal.Length": "continuous"}
    real = table(2000, 0)[list(kinds)]
    near = table(2000, 1)[list(kinds)]
    near["Sepal.Length"] += 40  # one column far off: told apart every time
    far = near.copy()
    far["weight"] += 40
    far["size"] = np.where(far["size"] == "small", "large", "small")
    scores = {}
    for name, other in (("near", near), ("far", far)):
        auc, loss = detection(real, other, kinds, 0)
        assert auc > 0.999, name  # saturated: the AUC cannot tell the two apart
        from ganforge.modalities.table.quality import column_shapes, pair_trends

        scores[name] = combined(
            column_shapes(real, other, kinds), pair_trends(real, other, kinds), loss
        )
    assert scores["near"] < scores["far"] - 0.1, scores
    same = table(2000, 2)[list(kinds)]
    auc, loss = detection(real, same, kinds, 0)
    assert auc < 0.6 and loss > 0.6  # real rows: near chance, ln 2 = 0.693


def test_pair_trends_compare_rows_by_position_not_by_index():
    """Evaluation scores rows sampled out of a table (their index is not 0..n-1): a label
    column and a number column must still be paired row by row."""
    from ganforge.modalities.table.quality import pair_trends

    kinds = {"size": "categorical", "weight": "continuous"}
    a, b = table(2000, 0)[list(kinds)], table(2000, 1)[list(kinds)]
    rng = np.random.default_rng(0)
    sampled_a, sampled_b = a.iloc[rng.permutation(2000)], b.iloc[rng.permutation(2000)]
    plain = pair_trends(a, b, kinds)
    assert plain < 0.05  # same process: close joint frequencies
    assert pair_trends(sampled_a, sampled_b, kinds) == pytest.approx(plain)


def test_the_periodic_quality_score_logs_its_parts(tmp_path):
    out = tmp_path / "run"
    TableSynthesizer(steps=20, batch=100, overrides=TINY, eval_every=10, metric="quality").fit(
        table(), out=out
    )
    last = [r for r in read_metrics(out / "metrics.jsonl", kind="eval") if "quality" in r][-1]
    parts = ("column_shapes", "pair_trends", "detection_auc", "detection_log_loss")
    assert all(k in last for k in parts) and 0 <= last["quality"] <= 1
    expected = combined(last["column_shapes"], last["pair_trends"], last["detection_log_loss"])
    assert last["quality"] == pytest.approx(expected)


# ------------------------------------------------------------------ training length
def test_the_length_rule_scales_with_rows_and_is_clamped():
    assert planned_steps(300, 500, 100, 2000, 30000) == 2000  # 100 steps, raised
    assert planned_steps(26000, 500, 100, 2000, 30000) == 5200
    assert planned_steps(300000, 500, 100, 2000, 30000) == 30000  # 60,000, cut
    assert planned_steps(300000, 500, 100, 2000, 0) == 60000  # no maximum
    assert planned_steps(480, 100, 2.5, 1, 0) == 12  # exactly the passes asked for


def test_a_table_trains_for_its_rows_and_says_so(tmp_path, capsys):
    small = table()[["size", "weight"]]  # 480 training rows; one number column: fast
    spec = remember_frame(small)
    over = [*QUIET, "train.batch=100", "tabular.epochs=2", "tabular.min_steps=1"]
    res = ganforge.train("tabular", data=spec, out=tmp_path / "a", overrides=over)
    said = capsys.readouterr().out
    assert res.step == 10  # 2 passes of 480 rows at 100 a step
    assert "training for 10 steps: 2 passes over 480 training rows at batch 100" in said
    res = ganforge.train("tabular", data=spec, out=tmp_path / "b", overrides=over, steps=4)
    assert res.step == 4 and "training for" not in capsys.readouterr().out
    over[-1] = "tabular.min_steps=12"
    ganforge.train("tabular", data=spec, out=tmp_path / "c", overrides=over)
    assert "(10 steps) raised to tabular.min_steps" in capsys.readouterr().out
    synth = TableSynthesizer(epochs=1.5, batch=100, overrides=QUIET).fit(small)
    root = synth.run.paths.root
    assert Run(root).step == 8  # ceil(1.5 * 480 / 100), no clamp
    # a temporary run nobody looks at draws no pictures
    assert not list((root / "samples").glob("*.png")) and not (root / "equilibrium.png").exists()


# ------------------------------------------------------------------ the critic's line
def test_a_critic_is_reported_by_its_scores_not_as_probabilities(tmp_path, capsys):
    csv = tmp_path / "t.csv"
    table()[["size", "weight"]].to_csv(csv, index=False)
    base = ["train", "tabular", "--data", f"csv:{csv}", "--steps", "10", "--no-progress"]
    sets = sum((["--set", s] for s in [*QUIET, "train.batch=100"]), [])
    assert main([*base, "--out", str(tmp_path / "w"), *sets]) == 0
    said = capsys.readouterr().out
    assert "critic: E[D(x)] = " in said and "gap " in said and "equilibrium: 0.5" not in said
    rec = read_metrics(tmp_path / "w" / "metrics.jsonl", kind="train")[-1]
    assert rec["critic_gap"] == pytest.approx(rec["critic_real"] - rec["critic_fake"], abs=1e-5)
    bce = ["loss.type=nonsaturating", "loss.penalty=none"]
    assert main([*base, "--out", str(tmp_path / "b"), *sets, "--set", bce[0], "--set", bce[1]]) == 0
    said = capsys.readouterr().out
    assert "equilibrium: 0.5, 0.5" in said and "critic:" not in said


def test_the_progress_bar_shows_a_critics_gap():
    from ganforge.engine.run_log import postfix

    assert postfix({"d_loss": 1.0, "critic_gap": 0.25, "d_real": 0.9}) == {
        "D": "1.000",
        "gap": "0.250",
    }
    assert postfix({"d_real": 0.5, "d_fake": 0.4})["D(x)"] == "0.500"


# ------------------------------------------------------------------ the API
def test_fit_takes_ctgans_discrete_columns(fitted, tmp_path):
    kinds = fitted.column_kinds
    assert kinds["grade"] == "categorical"  # detected as integer, listed as discrete
    assert kinds["Sepal.Length"] == "continuous" and kinds["smoker"] == "boolean"
    assert set(fitted.sample(200)["grade"]) <= set(range(1, 40))
    with pytest.raises(ConfigError, match="list of column names; give the run folder as out="):
        TableSynthesizer(steps=1).fit(table(), str(tmp_path / "run"))
    with pytest.raises(ConfigError, match="no column 'nope'"):
        TableSynthesizer(steps=1).fit(table(), ["nope"])
    with pytest.raises(TypeError):
        TableSynthesizer(None, 30)  # all but metadata are keyword-only


def test_unseeded_samples_differ_seeded_ones_repeat(fitted):
    a, b = fitted.sample(50), fitted.sample(50)
    assert not a.equals(b)
    pd.testing.assert_frame_equal(fitted.sample(50, seed=3), fitted.sample(50, seed=3))
    fitted.reset_sampling()
    first = fitted.sample(num_rows=50)
    fitted.reset_sampling()
    pd.testing.assert_frame_equal(first, fitted.sample(50))  # SDV's reset_sampling
    with pytest.raises(ConfigError, match="at least 1"):
        fitted.sample(0)


def test_save_keeps_only_what_sampling_needs_and_replaces_a_save(fitted, tmp_path):
    from safetensors.torch import load_file

    dest, latest = tmp_path / "synth", fitted.run.checkpoint  # G, its EMA, D, optimisers
    fitted.save(dest)
    (step,) = (dest / "checkpoints").iterdir()
    names = load_file(str(step / "weights.safetensors"))
    assert names and all(k.startswith(("G.", "G_ema.")) for k in names)  # no D
    assert not load_file(str(step / "optim.safetensors"))  # no optimiser state
    assert sorted(p.name for p in dest.iterdir()) == ["checkpoints", "config.yaml", "run.json"]
    saved = sum(p.stat().st_size for p in step.iterdir())
    assert saved < sum(p.stat().st_size for p in latest.iterdir()) / 4
    before = fitted.sample(40, seed=5)
    fitted.save(dest)  # over the earlier save
    pd.testing.assert_frame_equal(TableSynthesizer.load(dest).sample(40, seed=5), before)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    other = tmp_path / "photos"
    other.mkdir()
    (other / "a.jpg").write_bytes(b"x")
    with pytest.raises(ConfigError, match="not a saved synthesizer"):
        fitted.save(other)
    assert main(["sample", str(dest), "--n", "20", "--out", str(tmp_path / "s.csv")]) == 0
    assert list(pd.read_csv(tmp_path / "s.csv").columns) == list(table(5).columns)


def test_sdv_metadata_sets_kinds_and_is_written_back(tmp_path):
    frame = table()
    frame.insert(0, "id", [f"row-{i}" for i in range(len(frame))])
    meta = {
        "columns": {
            "id": {"sdtype": "id"},
            "grade": {"sdtype": "categorical"},
            "weight": {"sdtype": "numerical", "computer_representation": "Int64"},
            "Sepal.Length": {"sdtype": "numerical"},
        },
        "primary_key": "id",
        "METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
    }
    path = tmp_path / "meta.json"
    path.write_text(json.dumps(meta))
    synth = TableSynthesizer(steps=2, batch=100, overrides=QUIET).fit(frame, metadata=str(path))
    kinds = synth.column_kinds
    assert kinds["id"] == "id" and kinds["grade"] == "categorical"
    assert kinds["weight"] == "integer" and kinds["Sepal.Length"] == "continuous"
    written = synth.get_metadata()
    assert written["METADATA_SPEC_VERSION"] == "SINGLE_TABLE_V1" and written["primary_key"] == "id"
    assert written["columns"]["weight"] == {
        "sdtype": "numerical",
        "computer_representation": "Int64",
    }
    assert written["columns"]["smoker"] == {"sdtype": "boolean"}
    synth.save_metadata(tmp_path / "out.json")
    written_back = json.loads((tmp_path / "out.json").read_text())
    again = TableSynthesizer(written_back, steps=2, batch=100, overrides=QUIET).fit(frame)
    assert again.column_kinds == kinds  # written metadata reads back the same
    multi = {"tables": {"t": meta}, "METADATA_SPEC_VERSION": "V1"}
    assert TableSynthesizer(multi, steps=1, overrides=QUIET).fit(frame).column_kinds == kinds
    bad = {"columns": {"nope": {"sdtype": "categorical"}}}
    with pytest.raises(ConfigError, match="names columns the table lacks: 'nope'"):
        TableSynthesizer(steps=1).fit(frame, metadata=bad)
