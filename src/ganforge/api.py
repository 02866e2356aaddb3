"""The Python API behind every command: train, sample, interpolate, evaluate.

>>> import ganforge
>>> result = ganforge.train("toy-ring8", out="runs/ring", steps=500)   # doctest: +SKIP
>>> ganforge.sample("runs/ring", n=2500, out="ring.csv")              # doctest: +SKIP
"""

from __future__ import annotations

from ganforge.errors import DataError
from ganforge.evaluation import evaluate
from ganforge.sampling import interpolate, load_run, sample, slerp
from ganforge.synthetic import augment
from ganforge.training import TrainResult, _speed_line, resolve_config, train

__all__ = [
    "DataError",
    "TrainResult",
    "_speed_line",
    "augment",
    "evaluate",
    "interpolate",
    "load_run",
    "resolve_config",
    "sample",
    "slerp",
    "train",
]
