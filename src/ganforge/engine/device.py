"""Which torch device ``train.device`` names: ``auto`` takes the best one offered here."""

from __future__ import annotations

import torch

from ganforge.errors import TrainingError


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else mps (Apple silicon) when available, else cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("train.device=cuda but no CUDA GPU is visible; use --device cpu")
    if name == "mps" and not mps_available():
        raise TrainingError(
            "train.device=mps but PyTorch offers no MPS device here (Apple silicon); "
            "use --device cpu"
        )
    return torch.device(name)


def mps_available() -> bool:
    """Whether PyTorch offers Apple's Metal (MPS) device in this process."""
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())
