"""``metrics.jsonl``: one JSON record per logged step, written by rank 0, trimmed on resume."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from ganforge.engine import checkpoint as ckpt
from ganforge.engine.losses import js_lower_bound
from ganforge.errors import RunError, TrainingError


class MetricsLog:
    """Appends records to ``RUN/metrics.jsonl`` (nothing without a run directory or off rank 0)."""

    def __init__(self, run_dir: Path | None, is_main: bool = True) -> None:
        self.path = Path(run_dir) / "metrics.jsonl" if run_dir else None
        self.is_main = is_main

    def write(self, record: dict[str, Any]) -> None:
        if self.path is None or not self.is_main:
            return
        try:
            with open(self.path, "a") as fh:
                fh.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise RunError(
                f"cannot write {self.path}: {exc.strerror or exc}; free disk space or "
                "fix permissions, then --resume"
            ) from None

    def trim(self, step: int) -> None:
        """Drop records after ``step`` (a resumed or rolled-back run logs them again)."""
        if self.path is None or not self.is_main or not self.path.is_file():
            return
        keep = []
        for line in self.path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    keep.append(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
        ckpt.atomic_write_text(self.path, "".join(line + "\n" for line in keep))


def train_record(
    step: int, stats: dict[str, torch.Tensor], samples_seen: int, rate: float, elapsed: float
) -> dict[str, Any]:
    """The ``kind: train`` record of a step; a non-finite loss is a TrainingError.
    ``samples_seen``: real samples drawn so far, of any modality (older runs' records call
    it ``images_seen``; nothing in ganforge reads either)."""
    rec: dict[str, Any] = {"step": step, "kind": "train"}
    for k, v in stats.items():
        rec[k] = float(v)
    if "value" in rec:
        rec["js_lower_bound"] = js_lower_bound(rec["value"])
    rec["samples_seen"] = samples_seen
    rec["it_per_s"] = rate
    rec["elapsed_s"] = round(elapsed, 3)
    for k in ("d_loss", "g_loss"):
        if k in rec and not math.isfinite(rec[k]):
            raise TrainingError(
                f"{k} became {rec[k]} at step {step}: training diverged. Lower "
                "optim.g_lr / optim.d_lr, add loss.penalty=r1, and --resume from the last "
                "checkpoint"
            )
    return rec


def postfix(rec: dict[str, Any]) -> dict[str, str]:
    """The progress bar's short figures."""
    out = {}
    # a critic's scores are no probabilities: its gap, not sigmoid(score), says how it goes
    probabilities = (("d_real", "D(x)"), ("d_fake", "D(G(z))"))
    beliefs = (("critic_gap", "gap"),) if "critic_gap" in rec else probabilities
    for key, short in (("d_loss", "D"), ("g_loss", "G"), *beliefs):
        if key in rec:
            out[short] = f"{rec[key]:.3f}"
    if "p" in rec:
        out["p"] = f"{rec['p']:.2f}"
    return out
