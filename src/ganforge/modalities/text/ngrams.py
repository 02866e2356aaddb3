"""Character n-gram statistics and the anchor's Jensen-Shannon divergence between them.

Gulrajani et al. (2017, ``language_helpers.NgramLanguageModel``) score a text GAN by the
JS divergence, in bits, between the n-gram distribution of generated samples and that of
the training text, for n = 1..4, n-grams taken inside each fixed-length sample (padding
included). Here samples are id arrays and n-grams are packed into integer codes, so the
counting is a sort, not a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class NgramCounts:
    """The distinct n-grams of a set of samples (as sorted codes) and their counts."""

    n: int
    codes: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray, n: int, base: int) -> NgramCounts:
        """The n-grams inside each row of an (N, L) id array; ``base`` > every id."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 2 or ids.shape[1] < n:
            return cls(n, np.zeros(0, np.int64), np.zeros(0, np.int64))
        windows = np.lib.stride_tricks.sliding_window_view(ids, n, axis=1).reshape(-1, n)
        if base**n < 2**62:
            codes = windows @ (base ** np.arange(n - 1, -1, -1, dtype=np.int64))
            uniq, counts = np.unique(codes, return_counts=True)
        else:  # very large vocabularies: rows as opaque bytes
            view = np.ascontiguousarray(windows).view(f"V{8 * n}").ravel()
            uniq, counts = np.unique(view, return_counts=True)
        return cls(n, uniq, counts)

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def js_divergence(a: NgramCounts, b: NgramCounts) -> float:
    """Jensen-Shannon divergence (bits) between two n-gram distributions; 0 for equal
    distributions, 1 for disjoint ones."""
    if a.total == 0 or b.total == 0:
        return 1.0
    codes = np.union1d(a.codes, b.codes)
    p = np.zeros(len(codes))
    q = np.zeros(len(codes))
    p[np.searchsorted(codes, a.codes)] = a.counts / a.total
    q[np.searchsorted(codes, b.codes)] = b.counts / b.total
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(max(0.0, 0.5 * (kl_p + kl_q)))


class NgramReference:
    """The training text's n-gram distributions for n = 1..``max_n``, to score samples by."""

    def __init__(self, ids: np.ndarray, base: int, max_n: int = 4) -> None:
        self.base = base
        self.models = [NgramCounts.of(ids, n, base) for n in range(1, max_n + 1)]

    def js(self, ids: np.ndarray) -> dict[int, float]:
        """{n: JS-n of the samples ``ids`` against this reference}."""
        return {m.n: js_divergence(NgramCounts.of(ids, m.n, self.base), m) for m in self.models}
