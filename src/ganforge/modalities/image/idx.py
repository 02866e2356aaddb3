"""Reader for the IDX format of (Fashion-)MNIST: gzip-compressed or raw.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ganforge.errors import DataError

# IDX type code -> numpy dtype (multi-byte types are big-endian).
IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}; re-download or reinstall it") from exc
    return raw


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an IDX file into an array (native byte order)."""
    fix = f"{name} is not a valid IDX file"
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{fix} (bad magic number); re-download or reinstall it")
    dtype = IDX_TYPES.get(raw[2])
    if dtype is None:
        raise DataError(f"{fix} (unknown type code 0x{raw[2]:02x}); re-download or reinstall it")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{fix} (truncated header); re-download or reinstall it")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{fix}: header says {shape} ({expected} bytes of data) but the file holds "
            f"{len(raw) - header}; re-download or reinstall it"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw, detected from its first bytes) into a numpy array."""
    path = Path(path)
    return parse_idx(_read_bytes(path), name=str(path))
