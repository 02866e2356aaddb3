"""A piece of music as the music modality holds it before cutting phrases: named tracks of
notes on the 16th-note grid (see :mod:`.pianoroll`), bar lines at multiples of 16 steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Piece:
    """One piece: ``tracks[k]`` is an int array of rows ``(pitch, onset, duration)``."""

    name: str
    tracks: list[np.ndarray]

    @property
    def steps(self) -> int:
        ends = [int((t[:, 1] + t[:, 2]).max()) for t in self.tracks if len(t)]
        return max(ends, default=0)

    def pitch_span(self) -> tuple[int, int]:
        """(lowest, highest) MIDI pitch of the piece's notes; (0, -1) when it has none."""
        ps = [t[:, 0] for t in self.tracks if len(t)]
        if not ps:
            return 0, -1
        allp = np.concatenate(ps)
        return int(allp.min()), int(allp.max())

    def transposed(self, semitones: int) -> Piece:
        out = []
        for t in self.tracks:
            t = t.copy()
            t[:, 0] += semitones
            out.append(t)
        return Piece(self.name, out)


def pack(pieces: list[Piece]) -> dict[str, np.ndarray]:
    """Pieces as flat arrays (for a cache file): notes with piece and track columns."""
    rows = [
        np.column_stack([np.full(len(t), i), np.full(len(t), k), t])
        for i, p in enumerate(pieces)
        for k, t in enumerate(p.tracks)
        if len(t)
    ]
    notes = np.concatenate(rows) if rows else np.zeros((0, 5), dtype=np.int64)
    return {
        "notes": notes.astype(np.int32),
        "tracks": np.array([len(p.tracks) for p in pieces], dtype=np.int32),
        "names": np.array([p.name for p in pieces]),
    }


def unpack(arrays: dict[str, np.ndarray]) -> list[Piece]:
    notes = arrays["notes"].astype(np.int64)
    out = []
    for i, (name, k) in enumerate(
        zip(arrays["names"].tolist(), arrays["tracks"].tolist(), strict=True)
    ):
        mine = notes[notes[:, 0] == i]
        out.append(Piece(str(name), [mine[mine[:, 1] == j][:, 2:] for j in range(k)]))
    return out
