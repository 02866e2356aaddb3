"""Text GANs against the baselines, same corpus, same sample counts, equal wall time on
this machine: the ``text`` preset (GRU generator, maximum-likelihood warm-up included in
its time), the anchor ``text-wgan-gp`` (at a width a CPU can train), a maximum-likelihood
character GRU and an order-2 character Markov chain. One JSON line per (model,
temperature) with every score, one for held-out real text (the floor), then the goals.

Usage::

    python benchmarks/text.py [--data wordnet] [--minutes 30]
        [--models text,mle,markov,text-wgan-gp] [--picture docs/pictures/x.png]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ganforge.modalities.text.baselines import CharGRU, MarkovChain
from ganforge.modalities.text.curve import curve_picture, dominated
from ganforge.modalities.text.datasets import split_settings
from ganforge.modalities.text.evaluate import reference_for
from ganforge.modalities.text.metrics import quality_diversity, text_scores
from ganforge.modalities.text.scoring import LARGE

TEMPERATURES = (0.5, 0.7, 0.85, 1.0, 1.2)
ANCHOR_WIDTH = ["model.g_width=128", "model.d_width=128"]


def emit(model: str, temperature: float | None, scores: dict, **extra) -> dict:
    line = {"model": model, "temperature": temperature, **extra}
    line.update({k: round(v, 4) for k, v in scores.items()})
    print(json.dumps(line), flush=True)
    return line


def train_gan(preset: str, data: str, seconds: float, out: Path, sets: list[str]) -> tuple:
    import ganforge
    import ganforge.api

    cfg = ganforge.api.resolve_config(preset, overrides=sets)
    pre = cfg.section("text").pretrain_seconds
    over = [f"train.max_seconds={max(1.0, seconds - pre)}", "log.progress=false", *sets]
    if preset == "text-wgan-gp":
        over += ANCHOR_WIDTH
    t0 = time.perf_counter()
    ganforge.train(preset, out=out, data=data, overrides=over)
    from ganforge.run import Run

    return Run(out), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="wordnet")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--models", default="text,mle,markov,text-wgan-gp")
    ap.add_argument("--picture", help="write the quality-diversity curve here (PNG)")
    ap.add_argument("--set", action="append", default=[], help="override for the GAN runs")
    args = ap.parse_args()
    torch.set_num_threads(2)
    seconds = args.minutes * 60
    kind, _, arg = args.data.partition(":")
    ref = reference_for({"text": split_settings(kind, arg, seed=0)})
    vocab = ref.vocab
    n = min(LARGE, len(ref.floor_ids))
    emit("real (held-out)", None, text_scores(ref, ref.floor_ids[:n]))
    rows, curves = [], {}
    for model in args.models.split(","):
        draw, extra = None, {}
        if model == "markov":
            t0 = time.perf_counter()
            chain = MarkovChain(2).fit(ref.train_ids, len(vocab))
            extra["fit_s"] = round(time.perf_counter() - t0, 1)

            def draw(t, chain=chain):
                return chain.sample(n, temperature=t, seed=0)
        elif model == "mle":
            torch.manual_seed(0)
            lm = CharGRU(len(vocab), width=256)
            t0 = time.perf_counter()
            lm.fit(ref.train_ids, seconds=seconds)
            fit = time.perf_counter() - t0
            extra = {"fit_s": round(fit, 1), "loss": round(lm.fit_stats["loss"], 4)}
            lm.eval()

            def draw(t, lm=lm):
                return lm.sample(n, 32, temperature=t, seed=0)
        else:
            from ganforge.modalities.text.evaluate import run_ids

            out = Path(tempfile.mkdtemp(prefix=f"bench-{model}-")) / "run"
            run, fit = train_gan(model, args.data, seconds, out, args.set)
            extra = {"fit_s": round(fit, 1), "steps": run.step, "run": str(out)}

            def draw(t, run=run):
                return run_ids(run, n, 0, t)

        temps = TEMPERATURES if model != "text-wgan-gp" else (0.0, *TEMPERATURES)
        points = []
        for t in temps:
            line = emit(model, t, text_scores(ref, draw(t)), **extra)
            rows.append(line)
            points.append((t, line["self-BLEU-4"], line["BLEU-4"]))
        curves[model] = points
    goals(rows, curves)
    if args.picture:
        real = quality_diversity(ref, ref.floor_ids[:640])
        curve_picture(curves, real).save(args.picture)


def goals(rows: list[dict], curves: dict) -> None:
    """The benchmark's targets, as far as the models run allow."""
    by = {(r["model"], r["temperature"]): r for r in rows}
    if ("text", 1.0) in by and ("markov", 1.0) in by:
        g, m = by[("text", 1.0)], by[("markov", 1.0)]
        for key in ("JS-3@6400", "JS-4@6400", "JS-3@640", "JS-4@640"):
            if key in g:
                emit("goal", None, {}, metric=key, gan=g[key], markov=m[key], met=g[key] < m[key])
    if "text" in curves and "mle" in curves:
        mle = sorted((s, b) for _, s, b in curves["mle"])
        lo, hi = mle[0][0], mle[-1][0]
        # BLEU-4 of each GAN point minus the MLE curve's (linear between its points) at the
        # same self-BLEU-4, where the curves overlap
        gaps = {
            t: round(b - float(np.interp(s, [p[0] for p in mle], [p[1] for p in mle])), 4)
            for t, s, b in curves["text"]
            if lo <= s <= hi
        }
        beaten = {t: len(dominated((s, b), mle)) for t, s, b in curves["text"]}
        emit(
            "goal",
            None,
            {},
            metric="reach the MLE quality-diversity curve",
            bleu4_gap_at_equal_self_bleu4=gaps,
            mle_points_strictly_better=beaten,
            met=bool(gaps) and max(gaps.values()) >= 0,
        )


if __name__ == "__main__":
    main()
