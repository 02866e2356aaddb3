"""``ganforge eval``: score a run's generator, write ``eval.json`` and ``report.html``; and
``PeriodicEval``, the training hook that scores every ``eval.every`` steps and keeps the best.

What is measured is the run's modality's business (:meth:`Modality.evaluate`,
:meth:`Modality.periodic_scorer`); this module runs it and keeps the files.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from ganforge.engine import checkpoint as ckpt
from ganforge.engine.latent import sample_latent
from ganforge.engine.protocols import take
from ganforge.errors import ConfigError, closest
from ganforge.progress import plan, stage, stage_lines
from ganforge.registry import MODALITIES
from ganforge.report import write_report
from ganforge.run import Run


def evaluate(
    run_dir: str | Path,
    metrics: str | None = None,
    n: int = 10000,
    inception_weights: str | None = None,
    seed: int = 0,
    progress: bool = True,
    write: bool = True,
    i3d_weights: str | None = None,
    best: bool = False,
) -> dict[str, Any]:
    """Score the run's generator on ``n`` samples against real data, with real-data floors
    (``best``: its best checkpoint by ``eval.metric``, not the latest).

    ``inception_weights`` (images) and ``i3d_weights`` (video) add the standard FID / FVD.
    Writes ``RUN/eval.json`` and ``RUN/report.html`` (``write=False`` skips both).
    """
    if n < 10:
        raise ConfigError(f"--n must be at least 10; got {n}")
    # off a terminal no bar shows: each stage is a line on stderr, never a silent wait
    with stage_lines("eval", enabled=progress and not sys.stderr.isatty()):
        return _evaluate(
            run_dir, metrics, n, seed, progress, write, best, inception_weights, i3d_weights
        )


def _evaluate(
    run_dir: str | Path,
    metrics: str | None,
    n: int,
    seed: int,
    progress: bool,
    write: bool,
    best: bool,
    inception_weights: str | None,
    i3d_weights: str | None,
) -> dict[str, Any]:
    plan("loading the run", "scoring", "writing the report", weights=(1, 18, 1))
    stage("loading the run")
    run = Run(run_dir, best=best)
    modality = run.modality_obj
    _check_metric_names(metrics, modality)
    t0 = time.perf_counter()
    given = {"inception_weights": inception_weights, "i3d_weights": i3d_weights}
    extra = {k: v for k, v in given.items() if v}
    checkpoint = "best" if best else "latest"
    stage("scoring", say=f"scoring {n} samples of the {checkpoint} checkpoint (step {run.step})")
    ev = modality.evaluate(run, metrics, n, seed, progress, **extra)
    result = {
        "run": str(run.paths.root),
        "step": run.step,
        "checkpoint": checkpoint,
        "n": n,
        "extractor": ev.extractor,
        "scores": ev.scores,
        "baseline": ev.baseline,
        "notes": ev.notes,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if write:
        stage("writing the report")
        ckpt.atomic_write_text(run.paths.root / "eval.json", json.dumps(result, indent=1))
        count = modality.picture_count(run.config)
        cond = modality.conditions(count, run.meta, run.config)  # class rows, named, if any
        info = {**run.info, "conditions": cond, "class_names": run.meta.get("class_names")}
        generated = modality.picture(run.sample(count, seed=seed, labels=cond), info)
        write_report(
            run.paths.root / "report.html",
            f"ganforge report: {run.paths.root.name}",
            result,
            generated,
            ev.real_picture,
            run.paths.equilibrium,
            ev.captions,
            ev.pictures,
        )
    return result


def _check_metric_names(text: str | None, modality: Any) -> None:
    """Every name in ``--metrics`` must be some modality's metric (the run's modality skips,
    with a note, the ones that are not its own); a typo is offered the run's own names."""
    own = modality.metric_names
    known = set(own)
    for _, m in MODALITIES.items():
        known.update(m.metric_names)
    for name in (t.strip().lower() for t in (text or "").split(",")):
        if name and name not in known:
            close = closest(name, own)
            hint = f" (did you mean '{close}'?)" if close else ""
            choose = (
                f"a {modality.name} run is scored by {','.join(own)} (comma-separated)"
                if own
                else f"the {modality.name} modality names no metrics: leave out --metrics"
            )
            raise ConfigError(f"unknown metric '{name}'{hint}; {choose}")


class PeriodicEval:
    """Trainer hook: the modality's ``eval.metric`` every ``eval.every`` steps; the best
    checkpoint is kept in ``RUN/best/`` (lower is better; of equal scores the latest). With
    ``eval.patience`` it ends training after that many evaluations in a row without a new
    best. A scorer's ``details`` (the parts of its last score) are logged beside it."""

    def __init__(
        self, run_root: Path, cfg: Any, scorer: Any, modality: Any, meta: dict[str, Any]
    ) -> None:
        if scorer is None:
            raise ConfigError(
                f"the {modality.name} modality has no periodic metric; set eval.every=0"
            )
        self.root = Path(run_root)
        self.cfg = cfg
        self.every = cfg.eval.every
        self.scorer = scorer
        self.modality = modality
        self.meta = meta
        self.best, self.best_step = self._stored_best()
        self.last_step: int | None = None

    def _stored_best(self) -> tuple[float | None, int]:
        last = ckpt.latest_checkpoint(self.root / "best")
        if last is None:
            return None, 0
        state = ckpt.load_checkpoint(last)[2]
        return state.get("eval_score"), int(state.get("step", 0))

    def fakes(self, trainer: Any, n: int) -> torch.Tensor:
        """``n`` samples of the trainer's sampling generator on a fixed latent stream, their
        conditions covering every class (the run's, not the picture batch's)."""
        gen = torch.Generator().manual_seed(self.cfg.train.seed + 999)
        z = sample_latent(trainer.G, n, generator=gen)
        cond = self.modality.conditions(n, self.meta, self.cfg)
        return torch.cat(
            [
                trainer.generate(take(z, i, i + 500), take(cond, i, i + 500)).float().cpu()
                for i in range(0, n, 500)
            ]
        )

    def __call__(self, trainer: Any, step: int) -> dict[str, Any]:
        if step == self.last_step:  # the final call after an early stop: scored already
            return {}
        self.last_step = step
        fake = self.fakes(trainer, self.scorer.sample_count())
        # a scorer may train or build a feature net the first time (global RNG draws):
        # training's random stream must not depend on that, or resumes would diverge
        with torch.random.fork_rng(devices=[]):
            label, score = self.scorer(fake)
        # a tie is a new best: a score that cannot rank (every one equal) keeps the latest
        # weights instead of the first, barely trained ones, and never ends training
        if self.best is None or score <= self.best:
            self.best, self.best_step = score, step
            weights, extra, state = trainer.state_tensors()
            state["eval_score"], state["eval_metric"] = score, label
            ckpt.save_checkpoint(self.root / "best", step, weights, extra, state, keep=1)
        patience = self.cfg.eval.patience
        if patience and step - self.best_step >= patience * self.every:
            trainer.request_stop(
                f"{label} has not improved for {patience} evaluations "
                f"(best {self.best:.4g} at step {self.best_step})"
            )
        details = dict(getattr(self.scorer, "details", None) or {})  # the score's parts
        return {**details, label: score, "best_" + label: self.best}
