import os
import signal
from pathlib import Path

import pytest
import torch

# Two cores: keep tests from oversubscribing them.
torch.set_num_threads(min(2, os.cpu_count() or 1))



def _end_run(signum, frame):
    pytest.exit(f"ended by signal {signal.Signals(signum).name}", returncode=128 + signum)


def pytest_configure(config):
    # SIGTERM ends the whole run; a training under test chains to this handler after
    # recording its own graceful stop
    signal.signal(signal.SIGTERM, _end_run)


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


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module (the page tests)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run installs it (apt, as root)")
        pytest.skip("no /usr/bin/chromium here (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()
