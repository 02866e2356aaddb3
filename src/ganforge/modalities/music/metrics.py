"""Music metrics on piano-roll phrases, one value per phrase (NaN where undefined).

MuseGAN's (Dong et al. 2018): EB empty bars (% of track-bars with no note), UPC pitch
classes used per non-empty track-bar, QN qualified notes (% of notes lasting 3 or more
16ths), TD tonal distance between the voices (Harte et al. 2006 tonal centroids of each
bar's duration-weighted chroma, averaged over voice pairs and bars where both sound).
muspy's: pitch range (semitones), polyphony (pitches sounding at once, over steps with
sound), pitch-class entropy (bits, of note onsets), scale consistency (largest share of
notes in one major/minor scale), groove consistency (1 - mean Hamming distance between
consecutive bars' onset patterns / 16).
Beside them, not in the goals: :func:`melodic_moves`, each track's share of moves by step
and by octave leap over a whole set.

Rolls are (N, tracks, steps, pitches), > 0 meaning on; ``low`` is the lowest pitch.
"""

from __future__ import annotations

import numpy as np

from ganforge.modalities.music.pianoroll import STEPS_PER_BAR

METRICS = ("EB", "UPC", "QN", "TD", "PR", "PP", "PCE", "SC", "GC")
DESCRIPTIONS = {
    "EB": "empty bars (%)",
    "UPC": "used pitch classes per bar",
    "QN": "qualified notes, >= 3 sixteenths (%)",
    "TD": "tonal distance between voices",
    "PR": "pitch range (semitones)",
    "PP": "polyphony (pitches at once)",
    "PCE": "pitch-class entropy (bits)",
    "SC": "scale consistency",
    "GC": "groove consistency",
}


def _bars(on: np.ndarray) -> np.ndarray:
    n, k, t, p = on.shape
    return on.reshape(n, k, t // STEPS_PER_BAR, STEPS_PER_BAR, p)


def _chroma(x: np.ndarray, low: int) -> np.ndarray:
    """Fold the last (pitch) axis onto the 12 pitch classes (summing)."""
    pc = (low + np.arange(x.shape[-1])) % 12
    out = np.zeros((*x.shape[:-1], 12), dtype=np.float64)
    for c in range(12):
        out[..., c] = x[..., pc == c].sum(-1)
    return out


def onsets(on: np.ndarray) -> np.ndarray:
    """Where a note starts: on now and not on the step before (per track and pitch)."""
    prev = np.zeros_like(on)
    prev[:, :, 1:] = on[:, :, :-1]
    return on & ~prev


def _nanmean(x: np.ndarray, axes: tuple[int, ...], valid: np.ndarray) -> np.ndarray:
    total = np.where(valid, x, 0).sum(axes)
    count = valid.sum(axes)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def empty_bars(on: np.ndarray) -> np.ndarray:
    return 100.0 * (~_bars(on).any((3, 4))).mean((1, 2))


def used_pitch_classes(on: np.ndarray, low: int) -> np.ndarray:
    used = _chroma(_bars(on).any(3), low) > 0  # (N, K, bars, 12)
    count = used.sum(-1)
    return _nanmean(count.astype(float), (1, 2), count > 0)


def qualified_notes(on: np.ndarray) -> np.ndarray:
    start = onsets(on)
    t = on.shape[2]
    q = start.copy()
    for d in (1, 2):
        nxt = np.zeros_like(on)
        nxt[:, :, : t - d] = on[:, :, d:]
        q &= nxt
    total = start.sum((1, 2, 3))
    return np.divide(
        100.0 * q.sum((1, 2, 3)), total, out=np.full(total.shape, np.nan), where=total > 0
    )


def tonal_centroids(chroma: np.ndarray) -> np.ndarray:
    """Harte et al. (2006) 6-D tonal centroids of chroma vectors (..., 12): circles of
    fifths (r 1), minor thirds (r 1) and major thirds (r 0.5); zero for silent chroma."""
    lab = np.arange(12)
    phi = np.stack(
        [
            np.sin(lab * 7 * np.pi / 6),
            np.cos(lab * 7 * np.pi / 6),
            np.sin(lab * 3 * np.pi / 2),
            np.cos(lab * 3 * np.pi / 2),
            0.5 * np.sin(lab * 2 * np.pi / 3),
            0.5 * np.cos(lab * 2 * np.pi / 3),
        ]
    )  # (6, 12)
    total = chroma.sum(-1, keepdims=True)
    norm = np.divide(chroma, total, out=np.zeros_like(chroma), where=total > 0)
    return norm @ phi.T


def tonal_distance(on: np.ndarray, low: int) -> np.ndarray:
    chroma = _chroma(_bars(on).sum(3), low)  # (N, K, bars, 12), duration-weighted
    cent = tonal_centroids(chroma)
    sounding = chroma.sum(-1) > 0
    k = on.shape[1]
    dists, valid = [], []
    for i in range(k):
        for j in range(i + 1, k):
            dists.append(np.linalg.norm(cent[:, i] - cent[:, j], axis=-1))
            valid.append(sounding[:, i] & sounding[:, j])
    if not dists:
        return np.full(on.shape[0], np.nan)
    return _nanmean(np.stack(dists, 1), (1, 2), np.stack(valid, 1))


def pitch_range(on: np.ndarray) -> np.ndarray:
    used = on.any((1, 2))  # (N, P)
    idx = np.arange(on.shape[-1])
    hi = np.where(used, idx, -1).max(1)
    lo = np.where(used, idx, on.shape[-1]).min(1)
    return np.where(used.any(1), hi - lo, np.nan).astype(float)


def polyphony(on: np.ndarray) -> np.ndarray:
    count = on.any(1).sum(-1)  # (N, T): distinct pitches sounding
    return _nanmean(count.astype(float), (1,), count > 0)


def _onset_chroma(on: np.ndarray, low: int) -> np.ndarray:
    return _chroma(onsets(on).sum((1, 2)), low)  # (N, 12) note counts


def pitch_class_entropy(on: np.ndarray, low: int) -> np.ndarray:
    h = _onset_chroma(on, low)
    total = h.sum(1, keepdims=True)
    p = np.divide(h, total, out=np.zeros_like(h), where=total > 0)
    ent = -(p * np.log2(np.where(p > 0, p, 1))).sum(1)
    return np.where(total[:, 0] > 0, ent, np.nan)


MAJOR_SCALE = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=bool)


def scale_consistency(on: np.ndarray, low: int) -> np.ndarray:
    h = _onset_chroma(on, low)
    # a natural minor scale holds the pitch classes of its relative major
    scales = np.stack([np.roll(MAJOR_SCALE, k) for k in range(12)]).astype(float)
    total = h.sum(1)
    best = (h @ scales.T).max(1)
    return np.divide(best, total, out=np.full(total.shape, np.nan), where=total > 0)


def groove_consistency(on: np.ndarray) -> np.ndarray:
    pattern = _bars(onsets(on)).any((1, 4))  # (N, bars, 16)
    if pattern.shape[1] < 2:
        return np.full(on.shape[0], np.nan)
    ham = (pattern[:, 1:] != pattern[:, :-1]).sum(-1) / STEPS_PER_BAR
    return 1.0 - ham.mean(1)


def phrase_metrics(rolls: np.ndarray, low: int) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` per phrase."""
    on = np.asarray(rolls) > 0
    return {
        "EB": empty_bars(on),
        "UPC": used_pitch_classes(on, low),
        "QN": qualified_notes(on),
        "TD": tonal_distance(on, low),
        "PR": pitch_range(on),
        "PP": polyphony(on),
        "PCE": pitch_class_entropy(on, low),
        "SC": scale_consistency(on, low),
        "GC": groove_consistency(on),
    }


def means(values: dict[str, np.ndarray]) -> dict[str, float]:
    """Each metric's mean over the phrases where it is defined (NaN when none is)."""
    out = {}
    for k, v in values.items():
        v = v[np.isfinite(v)]
        out[k] = float(v.mean()) if len(v) else float("nan")
    return out


def melodic_moves(rolls: np.ndarray) -> dict[str, np.ndarray]:
    """How each track's line moves, over the whole set: of its changes of pitch from one
    note to the next (the top pitch sounding; repeated notes and rests skipped), the share
    that are steps (1-2 semitones, ``steps``) and leaps of an octave or more (``leaps``),
    one value per track (NaN for a track that never changes pitch)."""
    on = np.asarray(rolls) > 0
    n, k, t, p = on.shape
    sounding = on.any(-1)
    top = np.where(sounding, p - 1 - on[..., ::-1].argmax(-1), -1)  # (N, K, T)
    before = np.concatenate([np.full((n, k, 1), -1), top[:, :, :-1]], 2)
    starts = sounding & (top != before)
    nn_, kk, tt = np.nonzero(starts)  # sorted by phrase, track, step
    pitch = top[nn_, kk, tt]
    same_line = (np.diff(nn_) == 0) & (np.diff(kk) == 0)
    move = np.abs(np.diff(pitch))[same_line]
    track = kk[1:][same_line]
    moving = move > 0
    steps, leaps = np.full(k, np.nan), np.full(k, np.nan)
    for j in range(k):
        m = move[(track == j) & moving]
        if len(m):
            steps[j], leaps[j] = (m <= 2).mean(), (m >= 12).mean()
    return {"steps": steps, "leaps": leaps}
