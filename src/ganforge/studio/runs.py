"""The runs under a folder as the studio lists them: name, preset, modality, data, step,
status (training / stopped / finished), the evaluation during training (latest and best)
and ``ganforge eval``'s scores, and their records."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganforge.engine.lock import LOCK_NAME


def find_runs(root: Path, depth: int = 3) -> list[Path]:
    """Run directories (a ``run.json`` beside a ``config.yaml``) under ``root``, sorted."""
    root = Path(root)
    found = []
    for meta in sorted(root.rglob("run.json")):
        rel = meta.parent.relative_to(root)
        if len(rel.parts) <= depth and (meta.parent / "config.yaml").is_file():
            found.append(meta.parent)
    return found


def _lock_alive(run: Path) -> bool:
    try:
        owner = json.loads((run / LOCK_NAME).read_text())
        os.kill(int(owner["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def read_records(run: Path, since: int = 0) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` from line ``since`` on (cut lines skipped)."""
    path = Path(run) / "metrics.jsonl"
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh):
            if i < since:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            rec["_line"] = i
            out.append(rec)
    return out


@dataclass
class Tally:
    """What the runs table needs from a ``metrics.jsonl``, read up to byte ``offset``."""

    offset: int = 0
    inode: int = 0  # a log rewritten by a resume is another file
    train: int = 0  # train records
    step: int = 0
    last_eval: dict[str, Any] = field(default_factory=dict)


_TALLIES: dict[Path, Tally] = {}


def tally(run: Path) -> Tally:
    """The run's :class:`Tally`, reading only what was appended since the last call (the
    runs table asks every few seconds; a log trimmed by a resume is read again)."""
    path = Path(run) / "metrics.jsonl"
    try:
        st = path.stat()
    except OSError:
        return Tally()
    size = st.st_size
    t = _TALLIES.get(path)
    if t is None or size < t.offset or st.st_ino != t.inode:
        t = Tally(inode=st.st_ino)
    if size > t.offset:
        with path.open("rb") as fh:
            fh.seek(t.offset)
            chunk = fh.read(size - t.offset)
        end = chunk.rfind(b"\n") + 1  # complete lines only: a line being written waits
        for line in chunk[:end].splitlines():
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            t.step = max(t.step, int(rec.get("step", 0) or 0))
            if rec.get("kind") == "train":
                t.train += 1
            elif rec.get("kind") == "eval":
                t.last_eval = rec
        t.offset += end
    _TALLIES[path] = t
    return t


def sample_steps(run: Path) -> list[dict[str, Any]]:
    """The saved training pictures: ``[{step, file}]`` by step (``final.png`` last)."""
    folder = Path(run) / "samples"
    out = []
    for p in sorted(folder.glob("step-*.png")):
        try:
            out.append({"step": int(p.stem.split("-")[1]), "file": f"samples/{p.name}"})
        except (IndexError, ValueError):
            continue
    return out


def summary(root: Path, run: Path) -> dict[str, Any]:
    """What the runs table shows of one run."""
    try:
        meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    cfg_text = (run / "config.yaml").read_text(encoding="utf-8", errors="replace")
    import yaml

    try:
        cfg = yaml.safe_load(cfg_text) or {}
    except yaml.YAMLError:
        cfg = {}
    t = tally(run)
    if _lock_alive(run):
        status = "training"
    elif (run / "samples" / "final.png").is_file():
        status = "finished"
    else:
        status = "stopped"
    last_eval = {k: v for k, v in t.last_eval.items() if not k.startswith("_")}
    return {
        **evaluated(run),
        "name": run.relative_to(root).as_posix(),
        "preset": cfg.get("preset") or (cfg.get("description") or "")[:60],
        "modality": meta.get("modality", "?"),
        "dataset": meta.get("dataset", (cfg.get("data") or {}).get("spec", "?")),
        "step": t.step,
        "steps": (cfg.get("train") or {}).get("steps"),
        "status": status,
        "last_eval": last_eval,
        "records": t.train,
    }


def evaluated(run: Path) -> dict[str, Any]:
    """``ganforge eval``'s first scores of ``run`` (from ``eval.json``), each with its floor:
    ``{"eval": [{"name", "value", "floor"}], "eval_step"}``; empty lists when never run."""
    try:
        data = json.loads((Path(run) / "eval.json").read_text(encoding="utf-8"))
        scores = data["scores"]
        shown = [
            {"name": str(k), "value": v.get("value"), "floor": v.get("floor")}
            for k, v in list(scores.items())[:3]
            if isinstance(v, dict)
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {"eval": [], "eval_step": None}
    return {"eval": shown, "eval_step": data.get("step")}
