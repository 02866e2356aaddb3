"""How a convolutional family lays out a square image: start size and number of 2x steps."""

from __future__ import annotations

from dataclasses import dataclass

SQUARE_SIZES = (16, 28, 32, 64, 128)


@dataclass(frozen=True)
class ImageLayout:
    """``start`` x ``start`` feature maps, doubled ``steps`` times to ``size`` x ``size``."""

    channels: int
    size: int
    start: int
    steps: int


def image_layout(
    shape: tuple[int, ...], family: str, sizes: tuple[int, ...] = SQUARE_SIZES
) -> ImageLayout:
    """The layout of a (C, H, W) image shape, or a ValueError saying what the family takes.

    The start is 7x7 when the size is a multiple of 7 (28 = 7 * 2^2), else 4x4.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(
            f"{family} needs image samples of shape (C, H, W); got shape {shape}: "
            "use arch mlp for flat data"
        )
    channels, h, w = shape
    if h != w:
        raise ValueError(f"{family} needs square images; got {h}x{w}")
    if channels < 1:
        raise ValueError(f"{family} needs at least one image channel; got shape {shape}")
    if h not in sizes:
        listed = ", ".join(map(str, sizes[:-1])) + f" or {sizes[-1]}"
        raise ValueError(f"image size {h} is not supported by {family}: use {listed}")
    start = 7 if h % 7 == 0 else 4
    return ImageLayout(channels, h, start, (h // start).bit_length() - 1)
