"""A self-contained HTML report of a run: samples beside real data, curves, the metric table."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from PIL import Image


def _img_tag(image: Image.Image | Path | None, alt: str) -> str:
    if image is None:
        return ""
    if isinstance(image, Path):
        if not image.is_file():
            return ""
        data = image.read_bytes()
    else:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        data = buf.getvalue()
    b64 = base64.b64encode(data).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.4g}"
    return html.escape(str(x))


def metric_rows(scores: dict[str, dict[str, float]]) -> list[tuple[str, str, str, str, str]]:
    """(name, value, +- spread, real-data floor, baseline) per score, as printed and in the
    report."""
    rows = []
    for name, entry in scores.items():
        spread = entry.get("std")
        rows.append(
            (
                name,
                _fmt(entry.get("value")),
                "" if spread is None else f"± {_fmt(spread)}",
                _fmt(entry.get("floor")),
                _fmt(entry.get("baseline")),
            )
        )
    return rows


def write_report(
    out: Path,
    title: str,
    result: dict[str, Any],
    generated: Image.Image | None,
    real: Image.Image | None,
    curves: Path | None,
    captions: tuple[str, str] = ("generated", "real"),
    pictures: list[tuple[str, Image.Image]] | None = None,
) -> Path:
    """Write ``out`` (HTML, images embedded) and return it; ``pictures`` are more
    (caption, picture) pairs the modality adds (a text run's quality-diversity curve)."""
    baseline = result.get("baseline")
    base_th = f"<th>baseline: {html.escape(baseline)}</th>" if baseline else ""
    rows = "\n".join(
        f"<tr><td>{html.escape(n)}</td><td>{v}</td><td>{s}</td><td>{f}</td>"
        + (f"<td>{b}</td>" if baseline else "")
        + "</tr>"
        for n, v, s, f, b in metric_rows(result.get("scores", {}))
    )
    more = "".join(
        f"<figure>{_img_tag(p, c)}<figcaption>{html.escape(c)}</figcaption></figure>"
        for c, p in pictures or []
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.get("notes", []))
    extractor = result.get("extractor")
    features = f"features: {html.escape(str(extractor))}, " if extractor else ""
    checkpoint = " (the best checkpoint)" if result.get("checkpoint") == "best" else ""
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 4px 12px; text-align: left; }}
.pair {{ display: flex; gap: 2em; flex-wrap: wrap; }}
.pair figure {{ margin: 0; }} img {{ max-width: 100%; image-rendering: pixelated; }}
small {{ color: #666; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>step {_fmt(result.get("step"))}{checkpoint}, {_fmt(result.get("n"))} generated samples,
{features}evaluated in {_fmt(result.get("seconds"))} s</p>
<h2>Metrics</h2>
<table><tr><th>metric</th><th>value</th><th>spread</th>
<th>real-data floor</th>{base_th}</tr>
{rows}</table>
<small>The floor is the same metric between two real samples (train vs test split, or two
halves): the best a generator can hope for. Scores in brackets are on that extractor's
features, not Inception's, unless it says [inception].</small>
<ul>{notes}</ul>
<h2>Generated and real</h2>
<div class="pair">
<figure>{_img_tag(generated, captions[0])}<figcaption>{html.escape(captions[0])}</figcaption>
</figure>
<figure>{_img_tag(real, captions[1])}<figcaption>{html.escape(captions[1])}</figcaption></figure>
</div>
{more}
<h2>Training curves</h2>
{_img_tag(curves, "equilibrium plot")}
</body></html>
"""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page)
    tmp.replace(out)
    return out
