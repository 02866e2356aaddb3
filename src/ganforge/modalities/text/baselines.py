"""The baselines every text figure is read against: a character Markov chain (order 2 by
default, backing off to shorter contexts it never saw) and a small maximum-likelihood
character model (a GRU), both fitted to the training split and sampled at a temperature.

Both work on the same (N, L) id arrays as the GAN (padding included), so their samples go
through the same metrics.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganforge.modalities.text.likelihood import fit_likelihood


def _scaled(probs: np.ndarray, temperature: float) -> np.ndarray:
    if temperature == 1.0:
        return probs
    if temperature <= 0:
        out = np.zeros_like(probs)
        out[np.arange(len(probs)), probs.argmax(1)] = 1.0
        return out
    logp = np.log(np.maximum(probs, 1e-30)) / temperature
    logp -= logp.max(1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(1, keepdims=True)


class MarkovChain:
    """P(c_t | the ``order`` characters before it), counted on the training samples; a
    context never seen falls back to the longest shorter one that was."""

    def __init__(self, order: int = 2) -> None:
        self.order = order
        self.tables: list[tuple[np.ndarray, np.ndarray]] = []  # per order: (codes, probs)

    def fit(self, ids: np.ndarray, vocab_size: int) -> MarkovChain:
        ids = np.asarray(ids, dtype=np.int64)
        self.V, self.L = vocab_size, ids.shape[1]
        start = np.full((len(ids), self.order), vocab_size, dtype=np.int64)  # "before start"
        padded = np.concatenate([start, ids], axis=1)
        self.tables = []
        for k in range(self.order + 1):
            ctx = self._codes(padded, k)  # (N, L) context codes of order k
            pair = ctx.ravel() * vocab_size + ids.ravel()
            uniq, counts = np.unique(pair, return_counts=True)
            codes, rows = np.unique(uniq // vocab_size, return_inverse=True)
            table = np.zeros((len(codes), vocab_size))
            np.add.at(table, (rows, uniq % vocab_size), counts)
            self.tables.append((codes, table / table.sum(1, keepdims=True)))
        return self

    def _codes(self, padded: np.ndarray, k: int) -> np.ndarray:
        """Codes of the ``k`` symbols before each of the last L positions of ``padded``."""
        n_ctx = padded.shape[1] - self.order
        code = np.zeros((padded.shape[0], n_ctx), dtype=np.int64)
        for j in range(k):
            col = padded[:, self.order - k + j : self.order - k + j + n_ctx]
            code = code * (self.V + 1) + col
        return code

    def sample(self, n: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """``n`` samples of the training length as an (n, L) id array."""
        rng = np.random.default_rng(seed)
        out = np.full((n, self.order + self.L), self.V, dtype=np.int64)
        for t in range(self.L):
            probs = np.zeros((n, self.V))
            todo = np.ones(n, dtype=bool)
            for k in range(self.order, -1, -1):
                code = np.zeros(n, dtype=np.int64)
                for j in range(k):
                    code = code * (self.V + 1) + out[:, self.order + t - k + j]
                codes, table = self.tables[k]
                pos = np.clip(np.searchsorted(codes, code), 0, len(codes) - 1)
                found = todo & (codes[pos] == code)
                probs[found] = table[pos[found]]
                todo &= ~found
            p = _scaled(probs, temperature)
            u = rng.random((n, 1))
            out[:, self.order + t] = np.minimum((p.cumsum(1) < u).sum(1), self.V - 1)
        return out[:, self.order :]


class CharGRU(nn.Module):
    """A character language model: embedding -> GRU -> next-character logits."""

    def __init__(self, vocab_size: int, width: int = 256, embed: int = 64) -> None:
        super().__init__()
        self.V = vocab_size
        self.embed = nn.Embedding(vocab_size + 1, embed)  # the last id is "start"
        self.rnn = nn.GRU(embed, width, batch_first=True)
        self.out = nn.Linear(width, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        start = torch.full((ids.shape[0], 1), self.V, dtype=torch.long, device=ids.device)
        h, _ = self.rnn(self.embed(torch.cat([start, ids[:, :-1].long()], 1)))
        return self.out(h)  # (B, L, V): logits of each position given the ones before

    def fit(
        self,
        ids: np.ndarray,
        seconds: float = 60.0,
        steps: int | None = None,
        batch: int = 64,
        lr: float = 3e-3,
        seed: int = 0,
    ) -> dict[str, float]:
        """Maximum likelihood on the training ids for ``seconds`` of wall time (or ``steps``),
        the learning rate decayed to zero over the budget (``likelihood.fit_likelihood``);
        returns (and keeps as ``fit_stats``) the loss (nats per character) and the steps."""

        def loss_of(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
            return nn.functional.cross_entropy(self(x).reshape(-1, self.V), x.reshape(-1))

        self.fit_stats = fit_likelihood(
            loss_of,
            self.parameters(),
            ids,
            seconds=seconds,
            steps=steps,
            batch=batch,
            lr=lr,
            seed=seed,
        )
        return self.fit_stats

    @torch.no_grad()
    def sample(self, n: int, length: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """``n`` samples as an (n, length) id array, drawn one character at a time."""
        gen = torch.Generator().manual_seed(seed)
        x = torch.full((n, 1), self.V, dtype=torch.long)
        h, out = None, []
        for _ in range(length):
            y, h = self.rnn(self.embed(x), h)
            logits = self.out(y[:, -1])
            if temperature <= 0:
                x = logits.argmax(1, keepdim=True)
            else:
                x = torch.multinomial((logits / temperature).softmax(1), 1, generator=gen)
            out.append(x)
        return torch.cat(out, 1).numpy()
