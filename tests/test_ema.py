"""The EMA's warm-up: early on the average follows G instead of holding its initial weights."""

from __future__ import annotations

import pytest
import torch

import ganforge
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.ema import ramped_decay


def test_ramped_decay_follows_stylegan2():
    assert ramped_decay(0.999, 0, 0.05) == 0.0  # the first update copies G
    # half-life capped at 5% of the steps: 20 steps -> half-life 1 step -> decay 1/2
    assert ramped_decay(0.999, 20, 0.05) == pytest.approx(0.5)
    assert ramped_decay(0.999, 100_000, 0.05) == 0.999  # later the configured decay
    assert ramped_decay(0.999, 5, 0.0) == 0.999  # off


def _distance(a, b):
    return sum(float((a[k] - b[k]).square().sum()) for k in a) ** 0.5


def test_short_run_ema_is_near_the_trained_generator_not_the_initial_one(tmp_path, fast):
    """A short run must not sample from an EMA (decay 0.999 from step 0) that still holds
    mostly the initial weights: grey squares while the raw G draws digits."""
    over = fast + ["model.arch=mlp", "model.g_width=32", "model.d_width=32", "train.batch=32"]
    over += ["train.ema=0.999", "log.checkpoint_every=1000"]
    res = ganforge.train("demo", data="digits", out=tmp_path / "r", steps=120, overrides=over)
    first = ckpt.list_checkpoints(res.run_dir / "checkpoints")[0]
    weights0 = ckpt.load_checkpoint(first)[0]
    weights = ckpt.load_checkpoint(ckpt.latest_checkpoint(res.run_dir / "checkpoints"))[0]
    g0 = ckpt.split_prefixed(weights0, "G")
    g = ckpt.split_prefixed(weights, "G")
    ema = ckpt.split_prefixed(weights, "G_ema")
    assert _distance(ema, g) < 0.25 * _distance(ema, g0)
    run = ganforge.load_run(res.run_dir)
    assert run.used_ema and run.sample(16).std() > 0.2  # not a flat grey
    torch.testing.assert_close(
        run.generator.state_dict(), {k: v for k, v in ema.items()}, check_device=False
    )
