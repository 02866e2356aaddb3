"""The ``sines[:N]`` dataset: waves of random frequency, phase and amplitude."""

from __future__ import annotations

import math

import torch

from ganforge.data import Dataset
from ganforge.errors import DataError


def make_sines(n: int, length: int, max_cycles: float, seed: int) -> torch.Tensor:
    """``n`` waves (n, 1, length): 1 to ``max_cycles`` cycles, amplitude 0.5 to 0.9."""
    gen = torch.Generator().manual_seed(seed)
    cycles = 1 + (max_cycles - 1) * torch.rand(n, 1, generator=gen)
    phase = 2 * math.pi * torch.rand(n, 1, generator=gen)
    amp = 0.5 + 0.4 * torch.rand(n, 1, generator=gen)
    t = torch.arange(length) / length
    return (amp * torch.sin(2 * math.pi * cycles * t + phase)).unsqueeze(1)


def load_sines(
    arg: str, seed: int = 0, length: int = 64, max_cycles: float = 4.0, **_: object
) -> Dataset:
    """The loader registered for ``sines[:N]``."""
    try:
        n = int(arg) if arg else 2000
    except ValueError:
        raise DataError(f"sines:N needs a whole number of waves; got '{arg}'") from None
    if n < 2:
        raise DataError(f"sines:N needs at least 2 waves; got {n}")
    data = make_sines(n, length, max_cycles, seed)
    return Dataset(f"sines:{n}", data, "waveform", info={"max_cycles": max_cycles})
