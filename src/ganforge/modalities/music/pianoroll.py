"""Piano-rolls: notes on a 16th-note grid <-> boolean (tracks, steps, pitches) arrays.

A note is ``(pitch, onset, duration)`` in grid steps. A binary roll cannot tell a held note
from the same pitch struck again, so when a note is followed at once by the same pitch in
the same track the first one is written one step shorter (if it lasts more than a step):
every onset survives the round trip, and reading the roll back gives the notes with those
repeated notes one 16th shorter. ``roll_to_notes`` reads contiguous runs of a pitch.
"""

from __future__ import annotations

import numpy as np

STEPS_PER_QUARTER = 4  # a 16th-note grid
STEPS_PER_BAR = 16  # bars of 4/4


def notes_to_roll(
    tracks: list[np.ndarray], steps: int, low: int, pitches: int, start: int = 0
) -> np.ndarray:
    """Tracks of notes (arrays of rows ``(pitch, onset, duration)``) as a boolean roll of
    shape (tracks, steps, pitches) covering grid steps ``start .. start + steps``; pitches
    ``low .. low + pitches - 1`` (notes outside are dropped)."""
    roll = np.zeros((len(tracks), steps, pitches), dtype=bool)
    for k, notes in enumerate(tracks):
        if len(notes) == 0:
            continue
        notes = notes[np.lexsort((notes[:, 0], notes[:, 1]))]
        ends = notes[:, 1] + notes[:, 2]
        # a note followed at once by the same pitch gives up its last step (see module doc)
        nxt: dict[int, int] = {}
        cut = np.zeros(len(notes), dtype=bool)
        for i in range(len(notes) - 1, -1, -1):
            p = int(notes[i, 0])
            j = nxt.get(p)
            if j is not None and notes[j, 1] == ends[i] and notes[i, 2] > 1:
                cut[i] = True
            nxt[p] = i
        for (p, on, dur), c in zip(notes.tolist(), cut.tolist(), strict=True):
            a, b = on - start, on - start + dur - int(c)
            a, b = max(a, 0), min(b, steps)
            if a < b and low <= p < low + pitches:
                roll[k, a:b, p - low] = True
    return roll


def roll_to_notes(roll: np.ndarray, low: int = 0) -> list[np.ndarray]:
    """A (tracks, steps, pitches) roll (bool, or values > 0 as on) as a list of note arrays
    ``(pitch, onset, duration)`` per track, sorted by onset then pitch."""
    on = np.asarray(roll) > 0
    out = []
    for track in on:
        padded = np.pad(track, ((1, 1), (0, 0))).astype(np.int8)
        d = np.diff(padded, axis=0)  # +1 at onsets, -1 one past the ends
        t_on, p_on = np.nonzero(d == 1)
        t_off, p_off = np.nonzero(d == -1)
        a = np.lexsort((t_on, p_on))
        b = np.lexsort((t_off, p_off))
        notes = np.stack([p_on[a] + low, t_on[a], t_off[b] - t_on[a]], axis=1)
        out.append(notes[np.lexsort((notes[:, 0], notes[:, 1]))].astype(np.int64))
    return out
