"""MIDI in and out through pretty_midi: rolls written as one instrument per track, and
folders of ``.mid`` files read as pieces (one track per program, or per MIDI track)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.errors import DataError, needs_extra
from ganforge.modalities.music.pianoroll import STEPS_PER_BAR, STEPS_PER_QUARTER, roll_to_notes
from ganforge.modalities.music.pieces import Piece

MIDI_SUFFIXES = (".mid", ".midi")
DEFAULT_TEMPO = 90.0  # quarter notes per minute


def _pretty_midi():
    try:
        import pretty_midi
    except ImportError as e:  # pragma: no cover - the music extra installs it
        raise DataError(needs_extra("MIDI needs pretty_midi", "music")) from e
    return pretty_midi


def rolls_to_midi(
    rolls: np.ndarray,
    low: int,
    programs: list[int],
    names: list[str],
    tempo: float = DEFAULT_TEMPO,
    gap_bars: int = 1,
):
    """Phrases (N, tracks, steps, pitches; > 0 is on) one after another, ``gap_bars`` of
    rest between them, as a ``pretty_midi.PrettyMIDI`` with one instrument per track."""
    pm_mod = _pretty_midi()
    pm = pm_mod.PrettyMIDI(initial_tempo=tempo)
    step = 60.0 / tempo / STEPS_PER_QUARTER
    rolls = np.asarray(rolls)
    instruments = [
        pm_mod.Instrument(program=int(programs[k % len(programs)]), name=str(names[k]))
        for k in range(rolls.shape[1])
    ]
    offset = 0
    for roll in rolls:
        for inst, notes in zip(instruments, roll_to_notes(roll, low), strict=True):
            for p, on, dur in notes.tolist():
                inst.notes.append(
                    pm_mod.Note(
                        velocity=80,
                        pitch=int(p),
                        start=(offset + on) * step,
                        end=(offset + on + dur) * step,
                    )
                )
        offset += roll.shape[1] + gap_bars * STEPS_PER_BAR
    pm.instruments.extend(instruments)
    return pm


def midi_bytes(pm: Any) -> bytes:
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def _quantise(pm: Any, inst: Any) -> np.ndarray:
    """An instrument's notes on the 16th grid (ticks per quarter from the file)."""
    per_step = pm.resolution / STEPS_PER_QUARTER
    rows = []
    for n in inst.notes:
        on = int(round(pm.time_to_tick(n.start) / per_step))
        off = int(round(pm.time_to_tick(n.end) / per_step))
        rows.append((n.pitch, on, max(off - on, 1)))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def midi_piece(path: Path, tracks: int, by: str) -> tuple[Piece, list[str], list[int]]:
    """One MIDI file as a piece of ``tracks`` tracks: its instruments grouped by General
    MIDI program (``by='program'``, lowest programs first) or taken in file order
    (``by='track'``); drums are left out, missing tracks are silent."""
    pm_mod = _pretty_midi()
    pm = pm_mod.PrettyMIDI(str(path))
    insts = [i for i in pm.instruments if not i.is_drum and i.notes]
    if not insts:
        raise ValueError("no notes outside drum tracks")
    groups: dict[Any, list] = {}
    for i, inst in enumerate(insts):
        groups.setdefault(inst.program if by == "program" else i, []).append(inst)
    keys = sorted(groups)[:tracks]
    out, names, programs = [], [], []
    for k in keys:
        notes = [_quantise(pm, inst) for inst in groups[k]]
        out.append(np.concatenate(notes))
        programs.append(int(groups[k][0].program))
        names.append(groups[k][0].name.strip() or pm_mod.program_to_instrument_name(programs[-1]))
    while len(out) < tracks:
        out.append(np.zeros((0, 3), dtype=np.int64))
    return Piece(path.name, out), names, programs


def read_midi_folder(arg: str, tracks: int, by: str) -> dict[str, Any]:
    """Every readable MIDI file under a folder (or one file) as pieces; files that cannot be
    read, or hold no notes, are skipped and listed."""
    if not arg:
        raise DataError("midi: needs a folder, like --data midi:songs/")
    root = Path(arg).expanduser()
    if not root.exists():
        raise DataError(f"no such file or folder: {root}")
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES)
    )
    if not files:
        raise DataError(f"{root} holds no .mid/.midi files")
    pieces, skipped, names, programs = [], [], None, None
    for f in files:
        try:
            piece, n, p = midi_piece(f, tracks, by)
        except Exception as e:  # noqa: BLE001 - any unreadable file is skipped and listed
            skipped.append(
                f"{f.name}: {str(e).splitlines()[0][:80] if str(e) else type(e).__name__}"
            )
            continue
        pieces.append(piece)
        if names is None or len(n) > len(names):
            names, programs = n, p
    if not pieces:
        raise DataError(
            f"none of the {len(files)} MIDI file(s) under {root} could be read "
            f"(first: {skipped[0]})"
        )
    names = (names or []) + [f"track {k + 1}" for k in range(len(names or []), tracks)]
    programs = (programs or []) + [0] * (tracks - len(programs or []))
    return {"pieces": pieces, "names": names, "programs": programs, "skipped": skipped}
