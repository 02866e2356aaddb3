"""The registries plug-ins fill: modalities, dataset specs, architectures, metrics, losses.

Built-in parts register through the same public calls a third-party package uses
(:mod:`ganforge.plugins` runs every ``ganforge.modalities`` entry point before the first
lookup), and the config's valid choices are read from here, never from lists kept by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ganforge.errors import ConfigError, closest

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
            raise ValueError(f"a {self.kind} named '{name}' is already registered")
        self._items[name] = item
        return item

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    def _loaded(self) -> dict[str, T]:
        from ganforge.plugins import load_plugins

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
    """A (G, D) family: ``build(cfg, sample_shape, num_classes) -> (G, D)``."""

    name: str
    build: Callable[..., tuple[Any, Any]]
    description: str
    options: tuple[str, ...] = field(default=())  # model.* keys it uses besides z_dim
    # the nearest sample shape the family supports (None: it takes any shape it can)
    fit_shape: Callable[[tuple[int, ...]], tuple[int, ...]] | None = None
    # build also takes ``info=`` (the dataset's info, e.g. a table's column layout)
    takes_info: bool = False


@dataclass(frozen=True)
class MetricSpec:
    """A metric a modality computes: its name in ``ganforge eval --metrics`` and, when
    ``periodic``, a valid ``eval.metric`` for ``eval.every`` (lower is better)."""

    name: str
    modality: str
    description: str
    periodic: bool = False


MODALITIES: Registry[Any] = Registry("modality")
DATASETS: Registry[DatasetSpec] = Registry("dataset")
ARCHITECTURES: Registry[Architecture] = Registry("architecture")
METRICS: Registry[MetricSpec] = Registry("metric")


def register_modality(modality: Any, *, replace: bool = False) -> Any:
    """Register a :class:`ganforge.modality.Modality` (its ``name`` is its config section)."""
    from ganforge.modality import Modality

    if not isinstance(modality, Modality):
        raise TypeError(f"register_modality needs a ganforge.modality.Modality; got {modality!r}")
    return MODALITIES.add(modality.name, modality, replace=replace)


def register_dataset(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Register a dataset spec (its modality may register later, but before training)."""
    if spec.arg not in ("none", "optional", "required"):
        raise ValueError(f"DatasetSpec.arg must be none, optional or required; got {spec.arg!r}")
    return DATASETS.add(spec.name.lower(), spec, replace=replace)


def register_architecture(arch: Architecture, *, replace: bool = False) -> Architecture:
    """Register a network family under ``arch.name`` (a valid ``model.arch``)."""
    return ARCHITECTURES.add(arch.name, arch, replace=replace)


def register_metric(metric: MetricSpec, *, replace: bool = False) -> MetricSpec:
    """Register a modality's metric (names are per modality: ``image/fid``)."""
    return METRICS.add(f"{metric.modality}/{metric.name}", metric, replace=replace)


def register_parts(
    modality: Any,
    datasets: tuple[DatasetSpec, ...] = (),
    metrics: dict[str, str] | None = None,
    periodic: tuple[str, ...] = (),
    architectures: tuple[Architecture, ...] = (),
) -> None:
    """A modality and everything it brings, in one call: its dataset specs, its metrics
    (name -> description; those in ``periodic`` are valid ``eval.metric`` values) and its
    network families."""
    register_modality(modality)
    for spec in datasets:
        register_dataset(spec)
    for name, text in (metrics or {}).items():
        register_metric(MetricSpec(name, modality.name, text, periodic=name in periodic))
    for arch in architectures:
        register_architecture(arch)


def metric_names(modality: str, periodic: bool = False) -> tuple[str, ...]:
    """The registered metrics of ``modality`` (only the periodic ones when asked)."""
    return tuple(
        m.name
        for _, m in METRICS.items()
        if m.modality == modality and (m.periodic or not periodic)
    )


def register_loss(loss: Any, *, replace: bool = False) -> Any:
    """Register a :class:`ganforge.engine.losses.GANLoss` (a valid ``loss.type``)."""
    from ganforge.engine.losses import LOSSES, GANLoss

    if not isinstance(loss, GANLoss):
        raise TypeError(f"register_loss needs a GANLoss; got {loss!r}")
    if loss.name in LOSSES and not replace and LOSSES[loss.name] is not loss:
        raise ValueError(f"a loss named '{loss.name}' is already registered")
    LOSSES[loss.name] = loss
    return loss


@contextmanager
def registered(*entries: Any) -> Iterator[None]:
    """Register modalities / dataset specs / architectures for a ``with`` block (tests)."""
    from ganforge.modality import Modality

    undo: list[Callable[[], None]] = []
    try:
        for e in entries:
            if isinstance(e, Modality):
                register_modality(e)
                undo.append(lambda e=e: MODALITIES.remove(e.name))
            elif isinstance(e, DatasetSpec):
                register_dataset(e)
                undo.append(lambda e=e: DATASETS.remove(e.name.lower()))
            elif isinstance(e, Architecture):
                register_architecture(e)
                undo.append(lambda e=e: ARCHITECTURES.remove(e.name))
            elif isinstance(e, MetricSpec):
                register_metric(e)
                undo.append(lambda e=e: METRICS.remove(f"{e.modality}/{e.name}"))
            else:
                raise TypeError(f"cannot register {e!r}")
        yield
    finally:
        for fn in reversed(undo):
            fn()
