"""The training loop: alternate D and G steps, log the game, save checkpoints, resume exactly.

The trainer sees tensors only. Modalities attach *hooks*, called every ``log.sample_every``
steps and at the end, to render samples or compute their own metrics.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from ganforge.config import Config
from ganforge.data.sampler import BatchSampler
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.distributed import (
    SINGLE,
    DistContext,
    any_rank,
    any_ranks,
    from_main,
    gather_to_all,
    mean_over_ranks,
    per_rank_batch,
    wrap,
)
from ganforge.engine.ema import EMA
from ganforge.engine.losses import get_loss, js_lower_bound
from ganforge.engine.performance import plan_speed, to_layout, use_spectral
from ganforge.engine.step import StepOptions, d_step, g_step, simultaneous_step
from ganforge.errors import RunError, TrainingError

Hook = Callable[["Trainer", int], "dict[str, Any] | None"]
_RANK_SEED_STRIDE = 1_000_003  # rank r draws from seed + r * stride (rank 0: the seed itself)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("train.device=cuda but no CUDA GPU is visible; use --device cpu")
    return torch.device(name)


class Trainer:
    """Trains ``G`` against ``D`` on ``data`` as ``cfg`` says, writing into ``run_dir``.

    ``data`` needs ``len()``, ``batch(index) -> (x, labels)`` and ``conditional``. With a
    distributed ``dist`` (see :mod:`ganforge.engine.distributed`) each process trains on its
    shard through ``DistributedDataParallel`` and only rank 0 writes.
    """

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        data: Any,
        cfg: Config,
        run_dir: Path | None = None,
        hooks: list[Hook] | None = None,
        dist: DistContext = SINGLE,
    ) -> None:
        self.cfg = cfg
        self.dist = dist
        self.run_dir = Path(run_dir) if run_dir else None
        self.device = resolve_device(cfg.train.device)
        if dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", dist.local_rank)
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        torch.manual_seed(cfg.train.seed + _RANK_SEED_STRIDE * dist.rank)
        t = cfg.train
        self.speed = plan_speed(
            t.precision,
            t.channels_last,
            t.compile,
            self.device,
            G,
            D,
            t.spectral_conv,
            shared_backward=t.shared_backward and t.step == "simultaneous",
        )
        use_spectral(G, self.speed.spectral_conv)
        use_spectral(D, self.speed.spectral_conv)
        fmt = torch.channels_last if self.speed.channels_last else torch.contiguous_format
        self.G = G.to(self.device, memory_format=fmt)
        self.D = D.to(self.device, memory_format=fmt)
        if self.speed.compile:
            # the simultaneous step runs two backward passes over one graph
            import torch._functorch.config as functorch_config

            functorch_config.donated_buffer = False
            self.G.compile()
            self.D.compile()
        # what the step runs: the nets themselves, or their DDP wrappers when distributed
        self.G_step, self.D_step = wrap(self.G, dist, self.device), wrap(self.D, dist, self.device)
        self.data = data
        self.hooks = hooks or []
        t, o = cfg.train, cfg.optim
        self.g_opt = torch.optim.Adam(G.parameters(), lr=o.g_lr, betas=o.betas, eps=o.eps)
        self.d_opt = torch.optim.Adam(D.parameters(), lr=o.d_lr, betas=o.betas, eps=o.eps)
        self.ema = EMA(self.G, t.ema) if t.ema > 0 else None
        self.sampler = BatchSampler(
            len(data),
            per_rank_batch(t.batch, dist),
            seed=t.seed,
            rank=dist.rank,
            world_size=dist.world_size,
        )
        self.loss = get_loss(cfg.loss.type)
        autocast = self.speed.autocast(self.device)
        self.opts = StepOptions(
            loss=self.loss,
            penalty=cfg.loss.penalty,
            penalty_weight=cfg.loss.penalty_weight,
            r1_every=cfg.loss.r1_every,
            autocast=autocast,
            shared_backward=self.speed.shared_backward,
        )
        self.step = 0
        self.d_steps = 0
        self.images_seen = 0
        self.elapsed = 0.0  # training seconds over all sessions of this run
        self.last_stats: dict[str, float] = {}
        self._stop_signal: int | None = None
        self._last_penalty: torch.Tensor | None = None
        self.recoveries = 0  # divergence-guard rollbacks so far
        self.lr_scale = 1.0  # product of the guard's learning-rate cuts
        self._saturated = 0  # consecutive steps with D(x) > 0.99 and D(G(z)) < 0.01
        # Fixed latent batch for sample grids and the progress GIF (its own RNG stream).
        gen = torch.Generator().manual_seed(cfg.train.seed + 12345)
        self.fixed_z = torch.randn(cfg.log.n_samples, G.z_dim, generator=gen).to(self.device)
        n_cls = getattr(data, "num_classes", 0)
        self.fixed_labels = (
            (torch.arange(cfg.log.n_samples) % n_cls).to(self.device)
            if getattr(data, "conditional", False)
            else None
        )

    # ------------------------------------------------------------------ sampling
    @property
    def sampling_generator(self) -> nn.Module:
        """The network used to draw samples: the EMA copy when enabled, else G."""
        return self.ema.shadow if self.ema is not None else self.G

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from the sampling generator in eval mode (batch-norm uses running stats)."""
        net = self.sampling_generator
        was_training = net.training
        net.eval()
        try:
            return net(z.to(self.device), None if labels is None else labels.to(self.device))
        finally:
            net.train(was_training)

    # ------------------------------------------------------------------ state
    def state_tensors(
        self, rank_rng: dict[str, torch.Tensor] | None = None
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
        """(weights, optimiser + RNG tensors, plain state) of this moment; ``rank_rng``
        adds the other ranks' RNG states (see :meth:`_rank_rng_states`)."""
        weights = ckpt.prefixed(self.G.state_dict(), "G")
        weights.update(ckpt.prefixed(self.D.state_dict(), "D"))
        if self.ema is not None:
            weights.update(ckpt.prefixed(self.ema.shadow.state_dict(), "G_ema"))
        extra, g_plain = ckpt.optimizer_to_flat("g_opt", self.g_opt)
        d_extra, d_plain = ckpt.optimizer_to_flat("d_opt", self.d_opt)
        extra.update(d_extra)
        extra["rng.cpu"] = torch.get_rng_state()
        if self.device.type == "cuda":
            extra["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        extra.update(rank_rng or {})
        state = {
            "step": self.step,
            "d_steps": self.d_steps,
            "images_seen": self.images_seen,
            "elapsed": self.elapsed,
            "sampler": self._sampler_state_global(),
            "g_opt": g_plain,
            "d_opt": d_plain,
            "last_stats": self.last_stats,
            "recoveries": self.recoveries,
            "lr_scale": self.lr_scale,
            "world_size": self.dist.world_size,
            "format": 1,
        }
        return weights, extra, state

    def _sampler_state_global(self) -> dict[str, int]:
        """The sampler's place in the epoch counted over all ranks, so a checkpoint resumes
        at the same point of the epoch with any number of processes."""
        state = self.sampler.state_dict()
        state["position"] *= self.dist.world_size
        return state

    def _rank_rng_states(self) -> dict[str, torch.Tensor]:
        """Ranks 1.. RNG states, gathered (every rank takes part) so that rank 0 saves them
        and a job resumed with as many processes continues exactly."""
        if not self.dist.enabled:
            return {}
        out = {}
        for r, state in enumerate(gather_to_all(torch.get_rng_state(), self.dist)):
            if r:
                out[f"rng.cpu.rank{r}"] = state
        if self.device.type == "cuda":
            cuda = gather_to_all(torch.cuda.get_rng_state(self.device), self.dist)
            out.update({f"rng.cuda.rank{r}": st for r, st in enumerate(cuda) if r})
        return out

    def save(self) -> Path | None:
        """Checkpoint now (refuses to save non-finite weights). Distributed: rank 0 writes,
        every rank waits until it has."""
        if self.run_dir is None:
            return None
        for name, net in (("G", self.G), ("D", self.D)):
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                raise TrainingError(
                    f"{name}'s weights are not finite at step {self.step}; not saving them. "
                    "Lower optim.g_lr / optim.d_lr or add loss.penalty and --resume"
                )
        root = self.run_dir / "checkpoints"
        path, failure = None, None
        rank_rng = self._rank_rng_states()
        if self.dist.is_main:
            weights, extra, state = self.state_tensors(rank_rng)
            try:
                path = ckpt.save_checkpoint(
                    root, self.step, weights, extra, state, keep=self.cfg.log.keep_checkpoints
                )
            except OSError as exc:
                failure = (
                    f"cannot write a checkpoint in {root}: {exc.strerror or exc}; free disk "
                    "space or fix permissions, then --resume (the last complete checkpoint is "
                    "intact)"
                )
        if any_rank(failure is not None, self.dist):
            raise RunError(failure or "rank 0 could not write a checkpoint; see its message")
        return path

    def load(self, path: Path) -> None:
        """Restore everything a checkpoint holds: weights, optimisers, RNG, sampler, step."""
        weights, extra, state = ckpt.load_checkpoint(path)
        self.G.load_state_dict(ckpt.split_prefixed(weights, "G"))
        self.D.load_state_dict(ckpt.split_prefixed(weights, "D"))
        if self.ema is not None:
            ema_w = ckpt.split_prefixed(weights, "G_ema") or ckpt.split_prefixed(weights, "G")
            self.ema.shadow.load_state_dict(ema_w)
        ckpt.optimizer_from_flat("g_opt", self.g_opt, extra, state["g_opt"])
        ckpt.optimizer_from_flat("d_opt", self.d_opt, extra, state["d_opt"])
        torch.set_rng_state(extra["rng.cpu"])
        if self.device.type == "cuda" and "rng.cuda" in extra:
            torch.cuda.set_rng_state(extra["rng.cuda"], self.device)
        sampler = dict(state["sampler"])  # saved in samples of the whole job (see below)
        sampler["position"] = int(sampler["position"]) // self.dist.world_size
        self.sampler.load_state_dict(sampler)
        self.step = int(state["step"])
        self.d_steps = int(state.get("d_steps", 0))
        self.images_seen = int(state.get("images_seen", 0))
        self.elapsed = float(state.get("elapsed", 0.0))
        self.last_stats = dict(state.get("last_stats", {}))
        self.recoveries = int(state.get("recoveries", 0))
        self.lr_scale = float(state.get("lr_scale", 1.0))
        r = self.dist.rank
        if r and state.get("world_size") == self.dist.world_size and f"rng.cpu.rank{r}" in extra:
            torch.set_rng_state(extra[f"rng.cpu.rank{r}"])  # same job shape: continue exactly
            if self.device.type == "cuda" and f"rng.cuda.rank{r}" in extra:
                torch.cuda.set_rng_state(extra[f"rng.cuda.rank{r}"], self.device)
        elif r:  # saved by a job of another size: derive this rank's stream
            torch.manual_seed(self.cfg.train.seed + _RANK_SEED_STRIDE * r + self.step)

    def resume(self) -> Path | None:
        """Load the newest complete checkpoint of the run, if any; trims later log lines."""
        if self.run_dir is None:
            return None
        path = self._agreed_latest_checkpoint()
        if path is None:
            return None
        self.load(path)
        if self.dist.is_main:
            self._trim_metrics(self.step)
        return path

    def _agreed_latest_checkpoint(self) -> Path | None:
        """The newest complete checkpoint as rank 0 sees it; every rank must be able to read
        it (a run directory on storage all nodes share)."""
        root = self.run_dir / "checkpoints"
        found = ckpt.latest_checkpoint(root) if self.dist.is_main else None
        name = from_main(found.name if found is not None else "", self.dist)
        if not name:
            return None
        path = root / name
        if any_rank(not path.is_dir(), self.dist):
            raise RunError(
                f"checkpoint {path} is not visible to every process of the job; put the run "
                "directory on storage all nodes share (or resume in one process)"
            )
        return path

    # ------------------------------------------------------------------ logging
    @property
    def metrics_path(self) -> Path | None:
        return self.run_dir / "metrics.jsonl" if self.run_dir else None

    def _trim_metrics(self, step: int) -> None:
        path = self.metrics_path
        if path is None or not path.is_file():
            return
        keep = []
        for line in path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    keep.append(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
        ckpt.atomic_write_text(path, "".join(line + "\n" for line in keep))

    def log(self, record: dict[str, Any]) -> None:
        """Append one JSON record to metrics.jsonl (rank 0 only)."""
        if self.metrics_path is None or not self.dist.is_main:
            return
        try:
            with open(self.metrics_path, "a") as fh:
                fh.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise RunError(
                f"cannot write {self.metrics_path}: {exc.strerror or exc}; free disk space or "
                "fix permissions, then --resume"
            ) from None

    def _record(self, stats: dict[str, torch.Tensor], rate: float) -> dict[str, Any]:
        rec: dict[str, Any] = {"step": self.step, "kind": "train"}
        for k, v in stats.items():
            rec[k] = float(v)
        if "value" in rec:
            rec["js_lower_bound"] = js_lower_bound(rec["value"])
        rec["images_seen"] = self.images_seen
        rec["it_per_s"] = rate
        rec["elapsed_s"] = round(self.elapsed, 3)
        for k in ("d_loss", "g_loss"):
            if k in rec and not math.isfinite(rec[k]):
                raise TrainingError(
                    f"{k} became {rec[k]} at step {self.step}: training diverged. Lower "
                    "optim.g_lr / optim.d_lr, add loss.penalty=r1, and --resume from the last "
                    "checkpoint"
                )
        return rec

    # ------------------------------------------------------------------ loop
    def _one_iteration(self, measure: bool) -> dict[str, torch.Tensor]:
        t, opts = self.cfg.train, self.opts
        opts.measure_grads = measure
        if t.step == "simultaneous":
            x, y = self._next_batch()
            stats = simultaneous_step(
                self.G_step, self.D_step, self.g_opt, self.d_opt, x, y, opts=opts
            )
            self.d_steps += 1
        else:
            fake = None
            for i in range(t.n_critic):
                x, y = self._next_batch()
                last = i == t.n_critic - 1
                stats, fake = d_step(
                    self.G_step,
                    self.D_step,
                    self.d_opt,
                    x,
                    y,
                    opts=opts,
                    d_step_index=self.d_steps,
                    keep_fake=last,
                )
                self.d_steps += 1
            stats.update(
                g_step(
                    self.G_step,
                    self.D_step,
                    self.g_opt,
                    x.shape[0],
                    y,
                    opts=opts,
                    fake=fake,
                    device=self.device,
                )
            )
        if "penalty" in stats:
            self._last_penalty = stats["penalty"]
        elif self._last_penalty is not None:  # lazy R1: report the latest value
            stats["penalty"] = self._last_penalty
        if self.ema is not None:
            decay = 0.0 if self.step < t.ema_start else t.ema
            self.ema.update(self.G, decay)
        if self.dist.enabled:  # every rank sees (and acts on) the same numbers
            keys = list(stats)
            mean = mean_over_ranks(torch.stack([stats[k].float() for k in keys]), self.dist)
            stats = dict(zip(keys, mean.unbind(0), strict=True))
        return stats

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = self.sampler.next_indices()
        x, y = self.data.batch(idx)
        self.images_seen += x.shape[0] * self.dist.world_size
        use_labels = getattr(self.data, "conditional", False) and self.cfg.data.conditional
        x = to_layout(x.to(self.device, non_blocking=True), self.speed.channels_last)
        return x, (y.to(self.device) if (use_labels and y is not None) else None)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop_signal = signum

    def _agree_stop(self, budget: float) -> tuple[bool, bool]:
        """(a stop signal arrived, the time budget is spent), agreed by all ranks."""
        spent = bool(budget) and self.elapsed >= budget and self.step > 0
        stop, spent = any_ranks([self._stop_signal is not None, spent], self.dist)
        if stop and self._stop_signal is None:
            self._stop_signal = signal.SIGTERM  # another rank was told to stop
        return stop, spent

    def run_hooks(self, final: bool = False) -> dict[str, Any]:
        """Call the hooks due at this step (a hook's ``every`` attribute, else
        ``log.sample_every``; all of them at the last step); log what they return."""
        out: dict[str, Any] = {}
        if not self.dist.is_main:
            return out
        for hook in self.hooks:
            every = getattr(hook, "every", self.cfg.log.sample_every)
            if not (final or (every and self.step % every == 0)):
                continue
            result = hook(self, self.step)
            if result:
                out.update(result)
        if out:
            self.log({"step": self.step, "kind": "eval", **out})
        return out

    # ------------------------------------------------------------------ guard
    def _problem(self, stats: dict[str, torch.Tensor]) -> str | None:
        """Why this step cannot be kept (non-finite numbers, a collapsed game), or None."""
        values = torch.stack([stats[k].float() for k in ("d_loss", "g_loss") if k in stats])
        if not bool(torch.isfinite(values).all()):
            return "a loss became non-finite"
        norms = [stats[k] for k in ("d_grad_norm", "g_grad_norm") if k in stats]
        if norms and not bool(torch.isfinite(torch.stack(norms)).all()):
            return "a gradient became non-finite"
        limit = self.cfg.guard.collapse_steps
        if limit and "d_real" in stats:
            saturated = float(stats["d_real"]) > 0.99 and float(stats["d_fake"]) < 0.01
            self._saturated = self._saturated + 1 if saturated else 0
            if self._saturated >= limit:
                return f"D(x) > 0.99 and D(G(z)) < 0.01 for {limit} steps (the game collapsed)"
        return None

    def _weights_finite(self) -> bool:
        nets = (self.G, self.D)
        return all(bool(torch.isfinite(p).all()) for net in nets for p in net.parameters())

    def _set_lr(self) -> None:
        for opt, lr in ((self.g_opt, self.cfg.optim.g_lr), (self.d_opt, self.cfg.optim.d_lr)):
            for group in opt.param_groups:
                group["lr"] = lr * self.lr_scale

    def recover(self, reason: str) -> None:
        """Roll back to the newest good checkpoint and lower the learning rates, or stop."""
        g = self.cfg.guard
        last = self._agreed_latest_checkpoint() if self.run_dir else None
        if not g.enabled or last is None or self.recoveries >= g.max_recoveries:
            where = f"; the last good checkpoint {last} is intact" if last else ""
            tried = f" after {self.recoveries} recoveries" if self.recoveries else ""
            raise TrainingError(
                f"training diverged at step {self.step + 1}: {reason}{tried}{where}. Lower "
                "optim.g_lr / optim.d_lr or add loss.penalty=r1, then --resume"
            )
        bad_step, recoveries, scale = self.step + 1, self.recoveries + 1, self.lr_scale
        self.load(last)
        self.recoveries, self.lr_scale = recoveries, scale * g.lr_factor
        self._set_lr()
        self._saturated = 0
        if self.dist.is_main:
            self._trim_metrics(self.step)
        self.log(
            {
                "step": self.step,
                "kind": "guard",
                "reason": reason,
                "bad_step": bad_step,
                "recoveries": self.recoveries,
                "lr_scale": self.lr_scale,
            }
        )
        if self.dist.is_main:
            tqdm.write(
                f"ganforge: {reason} at step {bad_step}; rolled back to step {self.step} and "
                f"scaled the learning rates by {self.lr_scale:g} (recovery {self.recoveries} of "
                f"{g.max_recoveries})"
            )

    def fit(self, steps: int | None = None) -> dict[str, Any]:
        """Train until ``steps`` generator steps in total (default ``train.steps``).

        Returns a summary. SIGINT / SIGTERM finish the current step, save a checkpoint
        and return with ``summary['interrupted']`` set.
        """
        total = self.cfg.train.steps if steps is None else steps
        log_cfg = self.cfg.log
        self.G.train()
        self.D.train()
        handlers = {}
        if _main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                handlers[sig] = signal.signal(sig, self._on_signal)
        bar = tqdm(
            total=total,
            initial=self.step,
            disable=not (log_cfg.progress and self.dist.is_main) or None,
            dynamic_ncols=True,
            mininterval=0.5,
            unit="step",
            desc="train",
        )
        interrupted = False
        no_checkpoint = (
            self.run_dir is not None
            and self.dist.is_main
            and ckpt.latest_checkpoint(self.run_dir / "checkpoints") is None
        )
        if any_rank(no_checkpoint, self.dist):
            self.save()  # a good state to roll back to before the first step
        last_saved = self.step
        try:
            window_t, window_steps = time.perf_counter(), 0
            while self.step < total:
                budget = self.cfg.train.max_seconds
                stop, spent = self._agree_stop(budget)
                if stop:
                    interrupted = True
                    break
                if spent:
                    total = self.step  # time budget spent: finish here as if planned
                    self.run_hooks(final=True)
                    self.save()
                    last_saved = self.step
                    break
                t0 = time.perf_counter()
                measure = (self.step + 1) % log_cfg.every == 0 or self.step + 1 == total
                stats = self._one_iteration(measure)
                problem = self._problem(stats)
                if problem is not None:
                    self.recover(problem)
                    bar.reset(total=total)
                    bar.update(self.step)
                    continue
                self.step += 1
                self.elapsed += time.perf_counter() - t0
                window_steps += 1
                bar.update(1)
                if measure:
                    now = time.perf_counter()
                    rate = window_steps / max(now - window_t, 1e-9)
                    window_t, window_steps = now, 0
                    rec = self._record(stats, rate)
                    self.last_stats = {k: v for k, v in rec.items() if isinstance(v, float)}
                    self.log(rec)
                    bar.set_postfix(_postfix(rec), refresh=False)
                self.run_hooks(final=self.step == total)
                if self.step % log_cfg.checkpoint_every == 0 or self.step == total:
                    if not self._weights_finite():
                        self.recover("the weights became non-finite")
                        continue
                    self.save()
                    last_saved = self.step
            if interrupted and self.step != last_saved and self._weights_finite():
                self.save()  # still under our handlers: a repeated signal cannot cut it short
        finally:
            bar.close()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        return {
            **self.last_stats,  # first: the live counters below must win over logged ones
            "step": self.step,
            "interrupted": interrupted,
            "signal": self._stop_signal,
            "elapsed_s": self.elapsed,
            "images_seen": self.images_seen,
        }


def _postfix(rec: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, short in (("d_loss", "D"), ("g_loss", "G"), ("d_real", "D(x)"), ("d_fake", "D(G(z))")):
        if key in rec:
            out[short] = f"{rec[key]:.3f}"
    return out


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
