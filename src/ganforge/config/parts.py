"""The sections that follow ``model.arch``: ``arch`` (the architecture's own options, its
``Architecture.options`` dataclass) and ``experimental`` (the engine's experimental keys
and the architecture's: options kept although measurements went against them or none
were taken; ``docs/benchmarks/README.md`` gives each one's reason)."""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from typing import Any

from ganforge.errors import ConfigError
from ganforge.registry import ARCHITECTURES

PART_SECTIONS = ("arch", "experimental")


@dataclass
class EngineExperimental:
    """The engine's experimental keys (``experimental.*``)."""

    compile: bool = False  # torch.compile G and D: measured slower than eager on 2 CPU cores
    acgan: bool = False  # D's labels through ACGAN's class head instead of the projection


def _architectures() -> dict[str, Any]:
    return dict(ARCHITECTURES.items())


def section_class(section: str, arch: str) -> type | None:
    """The dataclass of ``section`` (``arch`` or ``experimental``) for architecture ``arch``
    (None: the architecture has no options)."""
    entry = _architectures().get(arch)
    if section == "arch":
        return entry.options if entry is not None else None
    extra = entry.experimental if entry is not None else None
    return _merged(EngineExperimental, extra) if extra is not None else EngineExperimental


@functools.cache
def _merged(base: type, extra: type) -> type:
    fields = []
    for cls in (base, extra):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            fields.append((f.name, hints[f.name], _copy(f)))
    return dataclasses.make_dataclass(f"{extra.__name__}AndEngine", fields)


def _copy(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return field(default_factory=f.default_factory, metadata=f.metadata)
    return field(default=f.default, metadata=f.metadata)


def every_class(section: str) -> list[type]:
    """Every registered architecture's class of ``section`` (for key listings and the
    metadata of a key whichever architecture reads it)."""
    classes: list[type] = [EngineExperimental] if section == "experimental" else []
    for entry in _architectures().values():
        cls = entry.options if section == "arch" else entry.experimental
        if cls is not None and cls not in classes:
            classes.append(cls)
    return classes


def part_keys() -> list[str]:
    """Every ``arch.*`` and ``experimental.*`` key some architecture reads."""
    keys: list[str] = []
    for section in PART_SECTIONS:
        for cls in every_class(section):
            keys += [f"{section}.{f.name}" for f in dataclasses.fields(cls)]
    return list(dict.fromkeys(keys))


def field_meta(section: str, name: str) -> dict[str, Any]:
    """The metadata of key ``section.name`` (ranges, choices) in any class that has it."""
    for cls in every_class(section):
        for f in dataclasses.fields(cls):
            if f.name == name:
                return dict(f.metadata)
    return {}


def check_model_keys(cfg: Any) -> None:
    """A ``model.*`` key left to the family (default None) but set for an architecture that
    does not read it is one line naming the ``model.*`` keys it reads (an architecture that
    declares none, as plug-ins written before ``model_keys`` do, is not checked)."""
    entry = _architectures().get(cfg.model.arch)
    if entry is None or not entry.model_keys:
        return
    for f in dataclasses.fields(cfg.model):
        if f.default is None and getattr(cfg.model, f.name) is not None:
            if f.name not in entry.model_keys:
                reads = ", ".join(f"model.{k}" for k in entry.model_keys)
                raise ConfigError(
                    f"model.arch={cfg.model.arch} does not read model.{f.name}; leave it "
                    f"unset (it reads {reads})"
                )


def options_of(cfg: Any, section: str, cls: type) -> Any:
    """``cfg``'s ``section`` when it is built (a ``from_dict`` config), else ``cls``'s
    defaults (a ``Config()`` built in code)."""
    value = getattr(cfg, section, None)
    return value if isinstance(value, cls) else cls()
