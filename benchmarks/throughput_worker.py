"""ganforge's side of the throughput benchmark: the real ``Trainer`` on in-memory data.

Builds the preset's networks and trainer exactly as ``ganforge train`` does (the defaults
for this device, unless ``--variant`` overrides config keys, e.g.
``train.precision=fp32;train.channels_last=off``), on 60,000 random images of the preset's
shape, without writing files, and times ``Trainer.fit`` windows. Run by ``throughput.py``.

``--profile`` prints PyTorch's profiler table for 3 steps (grouped by op and input shape)
to stderr after the timing: where the time of a step goes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent / "reference"))
from common import N_IMAGES, report, worker_args  # noqa: E402

from ganforge.config import resolve  # noqa: E402
from ganforge.data.dataset import Dataset  # noqa: E402
from ganforge.engine.trainer import Trainer  # noqa: E402
from ganforge.run import build_from_config  # noqa: E402

# The benchmarked image presets: (preset, overrides, sample shape).
PRESETS = {
    "seed": ("seed", [], (1, 28, 28)),
    "dcgan64": ("folder-rgb", [], (3, 64, 64)),
    "resnet32": ("folder-rgb", ["model.arch=resnet", "image.size=32"], (3, 32, 32)),
    # the text anchor at a CPU width and at the paper's: (vocabulary, length) one-hot
    "text128": ("text-wgan-gp", ["model.g_width=128", "model.d_width=128"], (93, 32)),
    "text512": ("text-wgan-gp", [], (93, 32)),
}


def profile(trainer: Trainer) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        trainer.fit(trainer.step + 3)
    table = prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total",
        row_limit=20,
        max_name_column_width=28,
        max_shapes_column_width=60,
    )
    print(f"profile of 3 steps:\n{table}", file=sys.stderr)


def main() -> None:
    profiling = "--profile" in sys.argv[1:]
    if profiling:
        sys.argv.remove("--profile")
    args = worker_args(__doc__.splitlines()[0])
    preset, overrides, shape = PRESETS[args.preset]
    extra = [kv for kv in args.variant.split(";") if kv]
    cfg = resolve(
        preset,
        overrides
        + [
            f"train.batch={args.batch}",
            f"train.precision={args.precision}",
            "train.device=cpu",
            "log.progress=false",
            *([f"train.threads={args.threads}"] if args.threads else []),
            *extra,
        ],
    )
    if args.preset.startswith("text"):
        from ganforge.modalities.text.datasets import TextDataset

        ids = torch.randint(0, shape[0], (100_000, shape[1]), dtype=torch.uint8)
        data = TextDataset("random", ids, "text", vocab_size=shape[0])
    else:
        n = N_IMAGES if shape[-1] <= 32 else N_IMAGES // 4  # 64 px RGB: keep RSS sensible
        data = Dataset("random", torch.randint(0, 256, (n, *shape), dtype=torch.uint8), "image")
    G, D = build_from_config(cfg, shape, 0)
    trainer = Trainer(G, D, data, cfg, run_dir=None)
    trainer.fit(args.warmup)
    rates = []
    for _ in range(args.repeats):
        start, t0 = trainer.step, trainer.elapsed
        trainer.fit(start + args.steps)
        rates.append(args.steps * args.batch / (trainer.elapsed - t0))
    if profiling:
        profile(trainer)
    report(
        "ganforge",
        args,
        rates,
        variant=args.variant,
        plan=trainer.speed.as_dict(),
        version=torch.__version__,
    )


if __name__ == "__main__":
    main()
