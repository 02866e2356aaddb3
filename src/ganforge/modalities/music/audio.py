"""Sound from piano-rolls, offline: a General MIDI soundfont (TimGM6mb, shipped inside the
pretty_midi wheel) played by ``tinysoundfont`` when it is installed, else a small additive
synthesiser in NumPy (a few harmonics and an envelope per note); 16-bit WAV files."""

from __future__ import annotations

import io
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np

RATE = 22050
# tinysoundfont's wheels require pyaudio (live playback only, no Linux wheel), so no extra can
# bring it; the first .wav without it says how to add it
SOUNDFONT_HINT = (
    "note: .wav files come from the NumPy additive synthesiser; for the TimGM6mb soundfont "
    "install tinysoundfont without its pyaudio dependency: "
    "pip install --no-deps 'tinysoundfont>=0.3'"
)
_hinted = False


def soundfont_path() -> Path | None:
    """The TimGM6mb soundfont inside pretty_midi, if it is there."""
    try:
        import pretty_midi
    except ImportError:  # pragma: no cover
        return None
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    return path if path.is_file() else None


def _events(pm: Any) -> list[tuple[float, int, int, int, int]]:
    """(time, on?, channel, pitch, velocity) for every note, offs before ons at a time."""
    ev = []
    for ch, inst in enumerate(pm.instruments):
        for n in inst.notes:
            ev.append((n.start, 1, ch, n.pitch, n.velocity))
            ev.append((n.end, 0, ch, n.pitch, 0))
    ev.sort(key=lambda e: (e[0], e[1]))
    return ev


def render_soundfont(pm: Any, rate: int = RATE, tail: float = 1.0) -> np.ndarray:
    """(samples, 2) float32 audio of a PrettyMIDI through tinysoundfont and TimGM6mb."""
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=rate, gain=-3)
    sf = synth.sfload(str(soundfont_path()))
    for ch, inst in enumerate(pm.instruments):
        synth.program_select(ch, sf, 0, int(inst.program))
    chunks, now = [], 0
    for t, on, ch, pitch, vel in _events(pm):
        at = int(round(t * rate))
        if at > now:
            chunks.append(np.frombuffer(synth.generate(at - now), dtype=np.float32))
            now = at
        if on:
            synth.noteon(ch, pitch, vel)
        else:
            synth.noteoff(ch, pitch)
    chunks.append(np.frombuffer(synth.generate(int(tail * rate)), dtype=np.float32))
    return np.concatenate(chunks).reshape(-1, 2)


def render_additive(pm: Any, rate: int = RATE, tail: float = 1.0) -> np.ndarray:
    """(samples, 2) float32 audio: each note four decaying harmonics under an envelope
    (10 ms attack, 60 ms release), each track a little to one side."""
    end = max((n.end for i in pm.instruments for n in i.notes), default=0.0)
    out = np.zeros((int((end + tail) * rate) + 1, 2), dtype=np.float32)
    k = len(pm.instruments)
    for ch, inst in enumerate(pm.instruments):
        pan = 0.5 if k == 1 else 0.2 + 0.6 * ch / (k - 1)
        for n in inst.notes:
            a, b = int(n.start * rate), int((n.end + 0.06) * rate)
            t = np.arange(b - a) / rate
            f = 440.0 * 2 ** ((n.pitch - 69) / 12)
            tone = sum(np.sin(2 * np.pi * f * h * t) / h**1.5 for h in range(1, 5))
            env = np.minimum(1, t / 0.01) * np.clip((n.end - n.start + 0.06 - t) / 0.06, 0, 1)
            wave_ = (0.15 * n.velocity / 127 * env * tone).astype(np.float32)
            out[a:b, 0] += (1 - pan) * wave_
            out[a:b, 1] += pan * wave_
    return out


def render(pm: Any, rate: int = RATE) -> tuple[np.ndarray, str]:
    """(audio, how it was made): the soundfont when tinysoundfont loads, else additive (and,
    once per process, a line on stderr that says how to install tinysoundfont)."""
    global _hinted
    if soundfont_path() is not None:
        try:
            return render_soundfont(pm, rate), "TimGM6mb soundfont (tinysoundfont)"
        except ImportError:
            if not _hinted:
                _hinted = True
                print(SOUNDFONT_HINT, file=sys.stderr)
    return render_additive(pm, rate), "additive synthesiser (NumPy)"


def wav_bytes(audio: np.ndarray, rate: int = RATE) -> bytes:
    """Float audio (samples, channels) as a 16-bit PCM WAV file, peak-normalised to -1 dBFS
    when it would clip or is very quiet."""
    audio = np.asarray(audio, dtype=np.float64)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 0.891 or 0 < peak < 0.1:
        audio = audio * (0.891 / peak)
    pcm = (np.clip(audio, -1, 1) * 32767).round().astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()
