"""MIDI files for the music and studio tests, written with pretty_midi."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi

# overrides that make the chorales preset tiny (a generated MIDI folder trains in seconds)
TINY_MUSIC = [
    "model.g_width=32",
    "model.d_width=16",
    "model.z_dim=8",
    "train.batch=16",
    "log.progress=false",
    "log.sample_every=10",
    "log.checkpoint_every=10",
    "log.samples=32",
    "music.bars=2",
    "music.transpose=1",
]


def write_midi(path: Path, voices: list[list[tuple[int, int, int]]], programs=None) -> None:
    """Voices of (pitch, onset, duration) 16th steps at 120 bpm."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    for k, notes in enumerate(voices):
        inst = pretty_midi.Instrument(program=(programs or [0, 40, 41, 42])[k])
        for p, on, dur in notes:
            inst.notes.append(pretty_midi.Note(90, p, on * 0.125, (on + dur) * 0.125))
        pm.instruments.append(inst)
    pm.write(str(path))


def chorale_like(rng: np.random.Generator, bars: int = 8) -> list[list[tuple[int, int, int]]]:
    """Four voices in C major stepping around their registers in quarters and halves."""
    scale = [0, 2, 4, 5, 7, 9, 11]
    voices = []
    for base in (72, 64, 57, 48):
        t, degree, notes = 0, 7, []
        while t < bars * 16:
            dur = int(rng.choice([4, 4, 8, 2]))
            degree = int(np.clip(degree + rng.integers(-2, 3), 0, 13))
            notes.append((base - 12 + 12 * (degree // 7) + scale[degree % 7], t, dur))
            t += dur
        voices.append(notes)
    return voices
