"""The registries plug-ins fill: modalities, dataset specs, architectures, metrics, losses.

Built-in parts register through the same public calls a third-party package uses
(:mod:`ganforge.plugins` runs every ``ganforge.modalities`` entry point before the first
lookup), and the config's valid choices are read from here, never from lists kept by hand.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ganforge.engine.losses import LOSSES, GANLoss
from ganforge.errors import ConfigError, closest
from ganforge.plugins import load_plugins
from ganforge.yaml_files import PRESET_DIR, read_yaml

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind; lookups load the plug-ins first."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T, *, replace: bool = False) -> T:
        """Register ``item`` as ``name``; a second registration of a name needs ``replace``."""
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(f"a {self.kind} name must be non-empty text; got {name!r}")
        if name in self._items and not replace and self._items[name] is not item:
            raise ValueError(
                f"a {self.kind} named '{name}' is already registered; give yours another "
                "name (or register it with replace=True to replace it)"
            )
        self._items[name] = item
        return item

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    def _loaded(self) -> dict[str, T]:
        load_plugins()
        return self._items

    def get(self, name: str) -> T:
        """The entry ``name``, or a ConfigError naming the valid ones."""
        items = self._loaded()
        if name in items:
            return items[name]
        close = closest(str(name), items)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise ConfigError(f"unknown {self.kind} '{name}'{hint}; known: {', '.join(items)}")

    def names(self) -> tuple[str, ...]:
        return tuple(self._loaded())

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._loaded().items()))

    def __contains__(self, name: object) -> bool:
        return name in self._loaded()


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset spec: ``name`` (``digits``) or ``name:ARG`` (``folder:PATH``).

    ``load(arg, seed=..., **options) -> Dataset``: ``arg`` is the text after the colon
    ('' when there is none); ``options`` are the modality's loading options (e.g. image size).
    ``arg``: ``"none"`` (no colon), ``"optional"`` or ``"required"`` (its metavar in ``usage``).
    """

    name: str
    modality: str
    load: Callable[..., Any]
    description: str
    source: str = "generated"
    arg: str = "none"
    usage: str = ""  # how it is written, e.g. "folder:PATH" (default: the name)
    arg_help: str = "an argument"  # what the argument is, for errors ("a path")
    # bare paths it takes as its argument (``--data ./songs``): files with these suffixes,
    # folders holding files with these suffixes (a spec named after a suffix, ``csv:``,
    # takes such files too)
    file_suffixes: tuple[str, ...] = ()
    folder_suffixes: tuple[str, ...] = ()
    preset: str = ""  # the preset a bare path of this spec trains with when none is named

    @property
    def shown(self) -> str:
        return self.usage or self.name


@dataclass(frozen=True)
class Architecture:
    """A (G, D) family: ``build(cfg, sample_shape, num_classes) -> (G, D)``.

    ``model_keys``: the ``model.*`` keys it reads besides ``arch``, ``z_dim`` and the
    conditioning keys (a value set for another is refused); ``options``: a dataclass of
    its own keys, the config section ``arch.*`` (``cfg.arch``), checked as a modality's
    section is (field metadata ``range`` / ``choices``); ``experimental``: a dataclass of
    its keys kept although measurements went against them or none were taken, read under
    ``experimental.*`` beside the engine's (``cfg.experimental``)."""

    name: str
    build: Callable[..., tuple[Any, Any]]
    description: str
    model_keys: tuple[str, ...] = field(default=())
    # the nearest sample shape the family supports (None: it takes any shape it can)
    fit_shape: Callable[[tuple[int, ...]], tuple[int, ...]] | None = None
    # build also takes ``info=`` (the dataset's info, e.g. a table's column layout)
    takes_info: bool = False
    options: type | None = None
    experimental: type | None = None

    def __post_init__(self) -> None:
        if isinstance(self.options, (tuple, list)):  # the older spelling of model_keys
            object.__setattr__(self, "model_keys", tuple(self.options))
            object.__setattr__(self, "options", None)


@dataclass(frozen=True)
class MetricSpec:
    """A metric of a modality, declared once: its name in ``ganforge eval --metrics``, its
    computation, its real-data floor, whether it scores while training and its direction.

    ``score(compared) -> {label: value}`` computes it on what the modality compares
    (generated samples beside real ones; each modality's own object). ``floor``: None, the
    same ``score`` with held-out real samples in place of the generated ones; else a callable
    of that held-out comparison. ``periodic``: a valid ``eval.metric`` for ``eval.every``;
    training keeps the first label's value (lower is better: a ``higher_is_better`` score is
    kept as 1 - value) under ``label`` (default: that first label), and logs
    ``details(compared)`` beside it. ``parts``: the metrics ``eval`` reports with it (those it
    is made of). A metric without ``score`` is computed by its modality's ``evaluate``.
    """

    name: str
    modality: str
    description: str
    periodic: bool = False
    score: Callable[[Any], dict[str, float]] | None = None
    floor: Callable[[Any], dict[str, float]] | None = None
    higher_is_better: bool = False
    label: str = ""
    details: Callable[[Any], dict[str, float]] | None = None
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preset:
    """A plug-in's preset: plain config data (what a preset YAML holds), listed by
    ``ganforge presets`` and trained with ``ganforge train NAME``."""

    name: str
    data: dict[str, Any]
    description: str = ""


MODALITIES: Registry[Any] = Registry("modality")
DATASETS: Registry[DatasetSpec] = Registry("dataset")
ARCHITECTURES: Registry[Architecture] = Registry("architecture")
METRICS: Registry[MetricSpec] = Registry("metric")
PRESETS: Registry[Preset] = Registry("preset")


def register_modality(modality: Any, *, replace: bool = False) -> Any:
    """Register a :class:`ganforge.modality.Modality` (its ``name`` is its config section)."""
    if not _is_modality(modality):
        raise TypeError(f"register_modality needs a ganforge.modality.Modality; got {modality!r}")
    return MODALITIES.add(modality.name, modality, replace=replace)


def _is_modality(entry: Any) -> bool:
    # ganforge.modality builds on this module; wherever a Modality exists it is imported
    module = sys.modules.get("ganforge.modality")
    return module is not None and isinstance(entry, module.Modality)


def register_dataset(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Register a dataset spec (its modality may register later, but before training)."""
    if spec.arg not in ("none", "optional", "required"):
        raise ValueError(f"DatasetSpec.arg must be none, optional or required; got {spec.arg!r}")
    return DATASETS.add(spec.name.lower(), spec, replace=replace)


def register_architecture(arch: Architecture, *, replace: bool = False) -> Architecture:
    """Register a network family under ``arch.name`` (a valid ``model.arch``)."""
    return ARCHITECTURES.add(arch.name, arch, replace=replace)


def register_metric(metric: MetricSpec, *, replace: bool = False) -> MetricSpec:
    """Register a modality's metric (names are per modality: ``image/fid``; lower-case, as
    ``--metrics`` reads them); a second metric of a name the modality has is refused."""
    if metric.name != metric.name.strip().lower():
        raise ValueError(f"a metric name is lower-case text without spaces; got {metric.name!r}")
    return METRICS.add(_metric_key(metric), metric, replace=replace)


def _metric_key(metric: MetricSpec) -> str:
    return f"{metric.modality}/{metric.name}"


def register_preset(
    name: str, preset: str | Path | dict[str, Any], *, replace: bool = False
) -> Preset:
    """Register a preset shipped by a plug-in: a YAML file's path or the same data as a dict
    (``description``, ``data: {spec: ...}``, ``model``, ...). It is listed by ``ganforge
    presets``; ``ganforge train NAME`` trains it. A bundled preset's name is refused."""
    if isinstance(preset, dict):
        data = copy.deepcopy(preset)
    elif isinstance(preset, (str, Path)):
        data = read_yaml(Path(preset))
    else:
        raise TypeError(f"register_preset needs a YAML path or a dict; got {preset!r}")
    return _add_preset(Preset(name, data, str(data.get("description", ""))), replace)


def _add_preset(preset: Preset, replace: bool = False) -> Preset:
    if (PRESET_DIR / f"{preset.name}.yaml").is_file():
        raise ValueError(
            f"a preset named '{preset.name}' ships with ganforge; give yours another name"
        )
    return PRESETS.add(preset.name, preset, replace=replace)


def register_parts(
    modality: Any,
    datasets: tuple[DatasetSpec, ...] = (),
    metrics: tuple[MetricSpec, ...] | dict[str, str] | None = None,
    periodic: tuple[str, ...] = (),
    architectures: tuple[Architecture, ...] = (),
) -> None:
    """A modality and everything it brings, in one call: its dataset specs, its metrics
    (:class:`MetricSpec` s, or name -> description with those in ``periodic`` valid
    ``eval.metric`` values) and its network families."""
    register_modality(modality)
    for spec in datasets:
        register_dataset(spec)
    if isinstance(metrics, dict):
        metrics = tuple(
            MetricSpec(name, modality.name, text, periodic=name in periodic)
            for name, text in metrics.items()
        )
    for metric in metrics or ():
        register_metric(metric)
    for arch in architectures:
        register_architecture(arch)


def modality_metrics(modality: str) -> tuple[MetricSpec, ...]:
    """The registered :class:`MetricSpec` s of ``modality``, in the order registered."""
    return tuple(m for _, m in METRICS.items() if m.modality == modality)


def find_metric(modality: str, name: str) -> MetricSpec | None:
    """``modality``'s metric ``name``, or None."""
    key = f"{modality}/{name}"
    return METRICS.get(key) if key in METRICS else None


def metric_names(modality: str, periodic: bool = False) -> tuple[str, ...]:
    """The registered metrics of ``modality`` (only the periodic ones when asked)."""
    return tuple(m.name for m in modality_metrics(modality) if m.periodic or not periodic)


def register_loss(loss: Any, *, replace: bool = False) -> Any:
    """Register a :class:`ganforge.engine.losses.GANLoss` (a valid ``loss.type``)."""
    if not isinstance(loss, GANLoss):
        raise TypeError(f"register_loss needs a GANLoss; got {loss!r}")
    if loss.name in LOSSES and not replace and LOSSES[loss.name] is not loss:
        raise ValueError(f"a loss named '{loss.name}' is already registered")
    LOSSES[loss.name] = loss
    return loss


def _of(cls: type) -> Callable[[Any], bool]:
    return lambda entry: isinstance(entry, cls)


@contextmanager
def registered(*entries: Any) -> Iterator[None]:
    """Register modalities / dataset specs / architectures / metrics / presets for a
    ``with`` block (tests); entries registered before the block stay afterwards."""
    Kind = tuple[Callable[[Any], bool], Registry[Any], Callable[[Any], str], Callable]
    kinds: tuple[Kind, ...] = (
        (_is_modality, MODALITIES, lambda e: e.name, register_modality),
        (_of(DatasetSpec), DATASETS, lambda e: e.name.lower(), register_dataset),
        (_of(Architecture), ARCHITECTURES, lambda e: e.name, register_architecture),
        (_of(MetricSpec), METRICS, _metric_key, register_metric),
        (_of(Preset), PRESETS, lambda e: e.name, _add_preset),
    )
    undo: list[Callable[[], None]] = []
    try:
        for e in entries:
            kind = next((k for k in kinds if k[0](e)), None)
            if kind is None:
                raise TypeError(f"cannot register {e!r}")
            _, reg, key, register = kind
            if key(e) in reg:
                register(e)  # the same entry again passes; another is refused
                continue
            register(e)
            name = key(e)
            undo.append(lambda reg=reg, name=name: reg.remove(name))
        yield
    finally:
        for fn in reversed(undo):
            fn()
