"""Synthetic tables in a few lines, as CTGAN and SDV users write them::

    from ganforge.tabular import TableSynthesizer
    synth = TableSynthesizer().fit(df, discrete_columns=["cut"])  # a DataFrame or a CSV path
    fake = synth.sample(10000)                            # new rows on every call
    same = synth.sample(500, seed=1)                      # the same rows for the same seed
    ideal = synth.sample(500, conditions={"cut": "Ideal"})
    synth.save("diamonds.synth"); synth = TableSynthesizer.load("diamonds.synth")
    synth.save_metadata("meta.json")   # SDV single-table metadata; fit(df, metadata=...) reads it

It drives the same engine and run directory as ``ganforge train tabular``: a fitted
synthesizer *is* a run (safetensors weights, JSON config and column codecs; nothing
pickled), so ``ganforge sample`` works on what ``save`` wrote.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganforge.engine import checkpoint as ckpt
from ganforge.errors import ConfigError
from ganforge.modalities.table import TableModality
from ganforge.modalities.table.columns import detect_kind
from ganforge.modalities.table.datasets import read_table, remember_frame, split_rows
from ganforge.modalities.table.evaluate import evaluate_frames, real_split
from ganforge.modalities.table.metadata import (
    kinds_from_metadata,
    metadata_from_kinds,
    read_metadata,
)
from ganforge.modalities.table.transform import decode
from ganforge.run import Run
from ganforge.training import resolve_config, train


class TableSynthesizer:
    """Fit a CTGAN-class GAN to a table; sample rows, optionally holding a column's value.

    ``metadata`` (SDV single-table metadata: a dict, a JSON path or SDV's object) sets
    column kinds, as :meth:`fit`'s does. ``epochs`` (passes over the training rows) or
    ``steps`` set the training length; by default it is sized to the table (the
    ``tabular`` preset: 100 passes, clamped to 4,000..30,000 steps; said in one line at
    the start). ``max_seconds`` caps it in time. ``columns`` overrides detected kinds
    (``{"zip": "categorical"}``); ``holdout`` is the share of rows kept out of training
    for :meth:`evaluate` (0 trains on every row). ``overrides`` are any ``key=value``
    config strings, as ``--set`` takes.

    ``eval_every`` scores ``metric`` (``quality``, ``detection``, ``shapes``, ``pairs`` or
    ``efficacy``, against training rows) every that many steps and keeps the best
    checkpoint, which :meth:`sample` then uses; ``patience`` stops training after that many
    scores without a new best (early stopping). By default the preset's: ``quality`` every
    250 steps, patience 8.
    """

    def __init__(
        self,
        metadata: Any = None,
        *,
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
        metric: str | None = None,
        patience: int = 0,
    ) -> None:
        if epochs is not None and steps is not None:
            raise ConfigError("give epochs or steps, not both")
        if patience and not eval_every:
            raise ConfigError("patience needs eval_every: the steps between scores")
        self.metadata = metadata
        self.eval_every, self.metric, self.patience = eval_every, metric, patience
        self.epochs, self.steps, self.batch, self.seed = epochs, steps, batch, seed
        self.columns, self.holdout, self.max_seconds = dict(columns or {}), holdout, max_seconds
        self.overrides, self.progress = list(overrides or []), progress
        self._run: Run | None = None
        self._best_step: int | None = None
        self.stopped_early: str | None = None  # why fit ended before its steps (patience)
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._frame: pd.DataFrame | None = None
        self.reset_sampling()

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: pd.DataFrame | str | Path,
        discrete_columns: list[str] | tuple[str, ...] | None = None,
        *,
        metadata: Any = None,
        out: str | Path | None = None,
    ) -> TableSynthesizer:
        """Train on ``data`` (a DataFrame, or a .csv/.parquet path). ``discrete_columns``
        (CTGAN's argument) are modelled as labels; ``metadata`` (SDV's, see
        :mod:`.metadata`) sets every kind it names; ``columns`` (the constructor's) wins
        over both. The run directory is ``out`` (a temporary one by default: :meth:`save`
        keeps what sampling needs)."""
        if isinstance(discrete_columns, (str, Path)):
            raise ConfigError(
                "discrete_columns is a list of column names; give the run folder as out=PATH"
            )
        if isinstance(data, pd.DataFrame):
            frame, spec = data, remember_frame(data)
            self._frame = data
        else:
            path = Path(data)
            frame = read_table(path)
            spec = f"{'parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'csv'}:{path}"
        kinds = self._kinds(frame, list(discrete_columns or []), metadata)
        sets = self._settings()
        if out is None:  # a temporary run's pictures are never seen: skipped (~1 s each)
            self._tmp = tempfile.TemporaryDirectory(prefix="ganforge-table-")
            out = Path(self._tmp.name) / "run"
            sets.insert(0, "log.pictures=false")
        cfg = resolve_config("tabular", data=spec, overrides=sets)
        cfg.section("tabular").columns.update(kinds)  # names may hold dots or '='
        result = train(cfg, out=out, progress=self.progress)
        self.stopped_early = result.stopped_early
        self._run, self._best_step = _best_or_latest(result.run_dir)
        self.reset_sampling()
        return self

    def _settings(self) -> list[str]:
        sets = [
            f"train.batch={self.batch}",
            f"train.seed={self.seed}",
            f"data.holdout={self.holdout}",
        ]
        if self.steps is not None:
            sets.append(f"train.steps={self.steps}")
        elif self.epochs is not None:  # exactly these passes: no clamp
            sets += ["train.steps=0", f"tabular.epochs={self.epochs}"]
            sets += ["tabular.min_steps=1", "tabular.max_steps=0"]
        if self.max_seconds:
            sets.append(f"train.max_seconds={self.max_seconds}")
        if self.eval_every:
            sets.append(f"eval.every={self.eval_every}")
            sets.append(f"eval.patience={self.patience}")
        if self.metric:
            sets.append(f"eval.metric={self.metric}")
        return sets + self.overrides

    def _kinds(self, frame: pd.DataFrame, discrete: list[str], metadata: Any) -> dict[str, str]:
        """Column kinds set by the caller: metadata, then discrete columns, then ``columns``."""
        names = [str(c) for c in frame.columns]
        missing = [c for c in discrete if str(c) not in names]
        if missing:
            raise ConfigError(
                f"discrete_columns: the table has no column {', '.join(map(repr, missing))}; "
                f"its columns are {', '.join(names)}"
            )
        kinds: dict[str, str] = {}
        source = metadata if metadata is not None else self.metadata
        if source is not None:
            meta = read_metadata(source)
            numeric = [c for c in meta["columns"] if c in names]
            detected = {c: detect_kind(frame[c]).kind for c in numeric}
            kinds.update(kinds_from_metadata(meta, names, detected))
        for c in map(str, discrete):  # a yes/no column stays boolean: it is discrete already
            kinds[c] = "boolean" if detect_kind(frame[c]).kind == "boolean" else "categorical"
        return {**kinds, **self.columns}

    # ------------------------------------------------------------------ use
    @property
    def best_step(self) -> int | None:
        """The step of the checkpoint in use when it is the best by ``metric``, else None."""
        self.run  # noqa: B018 - not fitted: one clear error
        return self._best_step

    @property
    def run(self) -> Run:
        if self._run is None:
            raise ConfigError("this TableSynthesizer is not fitted yet; call fit(df) first")
        return self._run

    @property
    def column_kinds(self) -> dict[str, str]:
        """Each column's kind as detected (or set through ``columns`` / metadata)."""
        return {c["name"]: c["kind"] for c in self.run.info["table"]["columns"]}

    def reset_sampling(self) -> None:
        """Start the unseeded draws of :meth:`sample` again: the same calls give the same
        rows as after :meth:`fit` (SDV's ``reset_sampling``)."""
        self._draws = np.random.default_rng([self.seed, 7919])

    def sample(
        self,
        n: int | None = None,
        conditions: dict[str, Any] | None = None,
        *,
        seed: int | None = None,
        num_rows: int | None = None,
    ) -> pd.DataFrame:
        """``n`` (SDV: ``num_rows``) synthetic rows: new ones on every call, the same ones
        for the same ``seed``. ``conditions={"cut": "Ideal"}`` makes every row hold that
        value (through G's condition vector, not by rejecting rows); with several columns
        the rarest value goes through the vector and rows are drawn until enough hold the
        others. Without conditions each categorical column comes out at its real
        frequencies."""
        if n is None:
            n = num_rows
        elif num_rows is not None and num_rows != n:
            raise ConfigError(f"give n or num_rows, not both ({n} and {num_rows})")
        if n is None or n < 1:
            raise ConfigError(f"the number of rows must be at least 1; got {n}")
        if seed is None:
            seed = int(self._draws.integers(2**31 - 1))
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
        kinds = self.column_kinds
        train, holdout = self._split()
        if real is not None:
            holdout = real
        synth = self.sample(n or max(len(holdout), 1000), seed=seed)
        target = self.run.config.section("tabular").target
        return evaluate_frames(train, holdout, synth, kinds, metrics, target, seed)

    def _split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(training rows, held-out rows), split as in training."""
        if self._frame is None:
            return real_split(self.run)
        table = self.run.info["table"]
        tr, ho = split_rows(len(self._frame), table["holdout"], table["split_seed"])
        return self._frame.iloc[tr], self._frame.iloc[ho]

    # ------------------------------------------------------------------ metadata
    def get_metadata(self) -> dict[str, Any]:
        """SDV single-table metadata of the fitted table (its columns' kinds)."""
        return metadata_from_kinds(self.column_kinds)

    def save_metadata(self, path: str | Path) -> Path:
        """Write :meth:`get_metadata` as JSON to ``path`` (atomically; replaces a file)."""
        path = Path(path)
        ckpt.atomic_write_text(path, json.dumps(self.get_metadata(), indent=2))
        return path

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write what sampling needs to folder ``path``: the generator's weights (its EMA
        where kept), the config and the column codecs; not D nor the optimisers. Written
        atomically; an earlier save (or a run) at ``path`` is replaced."""
        run, dest = self.run, Path(path)
        if dest.exists() and not _replaceable(dest):
            raise ConfigError(
                f"{dest} exists and is not a saved synthesizer; choose a new path or remove it"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            shutil.copyfile(run.paths.config, tmp / "config.yaml")
            (tmp / "run.json").write_text(json.dumps(run.meta), encoding="utf-8")
            weights = ckpt.prefixed(run.generator.state_dict(), "G_ema" if run.used_ema else "G")
            state = {"step": run.step, "saved": True, "best_step": self._best_step}
            ckpt.save_checkpoint(tmp / "checkpoints", run.step, weights, {}, state)
            if dest.exists():
                old = dest.with_name(f".{dest.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                dest.rename(old)
                tmp.rename(dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._run, self._best_step = _best_or_latest(dest)
        return dest

    @classmethod
    def load(cls, path: str | Path) -> TableSynthesizer:
        """A synthesizer from a saved folder or any ``ganforge train tabular`` run (its best
        checkpoint where one was kept, as :meth:`fit` leaves it)."""
        run, best_step = _best_or_latest(path)
        if not isinstance(run.modality_obj, TableModality):
            raise ConfigError(f"{path} is a {run.modality} run, not a table run")
        out = cls(seed=run.config.train.seed, batch=run.config.train.batch)
        out._run, out._best_step = run, best_step
        return out


def _replaceable(path: Path) -> bool:
    """Whether ``save`` may replace ``path``: an earlier save or run, or an empty folder."""
    if not path.is_dir():
        return False
    return (path / "run.json").is_file() or not any(path.iterdir())


def _best_or_latest(path: str | Path) -> tuple[Run, int | None]:
    """The run at its best checkpoint when training kept one (``eval.every``), else its
    latest; and the best checkpoint's step (None when it is not the best)."""
    best = (Path(path) / "best").is_dir()
    run = Run(path, best=best)
    if best:
        return run, run.step
    state = json.loads((run.checkpoint / "state.json").read_text(encoding="utf-8"))
    return run, state.get("best_step") if state.get("saved") else None


__all__ = ["TableSynthesizer"]
