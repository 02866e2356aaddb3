"""Training curves as pictures: the equilibrium plot of a run's ``metrics.jsonl``."""

from __future__ import annotations

import io
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

LOG4 = math.log(4.0)


def figure_image(fig: Any, dpi: float | None = None) -> Image.Image:
    """A matplotlib figure as an RGB PIL image (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **({"dpi": dpi} if dpi else {}))
    plt.close(fig)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


@lru_cache(maxsize=8)
def font(size: int, mono: bool = False) -> Any:
    """DejaVu Sans (or Sans Mono) at ``size`` px from matplotlib's own files: the same
    glyphs on every machine, for the modalities' pictures."""
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSansMono.ttf" if mono else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def read_metrics(path: Path, kind: str = "train") -> list[dict]:
    """Records of one kind from a metrics.jsonl (lines cut short by a crash are skipped)."""
    out = []
    path = Path(path)
    if not path.is_file():
        return out
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("kind") == kind:
            out.append(rec)
    return out


def _smooth(y: np.ndarray, frac: float = 0.05) -> np.ndarray:
    n = len(y)
    k = max(1, int(n * frac))
    if k <= 1 or n < 3:
        return y
    kernel = np.ones(k) / k
    padded = np.concatenate([np.full(k // 2, y[0]), y, np.full(k - 1 - k // 2, y[-1])])
    return np.convolve(padded, kernel, mode="valid")


def plot_equilibrium(metrics_path: Path, out: Path, title: str = "") -> Path | None:
    """Four panels: D(x) and D(G(z)) against the Nash value 1/2; losses; V(D,G) and the JS
    lower bound; gradient norms. Returns the PNG path, or None when nothing is logged yet."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = read_metrics(metrics_path)
    if not recs:
        return None
    step = np.array([r["step"] for r in recs])

    def series(key: str) -> np.ndarray | None:
        if not any(key in r for r in recs):
            return None
        return np.array([r.get(key, np.nan) for r in recs], dtype=float)

    fig, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=100)

    def raw_and_smooth(ax, curves) -> None:
        for key, label, color in curves:
            y = series(key)
            if y is not None:
                ax.plot(step, y, color=color, alpha=0.25, lw=0.8)
                ax.plot(step, _smooth(y), color=color, label=label, lw=1.6)

    keys = {k for r in recs for k in r}
    heads = sorted(k.split(".", 1)[1] for k in keys if k.startswith("d_real."))

    ax = axes[0, 0]
    raw_and_smooth(ax, (("d_real", "D(x)", "#2ca02c"), ("d_fake", "D(G(z))", "#d62728")))
    for i, head in enumerate(heads):  # several D heads: each head's belief, thinner
        ls = (":", "-.", "--")[i % 3]
        for key, label, color in (("d_real", "D(x)", "#2ca02c"), ("d_fake", "D(G(z))", "#d62728")):
            y = series(f"{key}.{head}")
            ax.plot(step, _smooth(y), color=color, ls=ls, lw=1, label=f"{label} [{head}]")
    p = series("p")  # a D-input transform's probability (ADA), on the same 0..1 scale
    if p is not None:
        ax.plot(step, p, color="#7f7f7f", lw=1.2, label="augmentation p")
    ax.axhline(0.5, color="k", ls="--", lw=1, label="Nash equilibrium: 1/2")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Discriminator's belief (probability of 'real')")
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    raw_and_smooth(ax, (("d_loss", "D loss", "#1f77b4"), ("g_loss", "G loss", "#ff7f0e")))
    for key in sorted(k for k in keys if k.startswith(("g_aux.", "d_aux."))):
        ax.plot(step, _smooth(series(key)), lw=1, ls="--", label=key)
    ax.set_title("Losses")
    ax.legend(fontsize=8)

    ax = axes[1, 0]
    v, js = series("value"), series("js_lower_bound")
    if v is not None:
        ax.plot(step, _smooth(v), color="#9467bd", label="V(D,G)")
        ax.plot(step, _smooth(js), color="#8c564b", label="JSD lower bound (V + log 4)/2")
        ax.axhline(-LOG4, color="#9467bd", ls="--", lw=1, label="V at equilibrium: -log 4")
        ax.axhline(0.0, color="#8c564b", ls=":", lw=1)
        ax.set_title("Value of the game and the divergence it bounds")
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5,
            0.5,
            "V(D,G) is defined for the BCE games\n(minimax, nonsaturating)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()

    ax = axes[1, 1]
    for key, label, color in (
        ("d_grad_norm", "|grad D|", "#1f77b4"),
        ("g_grad_norm", "|grad G|", "#ff7f0e"),
    ):
        y = series(key)
        if y is not None and np.isfinite(y).any():
            ax.plot(step, y, color=color, label=label, lw=1)
    ax.set_yscale("log")
    ax.set_title("Gradient norms")
    ax.legend(fontsize=8)
    for a in axes.flat:
        a.set_xlabel("generator step")
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(out)
    return out
