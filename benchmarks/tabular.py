"""Synthetic tables: ganforge's ``tabular`` preset against CTGAN 0.12.1, same splits, same
metrics, one JSON line per (dataset, tool).

Each tool fits in its own process (fit time = preprocessing + training, peak memory from
``ru_maxrss``); CTGAN runs in the separate environment ``.venv-ctgan`` (``make
bench-tabular`` creates it), never a dependency of ganforge. Both synthetic tables are then
scored here by ganforge's table metrics against the same training and held-out rows.
Usage::

    python benchmarks/tabular.py [--data diamonds,adult] [--ctgan-epochs 300]
        [--epochs 110 | --epochs 0 --steps 6000] [--adult-csv PATH] [--set KEY=VALUE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"diamonds": "price", "adult": "income-per-year"}


def load(name: str, adult_csv: str | None) -> pd.DataFrame:
    from ganforge.modalities.table.datasets import NA_VALUES, diamonds

    if name == "diamonds":
        return diamonds()
    if name == "adult":
        if not adult_csv:
            raise SystemExit("--adult-csv PATH: the UCI Adult CSV (make bench-tabular fetches it)")
        return pd.read_csv(adult_csv, na_values=NA_VALUES, skipinitialspace=True)
    raise SystemExit(f"unknown data set {name}")


WORKER = r"""
import json, resource, sys, time
import pandas as pd
tool, train_csv, out_csv, n, steps, epochs, discrete, sets, ours = sys.argv[1:10]
train = pd.read_csv(train_csv)
t0 = time.perf_counter()
if tool == "ctgan":
    from ctgan import CTGAN
    model = CTGAN(epochs=int(epochs), verbose=False)
    cols = [c for c in discrete.split(",") if c]
    model.fit(train, cols)
    fit_s = time.perf_counter() - t0
    synth = model.sample(int(n))
    pre_s = None
else:
    from ganforge.tabular import TableSynthesizer
    overrides = json.loads(sets)
    # an epoch count (``ours``) sizes training to the table, as CTGAN's epochs do
    size = {"epochs": float(ours)} if float(ours) else {"steps": int(steps)}
    s = TableSynthesizer(**size, holdout=0.0, overrides=overrides).fit(train)
    fit_s = time.perf_counter() - t0
    synth = s.sample(int(n))
    pre_s = s.run.info["table"]["timings"]
    from ganforge.run import Run
    pre_s.update(last_step=Run(s.run.paths.root).step, best_step=s.best_step,
                 stopped_early=s.stopped_early)
synth.to_csv(out_csv, index=False)
print(json.dumps({"fit_s": round(fit_s, 1), "peak_mb": round(
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "preprocess": pre_s}))
"""


def run_tool(tool: str, python: str, train_csv: Path, out_csv: Path, n: int, args) -> dict:
    discrete = ",".join(args.discrete)
    cmd = [
        python,
        "-c",
        WORKER,
        tool,
        str(train_csv),
        str(out_csv),
        str(n),
        str(args.steps),
        str(args.ctgan_epochs),
        discrete,
        json.dumps(args.set),
        str(args.epochs),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode:
        raise SystemExit(f"{tool} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    from ganforge.modalities.table.columns import detect_columns
    from ganforge.modalities.table.datasets import split_rows
    from ganforge.modalities.table.metrics import evaluate_tables

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="diamonds")
    p.add_argument("--tools", default="ganforge,ctgan")
    p.add_argument("--epochs", type=float, default=110, help="ganforge epochs (0: --steps)")
    p.add_argument("--steps", type=int, default=6000, help="ganforge steps with --epochs 0")
    p.add_argument("--ctgan-epochs", type=int, default=300)
    p.add_argument("--ctgan-python", default=str(ROOT / ".venv-ctgan" / "bin" / "python"))
    p.add_argument("--adult-csv")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], help="ganforge config overrides")
    args = p.parse_args()
    for name in args.data.split(","):
        frame = load(name, args.adult_csv)
        tr, ho = split_rows(len(frame), 0.2, args.seed)
        train, holdout = (
            frame.iloc[tr].reset_index(drop=True),
            frame.iloc[ho].reset_index(drop=True),
        )
        kinds = {k.name: k.kind for k in detect_columns(train)}
        args.discrete = [c for c, k in kinds.items() if k in ("categorical", "boolean")]
        with tempfile.TemporaryDirectory() as tmp:
            train_csv = Path(tmp) / "train.csv"
            train.to_csv(train_csv, index=False)
            for tool in args.tools.split(","):
                python = args.ctgan_python if tool == "ctgan" else sys.executable
                out_csv = Path(tmp) / f"{tool}.csv"
                timing = run_tool(tool, python, train_csv, out_csv, len(holdout), args)
                synth = pd.read_csv(out_csv)
                # both tools' rows read back from CSV, as the real rows were
                train_r = pd.read_csv(train_csv)
                scores = evaluate_tables(
                    train_r, holdout, synth, kinds, TARGETS.get(name), args.seed
                )
                line = {
                    "benchmark": "tabular",
                    "data": name,
                    "rows": len(frame),
                    "tool": tool,
                    "setting": f"{args.epochs:g} epochs {' '.join(args.set)}".strip()
                    if tool == "ganforge" and args.epochs
                    else f"{args.steps} steps {' '.join(args.set)}".strip()
                    if tool == "ganforge"
                    else f"{args.ctgan_epochs} epochs",
                    **timing,
                    **{k: round(v["value"], 4) for k, v in scores.items()},
                    "floor": {k: round(v["floor"], 4) for k, v in scores.items()},
                }
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
