"""The chorales GAN against the real data, after a fixed training time on this machine.

Trains the ``chorales`` preset for ``--minutes`` (each ``--variant`` in turn, e.g. keys
augmented or normalised), then scores ``--n`` generated phrases: one JSON line per
(variant, metric) with the generated mean, the real mean (all training phrases), the
held-out floor at the same count and the relative gap; then the copy rates and the goals
(every metric within 10 % of the real mean, QN within 5 points, phrases copied ~0).

Usage::

    python benchmarks/music.py [--minutes 20] [--n 2000]
        [--variant augment:music.keys=augment --variant normalise:music.keys=normalise]
        [--picture docs/pictures/music_samples.png] [--wav docs/sounds/chorale.wav]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from timed_runs import emit, timed_runs

from ganforge.modalities.music.evaluate import run_rolls, score
from ganforge.modalities.music.metrics import METRICS
from ganforge.modalities.music.reference import reference_for


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", action="append", help="NAME:KEY=VALUE[,KEY=VALUE]")
    ap.add_argument("--picture", help="write the first variant's samples here (.png)")
    ap.add_argument("--wav", help="write 4 of the first variant's phrases here (.wav)")
    ap.add_argument("--keep", help="keep the runs under this folder")
    args = ap.parse_args()
    variants = args.variant or ["augment:music.keys=augment"]

    for k, name, run, seconds in timed_runs("chorales", variants, args.minutes, args.keep):
        ref = reference_for(run.info)
        count = min(args.n, len(ref.heldout))
        gen = run_rolls(run, count, args.seed)
        s = score(gen, ref, seed=args.seed)
        steps = run.step
        met = []
        for m in METRICS:
            e = s[m]
            real = e["baseline"]
            gap = abs(e["value"] - real) / abs(real) if abs(real) > 1e-9 else abs(e["value"])
            ok = abs(e["value"] - real) <= 5 if m == "QN" else gap <= 0.10 or abs(real) < 1e-9
            if m == "EB":  # real EB is 0 %: within 10 % of 0 read as under 1 point
                ok = e["value"] <= real + 1.0
            met.append(ok)
            emit(
                variant=name,
                metric=m,
                generated=e["value"],
                real=real,
                floor=e["floor"],
                overlap=s[f"OA[{m}]"]["value"],
                overlap_floor=s[f"OA[{m}]"]["floor"],
                relative_gap=gap,
                met=ok,
            )
        emit(
            variant=name,
            minutes=seconds / 60,
            steps=steps,
            samples=count,
            copied_bars=s["copied bars %"]["value"],
            copied_bars_floor=s["copied bars %"]["floor"],
            copied_phrases=s["copied phrases %"]["value"],
            copied_phrases_floor=s["copied phrases %"]["floor"],
            goal_all_metrics=all(met),
            goal_metrics_met=f"{sum(met)}/{len(met)}",
        )
        if k == 0 and (args.picture or args.wav):
            info = dict(run.info)
            samples = run.sample(8, seed=args.seed)
            if args.picture:
                info["title"] = f"{name}: after {seconds / 60:.0f} minutes ({steps} steps)"
                Path(args.picture).parent.mkdir(parents=True, exist_ok=True)
                run.modality_obj.picture(samples, info).save(args.picture)
            if args.wav:
                Path(args.wav).parent.mkdir(parents=True, exist_ok=True)
                run.modality_obj.save(samples[:4], Path(args.wav), info)
                run.modality_obj.save(samples[:4], Path(args.wav).with_suffix(".mid"), info)


if __name__ == "__main__":
    main()
