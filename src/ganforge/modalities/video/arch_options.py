"""The video architectures' own options (``arch.*``): what their critics read and how the
layered generator draws."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CriticOptions:
    """``arch.*`` of ``mocogan`` and ``tgan``: the critics' extra streams."""

    motion_stream: bool = False  # the video critic also reads frame-to-frame differences
    minibatch_std: bool = False  # the critics see the batch's spread (against collapse)
    track_critic: bool = False  # a third critic reads the lit mass's path (head "track")


@dataclass
class LayeredOptions(CriticOptions):
    """``arch.*`` of ``layered``: the critics' streams and the sprites' drawing."""

    layers: int = field(default=0, metadata={"range": (0, 8, True)})  # 0: video.objects
    # sprites drawn and moved by whole pixels on a canvas this many times finer, then
    # averaged down (as the generated data sets are drawn)
    supersample: int = field(default=1, metadata={"choices": (1, 2, 4)})
    # supersample > 1: how the drawn canvas reaches the finer one (``sample --upsample``
    # draws a trained run either way; smooth canvases froze in short probes)
    upsample: str = field(default="nearest", metadata={"choices": ("nearest", "bilinear")})
