"""The tables suite's summary from its JSON lines: per-table means, a win / tie / loss count
of ganforge against each other tool with paired intervals over seeds, and a picture of
detection and efficacy per table and tool (``benchmarks/tabular_suite.py`` writes both)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

# how each score is read: lower is better, higher is better, or nearer 0.5 (DCR)
LOWER = ("column_shapes", "pair_trends", "detection_auc", "quality", "exact_copies", "fit_s")
LOWER += ("cpu_s", "peak_mb", "spike_mass_error", "missing_rate_error")
HIGHER = ("efficacy",)
NEAREST_HALF = ("dcr_closer_to_train",)
SHOWN = (*LOWER[:4], "efficacy", "dcr_closer_to_train", "exact_copies", *LOWER[-2:])
SHOWN += ("fit_s", "cpu_s", "peak_mb")
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306}


def read(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def value(rec: dict, metric: str) -> float | None:
    """A result's ``metric`` (efficacy: whichever efficacy score the table has), read so
    that lower is better."""
    if metric in ("fit_s", "cpu_s", "peak_mb"):
        v = rec.get(metric)
    elif metric == "efficacy":
        v = next((x for k, x in rec["scores"].items() if k.startswith("efficacy")), None)
    else:
        v = rec["scores"].get(metric)
    if v is None:
        return None
    if metric in HIGHER:
        return -float(v)
    if metric in NEAREST_HALF:
        return abs(float(v) - 0.5)
    return float(v)


def paired(ours: dict[int, float], theirs: dict[int, float]) -> tuple[str, float, float]:
    """(win / tie / loss for ganforge, mean difference, half-width of the 95% t-interval)
    over the seeds both have; lower is better. With one seed: the sign alone, no interval."""
    seeds = sorted(set(ours) & set(theirs))
    d = np.array([ours[s] - theirs[s] for s in seeds])
    if len(d) == 0:
        return "n/a", math.nan, math.nan
    mean = float(d.mean())
    half = (
        float(T975.get(len(d) - 1, 1.96) * d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
    )
    if abs(mean) <= half or mean == 0:
        return "tie", mean, half
    return ("win" if mean < 0 else "loss"), mean, half


def write_report(results: Path, out: Path, tables: list[str], tools: list[str]) -> None:
    """``out/summary.md`` and ``out/tables.png`` from the JSON lines in ``results``."""
    recs = [r for r in read(results) if "error" not in r and r["table"] in tables]
    fitted = {(r["table"], r["tool"], r["seed"]) for r in recs}
    errors = [
        r
        for r in read(results)
        if "error" in r
        and r["table"] in tables
        and (r["table"], r["tool"], r["seed"]) not in fitted
    ]
    by = defaultdict(dict)  # (table, tool) -> seed -> record
    for r in recs:
        by[(r["table"], r["tool"])][r["seed"]] = r
    seen = [t for t in tables if any((t, tool) in by for tool in tools)]
    lines = ["# Tables suite", "", "Mean over seeds (floor: held-out real rows).", ""]
    lines += ["| table | tool | seeds | " + " | ".join(SHOWN) + " |"]
    lines += ["|" + "---|" * (len(SHOWN) + 3)]
    for table in seen:
        for tool in tools:
            runs = by.get((table, tool), {})
            if not runs:
                continue
            cells = [_mean_cell(list(runs.values()), m) for m in SHOWN]
            lines.append(f"| {table} | {tool} | {len(runs)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "ganforge against each tool: wins / ties / losses over tables (paired 95%",
        "t-intervals over seeds; one seed: signs only).",
        "",
    ]
    lines += ["| against | " + " | ".join(SHOWN) + " |", "|" + "---|" * (len(SHOWN) + 1)]
    for other in (t for t in tools if t != "ganforge"):
        cells = []
        for metric in SHOWN:
            tally = defaultdict(int)
            for table in seen:
                ours = _per_seed(by.get((table, "ganforge"), {}), metric)
                theirs = _per_seed(by.get((table, other), {}), metric)
                tally[paired(ours, theirs)[0]] += 1
            cells.append(f"{tally['win']}/{tally['tie']}/{tally['loss']}")
        lines.append(f"| {other} | " + " | ".join(cells) + " |")
    if errors:
        lines += ["", "Failed fits:", ""]
        lines += [f"- {r['table']} / {r['tool']} / seed {r['seed']}: {r['error']}" for r in errors]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if seen:
        picture(by, seen, tools, out / "tables.png")


def _per_seed(runs: dict[int, dict], metric: str) -> dict[int, float]:
    return {s: v for s, r in runs.items() if (v := value(r, metric)) is not None}


def _raw(rec: dict, metric: str) -> tuple[float | None, float | None]:
    if metric in ("fit_s", "cpu_s", "peak_mb"):
        return rec.get(metric), None
    key = (
        next((k for k in rec["scores"] if k.startswith("efficacy")), None)
        if (metric == "efficacy")
        else metric
    )
    if key is None or key not in rec["scores"]:
        return None, None
    return rec["scores"][key], rec["floor"].get(key)


def _mean_cell(runs: list[dict], metric: str) -> str:
    pairs = [_raw(r, metric) for r in runs]
    vals = [v for v, _ in pairs if v is not None]
    if not vals:
        return "-"
    floors = [f for _, f in pairs if f is not None]
    counted = metric in ("fit_s", "cpu_s", "peak_mb")
    cell = f"{np.mean(vals):.0f}" if counted else f"{np.mean(vals):.3f}"
    return cell + (f" ({np.mean(floors):.3f})" if floors else "")


def picture(by: dict, tables: list[str], tools: list[str], path: Path) -> None:
    """Detection AUC and efficacy per table, a bar per tool (mean over seeds, the range of
    seeds as a line), the real-data floor as a black tick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(max(8, 1.1 * len(tables) * len(tools) / 2), 7))
    width = 0.8 / len(tools)
    for ax, metric, label in (
        (axes[0], "detection_auc", "detection AUC (0.5 ideal)"),
        (axes[1], "efficacy", "efficacy: accuracy or R^2 on real held-out rows"),
    ):
        for i, tool in enumerate(tools):
            for j, table in enumerate(tables):
                pairs = [_raw(r, metric) for r in by.get((table, tool), {}).values()]
                vals = [v for v, _ in pairs if v is not None]
                if not vals:
                    continue
                x = j + (i - (len(tools) - 1) / 2) * width
                ax.bar(x, np.mean(vals), width, color=f"C{i}", label=tool if j == 0 else None)
                ax.plot([x, x], [min(vals), max(vals)], color="k", lw=0.8)
                floor = [f for _, f in pairs if f is not None]
                if floor and i == 0:
                    ax.plot([j - 0.45, j + 0.45], [np.mean(floor)] * 2, color="k", lw=1.5)
        ax.set_xticks(range(len(tables)), tables, rotation=30, fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        if metric == "detection_auc":
            ax.set_ylim(0.45, 1.02)
        else:
            ax.set_ylim(bottom=max(ax.get_ylim()[0], -0.5))
    axes[0].legend(fontsize=8, ncols=len(tools))
    axes[0].set_title("Per table: mean over seeds (line: seed range; black: held-out real rows)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
