"""Loading ``torch.save`` files without running code.

A ``.pt`` file is a pickle: loading it with plain ``torch.load`` can run any code its author
put in it. ganforge's own files are safetensors and JSON; for ``.pt`` files from elsewhere
(pretrained weights) use :func:`load_torch_weights`, which lets PyTorch's weights-only
unpickler rebuild tensors and plain containers and nothing else.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from ganforge.errors import RunError


def load_torch_weights(path: str | Path) -> Any:
    """Tensors (usually a state_dict) from a ``torch.save`` file, on the CPU; never runs code.

    Raises :class:`RunError` when the file is missing, is not a ``torch.save`` file, or holds
    anything but tensors and plain containers (numbers, strings, lists, dicts).
    """
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise RunError(f"weights file {path} does not exist") from None
    except OSError as exc:
        raise RunError(f"cannot read weights file {path}: {exc.strerror or exc}") from None
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(
            f"weights file {path} refused: it contains code, not just tensors, or is not a "
            f"torch.save file ({first[:160]}); save a state_dict or use safetensors"
        ) from None
    except Exception as exc:  # any other unpickler failure: still the file's fault
        raise RunError(
            f"weights file {path} refused: it cannot be read as plain tensors "
            f"({type(exc).__name__}); save a state_dict or use safetensors"
        ) from None
