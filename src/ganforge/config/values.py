"""Values of config keys: coercion from YAML / ``--set`` text, ranges and choices.

The choices of ``model.arch``, ``loss.type`` and ``eval.metric`` come from the registries;
a modality section's ranges and choices from its fields' metadata.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from ganforge.config.parts import PART_SECTIONS, field_meta, part_keys
from ganforge.config.schema import ENGINE_SECTIONS, Config, modality_sections
from ganforge.engine.losses import LOSSES
from ganforge.errors import ConfigError, closest
from ganforge.plugins import load_plugins
from ganforge.registry import ARCHITECTURES, MODALITIES

STEPS = ("alternating", "simultaneous")
PENALTIES = ("none", "wgan-gp", "r1")
INITS = ("auto", "glorot", "dcgan", "default", "xavier", "orthogonal")
PRECISIONS = ("auto", "fp32", "bf16")
SWITCHES = ("auto", "on", "off")
DEVICES = ("auto", "cpu", "cuda", "mps")


_CHOICES: dict[str, tuple[str, ...]] = {
    "model.init": INITS,
    "model.g_conditioning": ("embedding", "cbn"),
    "loss.penalty": PENALTIES,
    "train.step": STEPS,
    "train.precision": PRECISIONS,
    "train.channels_last": SWITCHES,
    "train.spectral_conv": SWITCHES,
    "train.gemm_grad": SWITCHES,
    "train.fused_adam": SWITCHES,
    "train.device": DEVICES,
}

# (min, max, min_inclusive) for numeric keys; None means unbounded.
_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "model.z_dim": (1, 4096, True),
    "model.g_width": (1, 4096, True),
    "model.d_width": (1, 4096, True),
    "model.depth": (1, 64, True),
    "model.leaky_slope": (0, 1, True),
    "model.bn_eps": (0, 1, False),
    "model.bn_momentum": (0, 1, False),
    "model.dropout": (0, 0.99, True),
    "model.pack": (1, 64, True),
    "loss.penalty_weight": (0, None, True),
    "loss.class_weight": (0, None, True),
    "loss.r1_every": (1, None, True),
    "optim.g_lr": (0, 1, False),
    "optim.d_lr": (0, 1, False),
    "optim.eps": (0, 1, False),
    "train.steps": (0, None, True),
    "train.batch": (1, None, True),
    "train.n_critic": (1, 100, True),
    "train.ema": (0, 1, True),
    "train.ema_start": (0, None, True),
    "train.ema_rampup": (0, 1, True),
    "train.seed": (0, 2**63 - 1, True),
    "train.threads": (1, 1024, True),
    "train.max_seconds": (0, None, True),
    "log.every": (1, None, True),
    "log.sample_every": (1, None, True),
    "log.checkpoint_every": (1, None, True),
    "log.keep_checkpoints": (1, None, True),
    "log.samples": (1, 100_000, True),
    "data.holdout": (0, 0.9, True),
    "guard.lr_factor": (0, 1, False),
    "eval.every": (0, None, True),
    "eval.n": (10, 1_000_000, True),
    "eval.patience": (0, None, True),
    "guard.max_recoveries": (0, 100, True),
    "guard.collapse_steps": (0, None, True),
}


def choices(key: str) -> tuple[str, ...] | None:
    """The valid values of ``key``, when it has a fixed set (registries included)."""
    if key == "model.arch":
        return ARCHITECTURES.names()
    if key == "loss.type":
        load_plugins()
        return tuple(LOSSES)
    if key == "eval.metric":
        names: list[str] = []
        for _, m in MODALITIES.items():
            names += [n for n in m.periodic_metrics if n not in names]
        return tuple(names)
    if key in _CHOICES:
        return _CHOICES[key]
    meta = _section_meta(key)
    return tuple(meta["choices"]) if "choices" in meta else None


def _section_meta(key: str) -> dict[str, Any]:
    """The field metadata of a modality section's key (empty for the engine's keys)."""
    section, _, name = key.partition(".")

    if section in ENGINE_SECTIONS:
        return {}
    if section in PART_SECTIONS:
        return field_meta(section, name)
    cls = modality_sections().get(section)
    if cls is None:
        return {}
    for f in dataclasses.fields(cls):
        if f.name == name:
            return dict(f.metadata)
    return {}


def value_range(key: str) -> tuple[float | None, float | None, bool] | None:
    """(min, max, min_inclusive) of a numeric key, or None."""
    if key in _RANGES:
        return _RANGES[key]
    meta = _section_meta(key)
    return tuple(meta["range"]) if "range" in meta else None


def fields_of(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


# Names people bring from other tools, mapped to ours.
_ALIASES = {
    "lr": "optim.g_lr and optim.d_lr",
    "learning_rate": "optim.g_lr and optim.d_lr",
    "batch_size": "train.batch",
    "epochs": "train.steps",
    "iterations": "train.steps",
    "latent_dim": "model.z_dim",
    "noise_dim": "model.z_dim",
    "beta1": "optim.betas",
    "dataset": "data.spec",
}


def suggest_key(key: str) -> str:
    leaf = key.rsplit(".", 1)[-1]
    if leaf in _ALIASES:
        return f" (did you mean {_ALIASES[leaf]}?)"

    same_leaf = [k for k in all_keys() if k.rsplit(".", 1)[-1] == leaf]
    if same_leaf:
        return f" (did you mean '{same_leaf[0]}'?)"
    return suggest(key, all_keys())


def shown(text: str) -> str:
    """``text`` for a one-line message: control characters (newlines, ...) escaped."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def suggest(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = closest(word, options)
    return f" (did you mean '{close}'?)" if close else ""


def coerce(key: str, value: Any, tp: Any) -> Any:
    """Convert ``value`` to type ``tp`` or raise ConfigError naming ``key``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        return coerce(key, value, args[0])
    if origin is dict:
        if isinstance(value, str):
            value = _parse_mapping(key, value)
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping, like {key}={{clip: 2.0}}; got {value!r}")
        _, vt = typing.get_args(tp)
        return {str(k): coerce(f"{key}.{k}", v, vt) for k, v in value.items()}
    if origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, str):
            value = [v for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(
                f"{key} must be a list of {len(args)} numbers, like {key}=0.5,0.999; got {value!r}"
            )
        return tuple(coerce(key, v, a) for v, a in zip(value, args, strict=True))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "no", "off", "0"):
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ConfigError(f"{key} must be true or false; got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be a whole number; got {value!r}")
        if isinstance(value, int) and abs(value) < 2**63:  # beyond int64 torch cannot use it
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        if isinstance(value, str):
            try:
                f = float(value.strip().replace("_", ""))
            except ValueError:
                f = None
            if f is not None and f.is_integer() and abs(f) < 2**63:
                return int(f)
        raise ConfigError(f"{key} must be a whole number, like {key}=100; got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be a number; got {value!r}")
        if isinstance(value, (int, float)):
            try:
                out = float(value)
            except OverflowError:  # an int too large for a float
                out = float("inf")
        else:
            try:
                out = float(str(value).strip())
            except ValueError:
                raise ConfigError(
                    f"{key} must be a number, like {key}=0.0002; got {value!r}"
                ) from None
        if out != out or out in (float("inf"), float("-inf")):
            raise ConfigError(f"{key} must be a finite number; got {value!r}")
        return out
    if tp is str:
        if isinstance(value, bool) and _CHOICES.get(key) == SWITCHES:
            return "on" if value else "off"  # YAML reads on/off/true/false as booleans
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{key} must be text; got {value!r}")
        return str(value)
    raise ConfigError(f"{key}: unsupported value {value!r}")


def check_value(key: str, value: Any) -> None:
    valid = choices(key)
    if valid is not None and value is not None and value not in valid:
        raise ConfigError(
            f"{key} must be one of {', '.join(map(str, valid))}; got {value!r}"
            + suggest(str(value), [str(v) for v in valid])
        )
    bounds = value_range(key)
    if bounds is not None and value is not None:
        lo, hi, lo_incl = bounds
        bad = (lo is not None and (value < lo if lo_incl else value <= lo)) or (
            hi is not None and value > hi
        )
        if bad:
            lo_s = "" if lo is None else (f">= {lo}" if lo_incl else f"> {lo}")
            hi_s = "" if hi is None else f"<= {hi}"
            rng = " and ".join(s for s in (lo_s, hi_s) if s)
            raise ConfigError(f"{key} must be {rng}; got {value!r}")
    if key == "loss.head_weights":
        for name, w in value.items():
            if not w >= 0:
                raise ConfigError(f"loss.head_weights.{name} must be >= 0; got {w!r}")
    if key == "optim.betas":
        for b in value:
            if not 0 <= b < 1:
                raise ConfigError(f"optim.betas must both be in [0, 1); got {list(value)}")


def _parse_mapping(key: str, text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text) if text.strip() else {}
    except Exception:
        raise ConfigError(
            f"{key} must be a mapping, like {key}={{clip: 2.0}}; got {text!r}"
        ) from None


def all_keys() -> list[str]:
    """Every valid dotted key, e.g. ``train.batch`` and ``image.size``."""
    keys = []
    for name in fields_of(Config):
        if name == "sections" or name in PART_SECTIONS:
            continue
        sub = field_type(Config, name)
        if dataclasses.is_dataclass(sub):
            keys += [f"{name}.{k}" for k in fields_of(sub)]
        else:
            keys.append(name)
    for name, cls in modality_sections().items():
        keys += [f"{name}.{k}" for k in fields_of(cls)]
    return keys + part_keys()
