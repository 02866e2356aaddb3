"""Building a Config: from nested plain data, YAML presets and ``--set key=value`` overrides.

Every key is checked; an unknown key, a wrong type or an out-of-range value raises
:class:`ConfigError` with one line naming the problem and the fix.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from pathlib import Path
from typing import Any

import yaml

from ganforge.config.parts import PART_SECTIONS, check_model_keys, every_class, section_class
from ganforge.config.renames import converted, migrate, renamed_key
from ganforge.config.schema import ENGINE_SECTIONS, Config, key_aliases, modality_sections
from ganforge.config.values import (
    all_keys,
    check_value,
    coerce,
    field_type,
    fields_of,
    shown,
    suggest,
    suggest_key,
)
from ganforge.errors import ConfigError
from ganforge.registry import DATASETS, MODALITIES, PRESETS
from ganforge.yaml_files import PRESET_DIR, read_yaml


def _translate_aliases(data: dict[str, Any]) -> dict[str, Any]:
    """Move keys given under an alias (``data.image_size``) to their section (``image.size``)
    and renamed keys (``text.samples``) to their new spelling (``log.samples``)."""
    out = migrate(data)
    for old, new in key_aliases().items():
        o_sec, o_key = old.split(".", 1)
        n_sec, n_key = new.split(".", 1)
        node = out.get(o_sec)
        if isinstance(node, dict) and o_key in node:
            value = node.pop(o_key)
            target = out.setdefault(n_sec, {})
            if isinstance(target, dict):
                target.setdefault(n_key, value)
    return out


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"'{prefix}' must be a mapping of keys to values; got {data!r}")
    fields = fields_of(cls)
    kwargs = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if k not in fields or k == "sections":
            valid = [f"{prefix}.{n}" if prefix else n for n in fields]
            hint = suggest(key, valid) or suggest_key(key)
            raise ConfigError(
                f"unknown config key '{shown(key)}'{hint}; see `ganforge config --keys`"
            )
        tp = field_type(cls, k)
        if dataclasses.is_dataclass(tp):
            kwargs[k] = _build(tp, v or {}, key)
        else:
            kwargs[k] = coerce(key, v, tp)
            check_value(key, kwargs[k])
    return cls(**kwargs)


def from_dict(data: dict[str, Any], ignored: list[str] | None = None) -> Config:
    """Build and validate a Config from nested plain data (missing keys take defaults).
    With an ``ignored`` list, a section no installed plug-in knows is named there and left
    out instead of refused (a run recorded while a plug-in, now gone, was installed)."""
    if not isinstance(data, dict):
        raise ConfigError(f"a config must be a mapping of sections; got {data!r}")
    data = _translate_aliases(data)
    extra = modality_sections()
    engine = {k: v for k, v in data.items() if k not in extra and k not in PART_SECTIONS}
    for k in list(engine):
        if k not in fields_of(Config) and isinstance(engine[k], dict):
            if ignored is not None:
                ignored.append(str(k))
                del engine[k]
                continue
            raise ConfigError(
                f"unknown config section '{shown(str(k))}'"
                f"{suggest(str(k), list(ENGINE_SECTIONS) + list(extra))}; a modality's section "
                "exists when its plug-in is installed (see `ganforge plugins`)"
            )
    cfg = _build(Config, engine, "")
    for name, cls in extra.items():
        cfg.sections[name] = _build(cls, data.get(name) or {}, name)
    for name in PART_SECTIONS:
        setattr(cfg, name, _build_part(name, cfg.model.arch, data.get(name) or {}))
    validate(cfg)
    return cfg


def _build_part(section: str, arch: str, data: Any) -> Any:
    """``arch`` / ``experimental`` for architecture ``arch``: a key it does not read is one
    line naming those it does."""
    cls = section_class(section, arch)
    if isinstance(data, dict) and data:
        valid = [f"{section}.{n}" for n in (fields_of(cls) if cls is not None else ())]
        unknown = [f"{section}.{k}" for k in data if f"{section}.{k}" not in valid]
        if unknown:
            reads = f"it reads {', '.join(valid)}" if valid else f"it reads no {section}.* keys"
            raise ConfigError(
                f"model.arch={arch} has no option '{shown(unknown[0])}'"
                f"{suggest(unknown[0], valid)}; {reads}"
            )
    return _build(cls, data, section) if cls is not None else None


def validate(cfg: Config) -> None:
    """Cross-field checks that single values cannot express."""
    for group in ENGINE_SECTIONS:
        sub = getattr(cfg, group)
        for f in dataclasses.fields(sub):
            check_value(f"{group}.{f.name}", getattr(sub, f.name))
    for name, sub in cfg.sections.items():
        for f in dataclasses.fields(sub):
            check_value(f"{name}.{f.name}", getattr(sub, f.name))
    for name in PART_SECTIONS:
        sub = getattr(cfg, name)
        for f in dataclasses.fields(sub) if sub is not None else ():
            check_value(f"{name}.{f.name}", getattr(sub, f.name))
    if cfg.train.step == "simultaneous" and cfg.train.n_critic != 1:
        raise ConfigError(
            "train.step=simultaneous updates D and G from one pass, so train.n_critic must be 1"
        )
    check_model_keys(cfg)
    if cfg.model.g_conditioning == "cbn" and not cfg.data.conditional:
        raise ConfigError("model.g_conditioning=cbn needs data.conditional=true (class labels)")
    if getattr(cfg.experimental, "acgan", False) and not cfg.data.conditional:
        raise ConfigError("experimental.acgan=true needs data.conditional=true (class labels)")
    if cfg.train.step == "simultaneous" and cfg.loss.penalty != "none":
        raise ConfigError(
            "train.step=simultaneous does not support loss.penalty; use train.step=alternating"
        )


def parse_override(text: str) -> tuple[str, Any]:
    """``'train.batch=64'`` -> ``('train.batch', 64)``; values are read as YAML scalars.

    A key under a mapping key (``loss.head_weights.clip=2``) sets one entry of it.
    """
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, like --set train.batch=64; got {text!r}")
    key, raw = text.split("=", 1)
    old_key = key_aliases().get(key.strip(), key.strip())
    key = renamed_key(old_key)
    keys = all_keys()
    mapping_entry = key.rsplit(".", 1)[0] in mapping_keys() and key.count(".") == 2
    if key not in keys and not mapping_entry:
        raise ConfigError(
            f"unknown config key '{shown(key)}'{suggest_key(key)}; see `ganforge config --keys`"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except Exception:  # not YAML PyYAML can build (bad date, 5000-digit int, deep nesting): text
        value = raw
    if isinstance(value, (dict, list)) and key not in ("optim.betas", *mapping_keys()):
        value = raw
    return key, converted(old_key, value)


def mapping_keys() -> tuple[str, ...]:
    """Keys whose value is a mapping (``loss.head_weights``, ``tabular.columns``): a key
    one level below them sets one entry."""
    out = []
    for key in all_keys():
        section, _, name = key.partition(".")
        cls = field_type(Config, section) if section in fields_of(Config) else None
        cls = cls if dataclasses.is_dataclass(cls) else modality_sections().get(section)
        cls = cls or next(iter(_part_classes(section, name)), None)
        if cls is not None and typing.get_origin(field_type(cls, name)) is dict:
            out.append(key)
    return tuple(out)


def _part_classes(section: str, name: str) -> list[type]:
    if section not in PART_SECTIONS:
        return []
    return [c for c in every_class(section) if name in fields_of(c)]


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key=value`` strings to nested plain config data (a new dict is returned)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    out = _translate_aliases(out)
    for text in overrides:
        key, value = parse_override(text)
        parts = key.split(".")
        node = out
        for p in parts[:-1]:
            child = node.get(p)
            child = {} if child is None else child
            if not isinstance(child, dict):
                raise ConfigError(f"config section '{p}' must be a mapping")
            node[p] = child = dict(child)
            node = child
        node[parts[-1]] = value
    return out


def list_presets() -> list[tuple[str, str]]:
    """(name, one-line description) of every bundled preset, then of every preset a
    plug-in registered (``registry.register_preset``)."""
    out = []
    for path in sorted(PRESET_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        out.append((path.stem, str(data.get("description", ""))))
    return out + sorted((name, p.description) for name, p in PRESETS.items())


def load_preset_data(name_or_path: str) -> dict[str, Any]:
    """Plain data of a bundled preset (by name) or of a YAML file (by path)."""
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise ConfigError(f"config file {name_or_path} does not exist")
        return read_yaml(path)
    preset = PRESET_DIR / f"{name_or_path}.yaml"
    if not preset.is_file() and name_or_path in PRESETS:  # a plug-in's
        data = copy.deepcopy(PRESETS.get(name_or_path).data)
        data.setdefault("preset", name_or_path)
        return data
    if not preset.is_file():
        names = [n for n, _ in list_presets()]
        if ":" in name_or_path:  # a data spec given where the preset goes
            raise ConfigError(
                f"'{name_or_path}' is a data spec, not a preset: give a preset and the data, "
                f"e.g. `ganforge train PRESET --data {name_or_path}` (presets: {', '.join(names)})"
            )
        raise ConfigError(
            f"unknown preset '{name_or_path}'{suggest(name_or_path, names)}; "
            f"available: {', '.join(names)} (or give a path to a YAML file)"
        )
    data = read_yaml(preset)
    data.setdefault("preset", name_or_path)
    return data


def resolve(
    preset: str | None = "demo",
    overrides: list[str] | None = None,
    **sections: dict[str, Any],
) -> Config:
    """Preset (name or YAML path) + section dicts + ``key=value`` overrides -> validated Config."""
    data = load_preset_data(preset) if preset else {}
    known = [n for n in fields_of(Config) if n != "sections"] + list(modality_sections())
    for name, values in sections.items():
        if name not in known:
            raise ConfigError(f"unknown config section '{name}'{suggest(name, known)}")
        node = data.setdefault(name, {})
        if isinstance(values, dict) and isinstance(node, dict):
            node.update(values)
        else:
            data[name] = values
    data = apply_overrides(data, overrides or [])
    return from_dict(data)


def dump(cfg: Config, modality: str | None = None) -> str:
    """The resolved config as YAML text; with ``modality``, only the engine's sections and
    that modality's (what is written to a run directory)."""
    return yaml.safe_dump(cfg.to_dict(modality), sort_keys=False)


def default_preset(spec: str) -> tuple[str, list[str]]:
    """The preset ``ganforge train --data SPEC`` trains when none is named, and the
    overrides that go with it: the spec's own ``preset``; else its modality's
    ``default_preset``; else the first preset (as ``ganforge presets`` lists them) on the
    same dataset, else on data of that modality; else ``demo``, with ``model.arch`` set to
    the modality's ``default_arch``."""
    modality = _spec_modality(spec)
    if modality is None or modality not in MODALITIES:
        return "demo", []  # training names what is wrong with the spec
    chosen = MODALITIES.get(modality)
    name = _spec_name(spec)
    own = DATASETS.get(name).preset or chosen.default_preset
    if own:
        return own, []
    same_data, same_modality = [], []
    for preset, _ in list_presets():
        data = load_preset_data(preset).get("data")
        their = str(data.get("spec", "")) if isinstance(data, dict) else ""
        if _spec_modality(their) == modality:
            (same_data if _spec_name(their) == name else same_modality).append(preset)
    if same_data or same_modality:
        return (same_data + same_modality)[0], []
    return "demo", [f"model.arch={chosen.default_arch}"] if chosen.default_arch else []


def _spec_name(spec: str) -> str:
    text = spec.strip().lower()
    return text if text in DATASETS else text.partition(":")[0]


def _spec_modality(spec: str) -> str | None:
    name = _spec_name(spec)
    return DATASETS.get(name).modality if name in DATASETS else None
