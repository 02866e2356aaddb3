"""Training throughput: ganforge against the seed's TensorFlow program and plain PyTorch.

Every implementation runs in its own process on the same in-memory data (see
``benchmarks/reference/common.py``), one after the other, so every ratio comes from one
run on one machine. One JSON line per (impl, preset, precision) with ``img_per_s`` (median
of ``--repeats`` windows), ``img_per_s_min`` / ``img_per_s_max``, ``peak_rss_mb`` and, for
the seed, useful FLOP/s as a fraction of this machine's matmul peak measured in the same
run; then one ``summary`` line with the ratios. Usage::

    make bench-reference                    # once: .venv-bench with TensorFlow (CPU)
    .venv/bin/python benchmarks/throughput.py [--impls ganforge,tensorflow,torch-plain]
        [--presets seed,dcgan64,resnet32] [--precisions fp32,bf16] [--repeats 7]

``dcgan64`` and ``resnet32`` (the photo preset ``folder-rgb`` and its ResNet at 32 px) run
against the same nets in a plain eager loop (``reference/torch_photo_plain.py``); the summary
gives ganforge's best over it per precision. ``--presets text128`` (or ``text512``) times
the text anchor (``text-wgan-gp`` at that width; one step = one generator step with its 10
critic steps) against its plain-PyTorch port (``reference/torch_text_plain.py``); the
summary gives ganforge's best over the port in fp32, the port as written.

Without ``.venv-bench`` the TensorFlow rows are skipped (said on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import torch

# the caps that hold oneDNN, ATen's own kernels and MKL's GEMMs (torch.mm, the spectral
# convolutions) to a lower ISA, then the thread count
CAPS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")
PASSED_ENV = (*CAPS, "OMP_NUM_THREADS")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = {
    "ganforge": HERE / "throughput_worker.py",
    "torch-plain": HERE / "reference" / "torch_plain.py",
    "tensorflow": HERE / "reference" / "tf_seed.py",
}
# what each reference program implements: the seed; the text anchor (plain PyTorch only)
REFERENCE_PRESETS = {
    "tensorflow": {"seed"},
    "torch-plain": {"seed", "text128", "text512", "dcgan64", "resnet32"},
}
TEXT_PLAIN = HERE / "reference" / "torch_text_plain.py"
PHOTO_PLAIN = HERE / "reference" / "torch_photo_plain.py"  # folder-rgb's nets, a plain loop

sys.path.insert(0, str(HERE))
from flops import matmul_peak, step_flops  # noqa: E402


def seed_step_flops(batch: int) -> tuple[float, float]:
    """(nominal, useful) FLOPs of one seed-preset training step at ``batch``, as the tutorial
    writes it (two backward passes through D's fakes path, direct convolutions): the work
    every implementation does. ganforge's shared backward and spectral convolutions do
    fewer multiply-adds, so its FLOP/s from this count are an effective rate."""
    from ganforge.config import resolve
    from ganforge.engine.step import StepOptions, simultaneous_step
    from ganforge.run import build_from_config

    cfg = resolve("seed")
    G, D = build_from_config(cfg, (1, 28, 28), 0)
    g_opt, d_opt = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    x = torch.rand(batch, 1, 28, 28) * 2 - 1
    opts = StepOptions(shared_backward=False)
    return step_flops(lambda: simultaneous_step(G, D, g_opt, d_opt, x, opts=opts), G, D)


def run_worker(impl: str, python: str, args: argparse.Namespace, preset: str, prec: str) -> dict:
    worker = WORKERS[impl]
    if impl == "torch-plain" and preset != "seed":
        worker = TEXT_PLAIN if preset.startswith("text") else PHOTO_PLAIN
    cmd = [
        python,
        str(worker),
        "--preset", preset,
        "--precision", prec,
        "--batch", str(args.batch if preset == "seed" else args.batch_other),  # text: 64
        "--repeats", str(args.repeats),
        "--steps", str(args.steps),
        "--warmup", str(args.warmup),
        "--threads", str(args.threads),
        "--variant", args.variant.get(impl, ""),
    ]  # fmt: skip
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"}
    # a CPU held to a lower ISA (ONEDNN_MAX_CPU_ISA=AVX2 ...) holds every implementation
    env |= {k: v for k, v in os.environ.items() if k in PASSED_ENV}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{impl} {preset} {prec} failed: {' | '.join(tail)}")
    return json.loads(lines[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impls", default="ganforge,tensorflow,torch-plain")
    p.add_argument("--presets", default="seed,dcgan64,resnet32")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--repeats", type=int, default=7, help="timed windows per process")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the implementations this many times in turn and pool their windows, so a "
        "machine that speeds up or slows down during the run does not favour one of them",
    )
    p.add_argument("--steps", type=int, default=10, help="steps per timed window")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=256, help="seed batch (the tutorial's 256)")
    p.add_argument("--batch-other", type=int, default=64, help="batch of the other presets")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--tf-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    p.add_argument(
        "--ganforge-variant", default="", help="config overrides for ganforge, ';'-separated"
    )
    p.add_argument("--torch-variant", default="", help="channels_last and/or compile")
    args = p.parse_args()
    args.variant = {"ganforge": args.ganforge_variant, "torch-plain": args.torch_variant}
    impls = args.impls.split(",")
    if "tensorflow" in impls and not Path(args.tf_python).exists():
        print(
            f"no {args.tf_python}: run `make bench-reference` for the TensorFlow rows",
            file=sys.stderr,
        )
        impls.remove("tensorflow")
    precisions = args.precisions.split(",")
    peak = {"fp32": 0.0, "bf16": 0.0}  # the best seen: measured again before every round
    nominal, useful = seed_step_flops(args.batch)
    results = []
    for preset in args.presets.split(","):
        for prec in precisions:
            todo = [i for i in impls if i == "ganforge" or preset in REFERENCE_PRESETS.get(i, ())]
            raws: dict[str, dict] = {}
            rates: dict[str, list[float]] = {i: [] for i in todo}
            per_round: dict[str, list[float]] = {i: [] for i in todo}
            for _ in range(args.rounds):
                dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[prec]
                # only the precision timed: an emulated bf16 matmul takes minutes
                peak[prec] = max(peak[prec], matmul_peak(dtype))
                for impl in todo:
                    python = args.tf_python if impl == "tensorflow" else sys.executable
                    raw = run_worker(impl, python, args, preset, prec)
                    got = raw.pop("rates")
                    rates[impl] += got
                    per_round[impl].append(round(statistics.median(got), 1))
                    rss = max(raws.get(impl, {}).get("peak_rss_mb", 0), raw["peak_rss_mb"])
                    raws[impl] = {**raw, "peak_rss_mb": rss}
            for impl in todo:
                r = rates[impl]
                rec = {
                    "benchmark": "throughput",
                    **raws[impl],
                    "img_per_s": round(statistics.median(r), 1),
                    "img_per_s_min": round(min(r), 1),
                    "img_per_s_max": round(max(r), 1),
                    "repeats": len(r),
                    "rounds": args.rounds,
                    "round_medians": per_round[impl],
                }
                if preset == "seed":
                    flops = useful / args.batch * rec["img_per_s"]
                    rec["useful_gflop_per_s"] = round(flops / 1e9, 1)
                    rec["matmul_peak_gflop_per_s"] = round(peak[prec] / 1e9, 1)
                    rec["fraction_of_peak"] = round(flops / peak[prec], 3)
                results.append(rec)
                print(json.dumps(rec), flush=True)
    print(json.dumps(summary(results, nominal, useful, args.batch)), flush=True)


def cpu_description() -> dict:
    """The CPU every figure comes from: its model name, the vector flags that decide
    oneDNN's kernels, and any ISA cap in force."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    block = info.split("\n\n")[0]  # the first processor's
    field = {
        k.strip(): v.strip()
        for k, v in (ln.split(":", 1) for ln in block.splitlines() if ":" in ln)
    }
    flags = set(field.get("flags", "").split())
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
    return {
        "model": field.get("model name"),
        "flags": [f for f in wanted if f in flags],
        "cap": {k: os.environ[k] for k in CAPS if k in os.environ},
    }


def summary(results: list[dict], nominal: float, useful: float, batch: int) -> dict:
    """Ratios of ganforge's seed throughput to each reference, from this run's medians; with
    several rounds also the same-precision ratio within each round (neighbours in time)."""
    seed = {(r["impl"], r["precision"]): r["img_per_s"] for r in results if r["preset"] == "seed"}
    rounds = {
        (r["impl"], r["precision"]): r.get("round_medians", [])
        for r in results
        if r["preset"] == "seed"
    }
    best = max((v for (i, _), v in seed.items() if i == "ganforge"), default=None)
    out: dict = {
        "benchmark": "throughput-summary",
        "seed_step_gflop_nominal": round(nominal / 1e9, 2),
        "seed_step_gflop_useful": round(useful / 1e9, 2),
        "batch": batch,
        "cpu": cpu_description(),
        "ganforge_best_img_per_s": best,
    }
    for (impl, prec), v in sorted(seed.items()):
        if impl != "ganforge" and best:
            out[f"ganforge_best_over_{impl}_{prec}"] = round(best / v, 3)
    for preset in ("text128", "text512", "dcgan64", "resnet32"):
        rows = {
            (r["impl"], r["precision"]): r["img_per_s"] for r in results if r["preset"] == preset
        }
        mine = max((v for (i, _), v in rows.items() if i == "ganforge"), default=None)
        for (impl, prec), v in sorted(rows.items()):
            if impl == "torch-plain" and mine:
                out[f"{preset}_ganforge_best_over_torch-plain_{prec}"] = round(mine / v, 3)
    for prec in ("fp32", "bf16"):
        g, t = seed.get(("ganforge", prec)), seed.get(("tensorflow", prec))
        if g and t:
            out[f"ganforge_{prec}_over_tensorflow_{prec}"] = round(g / t, 3)
            pairs = zip(rounds[("ganforge", prec)], rounds[("tensorflow", prec)], strict=True)
            if len(rounds[("ganforge", prec)]) > 1:
                out[f"ganforge_{prec}_over_tensorflow_{prec}_per_round"] = [
                    round(a / b, 3) for a, b in pairs
                ]
    return out


if __name__ == "__main__":
    main()
