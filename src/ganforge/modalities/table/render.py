"""Pictures of tables: each column's real and generated marginals side by side (the training
pictures and GIF), and the report's correlation-difference heat map."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from ganforge.plots import figure_image

REAL, FAKE = "#9e9e9e", "#1f77b4"


def marginals_picture(
    real: dict[str, dict[str, Any]],
    fake: dict[str, dict[str, Any]],
    title: str = "",
    max_columns: int = 12,
) -> Image.Image:
    """Small multiples: per column, real (grey) and generated (blue) shares per bin/label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in real if n in fake][:max_columns]
    cols = min(4, max(1, len(names)))
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.1 * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, name in zip(axes.flat, names, strict=False):
        ax.set_axis_on()
        r, f = real[name], fake[name]
        if r["type"] == "numeric":
            edges = np.asarray(r["edges"])
            centers, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
            ax.bar(centers, r["freq"], width=width, color=REAL, label="real")
            ax.step(
                edges,
                np.append(f["freq"], f["freq"][-1]),
                where="post",
                color=FAKE,
                lw=1.6,
                label="generated",
            )
            ax.tick_params(labelsize=6)
        else:
            k = min(len(r["labels"]), 12)
            x = np.arange(k)
            ax.bar(x - 0.2, r["freq"][:k], width=0.4, color=REAL, label="real")
            ax.bar(x + 0.2, f["freq"][:k], width=0.4, color=FAKE, label="generated")
            ax.set_xticks(x, [str(s)[:8] for s in r["labels"][:k]], rotation=60, fontsize=6)
            ax.tick_params(axis="y", labelsize=6)
        miss = f" (missing {r['missing']:.0%}/{f['missing']:.0%})" if r["missing"] else ""
        ax.set_title(f"{name}{miss}", fontsize=8)
    axes.flat[0].legend(fontsize=6, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return figure_image(fig, dpi=80)


def correlation_picture(diff: np.ndarray, names: list[str], title: str) -> Image.Image:
    """Heat map of |corr(real) - corr(synthetic)| over column pairs (0 white, 1 dark)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = 1.2 + 0.42 * len(names)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(diff, vmin=0, vmax=1, cmap="Reds")
    ax.set_xticks(range(len(names)), [n[:10] for n in names], rotation=70, fontsize=7)
    ax.set_yticks(range(len(names)), [n[:10] for n in names], fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return figure_image(fig, dpi=80)
