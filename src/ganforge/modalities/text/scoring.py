"""What text is scored against: a :class:`TextReference`, built once from a run's corpus
(split as in training), and :func:`decode_ids`, G's character distributions as ids. The
held-out share is split again: *references* that BLEU scores against, and *floor samples*,
real text that is scored exactly as generated text is, at the same count. The metrics
themselves are declared in :mod:`.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganforge.modalities.text.ngrams import NgramReference
from ganforge.modalities.text.vocab import Vocabulary

SMALL, LARGE = 640, 6400  # the anchor scores 640 samples; 6400 is the steadier figure


def decode_ids(samples: torch.Tensor, temperature: float = 0.0, seed: int = 0) -> np.ndarray:
    """G's (B, V, L) character distributions as (B, L) ids: the most likely character at
    ``temperature`` 0 (the anchor's reading), else drawn from p^(1/temperature)."""
    p = samples.detach().float().cpu().clamp_min(0)
    if temperature <= 0:
        return p.argmax(1).numpy()
    logits = torch.log(p.clamp_min(1e-12)).transpose(1, 2) / temperature  # (B, L, V)
    gen = torch.Generator().manual_seed(int(seed))
    flat = torch.multinomial(logits.reshape(-1, p.shape[1]).softmax(1), 1, generator=gen)
    return flat.view(p.shape[0], p.shape[2]).numpy()


@dataclass
class TextReference:
    """What generated text is scored against."""

    vocab: Vocabulary
    ngrams: NgramReference  # the training split's n-grams (the anchor's "true" model)
    train_ids: np.ndarray
    train_text: set[str]  # for verbatim copies
    references: list[str]  # held-out text BLEU scores against
    floor_ids: np.ndarray  # held-out text scored as samples are (the floors)

    @classmethod
    def from_corpus(cls, train: list[str], heldout: list[str], vocab: Vocabulary, length: int):
        train_ids = vocab.encode(train, length)
        held_ids = vocab.encode(heldout, length)
        k = min(LARGE, len(heldout) // 2)
        return cls(
            vocab=vocab,
            ngrams=NgramReference(train_ids, len(vocab)),
            train_ids=train_ids,
            train_text=set(vocab.decode(train_ids)),
            references=vocab.decode(held_ids[k:]),
            floor_ids=held_ids[:k],
        )

    def counts(self, n: int) -> list[int]:
        """The sample counts scored: 640 and 6400, as far as ``n`` and the held-out floor
        samples allow."""
        cap = min(n, len(self.floor_ids))
        return sorted({min(SMALL, cap), min(LARGE, cap)})
