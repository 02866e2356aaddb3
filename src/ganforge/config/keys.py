"""The keys a config's parts read: the engine's sections, its modality's section, its
architecture's keys and the experimental ones (``ganforge config --keys PRESET``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ganforge.config.schema import ENGINE_SECTIONS, Config
from ganforge.data.specs import spec_modality
from ganforge.registry import ARCHITECTURES, MODALITIES

# model.* keys every family's run reads; the rest (widths, depth, ...) only the families
# that name them in Architecture.model_keys (a family that names none: all listed)
MODEL_COMMON = ("arch", "z_dim", "g_conditioning")


def read_keys(cfg: Config) -> list[tuple[str, Any]]:
    """(dotted key, value) of every key ``cfg``'s parts read: the engine's sections (less
    those its modality has no use for), the modality's section, the architecture's keys."""
    modality = MODALITIES.get(spec_modality(cfg.data.spec))
    arch = ARCHITECTURES.get(cfg.model.arch)
    out: list[tuple[str, Any]] = []
    for section in ENGINE_SECTIONS:
        for f in dataclasses.fields(getattr(cfg, section)):
            key = f"{section}.{f.name}"
            declared = MODEL_COMMON + tuple(arch.model_keys)
            if section == "model" and arch.model_keys and f.name not in declared:
                continue
            if key == "data.holdout" and modality.holdout_share is None:
                continue
            out.append((key, getattr(getattr(cfg, section), f.name)))
    parts = [(modality.name, cfg.section(modality.name)), ("arch", cfg.arch)]
    for name, sub in [*parts, ("experimental", cfg.experimental)]:
        for f in dataclasses.fields(sub) if sub is not None else ():
            out.append((f"{name}.{f.name}", getattr(sub, f.name)))
    return out


def modality_defaults(cfg: Config) -> dict[str, Any]:
    """The value each engine key left unset (None) takes from ``cfg``'s modality instead
    (``log.samples``: its ``picture_samples``; ``data.holdout``: its ``holdout_share``)."""
    modality = MODALITIES.get(spec_modality(cfg.data.spec))
    out: dict[str, Any] = {}
    if cfg.log.samples is None:
        out["log.samples"] = modality.picture_count(cfg)
    if cfg.data.holdout is None and modality.holdout_share is not None:
        out["data.holdout"] = modality.holdout(cfg)
    return out


def shown_rows(cfg: Config) -> list[str]:
    """``ganforge config --keys PRESET``'s lines: each key read, its value, and for a key
    left to the modality the value it takes and where from."""
    rows = read_keys(cfg)
    given = modality_defaults(cfg)
    modality = spec_modality(cfg.data.spec)
    width = max(len(k) for k, _ in rows)
    lines = []
    for key, value in rows:
        if key in given:
            shown = f"{shown_value(given[key])}  (unset: the {modality} modality's default)"
        else:
            shown = shown_value(value)
        lines.append(f"{key:<{width}}  {shown}")
    return lines


def shown_value(value: Any) -> str:
    """A value as ``--set`` takes it (None: ``null``, the part's own default)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(shown_value(v) for v in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown_value(v)}" for k, v in value.items()) + "}"
    return str(value) if value != "" else '""'
