"""The built-in modalities (``image``, ``points``) and the files every modality writes.

Each is a package that registers itself through the public API in :mod:`ganforge.registry`
(see :mod:`ganforge.plugins`), exactly as a third-party modality does.
"""

from __future__ import annotations

from ganforge.artifacts import save_gif, save_png
from ganforge.registry import MODALITIES


def get_modality(name: str):
    """The registered modality ``name`` (``image``, ``points``, or a plug-in's)."""
    return MODALITIES.get(name)


__all__ = ["get_modality", "save_gif", "save_png"]
