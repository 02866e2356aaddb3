"""Progress stages: nested plans split their stage's share; work outside a tracker is free."""

import threading

import pytest

from ganforge import progress
from ganforge.progress import Tracker, tracking


def test_reporting_without_a_tracker_does_nothing():
    progress.plan("a", "b")
    progress.stage("a")
    progress.advance(0.5)
    assert list(progress.iterate(range(3))) == [0, 1, 2]


def test_nested_plans_split_the_current_stage():
    t = Tracker()
    with tracking(t):
        progress.plan("load", "score", "write")
        progress.stage("load")
        assert t.percent == 0
        progress.advance(0.5)
        assert t.percent == pytest.approx(16.7)
        progress.stage("score")
        progress.plan("real", "fake")  # "score" (33.3..66.7) is these two
        progress.stage("fake")
        assert t.percent == pytest.approx(50.0)
        progress.advance(0.5)
        progress.advance(0.2)  # never moves back
        assert t.percent == pytest.approx(58.3)
        progress.stage("unplanned")  # named, moves nothing
        assert t.snapshot() == {"stage": "unplanned", "percent": pytest.approx(58.3)}
        progress.stage("write")  # the outer plan's next stage ends the inner plan
        assert t.percent == pytest.approx(66.7)
        seen = []
        for _ in progress.iterate(range(4)):
            seen.append(t.percent)
        assert seen == pytest.approx([66.7, 75.0, 83.3, 91.7])
        assert t.percent == pytest.approx(100.0)
    t.finish()
    assert t.snapshot() == {"stage": "", "percent": 100.0}
    assert t.started == ["load", "score", "fake", "unplanned", "write"]


def test_a_tracker_follows_only_the_thread_that_installed_it():
    t = Tracker()
    with tracking(t):
        progress.plan("a", "b")
        other = threading.Thread(target=lambda: progress.stage("b"))
        other.start()
        other.join()
        assert t.started == []
        progress.stage("b")
    assert t.started == ["b"] and t.percent == 50.0


def test_weights_share_a_stage_out_unevenly():
    t = Tracker()
    with tracking(t):
        progress.plan("load", "score", "write", weights=(1, 18, 1))
        progress.stage("score")
        assert t.percent == 5.0
        progress.stage("write")
        assert t.percent == 95.0
        with pytest.raises(ValueError, match="one non-negative weight per stage"):
            progress.plan("a", "b", weights=(1,))
