"""Points and other flat vectors: scatter plots against the mode centres, .npy / .csv files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganforge.plots import figure_image


def scatter_plot(samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
    """Generated points (blue) over the mode centres (red crosses); 1-D data as a histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = samples.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=100)
    centers = np.asarray(info.get("centers", []), dtype=float)
    lim = float(info.get("plot_limit", 0) or (np.abs(centers).max() * 1.5 if len(centers) else 3))
    if pts.shape[1] >= 2:
        ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.5, color="#1f77b4", label="generated")
    else:
        ax.hist(pts[:, 0], bins=100, color="#1f77b4")
    if len(centers):
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=40, color="#d62728", label="modes")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    title = info.get("title")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return figure_image(fig)


def save_points(samples: torch.Tensor, path: Path) -> Path:
    """Rows of numbers as ``.csv`` (header x0, x1, ...) or ``.npy``."""
    path = Path(path)
    arr = samples.detach().float().cpu().numpy().reshape(samples.shape[0], -1)
    if path.suffix == ".csv":
        header = ",".join(f"x{i}" for i in range(arr.shape[1]))
        np.savetxt(path, arr, delimiter=",", header=header, comments="", fmt="%.6g")
    else:
        np.save(path, arr)
    return path
