"""Keys that moved: old spellings in an older run's ``config.yaml``, a user's YAML or
``--set`` are read under their new names, and one line says the new spelling.

An old key that held its old default moves as the new key's default: the new default
(``None``: the modality's own number) means what the old one did for that modality. An
architecture's option recorded by a run of another architecture (which never read it) is
left out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ganforge.config.parts import section_class
from ganforge.errors import ConfigError

# old dotted key -> new dotted key
RENAMED: dict[str, str] = {
    "log.n_samples": "log.samples",
    "log.toy_samples": "log.samples",
    "points.samples": "log.samples",
    "text.samples": "log.samples",
    "music.samples": "log.samples",
    "video.samples": "log.samples",
    "tabular.rows": "log.samples",
    "text.holdout": "data.holdout",
    "music.holdout": "data.holdout",
    "video.holdout": "data.holdout",
    "tabular.holdout": "data.holdout",
    # network options: the architecture's own (arch.*)
    "video.layers": "arch.layers",
    "video.motion_stream": "arch.motion_stream",
    "video.minibatch_std": "arch.minibatch_std",
    "video.track_critic": "arch.track_critic",
    "video.supersample": "arch.supersample",
    "video.upsample": "arch.upsample",
    "music.binarize": "arch.binarize",
    "music.ranges": "arch.ranges",
    "music.hold": "arch.hold",
    "music.key_stream": "arch.key_stream",
    # kept although measured against, or never measured (docs/benchmarks/README.md)
    "music.interval_stream": "experimental.interval_stream",
    "tabular.target_weight": "experimental.target_weight",
    "train.compile": "experimental.compile",
    "model.conditioning": "experimental.acgan",
}

# the old keys' defaults; an old key holding its default moves as the new key's default
OLD_DEFAULTS: dict[str, Any] = {
    "log.n_samples": 64,
    "log.toy_samples": 2500,
    "points.samples": 2500,
    "text.samples": 640,
    "music.samples": 256,
    "video.samples": 8,
    "tabular.rows": 2000,
    "text.holdout": 0.1,
    "music.holdout": 0.1,
    "video.holdout": 0.1,
    "tabular.holdout": 0.2,
    "video.layers": 0,
    "video.motion_stream": False,
    "video.minibatch_std": False,
    "video.track_critic": False,
    "video.supersample": 1,
    "video.upsample": "nearest",
    "music.binarize": "none",
    "music.ranges": True,
    "music.hold": 0.0,
    "music.key_stream": False,
    "music.interval_stream": False,
    "tabular.target_weight": 0.0,
    "train.compile": False,
    "model.conditioning": "projection",
}


def _conditioning(value: Any) -> bool:
    if value not in ("projection", "acgan"):
        raise ConfigError(
            f"model.conditioning (now experimental.acgan) must be projection or acgan; "
            f"got {value!r}"
        )
    return value == "acgan"


# old keys whose values change form on the way
CONVERT: dict[str, Callable[[Any], Any]] = {"model.conditioning": _conditioning}

# keys that only the engine read before a modality's own key took over: where both are
# given, the modality's wins (an older run recorded both; its picture showed the latter)
_WEAKER = ("log.n_samples",)

_said: set[str] = set()


def renamed_key(key: str) -> str:
    """The key's current spelling (``text.samples`` -> ``log.samples``), said once."""
    new = RENAMED.get(key)
    if new is None:
        return key
    say([(key, new)])
    return new


def converted(old: str, value: Any) -> Any:
    """``value`` of old key ``old`` in its new key's form (``acgan`` -> ``true``)."""
    return CONVERT[old](value) if old in CONVERT else value


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Nested config data with every old key moved to its new one (a new dict); a key given
    under its new name wins. One line names the keys moved."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    given = {new for new in RENAMED.values() if _has(out, new)}
    moved: list[tuple[str, str]] = []
    order = sorted(RENAMED, key=lambda k: k not in _WEAKER)  # the weaker first, then overrun
    for old in order:
        if not _has(out, old):
            continue
        new = RENAMED[old]
        section, name = old.split(".", 1)
        value = out[section].pop(name)
        if not out[section] and section not in ("data", "log"):
            del out[section]  # a modality section that held nothing else
        moved.append((old, new))
        if new in given:
            continue
        n_sec, n_name = new.split(".", 1)
        if _same(value, OLD_DEFAULTS.get(old, object())):
            if isinstance(out.get(n_sec), dict):  # over a weaker key's value
                out[n_sec].pop(n_name, None)
            continue  # absent: the new key's default means what the old default did
        if n_sec in ("arch", "experimental") and not _reads(out, n_sec, n_name):
            continue  # recorded by a run whose architecture never read it
        target = out.setdefault(n_sec, {})
        if isinstance(target, dict):
            target[n_name] = converted(old, value)
    say(moved)
    return out


def say(moved: list[tuple[str, str]]) -> None:
    """One stderr line naming the new spellings, once per process for the same keys."""
    line = ", ".join(f"{old} -> {new}" for old, new in moved)
    if line and line not in _said:
        _said.add(line)
        print(f"ganforge: renamed config keys read as their new spelling: {line}", file=sys.stderr)


def _same(value: Any, default: Any) -> bool:
    return (
        type(value) is type(default)
        and value == default
        or (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and isinstance(default, (int, float))
            and not isinstance(default, bool)
            and value == default
        )
    )


def _reads(data: dict[str, Any], section: str, name: str) -> bool:
    """Whether the architecture ``data`` names (default dcgan) has key ``section.name``."""
    import dataclasses

    model = data.get("model")
    arch = model.get("arch", "dcgan") if isinstance(model, dict) else "dcgan"
    cls = section_class(section, str(arch))
    return cls is not None and name in {f.name for f in dataclasses.fields(cls)}


def _has(data: dict[str, Any], key: str) -> bool:
    section, name = key.split(".", 1)
    node = data.get(section)
    return isinstance(node, dict) and name in node
