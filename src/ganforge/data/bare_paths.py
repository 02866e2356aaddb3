"""Bare paths as data (``--data ./photos``, ``./table.csv``, ``./songs/``): the spec that
takes one and the preset that trains it, read from what the registered specs declare.

A spec takes files by ``DatasetSpec.file_suffixes`` (a ``NAME:PATH`` spec declaring none:
by its name, ``csv:`` takes ``.csv``) and folders by ``DatasetSpec.folder_suffixes`` (the
spec whose suffixes most of a folder's files carry). The preset is the spec's ``preset``,
else the one ``ganforge train --data SPEC`` picks (``registry.default_preset``).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganforge.config.loading import default_preset
from ganforge.registry import DATASETS, MODALITIES, DatasetSpec

MAX_FILES = 5000  # a folder's kind is read from this many of its files at most


@dataclass(frozen=True)
class BarePath:
    """A bare path read as data: its spec and the preset that trains it."""

    path: str  # as the user wrote it
    spec: DatasetSpec

    @property
    def preset(self) -> str:
        """The preset that trains data of this spec."""
        return preset_for(self.spec)[0]

    @property
    def explicit(self) -> str:
        """The spec written out, e.g. ``csv:./table.csv``."""
        return f"{self.spec.name}:{self.path}"

    def line(self, preset_chosen: bool) -> str:
        """What the path was read as, in one line (the preset when it was chosen for it)."""
        chosen = f", preset {self.preset}" if preset_chosen else ""
        return f"{self.path}: {_kind(self.spec.modality)} ({self.explicit}){chosen}"


def _kind(modality: str) -> str:
    """The modality's own words for its data: its description up to the first detail."""
    text = getattr(MODALITIES.get(modality), "description", "") or modality
    return text.split(" (")[0].split(":")[0].strip() or modality


def names_spec(text: str) -> bool:
    """Whether ``text`` starts with a registered spec's name (``folder:x``, ``toy:ring8``)."""
    whole = text.strip().lower()
    return whole in DATASETS or whole.partition(":")[0] in DATASETS


def _path_specs() -> list[DatasetSpec]:
    return [s for _, s in DATASETS.items() if s.arg != "none"]


def file_suffixes(spec: DatasetSpec) -> tuple[str, ...]:
    """The suffixes of the files ``spec`` takes bare: its declared ones, else, for a spec
    of a path (``csv:PATH``) that declares none, its own name (``.csv``)."""
    if spec.file_suffixes or spec.folder_suffixes:
        return tuple(x.lower() for x in spec.file_suffixes)
    return ("." + spec.name,) if spec.usage.endswith(":PATH") else ()


def _spec_for_file(path: Path) -> DatasetSpec | None:
    suffix = path.suffix.lower()
    found = [s for s in _path_specs() if suffix and suffix in file_suffixes(s)]
    return found[0] if found else None


def specs_for(kind: str) -> list[DatasetSpec]:
    """The specs that take a bare ``kind`` ("file" or "folder")."""
    if kind == "file":
        return [s for s in _path_specs() if file_suffixes(s)]
    return [s for s in _path_specs() if s.folder_suffixes]


def suffix_counts(folder: Path, limit: int = MAX_FILES) -> Counter[str]:
    """How many of a folder's files (subfolders too, hidden ones left out) carry each
    lower-case suffix; at most ``limit`` files are looked at."""
    counts: Counter[str] = Counter()
    seen = 0
    for _dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            counts[Path(name).suffix.lower()] += 1
            seen += 1
            if seen >= limit:
                return counts
    return counts


def _spec_for_folder(folder: Path) -> DatasetSpec | None:
    counts = suffix_counts(folder)
    best, best_count = None, 0
    for spec in _path_specs():
        n = sum(counts[s.lower()] for s in spec.folder_suffixes)
        if n > best_count:  # ties: the spec registered first
            best, best_count = spec, n
    return best


def preset_for(spec: DatasetSpec) -> tuple[str, list[str]]:
    """The preset for data of ``spec`` and the overrides that go with it: the spec's own
    ``preset``, else what ``ganforge train --data SPEC`` picks (:func:`default_preset`)."""
    return (spec.preset, []) if spec.preset else default_preset(f"{spec.name}:")


def read_bare_path(text: str | None) -> BarePath | None:
    """``text`` read as a bare path to data, or None when it names a spec, does not exist or
    no registered spec takes it."""
    if not text or names_spec(text):
        return None
    path = Path(text.strip()).expanduser()
    if path.is_dir():
        spec = _spec_for_folder(path)
    elif path.is_file():
        spec = _spec_for_file(path)
    else:
        return None
    return BarePath(text.strip(), spec) if spec is not None else None


def bare_data(
    config: Any, data: str | None, resume: bool
) -> tuple[Any, str | None, list[str], list[str]]:
    """``(config, data, lines to say, overrides)`` for ``ganforge.train``: a bare path in
    ``data`` written out as its spec and, when no config is named (and not resuming), the
    preset that trains it with its overrides; ``config`` None means ``demo`` otherwise."""
    bare = read_bare_path(data)
    if bare is None:
        return ("demo" if config is None else config), data, [], []
    if config is not None or resume:
        return config, bare.explicit, [bare.line(False)], []
    preset, overrides = preset_for(bare.spec)
    return preset, bare.explicit, [bare.line(True)], overrides
