"""Plug-in discovery: every ``ganforge.modalities`` entry point is called once, as pytest
loads its plugins.

A plug-in package declares, in its ``pyproject.toml``::

    [project.entry-points."ganforge.modalities"]
    mymodality = "my_package:register"

and ``register()`` calls :func:`ganforge.registry.register_modality`, ``register_dataset``,
``register_architecture``, ``register_metric``, ``register_preset``... The built-ins
(:data:`BUILTIN`, the one list of them) are declared the same way in ganforge's own metadata
and are also called directly, first, so a source tree without installed metadata has all of
them; an entry point whose value was already called is skipped.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from importlib.metadata import entry_points

from ganforge.errors import ConfigError

GROUP = "ganforge.modalities"
# (entry-point name, value): the same pairs as pyproject.toml's entry points (tested)
BUILTIN: tuple[tuple[str, str], ...] = (
    ("nets", "ganforge.nets.registry:register"),
    ("image", "ganforge.modalities.image:register"),
    ("points", "ganforge.modalities.points:register"),
    ("tabular", "ganforge.modalities.table:register"),
    ("text", "ganforge.modalities.text:register"),
    ("music", "ganforge.modalities.music:register"),
    ("video", "ganforge.modalities.video:register"),
)

_done: set[str] = set()
_loading = False
_complete = False
_LOCK = threading.RLock()


def _resolve(value: str) -> Callable[[], object]:
    module, _, attr = value.partition(":")
    obj: object = importlib.import_module(module.strip())
    for part in attr.strip().split(".") if attr else ():
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def _call(value: str, name: str) -> None:
    if value in _done:
        return
    _done.add(value)
    try:
        register = _resolve(value)
        if callable(register):
            register()
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"the ganforge plug-in '{name}' ({value}) failed to load: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}; fix or uninstall it"
        ) from exc


def load_plugins() -> None:
    """Run the built-in and installed plug-ins' ``register`` once per process.

    Thread-safe: another thread waits until every plug-in is in (the studio loads runs in a
    worker pool); a ``register`` that looks something up in this thread returns at once."""
    global _loading, _complete
    if _complete:
        return
    with _LOCK:
        if _loading or _complete:
            return
        _loading = True
        try:
            for name, value in BUILTIN:
                _call(value, name)
            for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
                _call(ep.value, ep.name)
            _complete = True
        finally:
            _loading = False


def loaded() -> list[str]:
    """The entry-point values loaded so far (what ``ganforge plugins`` lists)."""
    return sorted(_done)
