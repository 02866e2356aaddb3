import os

import pytest
import torch

# Two cores: keep tests from oversubscribing them.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def fast(tmp_path):
    """Overrides that make any preset tiny: few steps, frequent logs, no progress bar."""
    return [
        "log.every=5",
        "log.sample_every=10",
        "log.checkpoint_every=10",
        "log.progress=false",
    ]


@pytest.fixture
def same_training_with_each(tmp_path):
    """``check(preset, key, overrides, steps)``: train ``preset`` with switch ``key`` on and
    off (same seed) and require the same final losses; for switches that change speed, not
    what is learned."""
    return lambda *args, **kw: _same_training_with_each(tmp_path, *args, **kw)


def _same_training_with_each(tmp_path, preset, key, over, steps):
    import ganforge

    runs = {}
    for value in ("on", "off"):
        res = ganforge.train(
            preset, out=tmp_path / value, steps=steps, overrides=over + [f"{key}={value}"]
        )
        runs[value] = res.metrics
    for k in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert runs["on"][k] == pytest.approx(runs["off"][k], rel=1e-3, abs=1e-4)
