"""The training loop: alternate D and G steps, log the game, save checkpoints, resume exactly.

The trainer sees tensors and the engine's protocols only (:mod:`ganforge.engine.protocols`):
the training data picks batches and conditions, G draws its own latents, D may have several
heads, a D-input transform and auxiliary losses join every step. Modalities attach *hooks*,
called every ``log.sample_every`` steps and at the end, to render samples or compute their
own metrics. Checkpoint state lives in :mod:`.train_state`, the guard in :mod:`.guard`,
``metrics.jsonl`` in :mod:`.run_log`.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from tqdm import tqdm

from ganforge.engine import checkpoint as ckpt
from ganforge.engine.device import resolve_device
from ganforge.engine.distributed import (
    SINGLE,
    DistContext,
    any_rank,
    any_ranks,
    mean_over_ranks,
    per_rank_batch,
    wrap,
)
from ganforge.engine.ema import EMA, ramped_decay
from ganforge.engine.guard import DivergenceGuard, Rollback
from ganforge.engine.in_memory import InMemoryData
from ganforge.engine.latent import sample_latent
from ganforge.engine.losses import get_loss
from ganforge.engine.performance import (
    module_to_layout,
    plan_speed,
    set_subnormal_flush,
    to_layout,
    use_path,
)
from ganforge.engine.protocols import PICTURE_SAMPLES, batch_size, to_device
from ganforge.engine.run_log import MetricsLog, postfix, train_record
from ganforge.engine.step import StepOptions, d_step, g_step, simultaneous_step
from ganforge.engine.train_state import RANK_SEED_STRIDE, TrainState

if TYPE_CHECKING:  # pragma: no cover
    from ganforge.config import Config

Hook = Callable[["Trainer", int], "dict[str, Any] | None"]


class Trainer(TrainState, Rollback):
    """Trains ``G`` against ``D`` on ``data`` as ``cfg`` says, writing into ``run_dir``.

    ``data`` is training data (``next_batch``, ``fixed_conditions``, ``state_dict``; see
    :mod:`ganforge.engine.protocols`), or an in-memory :class:`ganforge.data.Dataset`, which
    is drawn from in uniform minibatches. ``transform`` is a D-input transform and ``aux``
    a list of auxiliary losses. With a distributed ``dist`` (see
    :mod:`ganforge.engine.distributed`) each process trains on its shard through
    ``DistributedDataParallel`` and only rank 0 writes.
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
        transform: Any = None,
        aux: list[Any] | None = None,
    ) -> None:
        self.cfg = cfg
        self.dist = dist
        self.run_dir = Path(run_dir) if run_dir else None
        self.device = resolve_device(cfg.train.device)
        if dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", dist.local_rank)
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        torch.manual_seed(cfg.train.seed + RANK_SEED_STRIDE * dist.rank)
        t = cfg.train
        self.speed = plan_speed(
            t.precision,
            t.channels_last,
            bool(getattr(cfg.experimental, "compile", False)),
            self.device,
            G,
            D,
            t.spectral_conv,
            shared_backward=t.shared_backward and t.step == "simultaneous",
            gemm_grad=t.gemm_grad,
            fused_adam=t.fused_adam,
        )
        for net in (G, D):
            use_path(net, "spectral", self.speed.spectral_conv)
            use_path(net, "gemm_grad", self.speed.gemm_grad)
        self.G = module_to_layout(G.to(self.device), self.speed.channels_last)
        self.D = module_to_layout(D.to(self.device), self.speed.channels_last)
        if self.speed.compile:
            # the simultaneous step runs two backward passes over one graph
            import torch._functorch.config as functorch_config

            functorch_config.donated_buffer = False
            self.G.compile()
            self.D.compile()
        # what the step runs: the nets themselves, or their DDP wrappers when distributed
        self.G_step, self.D_step = wrap(self.G, dist, self.device), wrap(self.D, dist, self.device)
        self.data = _training_data(data, cfg, dist)
        self.transform = transform
        self.hooks = hooks or []
        t, o = cfg.train, cfg.optim
        self.g_opt = self.speed.adam(G.parameters(), lr=o.g_lr, betas=o.betas, eps=o.eps)
        self.d_opt = self.speed.adam(D.parameters(), lr=o.d_lr, betas=o.betas, eps=o.eps)
        self.ema = EMA(self.G, t.ema) if t.ema > 0 else None
        self.batch = per_rank_batch(t.batch, dist)
        self.loss = get_loss(cfg.loss.type)
        autocast = self.speed.autocast(self.device)
        self.opts = StepOptions(
            loss=self.loss,
            penalty=cfg.loss.penalty,
            penalty_weight=cfg.loss.penalty_weight,
            r1_every=cfg.loss.r1_every,
            autocast=autocast,
            shared_backward=self.speed.shared_backward,
            transform=transform,
            aux=list(aux or []),
            head_weights=dict(cfg.loss.head_weights),
        )
        for term in self.opts.aux:
            term.bind(self.G, self.D)
        self.step = 0
        self.d_steps = 0
        self.samples_seen = 0
        self.elapsed = 0.0  # training seconds over all sessions of this run
        self.last_stats: dict[str, float] = {}
        self._stop_signal: int | None = None
        self._outer_handlers: dict[int, Any] = {}
        self.stopped_early: str | None = None  # why a hook ended training (eval.patience)
        self._last_penalty: torch.Tensor | None = None
        self.guard = DivergenceGuard(cfg.guard.collapse_steps, probabilistic=self.loss.bce)
        self.metrics_log = MetricsLog(self.run_dir, dist.is_main)
        # Fixed latent batch for sample pictures and the progress GIF (its own RNG stream).
        gen = torch.Generator().manual_seed(cfg.train.seed + 12345)
        n = cfg.log.samples or PICTURE_SAMPLES
        self.fixed_z = to_device(sample_latent(self.G, n, generator=gen), self.device)
        self.fixed_cond = to_device(self.data.fixed_conditions(n), self.device)

    # ------------------------------------------------------------------ sampling
    @property
    def sampling_generator(self) -> nn.Module:
        """The network used to draw samples: the EMA copy when enabled, else G."""
        return self.ema.shadow if self.ema is not None else self.G

    @torch.no_grad()
    def generate(self, z: Any, cond: Any = None) -> torch.Tensor:
        """Samples from the sampling generator in eval mode (batch-norm uses running stats).

        A generator that draws noise in its forward pass (a table's Gumbel-softmax) draws it
        from a fixed seed on a forked RNG: pictures do not move the training's random
        stream (a resumed run stays bit-exact) and the same latents give the same picture."""
        net = self.sampling_generator
        was_training = net.training
        net.eval()
        devices = [self.device] if self.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(self.cfg.train.seed + 4242)
                return net(to_device(z, self.device), to_device(cond, self.device))
        finally:
            net.train(was_training)

    @property
    def recoveries(self) -> int:
        """Divergence-guard rollbacks so far."""
        return self.guard.recoveries

    @property
    def lr_scale(self) -> float:
        """Product of the guard's learning-rate cuts."""
        return self.guard.lr_scale

    def log(self, record: dict[str, Any]) -> None:
        """Append one JSON record to metrics.jsonl (rank 0 only)."""
        self.metrics_log.write(record)

    # ------------------------------------------------------------------ loop
    def _one_iteration(self, measure: bool) -> dict[str, torch.Tensor]:
        t, opts = self.cfg.train, self.opts
        opts.measure_grads = measure
        if t.step == "simultaneous":
            b = self._next_batch()
            stats = simultaneous_step(
                self.G_step,
                self.D_step,
                self.g_opt,
                self.d_opt,
                b.real,
                b.cond,
                fake_cond=b.fake_cond,
                opts=opts,
            )
            self.d_steps += 1
        else:
            fake = None
            for i in range(t.n_critic):
                b = self._next_batch()
                last = i == t.n_critic - 1
                stats, fake = d_step(
                    self.G_step,
                    self.D_step,
                    self.d_opt,
                    b.real,
                    b.cond,
                    fake_cond=b.fake_cond,
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
                    b.real.shape[0],
                    b.fake_cond,
                    opts=opts,
                    fake=fake,
                    device=self.device,
                )
            )
        for k, v in _transform_stats(self.transform).items():
            stats[k] = torch.tensor(float(v))
        if "penalty" in stats:
            self._last_penalty = stats["penalty"]
        elif self._last_penalty is not None:  # lazy R1: report the latest value
            stats["penalty"] = self._last_penalty
        if self.ema is not None:
            decay = 0.0 if self.step < t.ema_start else ramped_decay(t.ema, self.step, t.ema_rampup)
            self.ema.update(self.G, decay)
        if self.dist.enabled:  # every rank sees (and acts on) the same numbers
            keys = list(stats)
            mean = mean_over_ranks(torch.stack([stats[k].float() for k in keys]), self.dist)
            stats = dict(zip(keys, mean.unbind(0), strict=True))
        return stats

    def _next_batch(self) -> Any:
        b = self.data.next_batch(self.batch)
        self.samples_seen += batch_size(b.real) * self.dist.world_size
        b.real = to_layout(b.real.to(self.device, non_blocking=True), self.speed.channels_last)
        b.cond = to_device(b.cond, self.device)
        b.fake_cond = to_device(b.fake_cond, self.device)
        return b

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop_signal = signum
        # a handler the embedding program installed (a test runner's) still hears the signal;
        # Python's default SIGINT handler would turn the graceful stop into KeyboardInterrupt
        outer = self._outer_handlers.get(signum)
        if callable(outer) and outer is not signal.default_int_handler:
            outer(signum, frame)

    def request_stop(self, reason: str) -> None:
        """End training after this step as if it were the last planned one (a hook's
        early stop); ``reason`` is reported in the summary."""
        self.stopped_early = reason

    def _agree_stop(self, budget: float) -> tuple[bool, bool]:
        """(a stop signal arrived, the time budget is spent or a hook asked to end), agreed
        by all ranks."""
        spent = bool(budget) and self.elapsed >= budget and self.step > 0
        spent = spent or self.stopped_early is not None
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
        self._outer_handlers = handlers
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
        # tiny Adam moments and activations late in training otherwise take the CPU's slow
        # path for subnormal numbers; the process's own setting is restored afterwards
        flush = self.device.type == "cpu" and self.cfg.train.flush_denormals
        flushed_before = set_subnormal_flush(flush) if flush else None
        try:
            window_t, window_steps = time.perf_counter(), 0
            while self.step < total:
                budget = self.cfg.train.max_seconds
                stop, spent = self._agree_stop(budget)
                if stop:
                    interrupted = True
                    break
                if spent:
                    total = self.step  # time budget spent / early stop: finish as if planned
                    self.run_hooks(final=True)
                    self.save()
                    last_saved = self.step
                    break
                t0 = time.perf_counter()
                measure = (self.step + 1) % log_cfg.every == 0 or self.step + 1 == total
                stats = self._one_iteration(measure)
                problem = self.guard.problem(stats)
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
                    rec = train_record(self.step, stats, self.samples_seen, rate, self.elapsed)
                    self.last_stats = {k: v for k, v in rec.items() if isinstance(v, float)}
                    self.log(rec)
                    bar.set_postfix(postfix(rec), refresh=False)
                self.run_hooks(final=self.step == total)
                if self.step % log_cfg.checkpoint_every == 0 or self.step == total:
                    if not self._weights_finite():
                        self.recover("the weights became non-finite")
                        continue
                    self.save()
                    last_saved = self.step
            if interrupted and self.step != last_saved and self._weights_finite():
                self.save()  # under its own handlers still: a repeated signal cannot cut it short
        finally:
            if flushed_before is not None:
                set_subnormal_flush(flushed_before)
            bar.close()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        return {
            **self.last_stats,  # first: the live counters below must win over logged ones
            "step": self.step,
            "interrupted": interrupted,
            "signal": self._stop_signal,
            "stopped_early": self.stopped_early,
            "elapsed_s": self.elapsed,
            "samples_seen": self.samples_seen,
        }


def _training_data(data: Any, cfg: Config, dist: DistContext) -> Any:
    """``data`` as training data: itself when it follows the protocol, else an in-memory
    dataset drawn from in uniform minibatches (labels as conditions when conditional)."""
    if hasattr(data, "next_batch"):
        return data
    return InMemoryData.from_config(data, cfg, dist)


def _transform_stats(transform: Any) -> dict[str, float]:
    stats = getattr(transform, "stats", None)
    return stats() if stats is not None else {}


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
