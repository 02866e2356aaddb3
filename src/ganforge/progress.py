"""Where a long piece of work has got to, for whoever watches it (the studio's eval button).

Work reports named stages and the share of the current stage done; a :class:`Tracker`
installed with :func:`tracking` turns them into a percentage. Without a tracker every call
here does nothing, so library code reports freely::

    progress.plan("real features", "generated features", "scores")
    progress.stage("real features")
    for batch in progress.iterate(batches, desc="features"):   # a tqdm bar when desc is set
        ...

A stage may itself be planned into parts: ``plan`` during a stage replaces that stage by
the parts, so ``ganforge eval`` plans "loading / scoring / report" and each modality plans
what "scoring" means for it.

Off a terminal no bar shows; inside :func:`stage_lines` every stage (and every :func:`note`,
e.g. a feature network trained on first use) is also one line on stderr, so long work
there is never a silent wait.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


class Tracker:
    """Planned stages, each a span of the whole (0-100), and the share of the current one
    done; thread-safe to read. ``plan`` during a stage splits that stage's span evenly."""

    def __init__(self) -> None:
        self.levels: list[dict[str, Any]] = []  # plans, outermost first: stages + position
        self.span = (0.0, 100.0)  # the current stage's share of the whole
        self.fraction = 0.0
        self.name = ""
        self.started: list[str] = []  # every stage entered, in order
        self.finished = False
        self._lock = threading.Lock()

    def plan(self, names: Iterable[str], weights: Iterable[float] | None = None) -> None:
        """The current stage (before any: the whole work) consists of ``names``, with
        shares in proportion to ``weights`` (default: equal)."""
        names = [str(n) for n in names]
        shares = [float(w) for w in weights] if weights is not None else [1.0] * len(names)
        if len(shares) != len(names) or any(w < 0 for w in shares):
            raise ValueError("plan: one non-negative weight per stage")
        with self._lock:
            lo, hi = self._now(), self.span[1]
            unit = (hi - lo) / (sum(shares) or 1.0)
            stages, at = [], lo
            for name, w in zip(names, shares, strict=True):
                stages.append((name, at, at + w * unit))
                at += w * unit
            self.levels.append({"stages": stages, "at": 0})

    def stage(self, name: str) -> None:
        """Enter stage ``name``: the next planned one of that name, looked for in the
        innermost plan first; an unplanned name is shown but moves nothing."""
        with self._lock:
            self.started.append(name)
            self.name = name
            for depth in range(len(self.levels) - 1, -1, -1):
                level = self.levels[depth]
                for i in range(level["at"], len(level["stages"])):
                    if level["stages"][i][0] == name:
                        del self.levels[depth + 1 :]
                        level["at"] = i
                        self.span, self.fraction = level["stages"][i][1:], 0.0
                        return
            here = self._now()
            self.span, self.fraction = (here, here), 0.0

    def advance(self, fraction: float) -> None:
        """The share of the current stage done (0..1; it never moves back)."""
        with self._lock:
            self.fraction = max(self.fraction, min(1.0, max(0.0, float(fraction))))

    def finish(self) -> None:
        with self._lock:
            self.finished = True

    def _now(self) -> float:
        lo, hi = self.span
        return 100.0 if self.finished else lo + self.fraction * (hi - lo)

    @property
    def percent(self) -> float:
        with self._lock:
            return round(self._now(), 1)

    def snapshot(self) -> dict[str, Any]:
        """``{"stage", "percent"}`` for a page to show."""
        with self._lock:
            return {"stage": "" if self.finished else self.name, "percent": round(self._now(), 1)}


_CURRENT: ContextVar[Tracker | None] = ContextVar("ganforge_progress", default=None)
_LINES: ContextVar[Callable[[str], None] | None] = ContextVar("ganforge_lines", default=None)


@contextmanager
def tracking(tracker: Tracker) -> Iterator[Tracker]:
    """Report this thread's work to ``tracker`` while the block runs."""
    token = _CURRENT.set(tracker)
    try:
        yield tracker
    finally:
        _CURRENT.reset(token)


def plan(*names: str, weights: Iterable[float] | None = None) -> None:
    """The current stage consists of ``names`` (no-op without a tracker)."""
    tracker = _CURRENT.get()
    if tracker is not None:
        tracker.plan(names, weights)


@contextmanager
def stage_lines(prefix: str, enabled: bool = True, stream: TextIO | None = None) -> Iterator[None]:
    """While the block runs (when ``enabled``), every :func:`stage` and :func:`note` is
    also one line ``PREFIX: TEXT`` on ``stream`` (default stderr)."""
    if not enabled:
        yield
        return

    def say(text: str) -> None:
        print(f"{prefix}: {text}", file=stream or sys.stderr, flush=True)

    token = _LINES.set(say)
    try:
        yield
    finally:
        _LINES.reset(token)


def stage(name: str, say: str | None = None) -> None:
    """Enter stage ``name`` (no-op without a tracker); under :func:`stage_lines` one line
    says ``say`` (default: the name), e.g. ``stage("scoring", say="scoring 500 samples")``."""
    tracker = _CURRENT.get()
    if tracker is not None:
        tracker.stage(name)
    note(say or name)


def note(text: str) -> None:
    """One line under :func:`stage_lines` (a first-use cost, what a stage is waiting for);
    nothing otherwise."""
    lines = _LINES.get()
    if lines is not None:
        lines(text)


def advance(fraction: float) -> None:
    """The share of the current stage done (no-op without a tracker)."""
    tracker = _CURRENT.get()
    if tracker is not None:
        tracker.advance(fraction)


def iterate(
    items: Iterable[T], total: int | None = None, desc: str | None = None, **bar: Any
) -> Iterator[T]:
    """``items``, reporting the share of them done; a tqdm bar on the terminal when ``desc``
    is given (``bar`` goes to tqdm)."""
    from tqdm import tqdm

    if total is None:
        total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    shown = tqdm(items, total=total, desc=desc, disable=desc is None or None, **bar)
    for i, item in enumerate(shown):
        yield item
        if total:
            advance((i + 1) / total)
