"""Modalities plug into the toolkit here: each renders and measures its own samples."""

from __future__ import annotations

from ganforge.modalities.base import Modality, save_gif, save_png
from ganforge.modalities.image import ImageModality
from ganforge.modalities.points import PointsModality

MODALITIES: dict[str, Modality] = {"image": ImageModality(), "points": PointsModality()}


def get_modality(name: str) -> Modality:
    """The modality registered under ``name`` (``image``, ``points``)."""
    try:
        return MODALITIES[name]
    except KeyError:
        raise ValueError(f"no modality '{name}'; known: {', '.join(MODALITIES)}") from None


__all__ = ["MODALITIES", "Modality", "get_modality", "save_gif", "save_png"]
