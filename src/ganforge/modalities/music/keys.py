"""Key finding (Krumhansl-Schmuckler profiles on duration-weighted pitch classes), used to
normalise pieces to C major / A minor and to label phrases for the feature network."""

from __future__ import annotations

import numpy as np

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _profiles() -> np.ndarray:
    """(24, 12): the 12 major keys then the 12 minor keys, z-scored."""
    rows = [np.roll(MAJOR, k) for k in range(12)] + [np.roll(MINOR, k) for k in range(12)]
    p = np.array(rows)
    return (p - p.mean(1, keepdims=True)) / p.std(1, keepdims=True)


PROFILES = _profiles()


def key_of(chroma: np.ndarray) -> np.ndarray:
    """The best-correlating key (0-11 major tonic C..B, 12-23 minor) of each pitch-class
    histogram in ``chroma`` (..., 12); an empty histogram gives C major."""
    c = np.asarray(chroma, dtype=np.float64)
    c = c - c.mean(-1, keepdims=True)
    norm = np.linalg.norm(c, axis=-1, keepdims=True)
    c = np.divide(c, norm, out=np.zeros_like(c), where=norm > 0)
    return (c @ PROFILES.T).argmax(-1)


def normalising_shift(key: int) -> int:
    """Semitones (-5..6) that take ``key`` to C major (major keys) or A minor (minor)."""
    tonic = key % 12
    target = 0 if key < 12 else 9
    return int((target - tonic + 5) % 12 - 5)


def piece_chroma(tracks: list[np.ndarray]) -> np.ndarray:
    """Duration-weighted pitch-class histogram of notes ``(pitch, onset, duration)``."""
    h = np.zeros(12)
    for t in tracks:
        if len(t):
            np.add.at(h, t[:, 0] % 12, t[:, 2])
    return h
