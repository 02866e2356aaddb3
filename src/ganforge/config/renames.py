"""Keys that moved: old spellings in an older run's ``config.yaml``, a user's YAML or
``--set`` are read under their new names, and one line says the new spelling.

An old key that held its old default moves as the new key's default: the new default
(``None``: the modality's own number) means what the old one did for that modality.
"""

from __future__ import annotations

import sys
from typing import Any

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
}

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
        if value == OLD_DEFAULTS.get(old, object()):
            value = None
        n_sec, n_name = new.split(".", 1)
        target = out.setdefault(n_sec, {})
        if isinstance(target, dict):
            target[n_name] = value
    say(moved)
    return out


def say(moved: list[tuple[str, str]]) -> None:
    """One stderr line naming the new spellings, once per process for the same keys."""
    line = ", ".join(f"{old} -> {new}" for old, new in moved)
    if line and line not in _said:
        _said.add(line)
        print(f"ganforge: renamed config keys read as their new spelling: {line}", file=sys.stderr)


def _has(data: dict[str, Any], key: str) -> bool:
    section, name = key.split(".", 1)
    node = data.get(section)
    return isinstance(node, dict) and name in node
