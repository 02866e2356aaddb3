"""Music as datasets: fixed-length multi-track piano-roll phrases.

Pieces are split once, by the run's seed, into training pieces and a held-out share
(``data.holdout``) that evaluation uses as the real-data floor: phrases of one piece
never sit on both sides. Each piece is cut into phrases of ``music.bars`` bars of 16
steps, a phrase starting every ``music.hop`` bars, and keys are either augmented
(every transposition within ``music.transpose`` semitones) or normalised (C major / A
minor). Stored as ``uint8`` 0/1 (N, tracks, steps, pitches); the networks see -1/1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganforge.data.dataset import Dataset
from ganforge.data.held_out import SplitSettings
from ganforge.errors import DataError
from ganforge.modalities.music.chorales import VOICES, load_chorales
from ganforge.modalities.music.keys import key_of, normalising_shift, piece_chroma
from ganforge.modalities.music.midi import read_midi_folder
from ganforge.modalities.music.pianoroll import STEPS_PER_BAR, notes_to_roll
from ganforge.modalities.music.pieces import Piece


@dataclass
class MusicDataset(Dataset):
    """Piano-roll phrases (N, tracks, steps, pitches) stored as 0/1 bytes."""

    def to_model(self, batch: torch.Tensor) -> torch.Tensor:
        return batch.float().mul_(2.0).sub_(1.0)


def read_pieces(kind: str, arg: str, tracks: int, by: str, progress: bool) -> dict[str, Any]:
    """The source's pieces, track names, General MIDI programs and skipped files."""
    if kind == "chorales":
        pieces, left = load_chorales(progress)
        return {
            "pieces": pieces,
            "names": list(VOICES),
            "programs": [73, 68, 71, 70],  # flute, oboe, clarinet, bassoon
            "skipped": [],
            "note": f"{left} chorales not in 4/4 four parts left out",
        }

    return read_midi_folder(arg, tracks, by)


def split_pieces(pieces: list[Piece], seed: int, holdout: float) -> tuple[list, list]:
    """(training pieces, held-out pieces): a fixed shuffle by ``seed``."""
    order = np.random.default_rng(seed).permutation(len(pieces))
    k = int(round(len(order) * holdout)) if holdout > 0 else 0
    k = min(k, len(order) - 1)
    return [pieces[i] for i in order[k:]], [pieces[i] for i in order[:k]]


def key_shifts(piece: Piece, keys: str, transpose: int) -> list[int]:
    """The transpositions a piece enters the data with."""
    if keys == "normalise":
        return [normalising_shift(int(key_of(piece_chroma(piece.tracks))))]
    if keys == "augment":
        return list(range(-transpose, transpose + 1))
    return [0]


def pitch_window(pieces: list[Piece], keys: str, transpose: int) -> tuple[int, int]:
    """(lowest pitch, pitch count): whole octaves covering every note after transposition."""
    lo, hi = 127, 0
    for p in pieces:
        a, b = p.pitch_span()
        if b < a:
            continue
        shifts = key_shifts(p, keys, transpose)
        lo, hi = min(lo, a + min(shifts)), max(hi, b + max(shifts))
    if hi < lo:
        raise DataError("the music has no notes; give MIDI files with notes in them")
    count = -(-(hi - lo + 1) // 12) * 12
    low = max(0, min(lo - (count - (hi - lo + 1)) // 2, 128 - count))
    return int(low), int(count)


def phrases(
    pieces: list[Piece], bars: int, hop: int, keys: str, transpose: int, low: int, count: int
) -> np.ndarray:
    """Every phrase of ``bars`` bars (a start every ``hop`` bars) of every piece, in every
    transposition: (N, tracks, steps, pitches) 0/1 bytes. Phrases with a silent track in
    every step are kept (rests are music); wholly silent phrases are not."""
    steps = bars * STEPS_PER_BAR
    out = []
    for piece in pieces:
        total = -(-piece.steps // STEPS_PER_BAR)
        for shift in key_shifts(piece, keys, transpose):
            moved = piece.transposed(shift) if shift else piece
            for b in range(0, max(total - bars, 0) + 1, hop):
                roll = notes_to_roll(moved.tracks, steps, low, count, start=b * STEPS_PER_BAR)
                if roll.any():
                    out.append(roll)
    if not out:
        return np.zeros((0, 0, steps, count), dtype=np.uint8)
    return np.stack(out).astype(np.uint8)


def track_ranges(data: np.ndarray) -> list[list[int]]:
    """Each track's [lowest, highest] pitch index in the phrases ([0, -1] for a silent
    track): the voice ranges G's outputs are held to."""
    used = np.asarray(data).any((0, 2))  # (tracks, pitches)
    out = []
    for row in used:
        idx = np.flatnonzero(row)
        out.append([int(idx[0]), int(idx[-1])] if len(idx) else [0, -1])
    return out


def chord_share(data: np.ndarray, sample: int = 2000) -> float:
    """Share of (track, step)s with sound that hold two pitches or more (a few phrases)."""
    counts = (np.asarray(data[:sample]) > 0).sum(-1)
    sounding = (counts > 0).sum()
    return float((counts > 1).sum() / sounding) if sounding else 0.0


# what decides a run's phrases and split (``info['music']`` holds it)
split_settings = SplitSettings(
    "music",
    {
        "bars": 4,
        "hop": 1,
        "tracks": 4,
        "by": "program",
        "keys": "augment",
        "transpose": 3,
        "holdout": 0.1,
        "max_pieces": 0,
    },
)


def split_source(settings: dict[str, Any], progress: bool = False) -> dict[str, Any]:
    """The source read and split as ``settings`` say: pieces, names, programs, window."""
    s = settings
    kind, arg = s["source"]
    src = read_pieces(kind, arg, s["tracks"], s["by"], progress)
    pieces = src["pieces"]
    if s["max_pieces"]:
        pieces = pieces[: s["max_pieces"]]
    if len(pieces) < 2 and s["holdout"] > 0:
        raise DataError(
            f"the music gives {len(pieces)} piece(s); give at least 2 (one is held out for "
            "the real-data floor) or set data.holdout=0"
        )
    train, heldout = split_pieces(pieces, s["seed"], s["holdout"])
    low, count = pitch_window(pieces, s["keys"], s["transpose"])
    return {**src, "train": train, "heldout": heldout, "low": low, "pitches": count}


def phrases_of(src: dict[str, Any], settings: dict[str, Any], part: str) -> np.ndarray:
    s = settings
    return phrases(
        src[part], s["bars"], s["hop"], s["keys"], s["transpose"], src["low"], src["pitches"]
    )


def load_music(
    kind: str, arg: str, seed: int = 0, progress: bool = True, tempo: float = 90.0, **options: Any
) -> MusicDataset:
    """The training phrases of a music source as a :class:`MusicDataset` (``tempo``, in
    quarter notes a minute, is what its MIDI and WAV files will be played at)."""
    settings = split_settings(kind, arg, seed, **options)
    src = split_source(settings, progress)
    data = phrases_of(src, settings, "train")
    if len(data) < 2:
        raise DataError(
            f"the music gives {len(data)} phrase(s) of {settings['bars']} bars; give longer "
            "pieces or set music.bars lower"
        )
    heldout = len(phrases_of(src, settings, "heldout")) if src["heldout"] else 0
    name = kind if kind == "chorales" else f"midi:{arg}"
    notes = [
        f"music: {len(data)} training phrases ({len(src['train'])} pieces) and {heldout} "
        f"held-out ({len(src['heldout'])} pieces), {settings['bars']} bars x 16 steps, "
        f"pitches {src['low']}-{src['low'] + src['pitches'] - 1}, keys {settings['keys']}"
        + (f"; {len(src['skipped'])} file(s) skipped" if src["skipped"] else "")
    ]
    if src.get("note"):
        notes.append(src["note"])
    chords = chord_share(data)
    if chords > 0.05:
        notes.append(
            f"{100 * chords:.0f}% of the sounding steps of a track hold a chord; "
            "arch.binarize=voice draws one pitch per track and step: use "
            "arch.binarize=threshold (or none) to generate chords"
        )
    info = {
        "music": {
            **settings,
            "low": src["low"],
            "pitches": src["pitches"],
            "track_names": src["names"],
            "programs": src["programs"],
            "tempo": float(tempo),
            "chords": round(chords, 4),
            "ranges": track_ranges(data),
            "train_count": len(data),
            "heldout_count": heldout,
        },
        "notes": notes,
    }
    return MusicDataset(
        name=name,
        data=torch.from_numpy(data),
        modality="music",
        skipped=src["skipped"],
        info=info,
    )
