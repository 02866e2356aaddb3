"""``ganforge eval`` on a music run: generated phrases scored by the music metrics
registered (:mod:`.scores`) beside the real data (all training phrases: the baseline
column, "real") and the real-vs-real floor (held-out phrases at the same sample count);
histograms per phrase metric; ``comparison`` for ``eval.every``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import ConfigError
from ganforge.modalities.music.metrics import DESCRIPTIONS, METRICS, phrase_metrics
from ganforge.modalities.music.reference import REFERENCES, reference_for
from ganforge.modalities.music.render import rolls_picture
from ganforge.modalities.music.scores import MusicCompared, score
from ganforge.modality import Evaluation, chosen_groups
from ganforge.periodic import Comparison
from ganforge.plots import figure_image
from ganforge.progress import plan, stage
from ganforge.registry import metric_names


def run_rolls(run: Any, n: int, seed: int) -> np.ndarray:
    """``n`` generated phrases, binarised at 0: (n, tracks, steps, pitches) 0/1."""
    out = []
    for i in range(0, n, 500):
        x = run.sample(min(500, n - i), seed=seed + i)
        out.append((x.detach().float().cpu().numpy() > 0).astype(np.uint8))
    return np.concatenate(out)


def _groups(metrics: str | None) -> tuple[str, ...]:
    return chosen_groups(metrics, metric_names("music"), "music")


def histograms(gen: np.ndarray, real: np.ndarray, low: int) -> Any:
    """One small histogram per metric: generated against held-out real phrases."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g, r = phrase_metrics(gen, low), phrase_metrics(real, low)
    fig, axes = plt.subplots(3, 3, figsize=(10, 7.5))
    for ax, m in zip(axes.flat, METRICS, strict=True):
        a, b = g[m][np.isfinite(g[m])], r[m][np.isfinite(r[m])]
        both = np.concatenate([a, b]) if len(a) + len(b) else np.zeros(1)
        bins = np.linspace(both.min(), both.max() + 1e-9, 30)
        ax.hist(b, bins, density=True, alpha=0.55, label="real (held out)", color="tab:blue")
        ax.hist(a, bins, density=True, alpha=0.55, label="generated", color="tab:red")
        ax.set_title(f"{m}: {DESCRIPTIONS[m]}", fontsize=9)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return figure_image(fig, dpi=90)


def evaluate_run(run: Any, metrics: str | None, n: int, seed: int) -> Evaluation:
    groups = _groups(metrics)
    plan("real phrases", "generated phrases", *groups, "pictures")
    stage("real phrases")
    ref = reference_for(run.info)
    if len(ref.heldout) < 10:
        raise ConfigError(
            "evaluation needs held-out music: train with data.holdout > 0 (music: 0.1 by "
            "default) on at least 10 pieces"
        )
    count = min(max(n, 10), len(ref.heldout))
    stage("generated phrases")
    gen = run_rolls(run, count, seed)
    scores = score(gen, ref, groups, seed)
    stage("pictures")
    m = run.info["music"]
    notes = [
        f"{count} generated phrases; floor: {count} held-out real phrases (pieces never "
        f"trained on); real: all {len(ref.train)} training phrases",
        "; ".join(f"{k} {v}" for k, v in DESCRIPTIONS.items()),
        "OA[m]: overlap of the real intra-set and real-to-generated distance densities of "
        "metric m (Yang & Lerch 2018; 1 is best); copies: verbatim in the training set",
    ]
    if "fd" in groups:
        meta = ref.keynet()[1]
        notes.append(
            f"FD[{ref.name}-keynet]: Frechet distance on a key classifier trained here on the "
            f"training phrases (24 keys, held-out accuracy {100 * meta['held_out_accuracy']:.0f}%)"
            "; ganforge's own yardstick, not a published metric"
        )
    pictures = [
        (
            "each metric: generated against held-out real phrases",
            histograms(gen, ref.heldout[:count], ref.low),
        )
    ]
    names = list(m["track_names"])
    return Evaluation(
        scores=scores,
        notes=notes,
        real_picture=rolls_picture(ref.heldout[:8], ref.low, names, "held-out real phrases", 2),
        captions=("generated", "real, held out"),
        baseline="real (training phrases)",
        pictures=pictures,
    )


def comparison(modality: Any, cfg: Any, info: dict[str, Any] | None) -> Comparison:
    """``eval.every``: 512 generated phrases, binarised, beside the training data's
    reference (``info``; without it, the one ``cfg`` loads)."""

    def view(fake: Any) -> MusicCompared:
        ref = reference_for(info) if info else REFERENCES.of_config(modality, cfg)
        rolls = (fake.detach().float().cpu().numpy() > 0).astype(np.uint8)
        return MusicCompared(ref, rolls, periodic=True)

    return Comparison(count=512, view=view)
