"""ganforge eval end to end: classifier features, scores with floors, eval.json, report.html."""

import json

import pytest

import ganforge
from ganforge.cli import main
from ganforge.evaluation import evaluate
from ganforge.progress import Tracker, tracking


class Recording(Tracker):
    """A tracker that remembers the percentage at every stage and every share reported."""

    def __init__(self):
        super().__init__()
        self.percents, self.fractions = [], 0

    def stage(self, name):
        super().stage(name)
        self.percents.append(self.percent)

    def advance(self, fraction):
        super().advance(fraction)
        self.fractions += 0 < fraction < 1
        self.percents.append(self.percent)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GANFORGE_INCEPTION_WEIGHTS", raising=False)
    return tmp_path / "cache"


def test_features_train_digits_is_accurate_and_reproducible(cache, capsys):
    assert main(["features", "train", "digits", "--epochs", "4"]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("test accuracy ")[1].split("%")[0]) / 100
    assert acc >= 0.9, out
    first = (cache / "extractors" / "digits-cnn.safetensors").read_bytes()
    assert main(["features", "train", "digits", "--epochs", "4"]) == 0
    second = (cache / "extractors" / "digits-cnn.safetensors").read_bytes()
    # same seed -> same weights (the metadata holds a timestamp, so compare tensors)
    from safetensors.torch import load

    a, b = load(first), load(second)
    assert all((a[k] == b[k]).all() for k in a)


def test_eval_image_run_writes_scores_with_floors(tmp_path, fast, cache, capsys):
    res = ganforge.train(
        "demo",
        data="digits",
        out=tmp_path / "run",
        steps=10,
        overrides=fast
        + ["model.arch=mlp", "model.g_width=32", "model.d_width=32", "train.batch=32"],
    )
    seen = Recording()
    with tracking(seen):
        result = evaluate(res.run_dir, n=300, progress=False)
    # the stages a watcher is shown, in order, the percentage only ever rising
    assert seen.started == [
        "loading the run",
        "scoring",
        "feature network",
        "real images",
        "generated images",
        "features",
        "scores",
        "SWD",
        "writing the report",
    ]
    assert seen.percents == sorted(seen.percents) and seen.percents[-1] < 100
    assert seen.fractions > 0  # the classifier's training reported its steps
    scores = result["scores"]
    assert result["extractor"] == "digits-cnn"
    for name in (
        "FID[digits-cnn]",
        "KID[digits-cnn]",
        "precision[digits-cnn]",
        "recall[digits-cnn]",
        "density[digits-cnn]",
        "coverage[digits-cnn]",
        "IS[digits-cnn]",
        "classes_covered[digits-cnn]",
        "SWD",
    ):
        assert name in scores and "floor" in scores[name], name
    # an untrained-ish generator is far worse than real data against real data
    assert scores["FID[digits-cnn]"]["value"] > 3 * scores["FID[digits-cnn]"]["floor"]
    assert scores["FID[digits-cnn]"]["std"] >= 0
    saved = json.loads((res.run_dir / "eval.json").read_text())
    assert saved["scores"].keys() == scores.keys()
    page = (res.run_dir / "report.html").read_text()
    assert page.count("<img") == 3 and "FID[digits-cnn]" in page and "floor" in page

    assert main(["eval", str(res.run_dir), "--n", "200", "--metrics", "fid,swd"]) == 0
    out = capsys.readouterr().out
    assert "FID[digits-cnn]" in out and "SWD" in out and "KID" not in out


def test_eval_toy_run(tmp_path, fast, cache):
    res = ganforge.train(
        "toy-ring8",
        out=tmp_path / "run",
        steps=10,
        overrides=fast + ["model.g_width=16", "model.d_width=16"],
    )
    scores = evaluate(res.run_dir, n=500, progress=False)["scores"]
    assert scores["modes_covered"]["floor"] == 8
    assert scores["high_quality"]["floor"] > 0.95


def test_eval_bad_input(tmp_path, fast, cache, capsys):
    res = ganforge.train(
        "toy-ring8",
        out=tmp_path / "run",
        steps=5,
        overrides=fast + ["model.g_width=8", "model.d_width=8"],
    )
    assert main(["eval", str(res.run_dir), "--metrics", "fid,fdi"]) == 2
    assert "unknown metric 'fdi'" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert main(["features", "train", "toy:ring8"]) == 2
    assert "no classifier features" in capsys.readouterr().err


def test_periodic_eval_logs_and_keeps_the_best_checkpoint(tmp_path, fast, cache):
    from ganforge.engine import checkpoint as ckpt
    from ganforge.plots import read_metrics

    res = ganforge.train(
        "demo",
        data="digits",
        out=tmp_path / "run",
        steps=20,
        overrides=fast
        + [
            "model.arch=mlp",
            "model.g_width=32",
            "model.d_width=32",
            "train.batch=32",
            "eval.every=10",
            "eval.n=200",
            "eval.metric=swd",
        ],
    )
    evals = [r for r in read_metrics(res.run_dir / "metrics.jsonl", kind="eval") if "SWD" in r]
    assert [r["step"] for r in evals] == [10, 20]
    best = min(r["SWD"] for r in evals)
    assert evals[-1]["best_SWD"] == best
    kept = ckpt.list_checkpoints(res.run_dir / "best")
    assert len(kept) == 1
    state = ckpt.load_checkpoint(kept[0])[2]
    assert state["eval_score"] == best and state["eval_metric"] == "SWD"


def test_periodic_eval_refused_early_where_it_cannot_work(tmp_path, fast, cache, capsys):
    out = tmp_path / "run"
    code = main(["train", "toy-ring8", "--out", str(out), "--set", "eval.every=5"])
    assert code == 2 and "eval.every works for image runs" in capsys.readouterr().err
    assert not (out / "config.yaml").exists()
