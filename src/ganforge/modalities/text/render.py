"""Text as pictures (the training pictures, the progress GIF, ``sample --out x.png``): the
samples in a monospaced font, in columns, under a title; and a written ``.txt``."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from ganforge.plots import font

_INK, _PAPER, _GREY, _COPY = (20, 20, 20), (255, 255, 255), (110, 110, 110), (190, 60, 30)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return font(size, mono=True)


def text_panel(
    lines: list[str],
    title: str = "",
    length: int = 32,
    columns: int | None = None,
    copies: set[int] | frozenset[int] = frozenset(),
    size: int = 14,
) -> Image.Image:
    """``lines`` drawn in columns of monospaced text; lines listed in ``copies`` (verbatim
    copies of training text) in red."""
    font = _font(size)
    cw = max(1, round(font.getlength("M")))
    lh = size + 5
    columns = columns or (1 if len(lines) <= 12 else 2)
    rows = -(-len(lines) // columns) if lines else 1
    col_w = cw * (length + 3)
    pad = 12
    top = pad + (lh + 6 if title else 0)
    img = Image.new("RGB", (pad * 2 + col_w * columns, top + rows * lh + pad), _PAPER)
    draw = ImageDraw.Draw(img)
    if title:
        draw.text((pad, pad), title[: columns * (length + 3)], fill=_GREY, font=font)
    for i, line in enumerate(lines):
        c, r = divmod(i, rows)
        draw.text(
            (pad + c * col_w, top + r * lh),
            line.replace("\n", " ")[:length],
            fill=_COPY if i in copies else _INK,
            font=font,
        )
    return img
