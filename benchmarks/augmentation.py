"""Does synthetic data help a classifier? One JSON line per (dataset, k, arm, seed), then
one summary line per (dataset, k, arm) and the Classification Accuracy Score.

For each seed, k labelled images per class are drawn (a different subset per seed); a
conditional GAN (the ``demo`` preset, ``data.conditional=true``, DiffAugment) is trained on
those k x 10 images only, for ``--gan-seconds``; one small CNN classifier with a fixed
budget (``--clf-steps`` Adam steps of 64) is trained per arm and tested on the real test
split (Fashion-MNIST's 10k; MNIST 5k: a fixed stratified hold-out of 100 per class):

* ``real``; ``real+classical`` (random shifts of up to 2 px and rotations up to 10 degrees);
* ``real+gan1:1`` / ``real+gan1:4`` (as many / four times as many synthetic images);
* ``classical+gan1:1``; ``gan-only`` (four times as many synthetic images, no real ones).

Summary: mean accuracy per arm, and each GAN arm's gain over the best non-GAN arm, paired
by seed, with a 95% bootstrap interval. CAS (Ravuri & Vinyals 2019): a conditional GAN on
the whole Fashion-MNIST training split (``--cas-seconds``), a classifier on 60k synthetic
images only, tested on the real test split, against the same classifier on the real 60k.
Usage::

    python benchmarks/augmentation.py [--data fashion-mnist,mnist5k] [--ks 10,50,100]
        [--seeds 5] [--gan-seconds 40] [--clf-steps 400] [--cas-seconds 600]
        [--cas-set model.g_conditioning=cbn ...] [--cas-draws plain,filter:0.9,expansion:1.25]
        [--cas-run DIR] [--cas-clf-seeds 3]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import ganforge
from ganforge.data.dataset import Dataset
from ganforge.metrics.classifier import ClassifierNet
from ganforge.modalities.image.datasets import load_fashion_mnist, load_mnist5k
from ganforge.registry import DatasetSpec, registered
from ganforge.synthetic import draw_labelled, snapshot_runs

GAN_ARMS = ("real+gan1:1", "real+gan1:4", "classical+gan1:1", "gan-only")
PLAIN_ARMS = ("real", "real+classical")


def splits(name: str) -> tuple[Dataset, Dataset]:
    """(training pool, test set) of uint8 images with labels."""
    if name == "fashion-mnist":
        return load_fashion_mnist(split="train"), load_fashion_mnist(split="test")
    ds = load_mnist5k()
    gen = torch.Generator().manual_seed(12345)
    test_idx = torch.cat(
        [
            (ds.labels == c).nonzero().flatten()[torch.randperm(500, generator=gen)[:100]]
            for c in range(10)
        ]
    )
    mask = torch.ones(len(ds), dtype=torch.bool)
    mask[test_idx] = False

    def part(idx: torch.Tensor) -> Dataset:
        return Dataset(ds.name, ds.data[idx], "image", ds.labels[idx], 10, ds.class_names)

    return part(mask.nonzero().flatten()), part(test_idx)


def k_per_class(pool: Dataset, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1000 + seed)
    idx = torch.cat(
        [
            (pool.labels == c)
            .nonzero()
            .flatten()[torch.randperm(int((pool.labels == c).sum()), generator=gen)[:k]]
            for c in range(10)
        ]
    )
    return pool.data[idx], pool.labels[idx]


def train_gan(
    x: torch.Tensor,
    y: torch.Tensor,
    names: list[str],
    seconds: float,
    seed: int,
    out: Path,
    augment: str,
    extra: list[str] | None = None,
    spec: str | None = None,
) -> tuple[ganforge.Run, float]:
    """A conditional GAN on exactly these labelled images (a spec registered for the run),
    or on the named dataset ``spec`` when given."""

    def load(arg: str, seed: int = 0, **_: object) -> Dataset:
        return Dataset("subset", x.clone(), "image", y.clone(), 10, list(names))

    subset = DatasetSpec("bench-subset", "image", load, "benchmark subset", "benchmark")
    t0 = time.perf_counter()
    with registered(subset):
        res = ganforge.train(
            "demo",
            data=spec or "bench-subset",
            out=out,
            steps=10**7,
            progress=False,
            overrides=[
                "data.conditional=true",
                f"image.augment={augment}",
                f"train.max_seconds={seconds}",
                f"train.seed={seed}",
                "log.sample_every=100000",
                "log.checkpoint_every=100000",
                *(extra or []),
            ],
        )
    return ganforge.load_run(res.run_dir), time.perf_counter() - t0


def as_uint8(x: torch.Tensor) -> torch.Tensor:
    """Generated images in [-1, 1] stored as the real ones are (uint8)."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def synthetic(run: ganforge.Run, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.arange(10).repeat_interleave(per_class)
    return as_uint8(run.sample(len(labels), seed=seed, labels=labels)), labels


def classical(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random rotations (up to 10 degrees) and shifts (up to 2 px) of a float batch."""
    n = x.shape[0]
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(10)
    shift = torch.randint(-2, 3, (n, 2), generator=gen).float() * 2 / x.shape[-1]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = ang.cos(), -ang.sin()
    theta[:, 1, 0], theta[:, 1, 1] = ang.sin(), ang.cos()
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def fit_classifier(
    parts: list[tuple[torch.Tensor, torch.Tensor, bool]], steps: int, seed: int
) -> ClassifierNet:
    """A fresh CNN trained ``steps`` Adam steps on batches drawn uniformly from ``parts``
    (images uint8, labels, classical augmentation on or off)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x = torch.cat([p[0] for p in parts])
    y = torch.cat([p[1] for p in parts])
    aug = torch.cat([torch.full((len(p[0]),), p[2]) for p in parts])
    net = ClassifierNet(10)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    net.train()
    for _ in range(steps):
        idx = torch.randint(len(x), (64,), generator=gen)
        xb = x[idx].float().div(127.5).sub(1)
        if aug[idx].any():
            a = aug[idx]
            xb[a] = classical(xb[a], gen)
        loss = F.cross_entropy(net(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def predictions(net: ClassifierNet, test: Dataset) -> torch.Tensor:
    images = test.data.float().div(127.5).sub(1)
    return torch.cat([net(images[i : i + 1000]).argmax(1) for i in range(0, len(test), 1000)])


def accuracy(net: ClassifierNet, test: Dataset) -> float:
    return float((predictions(net, test) == test.labels).float().mean())


def class_accuracy(net: ClassifierNet, test: Dataset) -> tuple[float, dict[str, float]]:
    """Overall accuracy and each class's (its recall), by class name: where a gap lies."""
    right = predictions(net, test) == test.labels
    per = {
        name: round(float(right[test.labels == c].float().mean()), 4)
        for c, name in enumerate(test.class_names)
    }
    return float(right.float().mean()), per


def arms(real, synth1, synth4):
    xr, yr = real
    return {
        "real": [(xr, yr, False)],
        "real+classical": [(xr, yr, True)],
        "real+gan1:1": [(xr, yr, False), (*synth1, False)],
        "real+gan1:4": [(xr, yr, False), (*synth4, False)],
        "classical+gan1:1": [(xr, yr, True), (*synth1, False)],
        "gan-only": [(*synth4, False)],
    }


def bootstrap(diffs: np.ndarray, rounds: int = 10000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = rng.choice(diffs, (rounds, len(diffs)), replace=True).mean(1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def summarise(name: str, k: int, acc: dict[str, list[float]], gan_s: list[float]) -> None:
    best = max(PLAIN_ARMS, key=lambda a: np.mean(acc[a]))
    for arm, values in acc.items():
        line = {
            "benchmark": "augmentation",
            "summary": True,
            "data": name,
            "k": k,
            "arm": arm,
            "seeds": len(values),
            "mean_acc": round(float(np.mean(values)), 4),
            "gan_seconds": round(float(np.mean(gan_s)), 1),
        }
        if arm in GAN_ARMS:
            diffs = np.asarray(values) - np.asarray(acc[best])
            lo, hi = bootstrap(diffs)
            line.update(
                best_plain=best,
                gain=round(float(diffs.mean()), 4),
                gain_ci95=[round(lo, 4), round(hi, 4)],
            )
        print(json.dumps(line), flush=True)


DRAWS = (
    "plain, truncation:T, filter:P, expansion:S (latents times S), snapshots:K (an equal share"
    " from each of the run's last K kept checkpoints), gans:K (an equal share from each of K"
    " GANs trained alike with seeds 0..K-1), or several joined by +"
)


def _draw(spec: str) -> dict[str, float]:
    """``filter:0.5+expansion:1.25`` -> keyword arguments of ``draw_labelled``."""
    keys = {
        "truncation": "truncation",
        "filter": "min_confidence",
        "expansion": "latent_scale",
        "snapshots": "snapshots",
        "gans": "gans",
    }
    kw: dict[str, float] = {}
    for part in spec.split("+"):
        kind, _, value = part.partition(":")
        if kind == "plain":
            continue
        if kind not in keys or not value:
            raise SystemExit(f"--cas-draws: unknown draw {part!r} ({DRAWS})")
        kw[keys[kind]] = float(value)
    return kw


def gan_dir(run_dir: Path, seed: int) -> Path:
    """Where the CAS GAN of ``seed`` lives: ``run_dir`` for seed 0, ``run_dir-seedN`` else."""
    return run_dir if seed == 0 else run_dir.with_name(f"{run_dir.name}-seed{seed}")


def fitted_accuracy(
    x: torch.Tensor, y: torch.Tensor, test: Dataset, clf_steps: int, seeds: int
) -> tuple[list[float], dict[str, float]]:
    """Each classifier seed's test accuracy, and each class's averaged over the seeds."""
    runs = [
        class_accuracy(fit_classifier([(x, y, False)], clf_steps, s), test) for s in range(seeds)
    ]
    per = {c: round(float(np.mean([r[1][c] for r in runs])), 4) for c in runs[0][1]}
    return [r[0] for r in runs], per


def cas(
    seconds: float,
    clf_steps: int,
    run_dir: Path,
    extra: list[str],
    draws: list[str],
    clf_seeds: int = 1,
) -> None:
    """CAS: conditional GANs on the whole training split (one per seed that a ``gans:K``
    draw needs; each reused when its folder holds one); per way of drawing their samples
    (plain, truncated, filtered by the dataset classifier, widened latents, snapshots,
    several GANs) a classifier on 60k of them."""
    gans = max(int(_draw(spec).get("gans", 1)) for spec in draws)  # a typo fails now
    pool, test = splits("fashion-mnist")
    gan_s: dict[int, float | None] = {}
    for seed in range(gans):
        if (gan_dir(run_dir, seed) / "run.json").exists():
            gan_s[seed] = None  # reused: trained earlier
            continue
        # the dataset itself (not a registered copy): --filter needs its classifier
        _, gan_s[seed] = train_gan(
            pool.data,
            pool.labels,
            pool.class_names,
            seconds,
            seed,
            gan_dir(run_dir, seed),
            "none",
            extra,
            spec="fashion-mnist",
        )
    real_accs, real_class = fitted_accuracy(pool.data, pool.labels, test, clf_steps, clf_seeds)
    real_acc = float(np.mean(real_accs))
    for spec in draws:
        kw = _draw(spec)
        snaps, count = int(kw.pop("snapshots", 1)), int(kw.pop("gans", 1))
        runs = [r for s in range(count) for r in snapshot_runs(gan_dir(run_dir, s), snaps)]
        kept, drawn = draw_labelled(runs, 6000, 1, **kw)
        x = as_uint8(torch.cat(kept))
        y = torch.arange(10).repeat_interleave(6000)
        fake_accs, fake_class = fitted_accuracy(x, y, test, clf_steps, clf_seeds)
        fake_acc = float(np.mean(fake_accs))
        trained = [gan_s[s] for s in range(count)]
        line = {
            "benchmark": "augmentation",
            "cas": True,
            "data": "fashion-mnist",
            "gan": extra,
            "draw": spec,
            "drawn": drawn,
            "gan_seconds": [None if t is None else round(t, 1) for t in trained],
            "gan_steps": [r.step for r in runs],
            "clf_steps": clf_steps,
            "cas_acc": round(fake_acc, 4),
            "real_acc": round(real_acc, 4),
            "gap_points": round(100 * (real_acc - fake_acc), 2),
            # one classifier fit per seed (init and batch order): the spread of the figure
            "cas_acc_by_seed": [round(a, 4) for a in fake_accs],
            "real_acc_by_seed": [round(a, 4) for a in real_accs],
            "cas_class_acc": fake_class,
            "real_class_acc": real_class,
        }
        print(json.dumps(line), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="fashion-mnist,mnist5k")
    p.add_argument("--ks", default="10,50,100")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--gan-seconds", type=float, default=40.0)
    p.add_argument("--clf-steps", type=int, default=400)
    p.add_argument("--cas-seconds", type=float, default=600.0, help="0: skip CAS")
    p.add_argument("--cas-clf-steps", type=int, default=2000)
    p.add_argument(
        "--cas-clf-seeds", type=int, default=1, help="classifier fits per draw (means reported)"
    )
    p.add_argument(
        "--cas-set", action="append", default=[], help="KEY=VALUE for the CAS GAN (repeatable)"
    )
    p.add_argument("--cas-draws", default="plain", help=f"comma list: {DRAWS}")
    p.add_argument(
        "--cas-run",
        type=Path,
        help="keep the CAS GAN's run here (a folder that already holds one is reused; the"
        " GANs of gans:K draws beside it as DIR-seedN)",
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name in [d for d in args.data.split(",") if d]:
            pool, test = splits(name)
            for k in (int(v) for v in args.ks.split(",")):
                acc: dict[str, list[float]] = {}
                gan_s = []
                for seed in range(args.seeds):
                    xr, yr = k_per_class(pool, k, seed)
                    augment = "diffaugment"
                    run, secs = train_gan(
                        xr,
                        yr,
                        pool.class_names,
                        args.gan_seconds,
                        seed,
                        tmp / f"{name}-{k}-{seed}",
                        augment,
                    )
                    gan_s.append(secs)
                    s1, s4 = synthetic(run, k, seed + 7), synthetic(run, 4 * k, seed + 11)
                    for arm, parts in arms((xr, yr), s1, s4).items():
                        a = accuracy(fit_classifier(parts, args.clf_steps, seed), test)
                        acc.setdefault(arm, []).append(a)
                        print(
                            json.dumps(
                                {
                                    "benchmark": "augmentation",
                                    "data": name,
                                    "k": k,
                                    "arm": arm,
                                    "seed": seed,
                                    "acc": round(a, 4),
                                    "gan_steps": run.step,
                                }
                            ),
                            flush=True,
                        )
                summarise(name, k, acc, gan_s)
        if args.cas_seconds > 0:
            cas(
                args.cas_seconds,
                args.cas_clf_steps,
                args.cas_run or tmp / "cas",
                args.cas_set,
                args.cas_draws.split(","),
                args.cas_clf_seeds,
            )


if __name__ == "__main__":
    main()
