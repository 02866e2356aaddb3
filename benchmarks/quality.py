"""Quality at equal wall-clock: the `seed` preset against the best Fashion-MNIST preset.

Each preset trains for the same training-time budget on this machine, then is evaluated on
the Fashion-MNIST classifier features. One JSON line per run. Usage::

    python benchmarks/quality.py [--budget 600] [--n 10000] [--presets seed,fashion-mnist]

With ``--steps N`` every run trains N steps instead (equal images seen), and ``--precisions
fp32,bf16`` repeats each preset per precision: the check that the faster setting learns
as well as fp32 at the same number of images.
"""

from __future__ import annotations

import argparse
import json
import tempfile

import ganforge
from ganforge.evaluation import evaluate


def run(
    preset: str,
    budget: float,
    n: int,
    out_root: str,
    steps: int = 0,
    precision: str = "auto",
    extra: tuple[str, ...] = (),
) -> dict:
    res = ganforge.train(
        preset,
        out=f"{out_root}/{preset}-{precision}",
        steps=steps or 10_000_000,
        progress=False,
        overrides=[
            f"train.max_seconds={0 if steps else budget}",
            f"train.precision={precision}",
            "log.sample_every=100000000",
            "log.checkpoint_every=100000000",
            *extra,
        ],
    )
    result = evaluate(res.run_dir, metrics="fid,kid,pr,classes", n=n, progress=False)
    s = result["scores"]
    tag = f"[{result['extractor']}]"

    def v(name: str, key: str = "value") -> float | None:
        entry = s.get(f"{name}{tag}")
        return None if entry is None else round(float(entry.get(key, float("nan"))), 5)

    return {
        "benchmark": "quality",
        "preset": preset,
        "numerics": precision,
        "overrides": list(extra),
        "speed": json.loads((res.run_dir / "run.json").read_text()).get("speed"),
        "extractor": result["extractor"],
        "train_seconds": round(res.elapsed_s, 1),
        "steps": res.step,
        "samples_seen": res.samples_seen,
        "fid": v("FID"),
        "fid_std": v("FID", "std"),
        "fid_floor": v("FID", "floor"),
        "kid": v("KID"),
        "kid_std": v("KID", "std"),
        "precision": v("precision"),
        "recall": v("recall"),
        "classes_covered": v("classes_covered"),
        "class_entropy": v("class_entropy"),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=600.0, help="training seconds per preset")
    p.add_argument("--n", type=int, default=10000, help="generated samples to evaluate")
    p.add_argument("--presets", default="seed,fashion-mnist")
    p.add_argument("--steps", type=int, default=0, help="train N steps instead of --budget")
    p.add_argument("--precisions", default="auto", help="e.g. fp32,bf16")
    p.add_argument("--set", action="append", default=[], help="config override, repeatable")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(","):
            for prec in args.precisions.split(","):
                rec = run(preset, args.budget, args.n, tmp, args.steps, prec, tuple(args.set))
                print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
