"""Dataset specs: the strings ``data.spec`` accepts (``mnist5k``, ``folder:PATH``, ...).

Each modality registers its specs (:func:`ganforge.registry.register_dataset`); this module
finds the one a string names and loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganforge.data.bare_paths import file_suffixes, read_bare_path, specs_for
from ganforge.data.dataset import Dataset
from ganforge.errors import DataError, closest
from ganforge.registry import DATASETS, DatasetSpec


def describe_datasets() -> list[tuple[str, str]]:
    """(spec, description with its source) for every dataset, as ``ganforge datasets`` lists."""
    return [(s.shown, f"{s.description} [{s.source}]") for _, s in DATASETS.items()]


def _valid() -> list[str]:
    out = []
    for _, s in DATASETS.items():
        if s.arg == "optional":
            out += [s.name, s.shown.replace("[", "").replace("]", "")]
        else:
            out.append(s.shown)
    return out


def _unreadable_path(spec: str) -> DataError | None:
    """A path no spec takes by its files' suffixes: what bare paths are read by, and the
    specs that take a path to name instead."""
    path = Path(spec).expanduser()
    if not spec or not path.exists():
        return None
    kind = "folder" if path.is_dir() else "file"
    specs = specs_for(kind)
    if kind == "folder":
        taken = {x.lower() for s in specs for x in s.folder_suffixes}
    else:
        taken = {x for s in specs for x in file_suffixes(s)}
    by = "its files' suffixes" if kind == "folder" else "its suffix"
    return DataError(
        f"cannot tell what the {kind} {spec} holds: a bare {kind} is read by {by} "
        f"({', '.join(sorted(taken))}); name its spec instead, e.g. "
        f"{', '.join(f'{s.name}:{spec}' for s in specs)}"
    )


def _unknown(spec: str) -> DataError:
    unreadable = _unreadable_path(spec)
    if unreadable is not None:
        return unreadable
    valid = ", ".join(_valid())
    names = [s.name + (":" if s.arg == "required" else "") for _, s in DATASETS.items()]
    close = closest(spec.lower(), names)
    hint = f" did you mean '{close}'?" if close else ""
    return DataError(f"unknown dataset '{spec}';{hint} valid: {valid} (see `ganforge datasets`)")


def find_spec(spec: str) -> tuple[DatasetSpec, str]:
    """The registered spec a string names, and its argument (text after the colon); a bare
    path (``./photos``, ``./table.csv``) goes to the spec that takes it, as its argument."""
    text = spec.strip()
    whole = text.lower()
    if whole in DATASETS:  # names that hold a colon themselves, e.g. toy:ring8
        entry = DATASETS.get(whole)
        if entry.arg != "required":
            return entry, ""
    name, sep, arg = text.partition(":")
    name = name.lower()
    if name in DATASETS:
        entry = DATASETS.get(name)
        if entry.arg == "none" and sep:
            raise _unknown(spec)
        if entry.arg == "required" and not arg:
            raise DataError(f"{name}: needs {entry.arg_help}; give {entry.shown}")
        return entry, arg
    bare = read_bare_path(text)  # ./photos, ./table.csv: the spec that takes the path
    if bare is not None:
        return bare.spec, bare.path
    raise _unknown(spec)


def spec_modality(spec: str) -> str:
    """The modality of the dataset ``spec`` names."""
    return find_spec(spec)[0].modality


def load_dataset(spec: str, seed: int = 0, **options: Any) -> Dataset:
    """Load the dataset ``spec`` names (see ``ganforge datasets``).

    ``options`` are the modality's loading options: images take ``image_size`` (square)
    and ``channels`` (1 or 3); ``folder:`` defaults to 64 px RGB. Toy sets are sampled with
    ``seed``.
    """
    entry, arg = find_spec(spec)
    options = {k: v for k, v in options.items() if v is not None}
    ds = entry.load(arg, seed=seed, **options)
    if not isinstance(ds, Dataset):
        raise DataError(
            f"dataset spec '{entry.name}' did not give a Dataset; its plug-in is broken"
        )
    return ds
