"""Synthetic tables in five lines, as CTGAN users expect::

    from ganforge.tabular import TableSynthesizer
    synth = TableSynthesizer(epochs=30).fit(df)          # a pandas DataFrame (or a CSV path)
    fake = synth.sample(10000)                            # a DataFrame like df
    ideal = synth.sample(500, conditions={"cut": "Ideal"})
    synth.save("runs/diamonds"); synth = TableSynthesizer.load("runs/diamonds")

It drives the same engine and run directory as ``ganforge train tabular``: a fitted
synthesizer *is* a run (safetensors weights, JSON config and column codecs; nothing
pickled), so ``ganforge sample`` / ``eval`` work on what ``save`` wrote.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ganforge.errors import ConfigError
from ganforge.modalities.table import TableModality, decode
from ganforge.modalities.table.datasets import remember_frame
from ganforge.modalities.table.evaluate import real_split
from ganforge.run import Run


class TableSynthesizer:
    """Fit a CTGAN-class GAN to a table; sample rows, optionally holding a column's value.

    ``epochs`` (passes over the training rows) or ``steps`` set the training length
    (default: the ``tabular`` preset's 3000 steps); ``max_seconds`` caps it in time.
    ``columns`` overrides detected kinds (``{"zip": "categorical"}``); ``holdout`` is the
    share of rows kept out of training for :meth:`evaluate` (0 trains on every row).
    ``overrides`` are any ``key=value`` config strings, as ``--set`` takes.

    ``eval_every`` scores ``metric`` (``detection``, ``shapes``, ``pairs`` or ``efficacy``,
    against training rows) every that many steps and keeps the best checkpoint, which
    :meth:`sample` then uses; ``patience`` stops training after that many scores without
    a new best (early stopping).
    """

    def __init__(
        self,
        epochs: float | None = None,
        steps: int | None = None,
        batch: int = 500,
        seed: int = 0,
        columns: dict[str, str] | None = None,
        holdout: float = 0.2,
        max_seconds: float | None = None,
        overrides: list[str] | None = None,
        progress: bool = False,
        eval_every: int = 0,
        metric: str = "detection",
        patience: int = 0,
    ) -> None:
        if epochs is not None and steps is not None:
            raise ConfigError("give epochs or steps, not both")
        if patience and not eval_every:
            raise ConfigError("patience needs eval_every: the steps between scores")
        self.eval_every, self.metric, self.patience = eval_every, metric, patience
        self.epochs, self.steps, self.batch, self.seed = epochs, steps, batch, seed
        self.columns, self.holdout, self.max_seconds = dict(columns or {}), holdout, max_seconds
        self.overrides, self.progress = list(overrides or []), progress
        self._run: Run | None = None
        self.stopped_early: str | None = None  # why fit ended before its steps (patience)
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._frame: pd.DataFrame | None = None

    # ------------------------------------------------------------------ fit
    def fit(
        self, data: pd.DataFrame | str | Path, out: str | Path | None = None
    ) -> TableSynthesizer:
        """Train on ``data`` (a DataFrame, or a .csv/.parquet path) into run directory
        ``out`` (a temporary one by default: :meth:`save` keeps it)."""
        from ganforge.training import train

        if isinstance(data, pd.DataFrame):
            self._frame = data
            spec = remember_frame(data)
            rows = len(data)
        else:
            path = Path(data)
            spec = f"{'parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'csv'}:{path}"
            rows = None
        if out is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ganforge-table-")
            out = Path(self._tmp.name) / "run"
        sets = [
            f"train.batch={self.batch}",
            f"train.seed={self.seed}",
            f"tabular.holdout={self.holdout}",
            *[f"tabular.columns.{k}={v}" for k, v in self.columns.items()],
        ]
        if self.max_seconds:
            sets.append(f"train.max_seconds={self.max_seconds}")
        if self.eval_every:
            sets += [f"eval.every={self.eval_every}", f"eval.metric={self.metric}"]
            sets.append(f"eval.patience={self.patience}")
        steps = self.steps
        if self.epochs is not None:
            if rows is None:
                from ganforge.modalities.table.datasets import read_table

                rows = len(read_table(data))
            train_rows = rows - int(round(rows * self.holdout))
            steps = max(1, math.ceil(self.epochs * train_rows / self.batch))
        result = train(
            "tabular",
            data=spec,
            out=out,
            steps=steps,
            overrides=sets + self.overrides,
            progress=self.progress,
        )
        self.stopped_early = result.stopped_early
        self._run = _best_or_latest(result.run_dir)
        return self

    # ------------------------------------------------------------------ use
    @property
    def best_step(self) -> int | None:
        """The step of the checkpoint in use when it is the best by ``metric``, else None."""
        run = self.run
        return run.step if run.checkpoint.parent.name == "best" else None

    @property
    def run(self) -> Run:
        if self._run is None:
            raise ConfigError("this TableSynthesizer is not fitted yet; call fit(df) first")
        return self._run

    @property
    def column_kinds(self) -> dict[str, str]:
        """Each column's kind as detected (or set through ``columns``)."""
        return {c["name"]: c["kind"] for c in self.run.info["table"]["columns"]}

    def sample(
        self, n: int, conditions: dict[str, Any] | None = None, seed: int = 0
    ) -> pd.DataFrame:
        """``n`` synthetic rows. ``conditions={"cut": "Ideal"}`` makes every row hold that
        value (through G's condition vector, not by rejecting rows); with several columns
        (``{"cut": "Ideal", "color": "E"}``) the rarest value goes through the vector and
        rows are drawn until enough hold the others. Without conditions each categorical
        column comes out at its real frequencies."""
        if n < 1:
            raise ConfigError(f"n must be at least 1; got {n}")
        run = self.run
        modality = run.modality_obj
        if conditions:
            rows, info = modality.sample_asked(run, n, dict(conditions), seed)
            return decode(rows, info, seed=seed)
        cond = modality.conditions(n, run.meta, run.config, seed=seed)
        return decode(run.sample(n, seed=seed, labels=cond), run.info, seed=seed)

    def evaluate(
        self,
        n: int | None = None,
        metrics: str | None = None,
        seed: int = 0,
        real: pd.DataFrame | None = None,
    ) -> dict[str, dict[str, float]]:
        """Scores of ``n`` synthetic rows, each with its held-out real floor (see
        :mod:`ganforge.modalities.table.quality`). ``real`` gives held-out rows yourself
        (for a synthesizer fitted with ``holdout=0``)."""
        from ganforge.modalities.table.evaluate import evaluate_frames

        kinds = self.column_kinds
        train, holdout = self._split()
        if real is not None:
            holdout = real
        synth = self.sample(n or max(len(holdout), 1000), seed=seed)
        target = self.run.config.section("tabular").target
        return evaluate_frames(train, holdout, synth, kinds, metrics, target, seed)

    def _split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(training rows, held-out rows), split as in training."""
        from ganforge.modalities.table.datasets import split_rows

        if self._frame is None:
            return real_split(self.run)
        table = self.run.info["table"]
        tr, ho = split_rows(len(self._frame), table["holdout"], table["split_seed"])
        return self._frame.iloc[tr], self._frame.iloc[ho]

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Copy the run directory to ``path`` (which must not exist yet)."""
        dest = Path(path)
        if dest.exists():
            raise ConfigError(f"{dest} already exists; choose a new folder")
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(self.run.paths.root, tmp)
        tmp.replace(dest)
        self._run = _best_or_latest(dest)
        return dest

    @classmethod
    def load(cls, path: str | Path) -> TableSynthesizer:
        """A synthesizer from a saved folder or any ``ganforge train tabular`` run (its best
        checkpoint where one was kept, as :meth:`fit` leaves it)."""
        run = _best_or_latest(path)
        if not isinstance(run.modality_obj, TableModality):
            raise ConfigError(f"{path} is a {run.modality} run, not a table run")
        out = cls(seed=run.config.train.seed, batch=run.config.train.batch)
        out._run = run
        return out


def _best_or_latest(path: str | Path) -> Run:
    """The run at its best checkpoint when training kept one (``eval.every``), else its
    latest."""
    return Run(path, best=(Path(path) / "best").is_dir())


__all__ = ["TableSynthesizer"]
