"""The one place a run's held-out split is rebuilt, for every modality that holds data out.

A modality declares, once, the settings that decide its training / held-out split
(:class:`SplitSettings`: recorded in ``info[section]`` when the data is loaded), and what it
builds from them (:class:`References`: real training and held-out samples, their
statistics, the feature networks learned on them), built once per process and settings.
``ganforge eval`` reads the settings from the run's info; ``eval.every`` from the training
data's info, or from the config when there is none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class SplitSettings:
    """What decides a modality's split: ``{"source": [kind, arg], "seed": seed, **options}``
    with ``defaults`` for the options. ``renamed`` maps a loader option to the key it is
    kept under; ``complete(settings)`` fills in values that follow from others."""

    def __init__(
        self,
        section: str,
        defaults: dict[str, Any],
        renamed: dict[str, str] | None = None,
        complete: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.section = section
        self.defaults = dict(defaults)
        self.renamed = dict(renamed or {})
        self.complete = complete
        self.keys = ("source", "seed", *self.defaults)

    def __call__(self, kind: str, arg: str, seed: int = 0, **options: Any) -> dict[str, Any]:
        """The settings of data ``kind:arg`` loaded with ``seed`` and ``options``."""
        named = {self.renamed.get(k, k): v for k, v in options.items()}
        unknown = sorted(set(named) - set(self.defaults))
        if unknown:
            raise TypeError(f"{self.section} split settings take no {', '.join(unknown)}")
        settings = {"source": [kind, arg], "seed": seed, **self.defaults, **named}
        return self.complete(settings) if self.complete else settings

    def of_info(self, info: dict[str, Any]) -> dict[str, Any]:
        """The settings a run's ``info`` records (other facts left out)."""
        return {k: info[self.section][k] for k in self.keys}

    def of_config(self, modality: Any, cfg: Any) -> dict[str, Any]:
        """The settings ``cfg``'s data loads with; loader options that do not decide the
        split (music's tempo, video's fps) left out."""
        name, arg, seed, options = modality.data_arguments(cfg)
        taken = set(self.defaults) | set(self.renamed)
        return self(name, arg, seed, **{k: v for k, v in options.items() if k in taken})


class References(Generic[R]):
    """What ``build(settings)`` makes of a split, kept for the last ``size`` settings."""

    def __init__(self, split: SplitSettings, build: Callable[[dict[str, Any]], R], size: int = 2):
        self.split = split
        self._build = lru_cache(maxsize=size)(lambda key: build(json.loads(key)))

    def of_settings(self, settings: dict[str, Any]) -> R:
        key = {k: settings[k] for k in self.split.keys}
        return self._build(json.dumps(key, sort_keys=True))

    def of_info(self, info: dict[str, Any]) -> R:
        """The reference of the run (or training data) whose info is ``info``."""
        return self.of_settings(self.split.of_info(info))

    def of_config(self, modality: Any, cfg: Any) -> R:
        return self.of_settings(self.split.of_config(modality, cfg))


class Memo:
    """For a reference: what it builds on first use and keeps while it is cached (the
    feature networks learned on its data, their statistics)."""

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        kept = self.__dict__.setdefault("_memos", {})
        if key not in kept:
            kept[key] = make()
        return kept[key]
