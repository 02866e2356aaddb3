"""The tabular modality: CTGAN-class synthetic tables (``csv:``, ``parquet:``, ``diamonds``,
DataFrames through :class:`ganforge.tabular.TableSynthesizer`). Registered by
:func:`register` (entry point ``tabular``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from ganforge.engine.checkpoint import atomic_write_bytes
from ganforge.engine.distributed import per_rank_batch
from ganforge.errors import ConfigError
from ganforge.modalities.table.asked import sample_several
from ganforge.modalities.table.conditions import (
    ConditionLoss,
    ConditionSpans,
    TableData,
    frequencies_from_info,
    true_conditions,
)
from ganforge.modalities.table.evaluate import correlation_difference, default_target, evaluate_run
from ganforge.modalities.table.length import length_line
from ganforge.modalities.table.marginals import marginal_like, tv_distance
from ganforge.modalities.table.periodic import comparison
from ganforge.modalities.table.render import marginals_picture
from ganforge.modalities.table.shares import ShareLoss
from ganforge.modalities.table.specs import register_specs
from ganforge.modalities.table.target import TargetLoss
from ganforge.modalities.table.transform import decode, transformer
from ganforge.modality import Evaluation, Modality


@dataclass
class TableOptions:
    """The ``tabular`` config section."""

    columns: dict[str, str] = field(default_factory=dict)  # column -> kind, over detection
    max_categories: int = field(default=100, metadata={"range": (2, None, True)})
    fit_rows: int = field(default=10000, metadata={"range": (100, None, True)})
    modes: int = field(default=10, metadata={"range": (1, 50, True)})
    condition_weight: float = field(default=1.0, metadata={"range": (0.0, None, True)})
    # G's one-hot shares (modes, spikes, missing, labels) against the real ones (.shares)
    share_weight: float = field(default=0.0, metadata={"range": (0.0, None, True)})
    target: str = ""  # column for the ML-efficacy score (empty: the last labelled column)
    # train.steps 0: passes over the training rows, clamped to min_steps..max_steps (.length)
    epochs: float = field(default=100.0, metadata={"range": (0.0, None, False)})
    min_steps: int = field(default=4000, metadata={"range": (1, None, True)})
    max_steps: int = field(default=30000, metadata={"range": (0, None, True)})  # 0: none


def _shape_distance(frame: pd.DataFrame, info: dict[str, Any]) -> float | None:
    preview = info["table"].get("preview") or {}
    dists = [
        tv_distance(ref, marginal_like(frame[c], ref)) for c, ref in preview.items() if c in frame
    ]
    return float(np.mean(dists)) if dists else None


class TableModality(Modality):
    """Rows of a table: marginals pictures for people, ``.csv`` / ``.parquet`` for tools."""

    name = "tabular"
    description = "tables (rows of mixed columns): CTGAN-class synthesizer, .csv/.parquet"
    options = TableOptions
    raw_formats = (".csv", ".parquet", ".npy")
    picture_samples = 2000
    holdout_share = 0.2

    def load_options(self, cfg: Any) -> dict[str, Any]:
        o = cfg.section("tabular")
        return {
            "holdout": self.holdout(cfg),
            "columns": dict(o.columns),
            "max_categories": o.max_categories,
            "fit_rows": o.fit_rows,
            "modes": o.modes,
        }

    def training_data(self, dataset: Any, cfg: Any, dist: Any) -> Any:
        return TableData(dataset, per_rank_batch(cfg.train.batch, dist), cfg.train.seed, dist.rank)

    def conditions(self, n: int, meta: dict[str, Any], cfg: Any, seed: int = 0) -> Any:
        info = meta["info"]
        spans = ConditionSpans(info["table"]["spans"])
        if not len(spans):
            return None
        return true_conditions(spans, frequencies_from_info(info), n, seed=seed)

    def asked_conditions(self, info: dict[str, Any], asked: dict[str, Any], n: int) -> Any:
        """Condition vectors for ``n`` rows that all hold ``asked`` (one column: value)."""
        if len(asked) != 1:
            raise ConfigError("condition vectors hold one column: give one, like cut=Ideal")
        ((column, value),) = asked.items()
        j, codec = transformer(info).condition_codec(column)
        try:
            slot = codec.code_of(value)
        except ValueError:
            shown = ", ".join(map(str, codec.values[:20]))
            raise ConfigError(
                f"condition {column}={value!r}: that value never occurs in the training rows; "
                f"seen values include {shown}"
            ) from None
        spans = ConditionSpans(info["table"]["spans"])
        col = torch.full((n,), j, dtype=torch.long)
        return spans.one_hot(col, torch.full((n,), slot, dtype=torch.long)), codec.values[slot]

    def sample_asked(
        self, run: Any, n: int, asked: dict[str, Any], seed: int = 0
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Rows that all hold ``asked``: one column through G's condition vector (exact); with
        several, the rarest goes through the vector and rows are drawn until enough also hold
        the others (rejection, bounded)."""
        if len(asked) == 1:
            return super().sample_asked(run, n, asked, seed)

        return sample_several(self, run, n, asked, seed)

    def training_length(self, cfg: Any, dataset: Any) -> str | None:
        """``train.steps`` 0: passes over the training rows, clamped (see :mod:`.length`)."""
        return length_line(cfg, len(dataset)) if cfg.train.steps == 0 else None

    def aux_losses(self, cfg: Any, dataset: Any = None) -> list[Any]:
        table = (dataset.info if dataset is not None else {}).get("table", {})
        spans, opts = table.get("spans", []), cfg.section("tabular")
        if not spans:
            return []
        terms: list[Any] = [ConditionLoss(spans, opts.condition_weight)]
        if opts.share_weight > 0:
            terms.append(ShareLoss(dataset.data, spans, opts.share_weight))
        target_weight = float(getattr(cfg.experimental, "target_weight", 0.0))
        if target_weight > 0:
            kinds = {c["name"]: c["kind"] for c in table["columns"]}
            column = default_target(kinds, opts.target)
            terms.append(TargetLoss(dataset.data, spans, column, target_weight, cfg.train.seed))
        return terms

    # ------------------------------------------------------------------ output
    generate_knobs = ("conditions",)  # {column: value} every row holds

    def decode(self, samples: torch.Tensor, info: dict[str, Any]) -> pd.DataFrame:
        """The rows as a DataFrame with the real table's columns (:func:`decode`)."""
        return decode(samples, info, seed=int(info.get("seed", 0)))

    def interpolation_count(self, cfg: Any) -> int:
        return self.picture_count(cfg)

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        frame = decode(samples, info)
        preview = info["table"].get("preview") or {}
        fake = {c: marginal_like(frame[c], ref) for c, ref in preview.items() if c in frame}
        return marginals_picture(preview, fake, title=info.get("title", ""))

    def studio_pictures(self, run: Any, samples: torch.Tensor, info: dict[str, Any]) -> list:
        """The drawn rows' correlation difference from the training rows, per column pair."""
        return [correlation_difference(run, decode(samples, info))]

    def caption(self, step: int, metrics: dict[str, Any]) -> str:
        tv = metrics.get("shape_tv")
        return f"step {step}" + (f": marginals {tv:.3f} TV from the data" if tv is not None else "")

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        tv = _shape_distance(decode(samples, info), info)
        return {} if tv is None else {"shape_tv": round(tv, 4)}

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".npy":
            return super().save(samples, path, info)
        if suffix not in (".csv", ".parquet"):
            raise ConfigError(
                f"table samples are written as .csv, .parquet, .npy or .png; got "
                f"'{path.suffix or path.name}'"
            )
        frame = decode(samples, info)
        if suffix == ".csv":
            atomic_write_bytes(path, frame.to_csv(index=False).encode("utf-8"))
        else:
            try:
                atomic_write_bytes(path, frame.to_parquet(index=False))
            except ImportError:
                raise ConfigError("writing .parquet needs pyarrow; write .csv instead") from None
        return path

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, run: Any, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Evaluation:
        return evaluate_run(run, metrics, n, seed)

    def periodic_comparison(
        self, cfg: Any, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Any:
        """``eval.every``: generated rows against training rows (see :mod:`.periodic`)."""
        return None if info is None else comparison(cfg, info)


def register() -> None:
    """Register the tabular modality, its datasets, metrics and the ``ctgan`` networks."""
    register_specs(TableModality())
