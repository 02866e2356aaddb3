"""Word-level BLEU against references, self-BLEU and distinct-n, on whitespace tokens.

BLEU here is what text-GAN papers report (Texygen, Zhu et al. 2018): the mean over samples
of sentence BLEU-n against *all* references (uniform weights, Chen & Cherry's smoothing 1:
a zero n-gram match counts as 0.1; brevity penalty to the closest reference length), as
NLTK's ``sentence_bleu(..., smoothing_function=SmoothingFunction().method1)`` computes it.
Self-BLEU scores each sample against the other samples: high self-BLEU means samples
repeat each other (low diversity). References are indexed once (the highest count of each
n-gram in any one reference), so the cost is linear, not quadratic, in their number.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

Tokens = Sequence[str]


def _ngrams(tokens: Tokens, n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


class _Index:
    """Per n-gram: the largest and second-largest count in any single reference, and which
    reference holds the largest (so a sample can be scored against all *other* samples)."""

    def __init__(self, refs: Sequence[Tokens], max_n: int) -> None:
        self.best: list[dict[tuple, tuple[int, int, int]]] = []
        for n in range(1, max_n + 1):
            best: dict[tuple, tuple[int, int, int]] = {}
            for r, tokens in enumerate(refs):
                for gram, c in _ngrams(tokens, n).items():
                    top, who, second = best.get(gram, (0, -1, 0))
                    if c > top:
                        best[gram] = (c, r, top)
                    elif c > second:
                        best[gram] = (top, who, c)
            self.best.append(best)
        self.lengths: dict[int, int] = defaultdict(int)
        for tokens in refs:
            self.lengths[len(tokens)] += 1

    def clip(self, gram: tuple, n: int, exclude: int) -> int:
        top, who, second = self.best[n - 1].get(gram, (0, -1, 0))
        return second if who == exclude else top

    def closest_length(self, length: int, exclude_length: int | None) -> int | None:
        options = [k for k, c in self.lengths.items() if c - (1 if k == exclude_length else 0) > 0]
        if not options:
            return None
        return min(options, key=lambda k: (abs(k - length), k))


def _sentence_bleu(tokens: Tokens, index: _Index, n_max: int, exclude: int = -1) -> float:
    if not tokens:
        return 0.0
    log_sum = 0.0
    for n in range(1, n_max + 1):
        grams = _ngrams(tokens, n)
        total = max(1, sum(grams.values()))  # as NLTK: a sample shorter than n has 0/1
        hits = sum(min(c, index.clip(g, n, exclude)) for g, c in grams.items())
        if n == 1 and hits == 0:
            return 0.0  # no word in common with any reference
        log_sum += math.log((hits if hits > 0 else 0.1) / total) / n_max
    ref_len = index.closest_length(len(tokens), len(tokens) if exclude >= 0 else None)
    if ref_len is None:
        return 0.0
    bp = 1.0 if len(tokens) > ref_len else math.exp(1 - ref_len / len(tokens))
    return bp * math.exp(log_sum)


def bleu(samples: Sequence[str], references: Sequence[str], n: int = 4) -> float:
    """Mean sentence BLEU-``n`` of ``samples`` against all ``references``."""
    refs = [r.split() for r in references]
    index = _Index(refs, n)
    scores = [_sentence_bleu(s.split(), index, n) for s in samples]
    return float(sum(scores) / len(scores)) if scores else 0.0


def self_bleu(samples: Sequence[str], n: int = 4) -> float:
    """Mean BLEU-``n`` of each sample against all the other samples (diversity: lower is
    more diverse)."""
    toks = [s.split() for s in samples]
    if len(toks) < 2:
        return 0.0
    index = _Index(toks, n)
    scores = [_sentence_bleu(t, index, n, exclude=i) for i, t in enumerate(toks)]
    return float(sum(scores) / len(scores))


def distinct(samples: Sequence[str], n: int) -> float:
    """Distinct-n (Li et al. 2016): distinct word n-grams / all word n-grams."""
    grams: Counter = Counter()
    for s in samples:
        grams.update(_ngrams(s.split(), n))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0
