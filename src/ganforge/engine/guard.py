"""The divergence guard: which steps cannot be kept (non-finite numbers, a collapsed game).

The trainer rolls back to the newest good checkpoint and lowers the learning rates when
this says so. Collapse is read from D(x) and D(G(z)) only where those are probabilities
(the BCE games); a Wasserstein critic's or a hinge D's outputs are not, and a confident
critic is no sign of collapse.
"""

from __future__ import annotations

from typing import Any

import torch
from tqdm import tqdm

from ganforge.errors import TrainingError

Tensor = torch.Tensor


class DivergenceGuard:
    """Counts saturated steps and recoveries; ``lr_scale`` is the product of the cuts."""

    def __init__(self, collapse_steps: int, probabilistic: bool) -> None:
        self.collapse_steps = int(collapse_steps)
        self.probabilistic = bool(probabilistic)
        self.recoveries = 0
        self.lr_scale = 1.0
        self.saturated = 0  # consecutive steps with D(x) > 0.99 and D(G(z)) < 0.01

    def problem(self, stats: dict[str, Tensor]) -> str | None:
        """Why this step cannot be kept, or None."""
        values = torch.stack([stats[k].float() for k in ("d_loss", "g_loss") if k in stats])
        if not bool(torch.isfinite(values).all()):
            return "a loss became non-finite"
        norms = [stats[k] for k in ("d_grad_norm", "g_grad_norm") if k in stats]
        if norms and not bool(torch.isfinite(torch.stack(norms)).all()):
            return "a gradient became non-finite"
        limit = self.collapse_steps
        if limit and self.probabilistic and "d_real" in stats:
            self.saturated = self.saturated + 1 if self._saturated_now(stats) else 0
            if self.saturated >= limit:
                return f"D(x) > 0.99 and D(G(z)) < 0.01 for {limit} steps (the game collapsed)"
        return None

    @staticmethod
    def _saturated_now(stats: dict[str, Tensor]) -> bool:
        """Whether some head of D (or the only one) wins outright at this step."""
        heads = [k[len("d_real") :] for k in stats if k.startswith("d_real.")] or [""]
        return any(
            float(stats["d_real" + h]) > 0.99 and float(stats["d_fake" + h]) < 0.01 for h in heads
        )


class Rollback:
    """The trainer's side of the guard (a mixin of ``Trainer``): roll back and cut the
    learning rates, or stop with the last good checkpoint intact."""

    def _weights_finite(self: Any) -> bool:
        nets = (self.G, self.D)
        return all(bool(torch.isfinite(p).all()) for net in nets for p in net.parameters())

    def _set_lr(self: Any) -> None:
        for opt, lr in ((self.g_opt, self.cfg.optim.g_lr), (self.d_opt, self.cfg.optim.d_lr)):
            for group in opt.param_groups:
                group["lr"] = lr * self.guard.lr_scale

    def recover(self: Any, reason: str) -> None:
        """Roll back to the newest good checkpoint and lower the learning rates, or stop."""
        g = self.cfg.guard
        last = self._agreed_latest_checkpoint() if self.run_dir else None
        guard = self.guard
        if not g.enabled or last is None or guard.recoveries >= g.max_recoveries:
            where = f"; the last good checkpoint {last} is intact" if last else ""
            tried = f" after {guard.recoveries} recoveries" if guard.recoveries else ""
            raise TrainingError(
                f"training diverged at step {self.step + 1}: {reason}{tried}{where}. Lower "
                "optim.g_lr / optim.d_lr or add loss.penalty=r1, then --resume"
            )
        bad_step, recoveries, scale = self.step + 1, guard.recoveries + 1, guard.lr_scale
        self.load(last)
        guard.recoveries, guard.lr_scale = recoveries, scale * g.lr_factor
        self._set_lr()
        guard.saturated = 0
        self.metrics_log.trim(self.step)
        self.log(
            {
                "step": self.step,
                "kind": "guard",
                "reason": reason,
                "bad_step": bad_step,
                "recoveries": guard.recoveries,
                "lr_scale": guard.lr_scale,
            }
        )
        if self.dist.is_main:
            tqdm.write(
                f"ganforge: {reason} at step {bad_step}; rolled back to step {self.step} and "
                f"scaled the learning rates by {guard.lr_scale:g} (recovery {guard.recoveries} "
                f"of {g.max_recoveries})"
            )
