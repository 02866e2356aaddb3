"""``ganforge eval`` on a music run: generated phrases scored by every metric of
:mod:`.metrics` beside the real data (all training phrases: the baseline column, "real")
and the real-vs-real floor (held-out phrases at the same sample count); the distribution
overlap of each metric (:mod:`.overlap`); the copy check; histograms per metric."""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import ConfigError
from ganforge.metrics.fid import fid
from ganforge.modalities.music.features import keynet_features
from ganforge.modalities.music.metrics import DESCRIPTIONS, METRICS, means, phrase_metrics
from ganforge.modalities.music.overlap import overlap_area
from ganforge.modalities.music.reference import REFERENCES, reference_for
from ganforge.modalities.music.render import rolls_picture
from ganforge.modality import Evaluation, chosen_groups
from ganforge.periodic import Comparison, Generated
from ganforge.plots import figure_image
from ganforge.progress import plan, stage

GROUPS = ("metrics", "overlap", "copies", "fd")


def run_rolls(run: Any, n: int, seed: int) -> np.ndarray:
    """``n`` generated phrases, binarised at 0: (n, tracks, steps, pitches) 0/1."""
    out = []
    for i in range(0, n, 500):
        x = run.sample(min(500, n - i), seed=seed + i)
        out.append((x.detach().float().cpu().numpy() > 0).astype(np.uint8))
    return np.concatenate(out)


def _groups(metrics: str | None) -> tuple[str, ...]:
    return chosen_groups(metrics, GROUPS, "music")


def score(
    gen: np.ndarray, ref: Any, groups: tuple[str, ...] = GROUPS, seed: int = 0
) -> dict[str, dict[str, float]]:
    """The score table: per metric the generated mean (value), the held-out mean at the
    same count (floor) and the training mean (baseline column: real)."""
    count = min(len(gen), len(ref.heldout))
    rng = np.random.default_rng(seed)
    held = ref.heldout[rng.permutation(len(ref.heldout))[:count]]
    g, h = phrase_metrics(gen, ref.low), phrase_metrics(held, ref.low)
    real = means(ref.train_metrics)
    gm, hm = means(g), means(h)
    scores: dict[str, dict[str, float]] = {}
    if "metrics" in groups:
        stage("metrics")
        for m in METRICS:
            scores[m] = {"value": gm[m], "floor": hm[m], "baseline": real[m]}
    if "overlap" in groups:
        stage("overlap")
        for m in METRICS:
            t = ref.train_metrics[m]
            scores[f"OA[{m}]"] = {
                "value": overlap_area(t, g[m], seed),
                "floor": overlap_area(t, h[m], seed),
                "baseline": 1.0,
            }
    if "copies" in groups:
        stage("copies")
        cg, ch = ref.copies(gen), ref.copies(held)
        for k in cg:
            scores[k] = {"value": cg[k], "floor": ch[k]}
    if "fd" in groups:
        stage("fd")
        scores.update(frechet(gen, held, ref))
    return scores


def frechet(gen: np.ndarray, held: np.ndarray, ref: Any) -> dict[str, dict[str, float]]:
    """``FD[<data>-keynet]``: Frechet distance of the key network's features (see
    :mod:`.features`) to the training phrases', generated and held out (the floor)."""
    net = ref.keynet()[0]
    pick = np.random.default_rng(0).permutation(len(ref.train))[:10000]
    real = keynet_features(net, ref.train[np.sort(pick)])
    return {
        f"FD[{ref.name}-keynet]": {
            "value": fid(keynet_features(net, gen), real),
            "floor": fid(keynet_features(net, held), real),
        }
    }


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


def relative_gap(gen: dict[str, float], real: dict[str, float]) -> float:
    """Mean over the metrics of |generated - real| / |real| (%), the real value 0 counted
    as an absolute gap (EB is 0 % in the chorales)."""
    gaps = []
    for m in METRICS:
        g, r = gen.get(m, float("nan")), real[m]
        if np.isfinite(g) and np.isfinite(r):
            gaps.append(abs(g - r) / abs(r) if abs(r) > 1e-9 else abs(g - r) / 100.0)
        else:
            gaps.append(1.0)
    return 100.0 * float(np.mean(gaps))


def gap_score(c: Generated) -> dict[str, float]:
    """``eval.metric=metrics`` while training: the mean relative gap (%) between the
    generated phrases' metric means and the training data's (lower is better)."""
    ref = c.reference
    return {
        "gap": relative_gap(means(phrase_metrics(c.samples, ref.low)), means(ref.train_metrics))
    }


def comparison(modality: Any, cfg: Any, info: dict[str, Any] | None) -> Comparison:
    """``eval.every``: 512 generated phrases, binarised, beside the training data's
    reference (``info``; without it, the one ``cfg`` loads)."""

    def view(fake: Any) -> Generated:
        ref = reference_for(info) if info else REFERENCES.of_config(modality, cfg)
        return Generated(ref, (fake.detach().float().cpu().numpy() > 0).astype(np.uint8))

    return Comparison(count=512, view=view)
