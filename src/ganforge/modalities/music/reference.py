"""A run's real music, built once per process: training and held-out phrases split again
exactly as training split them, their metrics, and the training bars for the copy check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganforge.data.held_out import Memo, References
from ganforge.modalities.music.datasets import phrases_of, split_settings, split_source
from ganforge.modalities.music.features import keynet_for
from ganforge.modalities.music.metrics import phrase_metrics
from ganforge.modalities.music.pianoroll import STEPS_PER_BAR


@dataclass
class MusicReference(Memo):
    train: np.ndarray  # (N, tracks, steps, pitches) 0/1
    heldout: np.ndarray
    low: int
    train_metrics: dict[str, np.ndarray]
    bar_set: frozenset[bytes]
    phrase_set: frozenset[bytes]
    name: str = "music"  # the data's name, for labels such as FD[chorales-keynet]

    @classmethod
    def build(
        cls, train: np.ndarray, heldout: np.ndarray, low: int, name: str = "music"
    ) -> MusicReference:
        return cls(
            name=name,
            train=train,
            heldout=heldout,
            low=low,
            train_metrics=phrase_metrics(train, low),
            bar_set=frozenset(bar_keys(train)),
            phrase_set=frozenset(r.tobytes() for r in (train > 0).astype(np.uint8)),
        )

    def keynet(self) -> tuple[Any, dict]:
        """The key network of these training phrases and its metadata (trained or loaded
        from the cache once per reference)."""
        return self.memo("keynet", lambda: keynet_for(self.train, self.low, self.name))

    def copies(self, rolls: np.ndarray) -> dict[str, float]:
        """% of sounding 4-track bars, and % of phrases, found verbatim in the training set."""
        on = (np.asarray(rolls) > 0).astype(np.uint8)
        bars = bar_keys(on, sounding_only=True)
        bar_rate = 100.0 * sum(b in self.bar_set for b in bars) / max(len(bars), 1)
        phrase_rate = 100.0 * np.mean([r.tobytes() in self.phrase_set for r in on])
        return {"copied bars %": bar_rate, "copied phrases %": float(phrase_rate)}


def bar_keys(rolls: np.ndarray, sounding_only: bool = False) -> list[bytes]:
    """Every bar of every phrase (all tracks together) as bytes."""
    on = (np.asarray(rolls) > 0).astype(np.uint8)
    n, k, t, p = on.shape
    bars = on.reshape(n, k, t // STEPS_PER_BAR, STEPS_PER_BAR, p).transpose(0, 2, 1, 3, 4)
    bars = bars.reshape(-1, k * STEPS_PER_BAR * p)
    if sounding_only:
        bars = bars[bars.any(1)]
    return [b.tobytes() for b in bars]


def _build(settings: dict[str, Any]) -> MusicReference:
    src = split_source(settings)
    heldout = phrases_of(src, settings, "heldout") if src["heldout"] else None
    train = phrases_of(src, settings, "train")
    if heldout is None or not len(heldout):
        heldout = np.zeros((0, *train.shape[1:]), dtype=np.uint8)
    return MusicReference.build(train, heldout, src["low"], settings["source"][0])


REFERENCES = References(split_settings, _build)


def reference_for(info: dict[str, Any]) -> MusicReference:
    """The run's :class:`MusicReference` (from ``info['music']``), cached per process."""
    return REFERENCES.of_info(info)
