"""Text scores against the real data, each beside its real-data floor: JS-1..4 between
character n-gram distributions (the anchor's metric), BLEU-4/5 against held-out text,
self-BLEU-4/5, distinct-2/4 and the share of samples copied verbatim from training text.

A :class:`TextReference` is built once from a run's corpus (split as in training). The
held-out share is split again: *references* that BLEU scores against, and *floor samples*,
real text that is scored exactly as generated text is, at the same count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganforge.modalities.text.bleu import bleu, distinct, self_bleu
from ganforge.modalities.text.ngrams import NgramReference
from ganforge.modalities.text.vocab import Vocabulary

SMALL, LARGE = 640, 6400  # the anchor scores 640 samples; 6400 is the steadier figure
METRIC_GROUPS = ("js", "bleu", "self-bleu", "distinct", "copies")


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

    def score(self, ids: np.ndarray, groups: tuple[str, ...] = METRIC_GROUPS) -> dict[str, float]:
        """The scores of generated (or real) samples ``ids`` (N, L); JS at each count of
        :meth:`counts`, the rest on the first ``min(640, N)``."""
        out: dict[str, float] = {}
        if "js" in groups:
            for c in self.counts(len(ids)):
                for n, v in self.ngrams.js(ids[:c]).items():
                    out[f"JS-{n}@{c}"] = v
        small = self.vocab.decode(ids[: min(SMALL, len(ids), len(self.floor_ids))])
        if "bleu" in groups and self.references:
            for n in (4, 5):
                out[f"BLEU-{n}"] = bleu(small, self.references, n)
        if "self-bleu" in groups:
            for n in (4, 5):
                out[f"self-BLEU-{n}"] = self_bleu(small, n)
        if "distinct" in groups:
            for n in (2, 4):
                out[f"distinct-{n}"] = distinct(small, n)
        if "copies" in groups:
            out["copies"] = float(np.mean([s in self.train_text for s in small]))
        return out

    def with_floors(
        self, ids: np.ndarray, groups: tuple[str, ...], baseline: np.ndarray | None = None
    ) -> dict[str, dict[str, Any]]:
        """``{name: {"value", "floor", "baseline"?}}``: the samples, held-out real text and
        (when given) a baseline's samples, scored alike at the same counts."""
        n = min(len(ids), len(self.floor_ids))
        value = self.score(ids[:n], groups)
        floor = self.score(self.floor_ids[:n], groups)
        base = self.score(baseline[:n], groups) if baseline is not None else {}
        return {
            k: {"value": v, "floor": floor.get(k), **({"baseline": base[k]} if k in base else {})}
            for k, v in value.items()
        }
