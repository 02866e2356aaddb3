"""Run by tests/test_suite_limits.py as its own pytest session: a training that would take
hours; the parent sends SIGTERM once the first steps are logged."""

import os
from pathlib import Path

import ganforge


def test_trains_until_told_to_stop(tmp_path):
    out = Path(os.environ["GANFORGE_SIGTERM_RUN"])
    ganforge.train(
        "toy-ring8",
        out=out,
        steps=10_000_000,
        overrides=["log.progress=false", "log.every=5", "log.sample_every=1000000"],
    )
    raise AssertionError("training returned: SIGTERM should have ended the test run")


def test_never_reached():
    raise AssertionError("the run went on after SIGTERM")
