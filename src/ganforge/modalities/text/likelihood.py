"""Maximum likelihood for character models: the training loop the GAN's warm-up
(``text.pretrain_seconds``) and the MLE baseline share, and the likelihood term that can
hold G to the data during the game (``text.mle_weight``).

Adam, with the learning rate decayed to zero along a half cosine over the budget (wall
time or steps). Why: on WordNet a GRU 256 trained 10 minutes at a constant 2e-3 reached
JS-3 0.024 (6,400 samples); the same 10 minutes from 3e-3 decayed to zero reached 0.0144,
below the order-2 Markov chain (0.0165; held-out floor 0.0119).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import Tensor, nn

from ganforge.engine.aux import AuxLoss
from ganforge.errors import ConfigError


def decayed_lr(lr: float, done: float) -> float:
    """The learning rate after a share ``done`` (0..1) of the budget: a half cosine from
    ``lr`` to zero."""
    return lr * 0.5 * (1 + math.cos(math.pi * min(max(done, 0.0), 1.0)))


def fit_likelihood(
    loss_of: Callable[[Tensor, torch.Generator], Tensor],
    params: Iterable[nn.Parameter],
    ids: Tensor | np.ndarray,
    *,
    seconds: float | None = None,
    steps: int | None = None,
    batch: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = False,
    desc: str = "maximum likelihood",
) -> dict[str, float]:
    """Minimise ``loss_of(batch_ids, generator)`` over random batches of ``ids`` for
    ``seconds`` of wall time or ``steps`` updates (whichever is given; steps win).

    Returns the steps taken, the seconds and the last loss (smoothed)."""
    from tqdm import tqdm

    if seconds is None and steps is None:
        raise ValueError("fit_likelihood needs seconds or steps")
    data = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(params, lr=lr)
    by_steps = steps is not None
    bar = tqdm(
        total=steps if by_steps else round(seconds),
        desc=desc,
        unit="step" if by_steps else "s",
        disable=not progress,
        leave=False,
    )
    t0, step, loss = time.perf_counter(), 0, float("nan")
    while True:
        done = step / steps if by_steps else (time.perf_counter() - t0) / seconds
        if done >= 1:
            break
        for group in opt.param_groups:
            group["lr"] = decayed_lr(lr, done)
        x = data[torch.randint(len(data), (min(batch, len(data)),), generator=gen)]
        out = loss_of(x, gen)
        opt.zero_grad(set_to_none=True)
        out.backward()
        opt.step()
        step += 1
        value = float(out.detach())
        loss = 0.98 * loss + 0.02 * value if step > 1 else value
        if step % 20 == 0:
            bar.n = step if by_steps else min(round(time.perf_counter() - t0), round(seconds))
            bar.set_postfix(loss=f"{loss:.3f}")
            bar.refresh()
    bar.close()
    return {"steps": step, "seconds": time.perf_counter() - t0, "loss": loss}


class LikelihoodLoss(AuxLoss):
    """G's cross-entropy on a fresh batch of real text (as many samples as its fake batch),
    added to its adversarial loss: the critic's gradient moves G only as far as the data's
    likelihood allows. D is untouched."""

    name = "mle"

    def __init__(self, ids: Tensor | np.ndarray, weight: float) -> None:
        self.ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
        self.weight = float(weight)
        self.G: nn.Module | None = None

    def bind(self, G: nn.Module, D: nn.Module) -> None:
        if not hasattr(G, "mle_loss"):
            raise ConfigError(
                "text.mle_weight needs a generator with a likelihood (model.arch=text-gru); "
                "set text.mle_weight=0 for this one"
            )
        self.G = G
        self.ids = self.ids.to(next(G.parameters()).device)  # once, not every step

    def g(self, fake: Tensor, fake_out: object, fake_cond: object) -> Tensor:
        # the global RNG, which checkpoints keep: a resumed run draws the batches it would have
        n = fake.shape[0]  # as many real samples as G drew (per rank when distributed)
        rows = torch.randint(len(self.ids), (n,)).to(self.ids.device)
        z = torch.randn(n, self.G.z_dim).to(self.ids.device)
        return self.G.mle_loss(self.ids[rows], z)
