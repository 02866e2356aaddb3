"""TensorBoard event files in a run directory: ``log.tensorboard=true`` while training, and
``ganforge export tensorboard RUN`` for a run trained without it.

Scalars are the records of ``metrics.jsonl`` (``train/d_loss``, ``eval/fid``, ...), pictures
the saved sample pictures (``samples``). While training, the samples of each picture step
also go in as the modality writes them, by file format: ``.wav`` as audio, ``.txt`` as
text, ``.gif`` as an animated clip. Written with ``torch.utils.tensorboard.SummaryWriter``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.errors import ConfigError, RunError, needs_extra
from ganforge.run import RunPaths

EVENTS = "events.out.tfevents.*"
_PICTURE = re.compile(r"^step-(\d+)\.png$")


def summary_writer_class(asked: str = "log.tensorboard=true") -> Any:
    """``SummaryWriter``, or a ConfigError saying how to install TensorBoard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        what = f"{asked} needs the tensorboard package"
        raise ConfigError(needs_extra(what, "tensorboard")) from None
    return SummaryWriter


def write_records(writer: Any, records: list[dict[str, Any]]) -> int:
    """Every number of ``metrics.jsonl`` records as a scalar ``KIND/KEY``; returns how many."""
    n = 0
    for rec in records:
        step, kind = rec.get("step"), rec.get("kind", "train")
        if not isinstance(step, int):
            continue
        for key, value in rec.items():
            if key in ("step", "kind") or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)) and np.isfinite(value):
                writer.add_scalar(f"{kind}/{key}", value, step)
                n += 1
    return n


def sample_pictures(samples_dir: Path, after: int = -1) -> list[tuple[int, Path]]:
    """The saved sample pictures ``step-N.png`` past step ``after``, in step order."""
    found = []
    if samples_dir.is_dir():
        for path in samples_dir.iterdir():
            m = _PICTURE.match(path.name)
            if m and int(m.group(1)) > after:
                found.append((int(m.group(1)), path))
    return sorted(found)


def write_picture(writer: Any, path: Path, step: int, tag: str = "samples") -> None:
    from PIL import Image

    with Image.open(path) as im:
        pixels = np.asarray(im.convert("RGB"))
    writer.add_image(tag, pixels, step, dataformats="HWC")


def _wav_audio(data: bytes) -> tuple[torch.Tensor, int]:
    """A 16-bit PCM WAV as mono float samples in [-1, 1] and its rate."""
    with wave.open(io.BytesIO(data)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
    mono = pcm.reshape(-1, channels).mean(axis=1) / 32768.0
    return torch.from_numpy(mono)[None], rate


def _add_gif(writer: Any, tag: str, data: bytes, step: int) -> None:
    """An animated GIF as an image entry (TensorBoard shows it moving), as ``add_video``
    writes one, without moviepy."""
    from PIL import Image
    from tensorboard.compat.proto.summary_pb2 import Summary

    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
    image = Summary.Image(height=height, width=width, colorspace=3, encoded_image_string=data)
    summary = Summary(value=[Summary.Value(tag=tag, image=image)])
    writer._get_file_writer().add_summary(summary, step)


def _as_text(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())  # markdown: kept verbatim


# the formats of a modality's ``save`` that TensorBoard shows (audio, text, an animated
# clip), and how many samples each entry holds (4 phrases of music are 30 s and 1.4 MB)
MEDIA = {".wav": 4, ".txt": 64, ".gif": 16}


def media_formats(modality: Any) -> list[str]:
    """The formats of :data:`MEDIA` the modality's ``save`` writes."""
    return [s for s in MEDIA if s in getattr(modality, "raw_formats", ())]


def write_media(writer: Any, modality: Any, samples: Any, info: dict[str, Any], step: int) -> None:
    """The samples as the modality writes them (its ``save``), for each format of
    :data:`MEDIA` it offers: audio, text, an animated clip."""
    offered = media_formats(modality)
    with tempfile.TemporaryDirectory() as tmp, torch.random.fork_rng(devices=[]):
        for suffix in offered:
            shown = samples[: MEDIA[suffix]]
            data = Path(modality.save(shown, Path(tmp) / f"samples{suffix}", info)).read_bytes()
            if suffix == ".wav":
                audio, rate = _wav_audio(data)
                writer.add_audio("audio", audio, step, sample_rate=rate)
            elif suffix == ".txt":
                writer.add_text("samples", _as_text(data.decode("utf-8")), step)
            else:
                _add_gif(writer, "clips", data, step)


class TensorBoardHook:
    """Trainer hook (every ``log.every`` steps): the new ``metrics.jsonl`` records as
    scalars, the new sample pictures, and at picture steps the modality's media."""

    def __init__(self, paths: RunPaths, modality: Any, pictures: Any, cfg: Any) -> None:
        self.paths, self.modality, self.pictures = paths, modality, pictures
        self.every = cfg.log.every
        self.writer: Any = None
        self.offset = 0  # bytes of metrics.jsonl already written as scalars
        self.picture_step = -1

    def begin(self, step: int) -> None:
        """Start writing at ``step`` (a resumed run: what the interrupted training wrote past its
        checkpoint is purged from view, the log read from its end)."""
        writer_class = summary_writer_class()
        purge = step + 1 if step > 0 else None
        self.writer = writer_class(log_dir=str(self.paths.root), purge_step=purge)
        metrics = self.paths.metrics
        self.offset = metrics.stat().st_size if step > 0 and metrics.is_file() else 0
        self.picture_step = step if step > 0 else -1

    def _new_records(self) -> list[dict[str, Any]]:
        try:
            with open(self.paths.metrics, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        whole = data[: data.rfind(b"\n") + 1]  # a line still being written waits
        self.offset += len(whole)
        return [json.loads(line) for line in whole.decode().splitlines() if line.strip()]

    def flush(self) -> None:
        """Write what the run logged and saved since the last call."""
        write_records(self.writer, self._new_records())
        for step, path in sample_pictures(self.paths.samples, after=self.picture_step):
            write_picture(self.writer, path, step)
            self.picture_step = step
        self.writer.flush()

    def __call__(self, trainer: Any, step: int) -> None:
        if self.writer is None:
            self.begin(0)
        picture_step = (self.paths.samples / f"step-{step:08d}.png").is_file()
        if picture_step and media_formats(self.modality):
            samples = self.pictures.draw(trainer)
            write_media(self.writer, self.modality, samples.cpu(), self.pictures.info, step)
        self.flush()

    def close(self) -> None:
        """The records and pictures written after the last call (the final step's eval
        records), then the event file closed."""
        if self.writer is not None:
            self.flush()
            self.writer.close()


def export_run(run: str | Path) -> str:
    """Event files in ``run`` from its ``metrics.jsonl`` and saved sample pictures (a run
    trained without ``log.tensorboard``); earlier event files there are replaced. Returns
    the line that says what was written."""
    paths = RunPaths(Path(run))
    if not paths.metrics.is_file():
        raise RunError(f"{run} holds no metrics.jsonl; give the --out directory of a run")
    writer_class = summary_writer_class("export tensorboard")
    records = []
    for line in paths.metrics.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a killed writer
    pictures = sample_pictures(paths.samples)
    tmp = Path(tempfile.mkdtemp(prefix=".tensorboard-", dir=paths.root))
    try:
        writer = writer_class(log_dir=str(tmp))
        scalars = write_records(writer, records)
        for step, path in pictures:
            write_picture(writer, path, step)
        writer.close()
        for old in paths.root.glob(EVENTS):
            old.unlink()
        for new in tmp.glob(EVENTS):
            new.rename(paths.root / new.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return (
        f"wrote {scalars} scalars and {len(pictures)} pictures to {paths.root} "
        f"(tensorboard --logdir {paths.root})"
    )
