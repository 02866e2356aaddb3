"""The ``musegan`` architecture's own options (``arch.*``) and its experimental one."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MuseOptions:
    """``arch.*`` of ``musegan``: how G's tracks are drawn and what the critic reads."""

    # none: tanh (MuseGAN); threshold / bernoulli: BinaryMuseGAN's; voice: one pitch or a
    # rest per track and step
    binarize: str = field(
        default="none", metadata={"choices": ("none", "threshold", "bernoulli", "voice")}
    )
    # each track held to the pitch range it has in the data (runs made before: no ranges)
    ranges: bool = True
    # voice: keep a step's pitch unless another's logit beats it by more than this (0: argmax)
    hold: float = field(default=0.0, metadata={"range": (0.0, 100.0, True)})
    # the critic also reads the phrase's pitch classes, key-invariantly (runs made before: off)
    key_stream: bool = False


@dataclass
class MuseExperimental:
    """``experimental.*`` of ``musegan``."""

    # the critic also reads each track's moves from step to step (not measured in a long run)
    interval_stream: bool = False
