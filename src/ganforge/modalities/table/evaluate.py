"""``ganforge eval`` on a table run: the real table reloaded and split as in training, the
run's synthetic rows scored against it (:mod:`.quality`), and the report's pictures."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ganforge.data.specs import find_spec
from ganforge.errors import ConfigError
from ganforge.modalities.table.datasets import split_rows, table_frame
from ganforge.modalities.table.metrics import evaluate_tables
from ganforge.modalities.table.metrics import names as metric_names
from ganforge.modalities.table.quality import correlation_matrix
from ganforge.modalities.table.render import correlation_picture
from ganforge.modalities.table.transform import decode
from ganforge.modality import Evaluation
from ganforge.progress import plan, stage


def real_split(run: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, held-out rows) of the run's table, split as in training."""
    return split_table(run.config.data.spec, run.info["table"])


def split_table(spec: str, table: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, held-out rows) of the table ``spec`` names, split as the run whose
    ``info['table']`` is ``table`` was."""
    entry, arg = find_spec(spec)
    frame = table_frame(entry.name, arg)
    train, held = split_rows(len(frame), table["holdout"], table["split_seed"])
    return frame.iloc[train].reset_index(drop=True), frame.iloc[held].reset_index(drop=True)


def default_target(kinds: dict[str, str], asked: str = "") -> str | None:
    """``tabular.target``, else the last labelled column, else the last number column."""
    if asked:
        if asked not in kinds:
            raise ConfigError(f"tabular.target: the table has no column {asked!r}")
        return asked
    labelled = [c for c, k in kinds.items() if k in ("categorical", "boolean")]
    numbers = [c for c, k in kinds.items() if k in ("continuous", "integer")]
    return (labelled or numbers or [None])[-1]


def evaluate_frames(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synth: pd.DataFrame,
    kinds: dict[str, str],
    metrics: str | None = None,
    target: str = "",
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """The scores of :func:`metrics.evaluate_tables`, metrics named as in ``--metrics``."""
    known = metric_names()
    chosen = tuple(m.strip() for m in metrics.split(",")) if metrics else known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ConfigError(
            f"--metrics: unknown table metric {', '.join(unknown)}; use {', '.join(known)}"
        )
    if len(holdout) < 10:
        raise ConfigError(
            "evaluation needs held-out rows: train with data.holdout > 0 "
            "(the default 0.2) on a table of at least 50 rows"
        )
    return evaluate_tables(
        train, holdout, synth, kinds, default_target(kinds, target), seed, chosen
    )


def correlation_difference(
    run: Any, synth: pd.DataFrame, train: pd.DataFrame | None = None
) -> tuple[str, Any]:
    """(caption, picture) of |correlation(real) - correlation(synthetic)| per column pair."""
    kinds = {c["name"]: c["kind"] for c in run.info["table"]["columns"]}
    train = real_split(run)[0] if train is None else train
    real_c, names = correlation_matrix(train, kinds)
    fake_c, _ = correlation_matrix(synth, kinds)
    caption = "|correlation(real) - correlation(synthetic)| per column pair"
    return caption, correlation_picture(abs(real_c - fake_c), names, caption)


def evaluate_run(run: Any, metrics: str | None, n: int, seed: int) -> Evaluation:
    plan("real rows", "synthetic rows", "scores", "pictures")
    stage("real rows")
    train, holdout = real_split(run)
    kinds = {c["name"]: c["kind"] for c in run.info["table"]["columns"]}
    modality = run.modality_obj
    stage("synthetic rows")
    cond = modality.conditions(n, run.meta, run.config, seed=seed)
    synth = decode(run.sample(n, seed=seed, labels=cond), run.info, seed=seed)
    target = run.config.section("tabular").target
    stage("scores")
    scores = evaluate_frames(train, holdout, synth, kinds, metrics, target, seed)
    stage("pictures")
    picture = correlation_difference(run, synth, train)[1]
    notes = [
        f"{len(synth)} synthetic rows against {len(train)} training and {len(holdout)} held-out "
        "rows; each floor is the same score for held-out real rows (efficacy: a model "
        "trained on as many real rows; DCR: 0.5 is ideal)",
    ]
    captions = (
        "each column: real (grey) and generated (blue) shares",
        "|correlation(real) - correlation(synthetic)| per column pair",
    )
    return Evaluation(scores=scores, notes=notes, real_picture=picture, captions=captions)
