"""What a modality is: everything about one kind of data, outside the engine.

A modality subclasses :class:`Modality`, overrides what it needs and registers an instance
with :func:`ganforge.registry.register_modality` (from its plug-in's ``register()``; see
``docs/adding-a-modality.md``). The engine sees tensors only; the API asks the run's
modality for everything else: its config section, its data and conditions, its D-input
transform and auxiliary losses, its pictures and files, its metrics and evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image

from ganforge.data.specs import find_spec
from ganforge.engine.aux import ClassLoss
from ganforge.engine.in_memory import InMemoryData
from ganforge.engine.protocols import PICTURE_SAMPLES
from ganforge.errors import ConfigError
from ganforge.generating import draw
from ganforge.periodic import Comparison, PeriodicScorer
from ganforge.registry import find_metric, metric_names

if TYPE_CHECKING:  # pragma: no cover
    from ganforge.config import Config
    from ganforge.data.dataset import Dataset
    from ganforge.engine.distributed import DistContext
    from ganforge.run import Run


@dataclass
class Evaluation:
    """A modality's evaluation: scores (each ``{"value", "floor", "std"?, "baseline"?}``),
    notes, the report's pictures; ``baseline`` names what the scores' baseline entries are
    (e.g. a Markov chain beside a text GAN)."""

    scores: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)
    extractor: str | None = None
    real_picture: Image.Image | None = None
    captions: tuple[str, str] = ("generated", "real")  # the report's two pictures
    baseline: str | None = None
    pictures: list[tuple[str, Image.Image]] = field(default_factory=list)  # (caption, picture)


class Modality:
    """Base class of a modality; every method has a usable default."""

    name: str = ""
    description: str = ""
    options: type | None = None  # dataclass: the config section named ``name``
    option_aliases: dict[str, str] = {}  # noqa: RUF012 - e.g. {"data.image_size": "size"}
    raw_formats: tuple[str, ...] = (".npy",)  # what ``save`` writes besides pictures
    # samples can be drawn at a temperature (``sample --temperature``; read from
    # ``info['temperature']`` in decoding, or by a generator with a ``temperature``)
    takes_temperature: bool = False
    # what `ganforge train --data SPEC` trains when no preset is named: this preset (a
    # registered or bundled one), else `demo` with `model.arch` set to `default_arch`
    default_preset: str | None = None
    default_arch: str | None = None
    picture_samples: int = PICTURE_SAMPLES  # samples a training picture shows (log.samples)
    # share of the data held out for evaluation's floors (data.holdout); None: not split
    holdout_share: float | None = None

    @property
    def metric_names(self) -> tuple[str, ...]:
        """What ``ganforge eval --metrics`` may name: this modality's registered metrics."""
        return metric_names(self.name)

    @property
    def periodic_metrics(self) -> tuple[str, ...]:
        """The valid ``eval.metric`` values for ``eval.every``."""
        return metric_names(self.name, periodic=True)

    # ------------------------------------------------------------------ data
    def load_options(self, cfg: Config) -> dict[str, Any]:
        """Keyword options for this modality's dataset loaders, from its config section."""
        return {}

    def data_arguments(self, cfg: Config) -> tuple[str, str, int, dict[str, Any]]:
        """(spec name, spec argument, seed, loader options) of ``cfg``'s data: what a
        periodic scorer needs to rebuild the run's split without loading the data."""
        entry, arg = find_spec(cfg.data.spec)
        return entry.name, arg, cfg.train.seed, self.load_options(cfg)

    def training_data(self, dataset: Dataset, cfg: Config, dist: DistContext) -> Any:
        """What the trainer draws batches from (default: uniform minibatches of ``dataset``,
        its labels as conditions when ``data.conditional``)."""
        return InMemoryData.from_config(dataset, cfg, dist)

    def conditions(self, n: int, meta: dict[str, Any], cfg: Config, seed: int = 0) -> Any:
        """Conditions for ``n`` samples drawn without the data (``sample``, ``eval``): class
        ids cycling through every class for class-conditional runs, else None. ``seed``
        is the sampling seed, for modalities that draw conditions at random."""
        k = int(meta.get("num_classes", 0))
        if k > 1 and cfg.data.conditional:
            return torch.arange(n) % k
        return None

    def asked_conditions(self, info: dict[str, Any], asked: dict[str, Any], n: int) -> Any:
        """For ``sample --condition COL=VALUE``: (conditions for ``n`` samples that all hold
        ``asked``, the value as the data spells it); ConfigError where none can be asked."""
        raise ConfigError(f"{self.name} samples take no --condition; use --label for a class")

    def sample_asked(
        self, run: Run, n: int, asked: dict[str, Any], seed: int = 0
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """``n`` samples of ``run`` that all hold ``asked`` and the info to render them with
        (``info['asked']``: the values as the data spells them). Default: one condition,
        through :meth:`asked_conditions`."""
        if len(asked) != 1:
            raise ConfigError(f"{self.name} samples take one --condition at a time")
        info = dict(run.info)
        labels, value = self.asked_conditions(info, asked, n)
        info["asked"] = {next(iter(asked)): value}
        return run.sample(n, seed=seed, labels=labels), info

    def resize(self, dataset: Dataset, shape: tuple[int, ...], cfg: Config) -> Dataset | None:
        """``dataset`` brought to sample ``shape`` for a network that needs it (and ``cfg``
        updated to load it so again), or None when this modality cannot."""
        return None

    # ------------------------------------------------------------------ training
    def d_transform(self, cfg: Config) -> Any:
        """A differentiable transform of D's inputs (see ``engine.transforms``), or None."""
        return None

    def aux_losses(self, cfg: Config, dataset: Dataset | None = None) -> list[Any]:
        """Auxiliary loss terms (see ``engine.aux``) added to G's and D's losses, for the
        training ``dataset`` (default: ACGAN's class loss with ``experimental.acgan``)."""
        if getattr(cfg.experimental, "acgan", False) and cfg.data.conditional:
            return [ClassLoss(cfg.loss.class_weight)]
        return []

    def training_length(self, cfg: Config, dataset: Dataset) -> str | None:
        """Where ``train.steps`` is 0, set it from the data (a table's rows, say) and return
        the line that says so; None where nothing was set. Default: left as it is."""
        return None

    def warm_start_plan(self, cfg: Config, G: Any) -> str | None:
        """One line printed before ``warm_start`` runs: what it will do, how long, and the
        setting that skips it. Default: None (no warm start)."""
        return None

    def warm_start(
        self, G: Any, D: Any, dataset: Dataset, cfg: Config, progress: bool
    ) -> list[str]:
        """Before adversarial training starts (not on ``--resume``): prepare the fresh nets,
        e.g. pretrain G by maximum likelihood; returns lines to print. Default: nothing."""
        return []

    # ------------------------------------------------------------------ output
    def picture_count(self, cfg: Config) -> int:
        """How many samples one training picture shows: ``log.samples``, else the
        modality's own ``picture_samples``."""
        return cfg.log.samples or self.picture_samples

    def holdout(self, cfg: Config) -> float:
        """The share of the data held out for evaluation: ``data.holdout``, else the
        modality's own ``holdout_share``; a share set for data that keeps none is refused."""
        share = cfg.data.holdout
        if share is not None and self.holdout_share is None:
            raise ConfigError(
                f"data.holdout: {self.name} data keeps no held-out share; leave it unset"
            )
        return float(self.holdout_share or 0.0) if share is None else float(share)

    def interpolation_count(self, cfg: Config) -> int:
        """How many samples each frame of ``ganforge interpolate`` shows."""
        return 16

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        """One picture of a batch of samples (model space); ``info['title']`` may caption it.

        Default: each sample flattened into one row of grey cells (-1 black, 1 white), up to
        64 rows, scaled up; a modality overrides it with a picture people can read."""
        rows = samples.detach().float().cpu()[:64].flatten(1)[:, :512]
        grey = ((rows.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
        img = Image.fromarray(grey, "L")
        scale = max(1, 512 // max(img.size))
        return img.resize((img.width * scale, img.height * scale * 4), Image.NEAREST)

    def caption(self, step: int, metrics: dict[str, Any]) -> str:
        """The title of the training picture at ``step`` given this step's metrics."""
        return f"step {step}"

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        """Write samples as data; the suffix of ``path`` picks the format (default ``.npy``)."""
        path = Path(path)
        if path.suffix.lower() != ".npy":
            formats = ", ".join([".png", *self.raw_formats])
            raise ConfigError(
                f"{self.name} samples cannot be written as '{path.suffix or path.name}'; "
                f"use {formats}"
            )
        arr = samples.detach().float().cpu().numpy()
        tmp = path.with_name(f".{path.name}.tmp.npy")
        np.save(tmp, arr)
        tmp.replace(path)
        return path

    def final_files(
        self, samples: torch.Tensor, folder: Path, info: dict[str, Any]
    ) -> dict[str, Path]:
        """Files written beside ``samples/final.png`` when training ends, as {label: path}
        (video: the final clips as an animated GIF). Default: none."""
        return {}

    def as_array(self, samples: torch.Tensor) -> np.ndarray:
        """Samples as the array a tool would load (``augment``'s ``.npz``): float32."""
        return samples.detach().float().cpu().numpy()

    # ------------------------------------------------------------------ Python API
    # the keyword knobs ``Run.generate`` takes besides ``seed`` (others: a ConfigError)
    generate_knobs: tuple[str, ...] = ("labels", "truncation")

    def generate(self, run: Run, n: int, seed: int, **knobs: Any) -> Any:
        """``Run.generate``: ``n`` samples of ``run`` drawn from ``seed`` and decoded
        (:meth:`decode`). ``knobs`` (checked against :attr:`generate_knobs`): ``labels``
        (a class id or name, or one per sample), ``truncation`` (latents within +-that),
        ``conditions`` (``{column: value}``, through :meth:`sample_asked`); a modality
        with knobs of its own overrides this and draws through ``generating.draw``."""
        return self.decode(*draw(run, n, seed, **knobs))

    def decode(self, samples: torch.Tensor, info: dict[str, Any]) -> Any:
        """Samples (model space) as this data's users hold them, what ``Run.generate``
        returns; ``info`` is the run's, with the draw's ``seed``. Default: :meth:`as_array`."""
        return self.as_array(samples)

    def run_properties(self, info: dict[str, Any]) -> dict[str, Any]:
        """Facts about a run's samples read as attributes of the run (video: ``run.fps``),
        from the run's ``info``. Default: none."""
        return {}

    def studio_pictures(
        self, run: Run, samples: torch.Tensor, info: dict[str, Any]
    ) -> list[tuple[str, Image.Image]]:
        """Pictures ``ganforge studio`` shows beside the samples it drew, as (caption,
        picture) (e.g. a table's correlation difference). Default: none."""
        return []

    def class_probabilities(self, run: Run) -> Any:
        """For ``augment --filter``: a callable ``samples -> (N, classes)`` probabilities
        from a classifier of the run's data."""
        raise ConfigError(f"the {self.name} modality has no classifier to filter with")

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        """Quality figures on the training picture's samples, logged with it (may be empty)."""
        return {}

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, run: Run, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Evaluation:
        """Score ``n`` samples of ``run`` against real data, each beside its real floor."""
        raise ConfigError(f"the {self.name} modality has no evaluation yet")

    def periodic_comparison(
        self, cfg: Config, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Comparison | None:
        """For ``eval.every``: what ``cfg.eval.metric`` compares generated samples with (its
        ``MetricSpec.score`` reads ``view(fake)``); None when nothing. ``info`` is the
        training data's (a table's fitted codecs and split, say)."""
        return None

    def periodic_scorer(
        self, cfg: Config, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Any:
        """For ``eval.every``: an object with ``sample_count() -> n`` and ``__call__(fake) ->
        (label, score)`` (lower is better) on ``n`` generated samples; None when none.
        Default: :class:`ganforge.periodic.PeriodicScorer`, ``cfg.eval.metric``'s declared
        score on :meth:`periodic_comparison`."""
        metric = find_metric(self.name, cfg.eval.metric)
        if metric is None or not metric.periodic or metric.score is None:
            return None
        comparison = self.periodic_comparison(cfg, sample_shape, info)
        return None if comparison is None else PeriodicScorer(metric, comparison)

    def check_periodic(self, cfg: Config) -> None:
        """Refuse, before anything is written, an ``eval.every`` this modality cannot do."""
        if cfg.eval.metric not in self.periodic_metrics:
            raise ConfigError(
                f"eval.every: the {self.name} modality has no periodic metric "
                f"'{cfg.eval.metric}'"
                + (
                    f"; use one of {', '.join(self.periodic_metrics)}"
                    if self.periodic_metrics
                    else "; set eval.every=0"
                )
            )


def _takes(method: Any, name: str) -> bool:
    import inspect

    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def periodic_scorer_for(
    modality: Modality, cfg: Config, sample_shape: tuple[int, ...], info: dict[str, Any]
) -> Any:
    """``modality.periodic_scorer`` with the data's ``info`` where it takes one (plug-ins
    written before ``info`` existed take two arguments)."""
    if _takes(modality.periodic_scorer, "info"):
        return modality.periodic_scorer(cfg, sample_shape, info=info)
    return modality.periodic_scorer(cfg, sample_shape)


def conditions_for(
    modality: Modality, n: int, meta: dict[str, Any], cfg: Config, seed: int = 0
) -> Any:
    """``modality.conditions`` with the sampling seed where it takes one (plug-ins written
    before ``seed`` existed take three arguments)."""
    if _takes(modality.conditions, "seed"):
        return modality.conditions(n, meta, cfg, seed=seed)
    return modality.conditions(n, meta, cfg)


def aux_losses_for(modality: Modality, cfg: Config, dataset: Dataset) -> list[Any]:
    """``modality.aux_losses`` with the training dataset where it takes one."""
    if _takes(modality.aux_losses, "dataset"):
        return modality.aux_losses(cfg, dataset=dataset)
    return modality.aux_losses(cfg)


def chosen_groups(metrics: str | None, groups: tuple[str, ...], what: str) -> tuple[str, ...]:
    """The metric groups ``--metrics`` names among a modality's ``groups`` (all when it
    names none); a ConfigError when it names none of them. ``what`` names the data."""
    if not metrics:
        return groups
    chosen = tuple(m.strip() for m in metrics.split(",") if m.strip())
    mine = tuple(m for m in chosen if m in groups)
    if not mine:
        raise ConfigError(f"--metrics: a {what} run is scored by {', '.join(groups)}")
    return mine
