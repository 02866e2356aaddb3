"""A video preset against real clips, after a fixed training time on this machine.

Trains ``--preset`` (default ``moving-mnist``: one digit, 32x32, 16 frames) for
``--minutes`` (each ``--variant`` in turn), then scores ``--n`` generated clips: one JSON
line per (variant, score) with the generated value, the held-out real floor and the real
value, then the benchmark's targets: ACD within 2x the real clips', speed KS within 2x its floor,
freeze rate under 5 %, classifier confidence at 80 %+ of the real frames'.

Usage::

    python benchmarks/video.py [--minutes 30] [--n 1000] [--preset moving-mnist]
        [--variant base: --variant tgan:model.arch=tgan]
        [--gif docs/pictures/video_samples.gif] [--picture docs/pictures/video_samples.png]
        [--keep DIR [--scored-only]] [--upsample nearest,bilinear]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from timed_runs import emit, timed_runs

from ganforge.modalities.video.evaluate import run_clips
from ganforge.modalities.video.metrics import score
from ganforge.modalities.video.reference import reference_for


def goals(s: dict) -> dict[str, bool | float]:
    """The benchmark's targets from a score table."""
    acd = next(v for k, v in s.items() if k.startswith("ACD["))
    conf = s.get("confidence %", {})
    out: dict[str, bool | float] = {
        "acd_over_real": acd["value"] / acd["floor"],
        "speed_ks_over_floor": s["speed KS"]["value"] / max(s["speed KS"]["floor"], 1e-9),
        "freeze_pct": s["freeze %"]["value"],
    }
    out["goal_acd"] = out["acd_over_real"] <= 2.0
    out["goal_speed"] = out["speed_ks_over_floor"] <= 2.0
    out["goal_freeze"] = out["freeze_pct"] < 5.0
    if conf:
        out["confidence_over_real"] = conf["value"] / conf["floor"]
        out["goal_confidence"] = out["confidence_over_real"] >= 0.8
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="moving-mnist")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", action="append", help="NAME:KEY=VALUE[,KEY=VALUE]")
    ap.add_argument("--gif", help="write 16 of the first variant's clips here (.gif)")
    ap.add_argument("--picture", help="write 8 of the first variant's clips here (.png)")
    ap.add_argument("--keep", help="keep the runs under this folder")
    ap.add_argument(
        "--upsample",
        help="layered runs with arch.supersample: score each drawing, e.g. nearest,bilinear",
    )
    ap.add_argument(
        "--scored-only", action="store_true", help="score the runs already under --keep"
    )
    args = ap.parse_args()
    variants = args.variant or ["base:"]

    runs = timed_runs(args.preset, variants, args.minutes, args.keep, args.scored_only)
    for k, name, run, seconds in runs:
        ref = reference_for(run.info)
        count = min(args.n, len(ref.heldout))
        drawings = args.upsample.split(",") if args.upsample else [None]
        for how in drawings:
            label = name if how is None else f"{name}, drawn {how}"
            if how is not None:
                run.generator.upsample = how  # a layered G's drawing setting
            s = score(run_clips(run, count, args.seed), ref, seed=args.seed)
            for metric, e in s.items():
                emit(variant=label, metric=metric, **e)
            emit(
                variant=label,
                preset=args.preset,
                minutes=seconds / 60,
                steps=run.step,
                clips=count,
                **goals(s),
            )
        if k == 0 and (args.gif or args.picture):
            info = dict(run.info)
            samples = run.sample(16, seed=args.seed)
            if args.gif:
                Path(args.gif).parent.mkdir(parents=True, exist_ok=True)
                run.modality_obj.save(samples, Path(args.gif), info)
            if args.picture:
                info["title"] = f"{name}: after {seconds / 60:.0f} minutes ({run.step} steps)"
                Path(args.picture).parent.mkdir(parents=True, exist_ok=True)
                run.modality_obj.picture(samples[:8], info).save(args.picture)


if __name__ == "__main__":
    main()
