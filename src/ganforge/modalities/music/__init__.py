"""The music modality: multi-track piano-roll phrases (``chorales``, ``midi:FOLDER``) from a
MuseGAN-class GAN, written as MIDI and WAV, drawn as piano-rolls, scored by MuseGAN's and
muspy's metrics beside the real data and a held-out floor. Registered by :func:`register`
(entry point ``music``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganforge.engine.checkpoint import atomic_write_bytes
from ganforge.errors import ConfigError
from ganforge.generating import draw
from ganforge.modalities.music.audio import render as render_audio
from ganforge.modalities.music.audio import wav_bytes
from ganforge.modalities.music.evaluate import comparison, evaluate_run
from ganforge.modalities.music.metrics import means, phrase_metrics
from ganforge.modalities.music.midi import midi_bytes, rolls_to_midi
from ganforge.modalities.music.render import rolls_picture
from ganforge.modalities.music.specs import register_specs
from ganforge.modality import Modality

PICTURE_PHRASES = 8  # phrases a training picture shows (its metrics use all samples)


@dataclass
class MusicOptions:
    """The ``music`` config section."""

    bars: int = field(default=4, metadata={"range": (1, 16, True)})  # bars of 16 steps
    hop: int = field(default=1, metadata={"range": (1, 16, True)})  # bars between phrases
    tracks: int = field(default=4, metadata={"range": (1, 16, True)})  # midi: tracks kept
    by: str = field(default="program", metadata={"choices": ("program", "track")})
    keys: str = field(default="augment", metadata={"choices": ("augment", "normalise", "as-is")})
    transpose: int = field(default=3, metadata={"range": (0, 6, True)})  # augment: +- semitones
    max_pieces: int = field(default=0, metadata={"range": (0, None, True)})  # 0: all
    tempo: float = field(default=90.0, metadata={"range": (20.0, 300.0, True)})  # MIDI/WAV


def _rolls(samples: torch.Tensor) -> np.ndarray:
    return (samples.detach().float().cpu().numpy() > 0).astype(np.uint8)


class MusicModality(Modality):
    """Piano-roll phrases (tracks, bars x 16 steps, pitches) in -1/1: MIDI, WAV, pictures."""

    name = "music"
    description = "piano-roll phrases (tracks x steps x pitches): .mid, .wav, EB/UPC/QN/TD..."
    options = MusicOptions
    raw_formats = (".mid", ".wav", "folder/", ".npy")
    picture_samples = 256
    holdout_share = 0.1

    def load_options(self, cfg: Any) -> dict[str, Any]:
        o = cfg.section("music")
        keys = (
            "bars",
            "hop",
            "tracks",
            "by",
            "keys",
            "transpose",
            "max_pieces",
            "tempo",
        )
        return {**{k: getattr(o, k) for k in keys}, "holdout": self.holdout(cfg)}

    # ------------------------------------------------------------------ output
    def interpolation_count(self, cfg: Any) -> int:
        return 4

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        m = info["music"]
        rolls = _rolls(samples[:PICTURE_PHRASES])
        return rolls_picture(rolls, m["low"], list(m["track_names"]), info.get("title", ""), 2)

    def caption(self, step: int, metrics: dict[str, Any]) -> str:
        qn, upc = metrics.get("QN"), metrics.get("UPC")
        if qn is None or upc is None:
            return f"step {step}"
        return f"step {step}: QN {qn:.0f}%, UPC {upc:.2f}, EB {metrics.get('EB', 0):.0f}%"

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        """Every music metric's mean on these samples (the real means are in the run's
        data notes and in ``eval``)."""
        values = means(phrase_metrics(_rolls(samples), int(info["music"]["low"])))
        return {k: round(v, 4) for k, v in values.items() if np.isfinite(v)}

    def midi(self, samples: torch.Tensor, info: dict[str, Any]) -> Any:
        """Samples as one ``pretty_midi.PrettyMIDI``, phrase after phrase, a bar apart."""
        m = info["music"]
        tempo = float(info.get("tempo", m.get("tempo", 90.0)))
        return rolls_to_midi(_rolls(samples), m["low"], m["programs"], m["track_names"], tempo)

    generate_knobs = ("hold", "tempo", "truncation")

    def generate(
        self,
        run: Any,
        n: int,
        seed: int,
        hold: float | None = None,
        tempo: float | None = None,
        **knobs: Any,
    ) -> list[Any]:
        """``hold``: a voice generator keeps a step's pitch unless another's logit beats
        it by more than this (default: the run's ``arch.hold``); ``tempo``: quarter notes
        per minute of the MIDI (default: the run's ``music.tempo``)."""
        settings = None
        if hold is not None:
            if getattr(run.generator, "binarize", None) != "voice":
                raise ConfigError("generate: hold is for runs trained with arch.binarize=voice")
            if not isinstance(hold, int | float) or not 0 <= hold <= 100:
                raise ConfigError(f"generate: hold must be in 0..100; got {hold!r}")
            settings = {"hold": float(hold)}
        if tempo is not None and (not isinstance(tempo, int | float) or not 20 <= tempo <= 300):
            raise ConfigError(f"generate: tempo must be in 20..300; got {tempo!r}")
        samples, info = draw(run, n, seed, settings=settings, **knobs)
        if tempo is not None:
            info["tempo"] = float(tempo)
        return self.decode(samples, info)

    def decode(self, samples: torch.Tensor, info: dict[str, Any]) -> list[Any]:
        """One ``pretty_midi.PrettyMIDI`` per phrase, an instrument per track."""
        return [self.midi(samples[i : i + 1], info) for i in range(len(samples))]

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".npy":
            return super().save(samples, path, info)
        if suffix in (".mid", ".midi"):
            atomic_write_bytes(path, midi_bytes(self.midi(samples, info)))
        elif suffix == ".wav":
            atomic_write_bytes(path, wav_bytes(render_audio(self.midi(samples, info))[0]))
        elif not suffix:  # a folder: one .mid and one .wav per phrase
            path.mkdir(parents=True, exist_ok=True)
            for i in range(len(samples)):
                self.save(samples[i : i + 1], path / f"phrase-{i:04d}.mid", info)
                self.save(samples[i : i + 1], path / f"phrase-{i:04d}.wav", info)
        else:
            raise ConfigError(
                f"music samples are written as .mid, .wav, .npy, .png or a folder; "
                f"got '{path.suffix}'"
            )
        return path

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, run: Any, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Any:
        return evaluate_run(run, metrics, n, seed)

    def periodic_comparison(
        self, cfg: Any, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Any:
        return comparison(self, cfg, info)


def register() -> None:
    """Register the music modality, its datasets, metrics and the ``musegan`` nets."""
    register_specs(MusicModality())
