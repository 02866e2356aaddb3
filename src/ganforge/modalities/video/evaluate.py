"""``ganforge eval`` on a video run: generated clips scored against real training clips,
each score beside its floor (held-out real clips at the same count against the same
training clips) and, where a real value means something alone, the real clips' value.

The scores are the video metrics registered (:mod:`.metrics`: ``frames``, ``acd``,
``motion``, ``fvd``, and a plug-in's); here the clips, the notes, FVD on a user's I3D
weights and the pictures; ``comparison`` for ``eval.every``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import ConfigError
from ganforge.metrics.fid import fid
from ganforge.modalities.video.i3d import i3d_features, load_i3d
from ganforge.modalities.video.metrics import VideoCompared, score
from ganforge.modalities.video.motion import centres, speeds
from ganforge.modalities.video.reference import REFERENCES, reference_for
from ganforge.modalities.video.render import clips_picture
from ganforge.modality import Evaluation, chosen_groups
from ganforge.periodic import Comparison
from ganforge.plots import figure_image
from ganforge.progress import plan, stage
from ganforge.registry import metric_names


def run_clips(run: Any, n: int, seed: int) -> np.ndarray:
    """``n`` generated clips as uint8 (n, C, T, H, W)."""
    out = []
    for i in range(0, n, 256):
        x = run.sample(min(256, n - i), seed=seed + i).detach().float().cpu()
        out.append(((x.clamp(-1, 1) + 1) * 127.5).round().byte().numpy())
    return np.concatenate(out)


def _groups(metrics: str | None) -> tuple[str, ...]:
    return chosen_groups(metrics, metric_names("video"), "video")


def speed_histogram(gen: np.ndarray, held: np.ndarray, ref: Any) -> Any:
    """Object speeds of generated and held-out real clips, one histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = speeds(centres(gen, ref.objects)), speeds(centres(held, ref.objects))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    top = max(float(np.percentile(np.concatenate([a, b, [1.0]]), 99)), 1.0)
    bins = np.linspace(0, top, 40)
    ax.hist(b, bins, density=True, alpha=0.55, label="real (held out)", color="tab:blue")
    ax.hist(a, bins, density=True, alpha=0.55, label="generated", color="tab:red")
    ax.set_xlabel("object speed, px per frame on the 64-px canvas")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return figure_image(fig, dpi=90)


def standard_fvd(gen: np.ndarray, held: np.ndarray, ref: Any, weights: str) -> dict[str, Any]:
    """FVD on the user's I3D weights: generated and held-out clips against as many real
    training clips."""
    import torch

    model = load_i3d(weights)
    real = ref.real()[: len(gen)]
    feats = [i3d_features(model, torch.from_numpy(x)) for x in (gen, held, real)]
    return {"FVD": {"value": fid(feats[0], feats[2]), "floor": fid(feats[1], feats[2])}}


def evaluate_run(
    run: Any, metrics: str | None, n: int, seed: int, i3d_weights: str | None = None
) -> Evaluation:

    groups = _groups(metrics)
    plan(
        "real clips",
        "generated clips",
        "real clips' statistics",
        "generated clips' statistics",
        "held-out clips' statistics",
        "scores",
    )
    stage("real clips")
    ref = reference_for(run.info)
    if len(ref.heldout) < 10:
        raise ConfigError(
            f"evaluation needs at least 10 held-out clips for its floors; this run holds out "
            f"{len(ref.heldout)}: train on more clips or with a larger data.holdout (0.1 by "
            "default; clips of one source file are held out together)"
        )
    count = min(max(n, 10), len(ref.heldout))
    stage("generated clips")
    gen = run_clips(run, count, seed)
    scores = score(gen, ref, groups, seed)
    notes = [
        f"{count} generated clips; floor: {count} held-out real clips "
        f"({'other digits, another seed' if ref.generated else 'source files never trained on'}"
        f"); real: {len(ref.real())} training clips",
    ]
    if ref.frame_net() is None:
        notes.append(
            "frame scores and ACD need a classifier of the objects: they exist for "
            "moving-mnist and shapes-motion, not for a folder of clips"
            + ("" if "acd_colour" not in ref.real_stats() else " (ACD[colour] is given)")
        )
    elif "frames" in groups or "acd" in groups:
        meta = ref.frame_net()[1]
        notes.append(
            f"frame scores read object crops ({ref.box} canvas px around each object's centre, "
            f"resampled to 28x28) with the {ref.name}-cnn classifier "
            f"({meta.get('dataset', '')}, test accuracy "
            f"{100 * meta.get('test_accuracy', float('nan')):.1f}%)"
        )
    if "motion" in groups:
        notes.append(
            "motion: object centres per frame (canvas px); speed KS: Kolmogorov-Smirnov "
            "distance of step lengths to the real clips'; physics: steps that keep their "
            "velocity or turn at a wall; freeze: clips whose objects travel < 2 px"
        )
    if "fvd" in groups:
        meta = ref.clipnet()[1]
        notes.append(
            f"FVD[{ref.name}-c3d]: Frechet distance on a 3-D CNN trained here on the training "
            f"clips (frames in order / shuffled / held: held-out accuracy "
            f"{100 * meta.get('order_accuracy', float('nan')):.0f}%); ganforge's own "
            "yardstick, not FVD's I3D network"
        )
    held = ref.heldout[:count]
    if i3d_weights:
        stage("I3D features")
        pick = np.random.default_rng(seed).permutation(len(ref.heldout))[:count]
        scores.update(standard_fvd(gen, ref.heldout[pick], ref, i3d_weights))
        notes.append(
            f"FVD: Frechet distance on the I3D logits of {i3d_weights} (Unterthiner et al. "
            f"2018; clips resized to 224x224), {count} clips a side"
        )
    return Evaluation(
        scores=scores,
        notes=notes,
        real_picture=clips_picture(held[:8], "held-out real clips"),
        captions=("generated", "real, held out"),
        baseline="real (training clips)",
        pictures=[("object speeds", speed_histogram(gen, held, ref))],
    )


def comparison(modality: Any, cfg: Any, info: dict[str, Any] | None) -> Comparison:
    """``eval.every``: 512 generated clips beside the training data's reference (``info``;
    without it, the one ``cfg`` loads)."""

    def view(fake: Any) -> VideoCompared:
        ref = reference_for(info) if info else REFERENCES.of_config(modality, cfg)
        return VideoCompared(ref, fake.detach().float().cpu(), periodic=True)

    return Comparison(count=512, view=view)
