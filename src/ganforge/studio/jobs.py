"""``ganforge eval`` started from the page: one evaluation at a time per run, in a thread,
its state (running / done / failed, seconds so far, stage and percent done) polled by the
page."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError, GanforgeError
from ganforge.evaluation import evaluate
from ganforge.progress import Tracker, tracking

_JOBS: dict[Path, dict[str, Any]] = {}
_LOCK = threading.Lock()


def start_eval(run_dir: Path, n: int) -> dict[str, Any]:
    """Start evaluating ``run_dir`` on ``n`` samples unless it is already being evaluated."""
    if not 10 <= n <= 10000:
        raise ConfigError(f"n must be 10..10000; got {n}")
    with _LOCK:
        job = _JOBS.get(run_dir)
        if job and job["state"] == "running":
            return status(run_dir)
        tracker = Tracker()
        job = {
            "state": "running",
            "started": time.time(),
            "n": n,
            "error": None,
            "tracker": tracker,
        }
        _JOBS[run_dir] = job

    def work() -> None:
        try:
            with tracking(tracker):
                result = evaluate(run_dir, n=n, progress=False)
            tracker.finish()
            job.update(state="done", seconds=result.get("seconds"))
        except GanforgeError as exc:
            job.update(state="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - reported on the page, not lost in a thread
            job.update(state="failed", error=f"{type(exc).__name__}: {exc}")
        job["finished"] = time.time()

    threading.Thread(target=work, daemon=True).start()
    return status(run_dir)


def status(run_dir: Path) -> dict[str, Any]:
    job = _JOBS.get(run_dir)
    if job is None:
        return {"state": "idle"}
    end = job.get("finished") or time.time()
    return {
        "state": job["state"],
        "n": job["n"],
        "elapsed": round(end - job["started"], 1),
        "error": job["error"],
        **job["tracker"].snapshot(),
    }
