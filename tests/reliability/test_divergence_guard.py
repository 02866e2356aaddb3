"""The divergence guard: NaN injected into training is rolled back, with lower learning rates."""

import json

import pytest
import torch

import ganforge
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.trainer import Trainer
from ganforge.errors import TrainingError

SMALL = ["model.g_width=16", "model.d_width=16", "train.batch=32"]


def _poison_at(monkeypatch, steps):
    """Make G's weights NaN when the trainer is about to take each of ``steps``."""
    original = Trainer._one_iteration
    pending = set(steps)

    def poisoned(self, measure):
        if self.step in pending:
            pending.discard(self.step)
            with torch.no_grad():
                next(self.G.parameters()).fill_(float("nan"))
        return original(self, measure)

    monkeypatch.setattr(Trainer, "_one_iteration", poisoned)


def test_nan_is_rolled_back_and_learning_rates_lowered(tmp_path, fast, monkeypatch):
    _poison_at(monkeypatch, {23})
    res = ganforge.train("toy-ring8", out=tmp_path / "r", steps=40, overrides=fast + SMALL)
    assert res.step == 40 and not res.interrupted
    recs = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    guard = [r for r in recs if r["kind"] == "guard"]
    assert len(guard) == 1
    assert guard[0]["bad_step"] == 24 and guard[0]["step"] == 20  # newest good checkpoint
    assert guard[0]["lr_scale"] == 0.5 and "non-finite" in guard[0]["reason"]
    weights, _, state = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "r" / "checkpoints"))
    assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())
    assert state["recoveries"] == 1 and state["lr_scale"] == 0.5
    assert state["g_opt"]["param_groups"][0]["lr"] == pytest.approx(0.5e-3)
    # each train step is logged once, in order, despite the rollback
    steps = [r["step"] for r in recs if r["kind"] == "train"]
    assert steps == sorted(set(steps)) and steps[-1] == 40


def test_gives_up_after_max_recoveries_with_checkpoint_intact(tmp_path, fast, monkeypatch):
    _poison_at(monkeypatch, {12, 13, 14, 15})  # poisoned again after each rollback to 10
    out = tmp_path / "r"
    over = fast + SMALL + ["guard.max_recoveries=2"]
    with pytest.raises(TrainingError, match="after 2 recoveries.*step-00000010 is intact"):
        ganforge.train("toy-ring8", out=out, steps=40, overrides=over)
    good = ckpt.latest_checkpoint(out / "checkpoints")
    assert good.name == "step-00000010"
    weights, _, _ = ckpt.load_checkpoint(good)
    assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())
    assert not (out / ".lock").exists()


def test_guard_off_stops_at_once(tmp_path, fast, monkeypatch):
    _poison_at(monkeypatch, {3})
    with pytest.raises(TrainingError, match="diverged at step 4"):
        ganforge.train(
            "toy-ring8",
            out=tmp_path / "r",
            steps=20,
            overrides=fast + SMALL + ["guard.enabled=false"],
        )


def test_collapse_detection(tmp_path, fast, monkeypatch):
    """A D that wins outright for guard.collapse_steps steps counts as a collapse."""
    original = Trainer._one_iteration

    def saturated(self, measure):
        stats = original(self, measure)
        if self.recoveries == 0:
            stats["d_real"], stats["d_fake"] = torch.tensor(0.999), torch.tensor(0.001)
        return stats

    monkeypatch.setattr(Trainer, "_one_iteration", saturated)
    res = ganforge.train(
        "toy-ring8",
        out=tmp_path / "r",
        steps=30,
        overrides=fast + SMALL + ["guard.collapse_steps=15"],
    )
    assert res.step == 30
    guard = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    guard = [r for r in guard if r["kind"] == "guard"]
    assert len(guard) == 1 and "collapsed" in guard[0]["reason"] and guard[0]["bad_step"] == 15
