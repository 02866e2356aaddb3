"""The quality-diversity picture: BLEU-4 (quality) against self-BLEU-4 (lack of
diversity) for each model swept over sampling temperatures, with real text's point.

Caccia et al. (2020) showed that a single quality score rewards low temperatures; only the
curve tells whether one model is better than another. Up and to the left is better.
"""

from __future__ import annotations

from PIL import Image

from ganforge.plots import figure_image

Point = tuple[float, float, float]  # (temperature, self-BLEU-4, BLEU-4)


def curve_picture(
    curves: dict[str, list[Point]], real: tuple[float, float] | None, title: str = ""
) -> Image.Image:
    """One line per model through its (self-BLEU-4, BLEU-4) points, temperatures labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=100)
    for name, points in curves.items():
        pts = sorted(points)
        xs, ys = [p[1] for p in pts], [p[2] for p in pts]
        ax.plot(xs, ys, marker="o", label=name)
        for t, x, y in pts:
            ax.annotate(f"{t:g}", (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    if real is not None:
        ax.scatter([real[0]], [real[1]], marker="*", s=160, color="black", label="real text")
    ax.set_xlabel("self-BLEU-4 (lower: more diverse)")
    ax.set_ylabel("BLEU-4 vs held-out text (higher: better)")
    ax.set_title(title or "quality vs diversity over sampling temperature", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return figure_image(fig)


def dominated(point: tuple[float, float], others: list[tuple[float, float]]) -> list[int]:
    """Indices of ``others`` (self-BLEU-4, BLEU-4) strictly better than ``point`` on both
    axes: lower self-BLEU and higher BLEU."""
    return [i for i, (s, b) in enumerate(others) if s < point[0] and b > point[1]]
