"""Piano-rolls as pictures (training pictures, the progress GIF, ``sample --out x.png``):
one panel per phrase, time left to right, pitch upwards, each voice in its colour, bar
lines and the C of every octave marked; a legend of the voices under the title."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ganforge.modalities.music.pianoroll import STEPS_PER_BAR
from ganforge.plots import font

COLOURS = [  # tab10: soprano red, alto orange, tenor green, bass blue, then the rest
    (214, 39, 40), (255, 127, 14), (44, 160, 44), (31, 119, 180),
    (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
]  # fmt: skip
_PAPER, _BAR, _OCTAVE, _INK = (255, 255, 255), (150, 150, 150), (228, 228, 228), (60, 60, 60)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return font(size, mono=False)


def roll_panel(roll: np.ndarray, low: int, dt: int = 4, dp: int = 3) -> np.ndarray:
    """One phrase (tracks, steps, pitches) as an RGB array, ``dt`` pixels a step and
    ``dp`` a pitch; later tracks are drawn under earlier ones (soprano on top)."""
    k, t, p = roll.shape
    img = np.empty((p * dp, t * dt, 3), dtype=np.uint8)
    img[:] = _PAPER
    for c in range(p):
        if (low + c) % 12 == 0:
            img[(p - 1 - c) * dp + dp - 1, :] = _OCTAVE
    img[:, :: STEPS_PER_BAR * dt] = _BAR
    on = np.asarray(roll) > 0
    for track in range(k - 1, -1, -1):
        mask = on[track].T[::-1]  # (pitches high -> low, steps)
        big = np.repeat(np.repeat(mask, dp, 0), dt, 1)
        img[big] = COLOURS[track % len(COLOURS)]
    return img


def rolls_picture(
    rolls: np.ndarray, low: int, names: list[str], title: str = "", columns: int = 4
) -> Image.Image:
    """Phrases (N, tracks, steps, pitches) in a grid of panels under a title and legend."""
    rolls = np.asarray(rolls)
    n = max(1, len(rolls))
    columns = min(columns, n)
    rows = -(-n // columns)
    panels = [roll_panel(r, low) for r in rolls]
    ph, pw = panels[0].shape[:2] if panels else (60, 60)
    gap, pad, font = 8, 10, _font(13)
    head = 2 * 20 if title else 20
    img = Image.new(
        "RGB",
        (pad * 2 + columns * pw + (columns - 1) * gap, head + pad + rows * (ph + gap)),
        _PAPER,
    )
    draw = ImageDraw.Draw(img)
    y = pad // 2
    if title:
        draw.text((pad, y), title, fill=_INK, font=font)
        y += 20
    x = pad
    for k, name in enumerate(names[: rolls.shape[1] if rolls.ndim == 4 else len(names)]):
        draw.rectangle((x, y + 3, x + 10, y + 13), fill=COLOURS[k % len(COLOURS)])
        draw.text((x + 14, y), name, fill=_INK, font=font)
        x += 22 + round(font.getlength(name))
    for i, panel in enumerate(panels):
        r, c = divmod(i, columns)
        left, top = pad + c * (pw + gap), head + pad // 2 + r * (ph + gap)
        img.paste(Image.fromarray(panel), (left, top))
        draw.rectangle((left - 1, top - 1, left + pw, top + ph), outline=_BAR)
    return img
