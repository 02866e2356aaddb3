"""Where text comes from: a user's file or folder (``text:PATH``), WordNet's glosses and
example sentences (Debian ``wordnet-base``) and the Python documentation that ships with
every Python (``python-docs``, small, for tests and first tries).

Each source gives a list of samples (strings). ``lines`` takes one sample per non-empty
line; ``chunks`` joins the text into running prose and cuts it into pieces of the
sequence length.
"""

from __future__ import annotations

import re
from pathlib import Path

from ganforge.errors import DataError

WORDNET_DIR = Path("/usr/share/wordnet")
_SPACE = re.compile(r"\s+")


def split_samples(text: str, mode: str, length: int) -> list[str]:
    """``text`` as samples: one per non-empty line (``lines``) or ``length``-character
    pieces of the whitespace-normalised text (``chunks``)."""
    if mode == "chunks":
        flat = _SPACE.sub(" ", text).strip()
        return [flat[i : i + length] for i in range(0, len(flat) - length + 1, length)]
    return [s for s in (_SPACE.sub(" ", line).strip() for line in text.splitlines()) if s]


def read_text_source(path: str | Path) -> tuple[str, list[str]]:
    """The text of a UTF-8 file, or of every ``.txt`` file under a folder (sorted), and the
    files that could not be read; one DataError line when nothing can be."""
    p = Path(path).expanduser()
    if p.is_file():
        return _read_one(p), []
    if not p.is_dir():
        raise DataError(f"text source {p} does not exist; give a UTF-8 .txt file or a folder")
    files = sorted(f for f in p.rglob("*.txt") if f.is_file())
    if not files:
        raise DataError(f"folder {p} holds no .txt files; add some or give a file")
    parts, skipped = [], []
    for f in files:
        try:
            parts.append(_read_one(f))
        except DataError as exc:
            skipped.append(f"{f}: {exc}")
    if not parts:
        raise DataError(f"none of the {len(files)} .txt files under {p} could be read as UTF-8")
    return "\n".join(parts), skipped


def _read_one(p: Path) -> str:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror}") from None
    if b"\x00" in raw[:4096]:
        raise DataError(f"{p} is a binary file, not text; give a UTF-8 .txt file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{p} is not UTF-8 text (byte {exc.start}); convert it, e.g. iconv -t UTF-8"
        ) from None
    if not text.strip():
        raise DataError(f"{p} is empty; give a file with text in it")
    return text


def wordnet_text(root: Path = WORDNET_DIR) -> str:
    """WordNet 3.0's glosses and quoted example sentences, one per line, in file order."""
    files = [root / f"data.{pos}" for pos in ("noun", "verb", "adj", "adv")]
    if not all(f.is_file() for f in files):
        raise DataError(
            f"WordNet is not installed ({root}); as root: apt-get install wordnet-base, "
            "or train on python-docs or text:PATH"
        )
    out: list[str] = []
    for f in files:
        with f.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  ") or " | " not in line:
                    continue  # the licence header
                gloss = line.split(" | ", 1)[1].strip()
                for part in gloss.split("; "):
                    part = part.strip().strip('"').strip()
                    if len(part) > 1:
                        out.append(part)
    return "\n".join(out)


def python_docs_text() -> str:
    """The prose of Python's own help topics (``pydoc_data``; ~0.5 MB, in every Python)."""
    try:
        from pydoc_data.topics import topics
    except ImportError:  # pragma: no cover - stripped-down Pythons
        raise DataError("this Python has no pydoc_data; train on text:PATH instead") from None
    lines = []
    for key in sorted(topics):
        for line in topics[key].splitlines():
            s = line.strip()
            # prose only: code, tables and rules start with symbols or are indented deeply
            if len(s) >= 16 and s[0].isalpha() and not line.startswith("      "):
                lines.append(s)
    return "\n".join(lines)
