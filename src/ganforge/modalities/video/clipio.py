"""Clip I/O for the video modality: grids and filmstrips, GIF/MP4/WebM/PNG writers, readers.

A clip is uint8 (C, T, H, W) with C in {1, 3}; frames are uint8 (T, H, W, 3) RGB. GIFs and
pictures go through Pillow, other videos through PyAV (imported only when needed).
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import struct
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from ganforge.engine.checkpoint import atomic_write_bytes
from ganforge.errors import DataError, needs_extra
from ganforge.modalities.image.datasets import MAX_PIXELS, PILLOW_FORMATS, _flatten

VIDEO_SUFFIXES = (".gif", ".mp4", ".webm", ".mov", ".avi", ".mkv", ".m4v")
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
GREY = 128  # padding between grid cells
CRF = 12  # near-lossless: a round trip differs mostly by the 4:2:0 chroma subsampling
# output suffix -> PyAV container format; webm is VP9, the others H.264
WRITERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


class _Bad(Exception):
    """A clip source that cannot be read; the message is the reason."""


def grid_frames(
    clips: np.ndarray, cols: int | None = None, pad: int = 2, scale: int = 1
) -> np.ndarray:
    """Clips (N, C, T, H, W) -> one animated grid (T, H', W', 3) RGB: clip i in row i // cols,
    column i % cols (default ceil(sqrt(N))), each cell upscaled ``scale`` times (nearest),
    ``pad`` mid-grey pixels between and around cells. Grey clips are replicated to RGB."""
    x = np.asarray(clips)
    if x.ndim != 5 or x.dtype != np.uint8 or x.shape[0] < 1 or x.shape[1] not in (1, 3):
        raise ValueError(f"clips must be uint8 (N, C 1|3, T, H, W), got {x.dtype} {x.shape}")
    cols = cols or math.ceil(math.sqrt(x.shape[0]))
    if scale < 1 or pad < 0 or cols < 1:
        raise ValueError(f"need scale >= 1, pad >= 0, cols >= 1; got {scale}, {pad}, {cols}")
    x = x.transpose(0, 2, 3, 4, 1).repeat(3 // x.shape[1], axis=-1)  # (N, T, H, W, 3)
    x = x.repeat(scale, axis=-3).repeat(scale, axis=-2) if scale > 1 else x
    n, t, h, w, _ = x.shape
    rows = math.ceil(n / cols)
    out = np.full((t, rows * (h + pad) + pad, cols * (w + pad) + pad, 3), GREY, np.uint8)
    for i in range(n):
        top, left = pad + (i // cols) * (h + pad), pad + (i % cols) * (w + pad)
        out[:, top : top + h, left : left + w] = x[i]
    return out


def filmstrip(
    clips: np.ndarray, max_frames: int | None = None, pad: int = 2, scale: int = 1
) -> np.ndarray:
    """Clips (N, C, T, H, W) -> a still (H', W', 3) RGB: one row per clip, its first
    ``max_frames`` (None: all) frames left to right, laid out as :func:`grid_frames` does."""
    x = np.asarray(clips)
    if x.ndim != 5:
        raise ValueError(f"clips must be uint8 (N, C, T, H, W), got shape {x.shape}")
    x = x[:, :, :max_frames] if max_frames else x
    n, c, t, h, w = x.shape
    cells = x.transpose(0, 2, 1, 3, 4).reshape(n * t, c, 1, h, w)
    return grid_frames(cells, cols=t, pad=pad, scale=scale)[0]


# --------------------------------------------------------------------------- writers


def _frames(frames: np.ndarray, rgb: bool = True, fps: float = 1.0) -> np.ndarray:
    """Checked uint8 (T, H, W, 1 or 3); with ``rgb``, grey is replicated to 3 channels."""
    x = np.asarray(frames)
    if x.ndim != 4 or x.dtype != np.uint8 or x.shape[-1] not in (1, 3) or 0 in x.shape:
        raise ValueError(f"frames must be uint8 (T, H, W, 1 or 3), got {x.dtype} {x.shape}")
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    return x.repeat(3, axis=-1) if rgb and x.shape[-1] == 1 else x


def _gif_image(frame: np.ndarray) -> bytes:
    """(H, W, 3) -> a GIF image block with a local colour table: the palette is exact for
    frames of <= 256 colours (else Pillow's median cut); cut from Pillow's one-frame GIF."""
    f = frame.astype(np.uint32)
    colours, index = np.unique(
        (f[..., 0] << 16) | (f[..., 1] << 8) | f[..., 2], return_inverse=True
    )
    if len(colours) > 256:
        im = Image.fromarray(np.ascontiguousarray(frame)).quantize(256)
    else:
        im = Image.frombytes("P", frame.shape[1::-1], index.astype(np.uint8).tobytes())
        im.putpalette(
            np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], 1)
            .astype(np.uint8)
            .tobytes()
        )
    buf = io.BytesIO()
    im.save(buf, "GIF", optimize=False, interlace=False)
    b = buf.getvalue()
    pos, table, bits = 13, b"", b[10] & 7
    if b[10] & 0x80:  # the global colour table becomes this frame's local one
        table, pos = b[13 : 13 + (3 << (bits + 1))], 13 + (3 << (bits + 1))
    while b[pos] == 0x21:  # extensions are dropped
        pos += 2
        while b[pos]:
            pos += b[pos] + 1
        pos += 1
    if b[pos] != 0x2C or b[-1] != 0x3B:
        raise RuntimeError("unexpected GIF layout from Pillow")
    desc = bytearray(b[pos : pos + 10])
    if not desc[9] & 0x80:
        desc[9] = (desc[9] & 0x40) | 0x80 | bits
    return bytes(desc) + table + b[pos + 10 : -1]


def save_gif(frames: np.ndarray, path: str | Path, fps: float = 8.0) -> Path:
    """Frames (T, H, W, 3 or 1) -> looping GIF (disposal 2), written atomically; the path.

    All T frames are stored, identical neighbours too (Pillow's writer merges those, so the
    file is put together here from one-frame encodings), each with its own palette: exact
    for frames of <= 256 colours. Delays are whole centiseconds, at least 2.
    """
    x, path = _frames(frames, fps=fps), Path(path)
    out = b"GIF89a" + struct.pack("<HHBBB", x.shape[2], x.shape[1], 0, 0, 0)
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    gce = struct.pack("<BBBBHBB", 0x21, 0xF9, 4, 2 << 2, max(2, round(100 / fps)), 0, 0)
    atomic_write_bytes(path, out + b"".join(gce + _gif_image(f) for f in x) + b";")
    return path


def _import_av():
    try:
        import av
    except ImportError as exc:
        raise DataError(needs_extra("video files need PyAV", "video")) from exc
    return av


def save_mp4(frames: np.ndarray, path: str | Path, fps: float = 8.0) -> Path:
    """Frames (T, H, W, 3 or 1) -> H.264 yuv420p (.mp4 .m4v .mov .mkv) or VP9 (.webm), CRF 12,
    written atomically; returns the path. Odd widths and heights are padded to even ones by
    repeating the last column/row (4:2:0 needs even sizes): the file is then 1 pixel larger."""
    x, path = _frames(frames, fps=fps), Path(path)
    if path.suffix.lower() not in WRITERS:
        raise ValueError(f"cannot write video {path.name}: use one of {', '.join(WRITERS)}")
    av, fmt = _import_av(), WRITERS[path.suffix.lower()]
    x = np.pad(x, ((0, 0), (0, x.shape[1] % 2), (0, x.shape[2] % 2), (0, 0)), mode="edge")
    codec, options = "libx264", {"crf": str(CRF)}
    if fmt == "webm":  # constant quality
        codec, options = "libvpx-vp9", {**options, "b": "0", "deadline": "good", "cpu-used": "4"}
    muxer = {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with av.open(str(tmp), mode="w", format=fmt, container_options=muxer) as out:
            stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height, stream.pix_fmt = x.shape[2], x.shape[1], "yuv420p"
            stream.options = options
            for f in x:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
            out.mux(stream.encode(None))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def save_frames(frames: np.ndarray, folder: str | Path) -> Path:
    """Frames (T, H, W, 3 or 1) -> folder/frame-0000.png, ... (each written atomically);
    frame-N.png files left from a longer clip are removed. Returns the folder."""
    x, folder = _frames(frames, rgb=False), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(x):
        buf = io.BytesIO()
        Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f).save(buf, "PNG")
        atomic_write_bytes(folder / f"frame-{i:04d}.png", buf.getvalue())
    for old in folder.glob("frame-*.png"):
        if re.fullmatch(r"frame-\d+\.png", old.name) and int(old.stem[6:]) >= len(x):
            old.unlink()
    return folder


# --------------------------------------------------------------------------- readers


def _natural(name: str) -> tuple[list[str | int], str]:
    """Sort key: digit runs compare as numbers (f2 before f10)."""
    parts = re.split(r"([0-9]+)", name.lower())
    return [int(p) if i % 2 else p for i, p in enumerate(parts)], name


def _open(path: Path, av=None):
    """Pillow (``av`` None) or PyAV container of a regular file, its frame size checked."""
    try:
        st = path.stat()
    except OSError as exc:
        raise _Bad(f"cannot be opened ({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        raise _Bad("empty file" if stat.S_ISREG(st.st_mode) else "not a regular file")
    if av is None:
        src = Image.open(path, formats=PILLOW_FORMATS)
        w, h = src.size
    else:
        src = av.open(str(path))
        if not src.streams.video:
            src.close()
            raise _Bad("no video stream")
        w, h = src.streams.video[0].width, src.streams.video[0].height
    if w * h > MAX_PIXELS:
        src.close()
        raise _Bad(f"frames too large ({w}x{h} pixels, limit {MAX_PIXELS // 1_000_000}M)")
    return src


def _reason(exc: Exception) -> str:
    if isinstance(exc, (_Bad, DataError)):
        return str(exc)
    if isinstance(exc, UnidentifiedImageError):
        return "not a picture Pillow can read"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, Image.DecompressionBombError):
        return f"frames too large (limit {MAX_PIXELS // 1_000_000}M pixels)"
    text = getattr(exc, "strerror", None) or (str(exc).splitlines() or [""])[0]
    return f"corrupt or truncated ({text or type(exc).__name__})"


def _iter_frames(path: Path) -> Iterator[np.ndarray]:
    """RGB (H, W, 3) frames of a GIF, a video file or a folder of pictures."""
    if path.suffix.lower() == ".gif" and not path.is_dir():
        with _open(path) as im:
            for frame in ImageSequence.Iterator(im):
                yield np.asarray(_flatten(frame, "RGB"))
    elif not path.is_dir():
        with _open(path, _import_av()) as src:
            for frame in src.decode(src.streams.video[0]):
                yield frame.to_ndarray(format="rgb24")
    else:
        files = [p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES]
        for p in sorted(files, key=lambda p: _natural(p.name)):
            if p.name.startswith("."):
                continue
            try:
                with _open(p) as im:
                    arr = np.asarray(_flatten(im, "RGB"))
            except Exception as exc:
                raise _Bad(f"{p.name}: {_reason(exc)}") from None
            yield arr


def _decode(path: Path, limit: int | None, fit: Callable[[np.ndarray], np.ndarray]) -> list:
    """``fit`` of each frame of ``path`` (at most ``limit``); raises _Bad with the reason."""
    out: list[np.ndarray] = []
    frames, shape0 = _iter_frames(path), None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            for frame in frames:
                shape0 = shape0 or frame.shape
                if frame.shape != shape0:
                    (h, w), (h0, w0) = frame.shape[:2], shape0[:2]
                    raise _Bad(f"frames of different sizes ({w}x{h} after {w0}x{h0})")
                out.append(fit(frame))
                if limit is not None and len(out) >= limit:
                    break
    except Exception as exc:
        raise _Bad(_reason(exc)) from None
    finally:
        frames.close()
    if not out:
        raise _Bad(f"no pictures ({', '.join(FRAME_SUFFIXES)})" if path.is_dir() else "no frames")
    return out


def read_clip(path: str | Path, max_frames: int | None = None) -> np.ndarray:
    """Frames (T, H, W, 3) uint8 RGB of a GIF, a video file or a folder of pictures (natural
    name order), at most ``max_frames``. Raises DataError naming the file and the problem."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"clip {path} not found")
    if not path.is_dir() and path.suffix.lower() not in VIDEO_SUFFIXES:
        raise DataError(f"cannot read {path}: not {'/'.join(VIDEO_SUFFIXES)} or a folder")
    try:
        return np.stack(_decode(path, max_frames, lambda f: f))
    except _Bad as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def _fit(frame: np.ndarray, size: int, mode: str) -> np.ndarray:
    """(H, W, 3 or 1) -> its centre square resized to (size, size) in ``mode`` (L or RGB)."""
    h, w = frame.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    square = np.ascontiguousarray(frame[top : top + s, left : left + s])
    im = Image.fromarray(square[..., 0] if square.shape[-1] == 1 else square).convert(mode)
    if s != size:
        resample = Image.Resampling.LANCZOS if s > size else Image.Resampling.BICUBIC
        im = im.resize((size, size), resample)
    return np.asarray(im)


def to_clip(frames: np.ndarray, size: int, channels: int) -> np.ndarray:
    """Frames (T, H, W, 3) -> clip (channels, T, size, size): centre square, Pillow resize
    (LANCZOS down, BICUBIC up); channels 1 is ITU-R 601 luma (Pillow "L"), 3 is RGB."""
    if channels not in (1, 3) or size < 1:
        raise ValueError(f"need channels 1 or 3 and size >= 1, got {channels}, {size}")
    x = np.stack([_fit(f, size, "L" if channels == 1 else "RGB") for f in _frames(frames, False)])
    return x[None] if channels == 1 else np.ascontiguousarray(x.transpose(3, 0, 1, 2))


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path != root else (root.resolve().name or "/")


def _sources(root: Path) -> tuple[list[Path], list[str]]:
    """Video files and folders of frames under ``root`` in natural order, and listing notes."""
    notes: list[str] = []
    videos: list[Path] = []
    frame_dirs: list[Path] = []

    def unlistable(exc: OSError) -> None:
        notes.append(f"{_rel(Path(exc.filename or root), root)}: cannot be listed ({exc.strerror})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        kept = [f for f in filenames if not f.startswith(".")]
        videos += [Path(dirpath, f) for f in kept if f.lower().endswith(VIDEO_SUFFIXES)]
        if any(f.lower().endswith(FRAME_SUFFIXES) for f in kept):
            frame_dirs.append(Path(dirpath))
    if root in frame_dirs and videos:  # pictures beside video files: covers, not a clip
        frame_dirs.remove(root)
        notes.append(f"{_rel(root, root)}: pictures beside videos left out (frames need a folder)")
    return sorted(videos + frame_dirs, key=lambda p: _natural(_rel(p, root))), notes


def read_video_folder(
    folder: str | Path,
    size: int,
    frames: int,
    channels: int,
    stride: int | None = None,
    max_clips: int = 0,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Clips of every video file and every folder of frames under ``folder`` (recursive).

    Each source is cut into windows of ``frames`` consecutive frames starting every ``stride``
    frames (default ``frames``: no overlap), frames made centred squares of ``size`` with
    ``channels``; at most ``max_clips`` clips (0: all). The root's own pictures are a source
    only when there are no video files. Returns (uint8 (N, channels, frames, size, size),
    "source#k" per clip, "source: reason" per skipped source); bad sources are skipped.
    """
    stride = frames if stride is None else stride
    if channels not in (1, 3) or min(size, frames, stride) < 1 or max_clips < 0:
        raise DataError(f"bad video options {channels=} {size=} {frames=} {stride=} {max_clips=}")
    root = Path(folder).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "not found"
        raise DataError(f"video folder {root} {what}; give a folder of videos or of frames")
    sources, skipped = _sources(root)
    notes, mode = len(skipped), "L" if channels == 1 else "RGB"
    clips: list[np.ndarray] = []
    names: list[str] = []
    for src in sources:
        if max_clips and len(clips) >= max_clips:
            break
        limit = (max_clips - len(clips) - 1) * stride + frames if max_clips else None
        try:
            got = _decode(src, limit, lambda f: _fit(f, size, mode))
            if len(got) < frames:
                raise _Bad(f"has {len(got)} frames, fewer than {frames}")
        except _Bad as exc:
            skipped.append(f"{_rel(src, root)}: {exc}")
            continue
        arr = np.stack(got)  # (K, s, s) or (K, s, s, 3) -> (C, K, s, s)
        arr = arr[None] if channels == 1 else arr.transpose(3, 0, 1, 2)
        for k, start in enumerate(range(0, len(got) - frames + 1, stride)):
            clips.append(arr[:, start : start + frames])
            names.append(f"{_rel(src, root)}#{k}")
    if not clips:
        found = (
            f"{len(sources)} sources, all skipped (first: {skipped[notes]})"
            if sources
            else f"no video files ({', '.join(VIDEO_SUFFIXES)}) or folders of frames"
        )
        raise DataError(
            f"no clips in {root}: {found}; give GIF/MP4/WebM files or folders "
            f"of frames at least {frames} frames long"
        )
    return np.stack(clips[: max_clips or None]), names[: max_clips or None], skipped
