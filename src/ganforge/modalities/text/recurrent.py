"""A stronger text generator: a recurrent character model that *samples* its text, made
trainable against a critic by the Gumbel-softmax straight-through estimator, and warmed up
by maximum likelihood (the recipe of RelGAN, Nie et al. 2019, with a GRU in place of its
relational memory).

Its latent holds all its randomness: ``z`` sets the GRU's initial state and ``noise``
(standard normal, turned into Gumbel noise through the normal CDF) picks each character:
argmax(logits / temperature + gumbel) is an exact draw from softmax(logits / temperature).
D sees the drawn characters as one-hot vectors, exactly as it sees real text, and the
gradient flows back through softmax(beta * (logits + gumbel)).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.modalities.text.likelihood import fit_likelihood


def _gumbel(noise: Tensor) -> Tensor:
    u = (0.5 * (1 + torch.erf(noise / math.sqrt(2)))).clamp(1e-6, 1 - 1e-6)
    return -torch.log(-torch.log(u))


class RecurrentGenerator(nn.Module):
    """GRU character generator; samples are (B, vocabulary, length) one-hot."""

    def __init__(
        self, vocab: int, length: int, z_dim: int = 128, width: int = 256, embed: int = 64
    ) -> None:
        super().__init__()
        self.V, self.length, self.z_dim = int(vocab), int(length), int(z_dim)
        self.h0 = nn.Linear(self.z_dim, width)
        self.embed = nn.Embedding(self.V + 1, embed)  # the last id is "start"
        self.rnn = nn.GRU(embed, width, batch_first=True)
        self.out = nn.Linear(width, self.V)
        self.temperature = 1.0  # sampling temperature (the quality-diversity knob)
        self.beta = 1.0  # inverse temperature of the soft outputs the gradient flows through

    def sample_latent(self, n: int, generator=None, device=None) -> dict[str, Tensor]:
        z = torch.randn(n, self.z_dim, generator=generator)
        noise = torch.randn(n, self.length, self.V, generator=generator)
        return {"z": z.to(device or "cpu"), "noise": noise.to(device or "cpu")}

    def _state(self, z: Tensor) -> Tensor:
        return torch.tanh(self.h0(z)).unsqueeze(0)

    def forward(self, latent: dict[str, Tensor], cond: Any = None) -> Tensor:
        z, g = latent["z"], _gumbel(latent["noise"])
        h = self._state(z)
        tok = torch.full((z.shape[0], 1), self.V, dtype=torch.long, device=z.device)
        outs = []
        for t in range(self.length):
            y, h = self.rnn(self.embed(tok), h)
            logits = self.out(y[:, 0]).float()
            # temperature 0: the most likely character (greedy), no noise
            scores = logits / self.temperature + g[:, t] if self.temperature > 0 else logits
            idx = scores.argmax(1)
            soft = (scores * self.beta).softmax(1)
            hard = torch.nn.functional.one_hot(idx, self.V).to(soft.dtype)
            outs.append(hard - soft.detach() + soft)  # one-hot forward, soft gradient
            tok = idx.unsqueeze(1)
        return torch.stack(outs, 2)

    def mle_loss(self, ids: Tensor, z: Tensor) -> Tensor:
        """Cross-entropy (nats per character) of real ``ids`` (B, L), teacher-forced."""
        start = torch.full((ids.shape[0], 1), self.V, dtype=torch.long, device=ids.device)
        inputs = torch.cat([start, ids[:, :-1].long()], 1)
        y, _ = self.rnn(self.embed(inputs), self._state(z))
        logits = self.out(y)
        return nn.functional.cross_entropy(logits.reshape(-1, self.V), ids.reshape(-1).long())


def pretrain(
    G: RecurrentGenerator,
    ids: Tensor,
    seconds: float | None = None,
    batch: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
    steps: int | None = None,
) -> dict[str, float]:
    """Maximum-likelihood warm-up of ``G`` on training ids for ``seconds`` of wall time or
    ``steps`` updates (each batch with fresh initial-state latents ``z``)."""

    def loss_of(x: Tensor, gen: torch.Generator) -> Tensor:
        return G.mle_loss(x, torch.randn(len(x), G.z_dim, generator=gen))

    return fit_likelihood(
        loss_of,
        G.parameters(),
        ids,
        seconds=seconds,
        steps=steps,
        batch=batch,
        lr=lr,
        seed=seed,
        progress=progress,
        desc="pretraining G (max. likelihood)",
    )
