"""Messy image folders: every file is loaded or skipped with a reason, never a crash or a hang.

One folder holds ``INPUTS_TRIED`` messy inputs (every Pillow mode ganforge meets, corrupt,
truncated, empty and mislabelled files, crafted headers that claim huge pictures, EXIF
rotations, animations, odd names, links, a link loop, a FIFO); it is loaded through
``load_dataset("folder:PATH")`` as 16 px RGB and as 16 px grey. ``tests/test_data.py`` has the
pixel-exact checks of the ordinary cases; this module is about surviving the odd ones.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from ganforge.data import load_dataset
from ganforge.modalities.image import datasets as images_mod

INPUTS_TRIED = 95  # messy inputs in the folder below (quoted in the README); each loaded twice
SIZE = 16

# ----------------------------------------------------------------------------- byte crafting


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, depth: int, colour: int, rows: bytes | None) -> bytes:
    """A PNG from raw scanlines (filter byte included); ``rows=None`` writes no image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    if rows is not None:
        out += _chunk(b"IDAT", zlib.compress(rows))
    return out + _chunk(b"IEND", b"")


def _png16(channels: int, value: int, size: int = 6) -> bytes:
    """16-bit PNG (grey+alpha, RGB or RGBA) filled with ``value`` (alpha opaque)."""
    colour = {2: 4, 3: 2, 4: 6}[channels]
    px = [value] * channels
    if channels in (2, 4):
        px[-1] = 65535
    row = b"\x00" + struct.pack(f">{channels * size}H", *(px * size))
    return _png(size, size, 16, colour, row * size)


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _noise(w: int = 48, h: int = 40, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    shape = (h, w) if mode == "L" else (h, w, 3)
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def _huge_jpeg() -> bytes:
    """A valid tiny JPEG whose SOF0 marker is patched to claim 65000 x 65000 pixels."""
    raw = bytearray(_save(Image.new("RGB", (8, 8), (9, 9, 9)), "JPEG"))
    sof = raw.index(b"\xff\xc0")
    struct.pack_into(">HH", raw, sof + 5, 65000, 65000)  # height, width
    return bytes(raw)


def _huge_gif() -> bytes:
    raw = bytearray(_save(Image.new("P", (8, 8), 1), "GIF"))
    struct.pack_into("<HH", raw, 6, 65535, 65535)  # logical screen
    img = raw.index(b"\x2c")  # image descriptor: left, top, width, height
    struct.pack_into("<HH", raw, img + 5, 65535, 65535)
    return bytes(raw)


def _huge_bmp() -> bytes:
    raw = bytearray(_save(Image.new("RGB", (4, 4)), "BMP"))
    struct.pack_into("<ii", raw, 18, 100_000, 100_000)
    return bytes(raw)


def _exif_jpeg(img: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _save(img, "JPEG", exif=exif, quality=95)


def _garbage_exif_jpeg() -> bytes:
    """A JPEG whose APP1 Exif segment is random bytes."""
    raw = _save(Image.new("RGB", (12, 12), (50, 60, 70)), "JPEG", quality=95)
    junk = b"Exif\x00\x00MM\x00\x2a" + np.random.default_rng(1).bytes(200)
    app1 = b"\xff\xe1" + struct.pack(">H", len(junk) + 2) + junk
    return raw[:2] + app1 + raw[2:]


# EXIF orientation -> the transpose that *undoes* what a viewer does to display the picture
_UNDO = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # viewer rotates 90 clockwise (ROTATE_270)
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _displayed() -> Image.Image:
    """What every EXIF-rotated file must look like once oriented: top-left quarter black."""
    img = Image.new("L", (32, 32), 255)
    img.paste(0, (0, 0, 16, 16))
    return img


# ----------------------------------------------------------------------------- the folder

# name -> (bytes, or a callable(path) that makes the entry) and expectation:
# "ok" (loaded), "skip" (listed in Dataset.skipped), "ignored" (not a picture file at all).
# An optional third item is a substring the skip reason must hold.


def _cases() -> dict[str, tuple]:
    grey = Image.new("L", (20, 14), 90)
    p_trns = Image.new("P", (10, 10), 0)
    p_trns.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p_trns.paste(1, (0, 0, 5, 10))
    p_alpha = Image.new("P", (10, 10), 0)
    p_alpha.putpalette([10, 20, 30, 200, 100, 0] + [0] * 762)
    p_alpha.paste(1, (0, 0, 5, 10))
    anim = [Image.new("P", (10, 10), i) for i in range(3)]
    for i, frame in enumerate(anim):
        frame.putpalette([40 * i, 100, 200 - 40 * i] * 256)
    full_jpeg = _save(_noise(64, 64), "JPEG", quality=90)
    full_png = _save(_noise(40, 40), "PNG")
    full_webp = _save(_noise(40, 40), "WEBP", quality=80)
    full_gif = _save(_noise(40, 40).convert("P"), "GIF")
    full_tif = _save(_noise(40, 40), "TIFF")
    full_bmp = _save(_noise(40, 40), "BMP")
    bad_crc = bytearray(full_png)
    idat = bad_crc.index(b"IDAT")
    bad_crc[idat + 20] ^= 0xFF  # a flipped byte inside the compressed data: CRC mismatch
    f_wild = np.array([[np.nan, np.inf], [-np.inf, 1e30]], dtype=np.float32)
    i32 = (np.arange(64, dtype=np.int32).reshape(8, 8) * 1500) - 5000

    c: dict[str, tuple] = {
        # --- modes that must load
        "mode-rgb.png": (_save(_noise(), "PNG"), "ok"),
        "mode-l.png": (_save(grey, "PNG"), "ok"),
        "mode-la.png": (_save(Image.new("LA", (9, 9), (200, 100)), "PNG"), "ok"),
        "mode-rgba.png": (_save(Image.new("RGBA", (9, 9), (0, 255, 0, 128)), "PNG"), "ok"),
        "mode-p-transparency.png": (_save(p_trns, "PNG", transparency=0), "ok"),
        "mode-p-alpha-table.png": (_save(p_alpha, "PNG", transparency=b"\x00\x80"), "ok"),
        "mode-i16.png": (_save(Image.new("I;16", (9, 9), 40000), "PNG"), "ok"),
        "mode-i16b.tif": (_save(Image.frombytes("I;16B", (8, 8), b"\x80\x00" * 64), "TIFF"), "ok"),
        "mode-i32-negative.tif": (_save(Image.fromarray(i32), "TIFF"), "ok"),
        "mode-f-unit.tif": (_save(Image.new("F", (8, 8), 0.5), "TIFF"), "ok"),
        "mode-f-nan-inf.tif": (_save(Image.fromarray(f_wild), "TIFF"), "ok"),
        "mode-cmyk.jpg": (_save(Image.new("CMYK", (9, 9), (0, 255, 255, 0)), "JPEG"), "ok"),
        "mode-cmyk.tif": (_save(Image.new("CMYK", (9, 9), (255, 0, 0, 0)), "TIFF"), "ok"),
        "mode-1bit.png": (_save(Image.new("1", (9, 9), 1), "PNG"), "ok"),
        "mode-1bit-g4.tif": (_save(Image.new("1", (9, 9), 1), "TIFF", compression="group4"), "ok"),
        "mode-1bit.bmp": (_save(Image.new("1", (9, 9), 1), "BMP"), "ok"),
        "mode-ycbcr.tif": (_save(Image.new("YCbCr", (8, 8), (120, 128, 128)), "TIFF"), "ok"),
        "mode-lab.tif": (_save(Image.new("LAB", (8, 8), (50, 128, 128)), "TIFF"), "ok"),
        "mode-rgbx.tif": (_save(Image.new("RGBX", (8, 8), (1, 2, 3, 4)), "TIFF"), "ok"),
        "mode-lzw.tif": (_save(_noise(), "TIFF", compression="tiff_lzw"), "ok"),
        "png-16bit-la.png": (_png16(2, 32896), "ok"),
        "png-16bit-rgb.png": (_png16(3, 32896), "ok"),
        "png-16bit-rgba.png": (_png16(4, 32896), "ok"),
        "png-2bit-grey.png": (_png(8, 8, 2, 0, (b"\x00" + b"\x1b\x1b") * 8), "ok"),
        "progressive.jpg": (_save(_noise(), "JPEG", progressive=True), "ok"),
        "big-draft.jpg": (_save(_noise(700, 500, seed=3), "JPEG", quality=70), "ok"),
        "lossless.webp": (_save(_noise(), "WEBP", lossless=True), "ok"),
        "transparent.gif": (_save(p_trns, "GIF", transparency=0), "ok"),
        # --- sizes: extreme aspect ratios and a single pixel
        "size-1x1.png": (_save(Image.new("RGB", (1, 1), (5, 6, 7)), "PNG"), "ok"),
        "size-1x300.png": (_save(Image.new("L", (1, 300), 77), "PNG"), "ok"),
        "size-300x1.png": (_save(Image.new("L", (300, 1), 77), "PNG"), "ok"),
        "size-3x5.bmp": (_save(Image.new("RGB", (3, 5), (1, 2, 3)), "BMP"), "ok"),
        # --- animations: the first frame
        "anim.gif": (_save(anim[0], "GIF", save_all=True, append_images=anim[1:]), "ok"),
        "anim.png": (
            _save(anim[0].convert("RGB"), "PNG", save_all=True, append_images=anim[1:]),
            "ok",
        ),
        "anim.webp": (
            _save(anim[0].convert("RGB"), "WEBP", save_all=True, append_images=anim[1:]),
            "ok",
        ),
        "multipage.tif": (_save(grey, "TIFF", save_all=True, append_images=[_noise()]), "ok"),
        # --- EXIF: every orientation (checked for pixels below), invalid ones, a garbage block
        **{
            f"exif-{o}.jpg": (
                _exif_jpeg(
                    _displayed() if _UNDO[o] is None else _displayed().transpose(_UNDO[o]), o
                ),
                "ok",
            )
            for o in range(1, 9)
        },
        "exif-0.jpg": (_exif_jpeg(grey, 0), "ok"),
        "exif-9.jpg": (_exif_jpeg(grey, 9), "ok"),
        "exif-65535.jpg": (_exif_jpeg(grey, 65535), "ok"),
        "exif-garbage.jpg": (_garbage_exif_jpeg(), "ok"),
        # --- content and extension disagree, odd extensions
        "png-inside.jpg": (_save(grey, "PNG"), "ok"),
        "jpeg-inside.gif": (_save(grey, "JPEG"), "ok"),
        "UPPER.PNG": (_save(grey, "PNG"), "ok"),
        "odd-extension.JPE": (_save(grey, "JPEG"), "ok"),
        # --- names
        "with  spaces .png": (_save(grey, "PNG"), "ok"),
        "ünïcødé 图片 🖼.png": (_save(grey, "PNG"), "ok"),
        "new\nline.png": (_save(grey, "PNG"), "ok"),
        "-leading-dash.png": (_save(grey, "PNG"), "ok"),
        ("x" * 240) + ".png": (_save(grey, "PNG"), "ok"),
        "sub dir/ünï/nested.png": (_save(grey, "PNG"), "ok"),
        # --- empty, corrupt, truncated
        "empty.png": (b"", "skip", "empty"),
        "empty.jpg": (b"", "skip", "empty"),
        "truncated.jpg": (full_jpeg[: len(full_jpeg) // 2], "skip"),
        "truncated-header.jpg": (full_jpeg[:20], "skip"),
        "truncated.png": (full_png[: len(full_png) // 2], "skip"),
        "truncated-header.png": (full_png[:12], "skip"),
        "truncated.webp": (full_webp[: len(full_webp) // 2], "skip"),
        "truncated.gif": (full_gif[: len(full_gif) // 3], "skip"),
        "truncated.tif": (full_tif[: len(full_tif) // 2], "skip"),
        "truncated.bmp": (full_bmp[: len(full_bmp) // 2], "skip"),
        "bad-crc.png": (bytes(bad_crc), "skip"),
        "ihdr-only-small.png": (_png(12, 12, 8, 2, None), "skip"),
        "ihdr-only-4000.png": (_png(4000, 4000, 8, 0, None), "skip"),
        "signature-then-junk.png": (b"\x89PNG\r\n\x1a\n" + b"\x00junk" * 50, "skip"),
        "soi-then-junk.jpg": (b"\xff\xd8\xff\xe0" + b"\x13junk" * 50, "skip"),
        "gif-header-then-junk.gif": (b"GIF89a" + b"\x07junk" * 50, "skip"),
        "random-bytes.png": (np.random.default_rng(7).bytes(2048), "skip"),
        # --- not pictures, picture extensions
        "text.png": (b"just some text\n", "skip"),
        "html.webp": (b"<!doctype html><html><body>hi</body></html>\n", "skip"),
        "zip.png": (b"PK\x03\x04" + b"\x00" * 60, "skip"),
        "elf.bmp": (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "skip"),
        "pdf.tiff": (b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", "skip"),
        "svg.png": (b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>', "skip"),
        "postscript.jpg": (
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n%%EOF\n",
            "skip",
        ),
        "xbm.png": (
            b"#define i_width 8\n#define i_height 1\nstatic char i_bits[] = {0xff};\n",
            "skip",
        ),
        # --- crafted headers that claim enormous pictures: skipped before any decoding
        "huge-50000.png": (_png(50000, 50000, 8, 2, None), "skip", "too large"),
        "huge-65000.jpg": (_huge_jpeg(), "skip", "too large"),
        "huge-65535.gif": (_huge_gif(), "skip", "too large"),
        "huge-100000.bmp": (_huge_bmp(), "skip", "too large"),
        # --- links, special files
        "link-to-outside.png": (lambda p: os.symlink(p.parent.parent / "outside.png", p), "ok"),
        "dangling.png": (lambda p: os.symlink(p.parent / "does-not-exist.png", p), "skip"),
        "self-loop.png": (lambda p: os.symlink(p, p), "skip"),
        "dev-zero.png": (lambda p: os.symlink("/dev/zero", p), "skip", "not a regular file"),
        "fifo.png": (lambda p: os.mkfifo(p), "skip", "not a regular file"),
        "loop": (lambda p: os.symlink(p.parent, p, target_is_directory=True), "ignored"),
        "folder.png": (lambda p: p.mkdir(), "ignored"),
    }
    return c


def _make(root: Path) -> dict[str, tuple]:
    cases = _cases()
    (root.parent / "outside.png").write_bytes(_save(Image.new("RGB", (8, 8), (1, 200, 3)), "PNG"))
    for name, (content, *_) in cases.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
    # a name that is not valid UTF-8 (Linux allows any bytes but "/" and NUL)
    with open(os.fsencode(root) + b"/not-utf8-\xff\xfe.png", "wb") as fh:
        fh.write(_save(Image.new("L", (8, 8), 33), "PNG"))
    cases[os.fsdecode(b"not-utf8-\xff\xfe.png")] = (None, "ok")
    return cases


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> tuple[Path, dict[str, tuple]]:
    root = tmp_path_factory.mktemp("messy") / "my pictures ünï"
    root.mkdir()
    return root, _make(root)


def test_case_count_matches_the_quoted_number(messy):
    _, cases = messy
    assert len(cases) == INPUTS_TRIED


@pytest.mark.parametrize("channels", [3, 1])
def test_every_file_loaded_or_skipped_with_a_reason(messy, channels):
    root, cases = messy
    start = time.perf_counter()
    ds = load_dataset(f"folder:{root}", image_size=SIZE, channels=channels)
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f"loading took {elapsed:.1f} s"

    loaded = list(ds.info["files"])
    reasons = dict(s.split(": ", 1) for s in ds.skipped if ": " in s)
    assert len(reasons) == len(ds.skipped)  # every entry is "name: reason"
    expect = {name: info[1] for name, info in cases.items()}
    assert sorted(n for n, e in expect.items() if e == "ok") == sorted(loaded)
    assert sorted(n for n, e in expect.items() if e == "skip") == sorted(reasons)
    for name, (_, outcome, *want) in cases.items():
        if outcome != "skip":
            continue
        reason = reasons[name]
        assert reason.strip() and "\n" not in reason, (name, reason)
        if want:
            assert want[0] in reason, (name, reason)

    assert ds.data.shape == (len(loaded), channels, SIZE, SIZE) and ds.data.dtype == torch.uint8
    assert ds.labels is None
    x, _ = ds.batch(torch.arange(len(ds)))
    assert torch.isfinite(x).all() and x.min() >= -1 and x.max() <= 1
    pic = dict(zip(loaded, ds.data.float(), strict=True))

    # EXIF: all eight orientations come out upright: top-left quarter dark, the rest light
    for o in range(1, 9):
        img = pic[f"exif-{o}.jpg"][0]
        half = SIZE // 2
        assert img[: half - 1, : half - 1].mean() < 40, o
        assert img[half + 1 :, :].mean() > 215 and img[:, half + 1 :].mean() > 215, o
    # 16-bit pictures are scaled to 8 bits (32896 / 257 = 128), not clipped or wrapped
    for name in ("png-16bit-la.png", "png-16bit-rgb.png", "png-16bit-rgba.png"):
        assert abs(pic[name].mean().item() - 128) <= 1, name
    assert abs(pic["mode-i16.png"].mean().item() - 40000 / 257) <= 1
    assert abs(pic["mode-f-unit.tif"].mean().item() - 127.5) <= 1  # float [0, 1] -> 0..255
    assert torch.all(pic["size-1x1.png"] == pic["size-1x1.png"][:, :1, :1])  # upscaled, uniform
    assert pic["link-to-outside.png"].mean() > 0  # the link's target was read
    if channels == 3:
        assert pic["mode-cmyk.jpg"][0].mean() > 230 and pic["mode-cmyk.jpg"][1].mean() < 25


def test_huge_headers_are_skipped_without_decoding(tmp_path, monkeypatch):
    """Crafted headers claiming 2.5 G pixels are refused from the header: no pixel is read."""
    for name, content in (
        ("a.png", _png(50000, 50000, 8, 2, None)),
        ("b.jpg", _huge_jpeg()),
        ("c.gif", _huge_gif()),
        ("d.bmp", _huge_bmp()),
    ):
        (tmp_path / name).write_bytes(content)
    Image.new("L", (8, 8), 200).save(tmp_path / "fine.png")
    decoded = []
    original = ImageFile.ImageFile.load

    def spy(self):
        decoded.append(Path(getattr(self, "filename", "?")).name)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    start = time.perf_counter()
    ds = load_dataset(f"folder:{tmp_path}", image_size=SIZE, channels=3)
    assert time.perf_counter() - start < 5
    assert ds.info["files"] == ["fine.png"] and set(decoded) == {"fine.png"}
    assert len(ds.skipped) == 4 and all("too large" in s for s in ds.skipped)


def test_no_external_program_is_started(messy, monkeypatch):
    """Pillow hands EPS files to Ghostscript; the folder loader must never open that door."""
    root, _ = messy
    with Image.open(root / "postscript.jpg") as im:  # what Pillow itself makes of that file
        assert im.format == "EPS"
    started = []

    def refuse(*args, **kwargs):
        started.append(args)
        raise AssertionError("the folder loader started a program")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(subprocess, "check_call", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)
    ds = load_dataset(f"folder:{root}", image_size=8, channels=1)
    assert not started
    assert any(s.startswith("postscript.jpg: ") for s in ds.skipped)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_unreadable_file_is_skipped(tmp_path):
    Image.new("L", (8, 8), 1).save(tmp_path / "ok.png")
    locked = tmp_path / "locked.png"
    Image.new("L", (8, 8), 2).save(locked)
    locked.chmod(0)
    try:
        ds = load_dataset(f"folder:{tmp_path}", image_size=8, channels=1)
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert ds.info["files"] == ["ok.png"]
    assert ds.skipped == ["locked.png: permission denied"]


def test_permission_error_is_a_skip_reason(tmp_path, monkeypatch):
    """The same path as above, simulated, so it is covered when the tests run as root."""
    Image.new("L", (8, 8), 1).save(tmp_path / "ok.png")
    Image.new("L", (8, 8), 2).save(tmp_path / "locked.png")
    decode = images_mod._decode

    def guarded(path, size, channels):
        if path.name == "locked.png":
            raise PermissionError(13, "Permission denied", str(path))
        return decode(path, size, channels)

    monkeypatch.setattr(images_mod, "_decode", guarded)
    ds = load_dataset(f"folder:{tmp_path}", image_size=8, channels=1)
    assert ds.info["files"] == ["ok.png"]
    assert ds.skipped == ["locked.png: permission denied"]


def test_symlink_loop_does_not_hang(tmp_path):
    """Links back up the tree (and to each other) are not followed into an endless walk."""
    Image.new("L", (8, 8), 9).save(tmp_path / "a.png")
    sub = tmp_path / "sub"
    sub.mkdir()
    os.symlink(tmp_path, sub / "up", target_is_directory=True)
    os.symlink(sub / "ping", sub / "pong")
    os.symlink(sub / "pong", sub / "ping")
    os.symlink(sub / "pong", sub / "ping.png")
    code = (
        "import sys; from ganforge.data import load_dataset; "
        "ds = load_dataset('folder:' + sys.argv[1], image_size=8, channels=1); "
        "print(len(ds), len(ds.skipped))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(images_mod.__file__).parents[3])}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]
