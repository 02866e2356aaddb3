"""Typed run configuration: defaults, YAML presets, ``--set key=value`` overrides, validation.

A config is plain data: nested dataclasses built from dicts read with ``yaml.safe_load``.
The engine's sections are fixed (:mod:`ganforge.config.schema`); each registered modality
adds its own (``image.size``, ``video.frames``, a plug-in's keys).
"""

from ganforge.config.loading import (
    PRESET_DIR,
    apply_overrides,
    default_preset,
    dump,
    from_dict,
    list_presets,
    load_preset_data,
    parse_override,
    read_yaml,
    resolve,
    validate,
)
from ganforge.config.schema import (
    Config,
    DataConfig,
    EvalConfig,
    GuardConfig,
    LogConfig,
    LossConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
)
from ganforge.config.values import all_keys, choices

__all__ = [
    "PRESET_DIR",
    "Config",
    "DataConfig",
    "EvalConfig",
    "GuardConfig",
    "LogConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "TrainConfig",
    "all_keys",
    "apply_overrides",
    "default_preset",
    "choices",
    "dump",
    "from_dict",
    "list_presets",
    "load_preset_data",
    "parse_override",
    "read_yaml",
    "resolve",
    "validate",
]
