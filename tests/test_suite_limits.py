"""The test runner itself: SIGTERM ends it (a training under test chains to pytest's handler
instead of swallowing the signal), and every test has a time limit."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_sigterm_ends_the_test_run_even_inside_a_training(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "GANFORGE_SIGTERM_RUN": str(run)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           str(ROOT / "tests" / "helpers" / "sigterm_target.py")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        log = run / "metrics.jsonl"
        deadline = time.monotonic() + 120
        while not (log.exists() and log.stat().st_size > 0):
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "the training never logged a step"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert "ended by signal SIGTERM" in out
    assert "test_never_reached" not in out and "AssertionError" not in out, out


def test_every_test_has_a_time_limit(pytestconfig):
    limit = pytestconfig.getini("timeout")
    assert limit and 0 < float(limit) <= 600
    pytest.importorskip("pytest_timeout")
