"""The divergence guard: which steps cannot be kept (non-finite numbers, a collapsed game).

The trainer rolls back to the newest good checkpoint and lowers the learning rates when
this says so. Collapse is read from D(x) and D(G(z)) only where those are probabilities
(the BCE games); a Wasserstein critic's or a hinge D's outputs are not, and a confident
critic is no sign of collapse.
"""

from __future__ import annotations

import torch

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
