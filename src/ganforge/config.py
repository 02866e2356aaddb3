"""Typed run configuration: defaults, YAML presets, ``--set key=value`` overrides, validation.

A config is plain data: nested dataclasses built from dicts read with ``yaml.safe_load``.
Every key is checked; an unknown key, a wrong type or an out-of-range value raises
:class:`ConfigError` with one line naming the problem and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ganforge.errors import ConfigError

PRESET_DIR = Path(__file__).parent / "presets"

LOSSES = ("minimax", "nonsaturating", "hinge", "wasserstein", "least-squares")
ARCHS = ("mlp", "dcgan-tf", "dcgan", "resnet")
STEPS = ("alternating", "simultaneous")
PENALTIES = ("none", "wgan-gp", "r1")
INITS = ("auto", "glorot", "dcgan", "default", "xavier", "orthogonal")
PRECISIONS = ("auto", "fp32", "bf16")
SWITCHES = ("auto", "on", "off")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class DataConfig:
    spec: str = "mnist5k"  # dataset spec, see `ganforge datasets`
    image_size: int | None = None  # resize images to this size (None: native)
    channels: int | None = None  # 1 (grey) or 3 (RGB); None: native
    conditional: bool = False  # use class labels: G(z, y) and D(x, y)


@dataclass
class ModelConfig:
    arch: str = "dcgan"
    z_dim: int = 100
    g_width: int | None = None  # base channels / hidden units of G (None: family default)
    d_width: int | None = None
    depth: int | None = None  # hidden layers (mlp only)
    spectral_norm: bool | None = None  # spectral normalisation of D (None: family default)
    leaky_slope: float | None = None
    bn_eps: float | None = None
    bn_momentum: float | None = None  # PyTorch convention: 1 - Keras momentum
    dropout: float | None = None
    init: str = "auto"


@dataclass
class LossConfig:
    type: str = "nonsaturating"
    penalty: str = "none"  # none | wgan-gp | r1
    penalty_weight: float = 10.0  # lambda for WGAN-GP, gamma for R1
    r1_every: int = 1  # lazy R1: apply every k D steps, scaled by k


@dataclass
class OptimConfig:
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    eps: float = 1e-8


@dataclass
class TrainConfig:
    steps: int = 2000  # generator steps
    batch: int = 64
    n_critic: int = 1  # D steps per G step
    step: str = "alternating"  # alternating | simultaneous (the TF tutorial's shared pass)
    ema: float = 0.0  # decay of the generator's EMA (0: off); sampling uses the EMA when on
    ema_start: int = 0  # step from which the EMA tracks G (before: copies G)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 (autocast, fp32 master weights)
    channels_last: str = "auto"  # auto | on | off: NHWC memory layout for conv nets
    spectral_conv: str = "auto"  # auto | on | off: small-map convs as frequency-domain GEMMs
    shared_backward: bool = True  # simultaneous step: one D backward on the fakes for both losses
    compile: bool = False  # torch.compile G and D (measured slower than eager on 2 CPU cores)
    threads: int | None = None  # torch intra-op threads (None: PyTorch's default)
    max_seconds: float = 0.0  # stop after this much training time (0: no limit)


@dataclass
class LogConfig:
    every: int = 50  # equilibrium metrics to metrics.jsonl
    sample_every: int = 500  # sample grid PNG (and a GIF frame)
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    n_samples: int = 64  # images in the grid / fixed latent batch
    toy_samples: int = 2500  # samples for toy mode metrics
    progress: bool = True


@dataclass
class EvalConfig:
    """Evaluation during training: a metric every N steps, the best checkpoint kept."""

    every: int = 0  # steps between evaluations (0: off)
    metric: str = "fid"  # fid | kid | swd (lower is better)
    n: int = 2000  # generated samples per evaluation


@dataclass
class GuardConfig:
    """Divergence guard: roll back to the last good checkpoint and lower the learning rates."""

    enabled: bool = True
    lr_factor: float = 0.5  # learning rates are multiplied by this at each recovery
    max_recoveries: int = 3  # then stop, with the last good checkpoint intact
    collapse_steps: int = 2000  # D(x) > 0.99 and D(G(z)) < 0.01 this many steps running (0: off)


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    preset: str = ""  # name of the preset it came from (informational)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["optim"]["betas"] = list(self.optim.betas)
        return d


_CHOICES: dict[str, tuple[str, ...]] = {
    "model.arch": ARCHS,
    "model.init": INITS,
    "loss.type": LOSSES,
    "loss.penalty": PENALTIES,
    "train.step": STEPS,
    "train.precision": PRECISIONS,
    "train.channels_last": SWITCHES,
    "train.spectral_conv": SWITCHES,
    "train.device": DEVICES,
    "eval.metric": ("fid", "kid", "swd"),
}

# (min, max, min_inclusive) for numeric keys; None means unbounded.
_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "data.image_size": (4, 1024, True),
    "data.channels": (1, 3, True),
    "model.z_dim": (1, 4096, True),
    "model.g_width": (1, 4096, True),
    "model.d_width": (1, 4096, True),
    "model.depth": (1, 64, True),
    "model.leaky_slope": (0, 1, True),
    "model.bn_eps": (0, 1, False),
    "model.bn_momentum": (0, 1, False),
    "model.dropout": (0, 0.99, True),
    "loss.penalty_weight": (0, None, True),
    "loss.r1_every": (1, None, True),
    "optim.g_lr": (0, 1, False),
    "optim.d_lr": (0, 1, False),
    "optim.eps": (0, 1, False),
    "train.steps": (0, None, True),
    "train.batch": (1, None, True),
    "train.n_critic": (1, 100, True),
    "train.ema": (0, 1, True),
    "train.ema_start": (0, None, True),
    "train.seed": (0, 2**63 - 1, True),
    "train.threads": (1, 1024, True),
    "train.max_seconds": (0, None, True),
    "log.every": (1, None, True),
    "log.sample_every": (1, None, True),
    "log.checkpoint_every": (1, None, True),
    "log.keep_checkpoints": (1, None, True),
    "log.n_samples": (1, 4096, True),
    "log.toy_samples": (10, None, True),
    "guard.lr_factor": (0, 1, False),
    "eval.every": (0, None, True),
    "eval.n": (10, 1_000_000, True),
    "guard.max_recoveries": (0, 100, True),
    "guard.collapse_steps": (0, None, True),
}


def _fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def all_keys() -> list[str]:
    """Every valid dotted key, e.g. ``train.batch``."""
    keys = []
    for name, f in _fields(Config).items():
        sub = _resolve_type(Config, name)
        if dataclasses.is_dataclass(sub):
            keys += [f"{name}.{k}" for k in _fields(sub)]
        else:
            keys.append(f.name)
    return keys


def _resolve_type(cls: type, name: str) -> Any:
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


def _suggest_key(key: str) -> str:
    leaf = key.rsplit(".", 1)[-1]
    if leaf in _ALIASES:
        return f" (did you mean {_ALIASES[leaf]}?)"
    same_leaf = [k for k in all_keys() if k.rsplit(".", 1)[-1] == leaf]
    if same_leaf:
        return f" (did you mean '{same_leaf[0]}'?)"
    return _suggest(key, all_keys())


def _shown(text: str) -> str:
    """``text`` for a one-line message: control characters (newlines, ...) escaped."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _suggest(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Convert ``value`` to type ``tp`` or raise ConfigError naming ``key``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        return _coerce(key, value, args[0])
    if origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, str):
            value = [v for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(
                f"{key} must be a list of {len(args)} numbers, like {key}=0.5,0.999; got {value!r}"
            )
        return tuple(_coerce(key, v, a) for v, a in zip(value, args, strict=True))
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


def _check_value(key: str, value: Any) -> None:
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ConfigError(
            f"{key} must be one of {', '.join(_CHOICES[key])}; got {value!r}"
            + _suggest(str(value), _CHOICES[key])
        )
    if key in _RANGES and value is not None:
        lo, hi, lo_incl = _RANGES[key]
        bad = (lo is not None and (value < lo if lo_incl else value <= lo)) or (
            hi is not None and value > hi
        )
        if bad:
            lo_s = "" if lo is None else (f">= {lo}" if lo_incl else f"> {lo}")
            hi_s = "" if hi is None else f"<= {hi}"
            rng = " and ".join(s for s in (lo_s, hi_s) if s)
            raise ConfigError(f"{key} must be {rng}; got {value!r}")
    if key == "optim.betas":
        for b in value:
            if not 0 <= b < 1:
                raise ConfigError(f"optim.betas must both be in [0, 1); got {list(value)}")


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"'{prefix}' must be a mapping of keys to values; got {data!r}")
    fields = _fields(cls)
    kwargs = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if k not in fields:
            valid = [f"{prefix}.{n}" if prefix else n for n in fields]
            hint = _suggest(key, valid) or _suggest_key(key)
            raise ConfigError(
                f"unknown config key '{_shown(key)}'{hint}; see `ganforge config --keys`"
            )
        tp = _resolve_type(cls, k)
        if dataclasses.is_dataclass(tp):
            kwargs[k] = _build(tp, v or {}, key)
        else:
            kwargs[k] = _coerce(key, v, tp)
            _check_value(key, kwargs[k])
    return cls(**kwargs)


def from_dict(data: dict[str, Any]) -> Config:
    """Build and validate a Config from nested plain data (missing keys take defaults)."""
    cfg = _build(Config, data, "")
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Cross-field checks that single values cannot express."""
    for group in ("data", "model", "loss", "optim", "train", "log", "guard", "eval"):
        sub = getattr(cfg, group)
        for f in dataclasses.fields(sub):
            _check_value(f"{group}.{f.name}", getattr(sub, f.name))
    if cfg.train.step == "simultaneous" and cfg.train.n_critic != 1:
        raise ConfigError(
            "train.step=simultaneous updates D and G from one pass, so train.n_critic must be 1"
        )
    if cfg.train.step == "simultaneous" and cfg.loss.penalty != "none":
        raise ConfigError(
            "train.step=simultaneous does not support loss.penalty; use train.step=alternating"
        )


def parse_override(text: str) -> tuple[str, Any]:
    """``'train.batch=64'`` -> ``('train.batch', 64)``; values are read as YAML scalars."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, like --set train.batch=64; got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip()
    if key not in all_keys():
        raise ConfigError(
            f"unknown config key '{_shown(key)}'{_suggest_key(key)}; see `ganforge config --keys`"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except Exception:  # not YAML PyYAML can build (bad date, 5000-digit int, deep nesting): text
        value = raw
    if isinstance(value, (dict, list)) and key != "optim.betas":
        value = raw
    return key, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key=value`` strings to nested plain config data (a new dict is returned)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for text in overrides:
        key, value = parse_override(text)
        parts = key.split(".")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"config section '{p}' must be a mapping")
        node[parts[-1]] = value
    return out


def list_presets() -> list[tuple[str, str]]:
    """(name, one-line description) of every bundled preset."""
    out = []
    for path in sorted(PRESET_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        out.append((path.stem, str(data.get("description", ""))))
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping safely (no code execution), with one-line errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; give a YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}; fix the syntax") from None
    except Exception as exc:  # a scalar PyYAML cannot build: bad date, 5000-digit int, ...
        raise ConfigError(
            f"config file {path} holds a value YAML cannot read ({type(exc).__name__}); fix it"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of sections (data:, model:, ...)"
        )
    return data


def load_preset_data(name_or_path: str) -> dict[str, Any]:
    """Plain data of a bundled preset (by name) or of a YAML file (by path)."""
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise ConfigError(f"config file {name_or_path} does not exist")
        return read_yaml(path)
    preset = PRESET_DIR / f"{name_or_path}.yaml"
    if not preset.is_file():
        names = [n for n, _ in list_presets()]
        raise ConfigError(
            f"unknown preset '{name_or_path}'{_suggest(name_or_path, names)}; "
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
    for name, values in sections.items():
        if name not in _fields(Config):
            raise ConfigError(
                f"unknown config section '{name}'{_suggest(name, list(_fields(Config)))}"
            )
        node = data.setdefault(name, {})
        if isinstance(values, dict):
            node.update(values)
        else:
            data[name] = values
    data = apply_overrides(data, overrides or [])
    return from_dict(data)


def dump(cfg: Config) -> str:
    """The resolved config as YAML text (what is written to a run directory)."""
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
