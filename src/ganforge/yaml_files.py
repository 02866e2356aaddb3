"""YAML files read safely (no code execution, one-line errors), and where the bundled
presets lie: below the registry and the config, which both read presets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ganforge.errors import ConfigError

PRESET_DIR = Path(__file__).resolve().parent / "presets"


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
