"""Training a GAN into a run directory: ``ganforge.train`` and what it hands the trainer.

The run's modality supplies the data, the pictures, the D-input transform, the auxiliary
losses and the periodic metric; this module knows none of them by name.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganforge import config as config_mod
from ganforge.config import Config
from ganforge.data import load_dataset, spec_modality
from ganforge.data.bare_paths import bare_data
from ganforge.engine import checkpoint as ckpt
from ganforge.engine import distributed
from ganforge.engine.distributed import DistContext
from ganforge.engine.lock import RunLock
from ganforge.engine.trainer import Trainer
from ganforge.errors import ConfigError, RunError
from ganforge.evaluation import PeriodicEval
from ganforge.init_from import InitSource, copy_networks, finish, read_source
from ganforge.modality import aux_losses_for, periodic_scorer_for
from ganforge.pictures import SampleHook, build_gif
from ganforge.plots import plot_equilibrium, read_metrics
from ganforge.registry import ARCHITECTURES, DATASETS, MODALITIES
from ganforge.run import RunPaths, build_from_config, write_meta
from ganforge.tensorboard import TensorBoardHook, summary_writer_class


@dataclass
class TrainResult:
    """What a training run produced and where it lies."""

    run_dir: Path
    step: int
    interrupted: bool
    elapsed_s: float
    samples_seen: int  # real samples drawn, over all ranks
    samples: Path | None = None
    gif: Path | None = None
    equilibrium: Path | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # the modality's, e.g. final clips
    stopped_early: str | None = None  # why eval.patience ended training before train.steps
    best: Path | None = None  # RUN/best, the best checkpoint by eval.metric (eval.every > 0)
    rank: int = 0  # this process's rank in a torchrun job (rank 0 wrote the run)

    @property
    def images_seen(self) -> int:
        """The older name of ``samples_seen``."""
        return self.samples_seen


def resolve_config(
    config: Config | str | None = "demo",
    data: str | None = None,
    steps: int | None = None,
    overrides: list[str] | None = None,
    device: str | None = None,
) -> Config:
    """A preset name, YAML path or Config, with the usual command-line overrides applied."""
    extra = list(overrides or [])
    if data is not None:
        extra.append(f"data.spec={data}")
    if steps is not None:
        extra.append(f"train.steps={steps}")
    if device is not None:
        extra.append(f"train.device={device}")
    if isinstance(config, Config):
        base = config.to_dict()
        return config_mod.from_dict(config_mod.apply_overrides(base, extra))
    return config_mod.resolve(config, extra)


def _default_out(cfg: Config) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{cfg.preset or 'run'}-{stamp}"


def _check_out_dir(paths: RunPaths, resume: bool) -> None:
    has_run = ckpt.list_checkpoints(paths.checkpoints) or paths.config.is_file()
    if resume and not has_run:
        raise RunError(f"nothing to resume in {paths.root}: it holds no run; drop --resume")
    if not resume and has_run:
        raise RunError(
            f"{paths.root} already holds a run; add --resume to continue it, or choose "
            "another --out"
        )
    if paths.root.exists() and not paths.root.is_dir():
        raise RunError(f"--out {paths.root} is a file, not a directory; choose another --out")


def train(
    config: Config | str | None = "demo",
    *,
    data: str | None = None,
    out: str | Path | None = None,
    steps: int | None = None,
    overrides: list[str] | None = None,
    resume: bool = False,
    device: str | None = None,
    progress: bool | None = None,
    init_from: str | Path | None = None,
    init_optimizer: bool = False,
) -> TrainResult:
    """Train a GAN and write a run directory.

    ``config`` is a preset name (see :func:`ganforge.config.list_presets`), a YAML path or a
    :class:`Config`. ``overrides`` are ``"key=value"`` strings. With ``resume=True`` the run
    in ``out`` continues exactly where its newest checkpoint left off (``steps`` may extend it).
    ``init_from`` starts a new run from another run's G, D and EMA weights (fine-tuning on
    data of the same shape); its optimisers' state too with ``init_optimizer``. A bare path
    as ``data`` (``./photos``, ``./table.csv``) is read as the spec that takes it, and with
    ``config`` None its preset trains it (else ``demo``).
    """
    if init_from is not None and resume:
        raise ConfigError("--init-from starts a new run; --resume continues one: give one")
    if init_optimizer and init_from is None:
        raise ConfigError("--init-optimizer goes with --init-from RUN")
    source = read_source(init_from, init_optimizer) if init_from is not None else None
    config, data, said, chosen = bare_data(config, data, resume)  # ./photos, ./table.csv
    overrides = chosen + list(overrides or [])  # the user's come last and win
    if resume:
        if out is None:
            raise RunError("--resume needs the run directory: --out RUN")
        paths = RunPaths(Path(out))
        _check_out_dir(paths, resume=True)  # read-only: every rank of a job may check
        cfg = resolve_config(str(paths.config), data, steps, overrides, device)
    else:
        cfg = resolve_config(config, data, steps, overrides, device)
        paths = RunPaths(Path(out) if out is not None else _default_out(cfg))
    if progress is not None:
        cfg.log.progress = progress
    _check_spec_given(cfg)
    if cfg.log.tensorboard:
        summary_writer_class()  # not installed: said before anything is written
    ctx = distributed.from_env(cfg.train.device)
    for line in said if ctx.is_main else []:
        print(f"ganforge: {line}", flush=True)
    try:
        if ctx.enabled:  # one run directory for the job: rank 0's (default names hold a time)
            paths = RunPaths(Path(distributed.from_main(str(paths.root), ctx)))
        result = _train_in_job(cfg, paths, resume, ctx, source)
        if ctx.enabled:
            distributed.barrier(ctx)  # leave together: a rank tearing down early aborts others
        return result
    finally:
        if ctx.enabled:
            distributed.shutdown()


def _train_in_job(
    cfg: Config, paths: RunPaths, resume: bool, ctx: DistContext, source: InitSource | None
) -> TrainResult:
    """Everything after the config: one process, or one rank of a ``torchrun`` job."""
    if ctx.enabled:
        distributed.per_rank_batch(cfg.train.batch, ctx)
    failure: Exception | None = None
    if ctx.is_main:
        try:
            _check_out_dir(paths, resume=resume)
        except RunError as exc:
            failure = exc
    if distributed.any_rank(failure is not None, ctx):
        raise failure or RunError("rank 0 refused the run directory; see its message")
    modality = MODALITIES.get(spec_modality(cfg.data.spec))
    modality.holdout(cfg)  # a share asked of data that keeps none: one line
    dataset = load_dataset(cfg.data.spec, seed=cfg.train.seed, **modality.load_options(cfg))
    if cfg.data.conditional and not dataset.conditional:
        raise ConfigError(
            f"data.conditional=true but dataset '{cfg.data.spec}' has no class labels; "
            "set data.conditional=false"
        )
    # a loader's own lines (e.g. what it detected), then what was adjusted to fit
    notes = list(dataset.info.pop("notes", [])) + _fit_data_to_model(cfg, modality, dataset, ctx)
    length = modality.training_length(cfg, dataset)  # train.steps 0: sized to the data
    notes += [length] if length else []
    if ctx.is_main:
        for note in notes:
            print(f"ganforge: {note}", flush=True)
    if cfg.eval.every:
        modality.check_periodic(cfg)
    num_classes = dataset.num_classes if cfg.data.conditional else 0
    torch.manual_seed(cfg.train.seed)  # the networks' initial weights follow the seed
    G, D = build_from_config(cfg, dataset.sample_shape, num_classes, dataset.info)
    if source is not None:  # checked before anything is written: a mismatch is one line
        copy_networks(source, G, D)
    elif not resume:  # every rank alike (same seed), so the replicas start equal
        plan = modality.warm_start_plan(cfg, G)
        if plan and ctx.is_main:
            print(f"ganforge: {plan}", flush=True)
        for note in modality.warm_start(G, D, dataset, cfg, cfg.log.progress and ctx.is_main):
            if ctx.is_main:
                print(f"ganforge: {note}", flush=True)
    if not ctx.is_main:
        distributed.barrier(ctx)  # wait for rank 0 to set up the run directory
        return _train_locked(
            cfg, paths, modality, dataset, G, D, num_classes, resume, ctx, source
        )
    try:
        paths.root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create run directory {paths.root}: {exc.strerror}") from None
    with RunLock(paths.root):
        _check_out_dir(paths, resume=resume)  # again, now that no one else can write here
        return _train_locked(
            cfg, paths, modality, dataset, G, D, num_classes, resume, ctx, source
        )


def _train_locked(
    cfg: Config,
    paths: RunPaths,
    modality: Any,
    dataset: Any,
    G: torch.nn.Module,
    D: torch.nn.Module,
    num_classes: int,
    resume: bool,
    ctx: DistContext = distributed.SINGLE,
    source: InitSource | None = None,
) -> TrainResult:
    parts = {
        "transform": modality.d_transform(cfg),
        "aux": aux_losses_for(modality, cfg, dataset),
    }
    data = modality.training_data(dataset, cfg, ctx)
    if not ctx.is_main:  # rank 0 writes every file; the others train and return
        trainer = Trainer(G, D, data, cfg, run_dir=paths.root, dist=ctx, **parts)
        if source is not None:
            finish(source, trainer)
        if resume:
            trainer.resume()
        return _result(paths, _fit(trainer, ctx), rank=ctx.rank)
    try:
        paths.samples.mkdir(exist_ok=True)
        ckpt.atomic_write_text(paths.config, config_mod.dump(cfg, dataset.modality))
    except OSError as exc:
        raise RunError(
            f"cannot write in {paths.root}: {exc.strerror}; choose another --out"
        ) from None
    meta = {
        "sample_shape": list(dataset.sample_shape),
        "num_classes": num_classes,
        "class_names": dataset.class_names,
        "modality": dataset.modality,
        "dataset": dataset.name,
        "dataset_size": len(dataset),
        "info": _jsonable(dataset.info),
        "skipped_files": dataset.skipped[:1000],
        "processes": ctx.world_size,
    }
    distributed.barrier(ctx)  # the run directory is ready for the other ranks

    info = {**meta["info"], "class_names": meta["class_names"]}
    pictures = SampleHook(paths, modality, info, cfg, G, data)
    hooks: list[Any] = [pictures] if cfg.log.pictures else []
    if cfg.eval.every:
        scorer = periodic_scorer_for(modality, cfg, dataset.sample_shape, info)
        hooks.append(PeriodicEval(paths.root, cfg, scorer, modality, meta))
    board = TensorBoardHook(paths, modality, pictures, cfg) if cfg.log.tensorboard else None
    hooks += [board] if board is not None else []
    trainer = Trainer(G, D, data, cfg, run_dir=paths.root, hooks=hooks, dist=ctx, **parts)
    if source is not None:
        print(f"ganforge: {finish(source, trainer)}", flush=True)
        meta["init_from"] = source.as_meta()
    meta["speed"] = trainer.speed.as_dict()  # what precision/layout "auto" chose here
    write_meta(paths, meta)  # after the Trainer: its DDP set-up is a collective, like the barrier
    if cfg.log.progress:
        print(_speed_line(trainer, ctx), flush=True)
    if resume:
        trainer.resume()
    if board is not None:
        board.begin(trainer.step)
    try:
        summary = _fit(trainer, ctx)
    finally:
        if board is not None:
            board.close()  # the final step's eval records too

    gif = build_gif(paths)
    eq = None
    if cfg.log.pictures:
        eq = plot_equilibrium(paths.metrics, paths.equilibrium, title=f"{cfg.preset or 'run'}")
    last_eval = _last_eval(paths)
    final = pictures.final(trainer, last_eval) if trainer.step > 0 and cfg.log.pictures else None
    return _result(
        paths,
        summary,
        samples=final,
        files=dict(pictures.files),
        gif=gif,
        equilibrium=eq,
        metrics={**{k: v for k, v in summary.items() if isinstance(v, float)}, **last_eval},
        skipped_files=list(dataset.skipped),
    )


def _fit_data_to_model(cfg: Config, modality: Any, dataset: Any, ctx: DistContext) -> list[str]:
    """The sensible thing where the data and the settings do not fit, said in one line each:
    a batch larger than the data shrinks to it; samples of a size the network family does
    not take are resized to the nearest size it does (when the modality can resize)."""
    notes = []
    n = len(dataset)
    if cfg.train.batch > n:
        step = ctx.world_size * (cfg.model.pack or 1)
        batch = (n // step) * step
        if batch < step:
            raise ConfigError(
                f"the dataset holds {n} samples, too few for one batch of {step}; add data"
            )
        notes.append(
            f"train.batch={cfg.train.batch} is larger than the dataset ({n} samples): "
            f"training with train.batch={batch}"
        )
        cfg.train.batch = batch
    step = ctx.world_size * (cfg.model.pack or 1)
    if cfg.train.batch % step:
        batch = max(step, cfg.train.batch // step * step)
        notes.append(
            f"train.batch={cfg.train.batch} does not split into packs of model.pack="
            f"{cfg.model.pack or 1} on {ctx.world_size} process(es): training with "
            f"train.batch={batch}"
        )
        cfg.train.batch = batch

    fit = ARCHITECTURES.get(cfg.model.arch).fit_shape
    shape = tuple(dataset.sample_shape)
    want = tuple(fit(shape)) if fit is not None else shape
    if want != shape and modality.resize(dataset, want, cfg) is not None:
        shown = "x".join(map(str, shape))
        notes.append(
            f"{cfg.model.arch} does not take samples of {shown}: resized them to "
            f"{'x'.join(map(str, want))}"
        )
    return notes


def _check_spec_given(cfg: Config) -> None:
    """A preset made for the user's own data (``data.spec: "folder:"``) names no data yet."""
    name, _, arg = cfg.data.spec.strip().partition(":")
    entry = DATASETS.get(name.lower()) if name.lower() in DATASETS else None
    if entry is not None and entry.arg == "required" and not arg:
        raise ConfigError(f"this preset trains on your data: give --data {entry.shown}")


def _speed_line(trainer: Trainer, ctx: DistContext) -> str:
    """One line saying how this run computes, so a user knows what ``auto`` chose."""
    plan, t = trainer.speed, trainer.cfg.train
    parts = ["bf16 autocast" if plan.precision == "bf16" else "fp32"]
    if plan.channels_last:
        parts.append("channels_last")
    if plan.spectral_conv:
        parts.append("spectral convs")
    if plan.shared_backward:
        parts.append("shared D backward")
    if plan.compile:
        parts.append("torch.compile")
    where = f"{trainer.device.type}" + (f", {ctx.world_size} processes" if ctx.enabled else "")
    chosen = [
        k
        for k, v in (
            ("precision", t.precision),
            ("channels_last", t.channels_last),
            ("spectral_conv", t.spectral_conv),
        )
        if v == "auto"
    ]
    how = f" ({', '.join('train.' + k for k in chosen)}=auto)" if chosen else ""
    return f"training on {where}: {', '.join(parts)}{how}"


def _fit(trainer: Trainer, ctx: DistContext) -> dict[str, Any]:
    summary = trainer.fit()
    if ctx.enabled and summary["interrupted"]:
        # torchrun repeats its signal to every rank: let rank 0 finish its pictures and all
        # ranks meet at the final barrier (torchrun kills what is left after 30 s anyway)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
    return summary


def _result(paths: RunPaths, summary: dict[str, Any], **extra: Any) -> TrainResult:
    return TrainResult(
        run_dir=paths.root,
        step=summary["step"],
        interrupted=summary["interrupted"],
        elapsed_s=summary["elapsed_s"],
        samples_seen=summary["samples_seen"],
        stopped_early=summary.get("stopped_early"),
        best=paths.root / "best" if (paths.root / "best").is_dir() else None,
        **extra,
    )


def _last_eval(paths: RunPaths) -> dict[str, Any]:
    evals = read_metrics(paths.metrics, kind="eval")
    if not evals:
        return {}
    return {k: v for k, v in evals[-1].items() if k not in ("step", "kind")}


def _jsonable(obj: Any) -> Any:
    if torch.is_tensor(obj):
        return obj.tolist()
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj
