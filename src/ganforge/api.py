"""The Python API behind every command: train, sample, interpolate.

>>> import ganforge
>>> result = ganforge.train("toy-ring8", out="runs/ring", steps=500)   # doctest: +SKIP
>>> ganforge.sample("runs/ring", n=2500, out="ring.csv")              # doctest: +SKIP
"""

from __future__ import annotations

import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganforge import config as config_mod
from ganforge.config import Config
from ganforge.data import load_dataset
from ganforge.engine import checkpoint as ckpt
from ganforge.engine import distributed
from ganforge.engine.distributed import DistContext
from ganforge.engine.lock import RunLock
from ganforge.engine.trainer import Trainer
from ganforge.errors import ConfigError, DataError, RunError
from ganforge.modalities import get_modality, save_gif, save_png
from ganforge.plots import plot_equilibrium
from ganforge.run import Run, RunPaths, build_from_config, write_meta


@dataclass
class TrainResult:
    """What a training session produced and where it lies."""

    run_dir: Path
    step: int
    interrupted: bool
    elapsed_s: float
    images_seen: int
    samples: Path | None = None
    gif: Path | None = None
    equilibrium: Path | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)
    rank: int = 0  # this process's rank in a torchrun job (rank 0 wrote the run)


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


def _picture_batch(modality: str, cfg: Config) -> int:
    return cfg.log.toy_samples if modality == "points" else cfg.log.n_samples


def _sample_hook(paths: RunPaths, modality_name: str, info: dict[str, Any], cfg: Config):
    modality = get_modality(modality_name)
    n = _picture_batch(modality_name, cfg)
    gen = torch.Generator().manual_seed(cfg.train.seed + 777)
    z_big = torch.randn(n, cfg.model.z_dim, generator=gen)

    def hook(trainer: Trainer, step: int) -> dict[str, Any]:
        if modality_name == "points":
            samples = trainer.generate(z_big)
        else:
            samples = trainer.generate(trainer.fixed_z, trainer.fixed_labels)
        metrics = modality.metrics(samples, info)
        title = f"step {step}"
        if metrics.get("num_modes"):
            title += (
                f": {metrics['modes_covered']}/{metrics['num_modes']} modes, "
                f"{metrics['high_quality']:.0%} high quality"
            )
        picture = modality.picture(samples, {**info, "title": title})
        paths.samples.mkdir(parents=True, exist_ok=True)
        save_png(picture, paths.samples / f"step-{step:08d}.png")
        return metrics

    return hook


def build_gif(paths: RunPaths, max_frames: int = 60) -> Path | None:
    """The progress GIF from the run's sample pictures (fixed latents, in step order)."""
    from PIL import Image

    frames = sorted(paths.samples.glob("step-*.png"))
    if not frames:
        return None
    if len(frames) > max_frames:
        idx = torch.linspace(0, len(frames) - 1, max_frames).round().long().unique().tolist()
        frames = [frames[i] for i in idx]
    images = []
    for f in frames:
        with Image.open(f) as im:
            images.append(im.convert("RGB"))
    return save_gif(images, paths.gif)


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
) -> TrainResult:
    """Train a GAN and write a run directory.

    ``config`` is a preset name (see :func:`ganforge.config.list_presets`), a YAML path or a
    :class:`Config`. ``overrides`` are ``"key=value"`` strings. With ``resume=True`` the run
    in ``out`` continues exactly where its newest checkpoint left off (``steps`` may extend it).
    """
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
    if cfg.data.spec.rstrip(":") == "folder":
        raise ConfigError("this preset trains on your images: give --data folder:PATH")
    ctx = distributed.from_env(cfg.train.device)
    try:
        if ctx.enabled:  # one run directory for the job: rank 0's (default names hold a time)
            paths = RunPaths(Path(distributed.from_main(str(paths.root), ctx)))
        result = _train_in_job(cfg, paths, resume, ctx)
        if ctx.enabled:
            distributed.barrier(ctx)  # leave together: a rank tearing down early aborts others
        return result
    finally:
        if ctx.enabled:
            distributed.shutdown()


def _train_in_job(cfg: Config, paths: RunPaths, resume: bool, ctx: DistContext) -> TrainResult:
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
    dataset = load_dataset(
        cfg.data.spec,
        image_size=cfg.data.image_size,
        channels=cfg.data.channels,
        seed=cfg.train.seed,
    )
    if cfg.data.conditional and not dataset.conditional:
        raise ConfigError(
            f"data.conditional=true but dataset '{cfg.data.spec}' has no class labels; "
            "set data.conditional=false"
        )
    if cfg.train.batch > len(dataset):
        raise ConfigError(
            f"train.batch={cfg.train.batch} is larger than the dataset ({len(dataset)} "
            f"samples); set train.batch to at most {len(dataset)}"
        )
    if cfg.eval.every:
        from ganforge.evaluation import PeriodicEval

        PeriodicEval.check(cfg, dataset.modality)
    num_classes = dataset.num_classes if cfg.data.conditional else 0
    torch.manual_seed(cfg.train.seed)  # the networks' initial weights follow the seed
    G, D = build_from_config(cfg, dataset.sample_shape, num_classes)
    if not ctx.is_main:
        distributed.barrier(ctx)  # wait for rank 0 to set up the run directory
        return _train_locked(cfg, paths, dataset, G, D, num_classes, resume, ctx)
    try:
        paths.root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create run directory {paths.root}: {exc.strerror}") from None
    with RunLock(paths.root):
        _check_out_dir(paths, resume=resume)  # again, now that no one else can write here
        return _train_locked(cfg, paths, dataset, G, D, num_classes, resume, ctx)


def _train_locked(
    cfg: Config,
    paths: RunPaths,
    dataset: Any,
    G: torch.nn.Module,
    D: torch.nn.Module,
    num_classes: int,
    resume: bool,
    ctx: DistContext = distributed.SINGLE,
) -> TrainResult:
    if not ctx.is_main:  # rank 0 writes every file; the others train and return
        trainer = Trainer(G, D, dataset, cfg, run_dir=paths.root, dist=ctx)
        if resume:
            trainer.resume()
        return _result(paths, _fit(trainer, ctx), rank=ctx.rank)
    try:
        paths.samples.mkdir(exist_ok=True)
        ckpt.atomic_write_text(paths.config, config_mod.dump(cfg))
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

    hooks = [_sample_hook(paths, dataset.modality, meta["info"], cfg)]
    if cfg.eval.every:
        from ganforge.evaluation import PeriodicEval

        hooks.append(PeriodicEval(paths.root, cfg, dataset.sample_shape))
    trainer = Trainer(G, D, dataset, cfg, run_dir=paths.root, hooks=hooks, dist=ctx)
    meta["speed"] = trainer.speed.as_dict()  # what precision/layout "auto" chose here
    write_meta(paths, meta)  # after the Trainer: its DDP set-up is a collective, like the barrier
    if cfg.log.progress:
        print(_speed_line(trainer, ctx), flush=True)
    if resume:
        trainer.resume()
    summary = _fit(trainer, ctx)

    gif = build_gif(paths)
    eq = plot_equilibrium(paths.metrics, paths.equilibrium, title=f"{cfg.preset or 'run'}")
    final = None
    if trainer.step > 0:
        final_samples = trainer.generate(trainer.fixed_z, trainer.fixed_labels)
        if dataset.modality == "points":
            gen = torch.Generator().manual_seed(cfg.train.seed + 777)
            final_samples = trainer.generate(
                torch.randn(cfg.log.toy_samples, cfg.model.z_dim, generator=gen)
            )
        modality = get_modality(dataset.modality)
        last = _last_eval(paths)
        title = f"step {trainer.step}"
        if "num_modes" in last:
            title += (
                f": {last['modes_covered']}/{last['num_modes']} modes, "
                f"{last['high_quality']:.0%} high quality"
            )
        picture = modality.picture(final_samples, {**meta["info"], "title": title})
        final = save_png(picture, paths.samples / "final.png")
    last_eval = _last_eval(paths)
    return _result(
        paths,
        summary,
        samples=final,
        gif=gif,
        equilibrium=eq,
        metrics={**{k: v for k, v in summary.items() if isinstance(v, float)}, **last_eval},
        skipped_files=list(dataset.skipped),
    )


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
        images_seen=summary["images_seen"],
        **extra,
    )


def _last_eval(paths: RunPaths) -> dict[str, Any]:
    from ganforge.plots import read_metrics

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


def load_run(run_dir: str | Path, device: str = "cpu") -> Run:
    """A trained run, ready to sample: ``load_run(RUN).sample(16)``."""
    return Run(run_dir, device=device)


def sample(
    run_dir: str | Path,
    n: int = 64,
    out: str | Path | None = None,
    seed: int = 0,
    label: int | None = None,
) -> Path:
    """Draw ``n`` samples and write them.

    ``out`` decides the form: ``.png`` a picture (grid or scatter), ``.npy`` / ``.csv`` raw
    samples one row each (``.csv`` for flat data only), anything else a folder of PNG files.
    """
    if n < 1:
        raise ConfigError(f"--n must be at least 1; got {n}")
    run = load_run(run_dir)
    labels = None
    if label is not None:
        if run.num_classes < 2:
            raise ConfigError(
                "--label needs a conditional run (trained with data.conditional=true)"
            )
        if not 0 <= label < run.num_classes:
            raise ConfigError(f"--label must be in 0..{run.num_classes - 1}; got {label}")
        labels = torch.full((n,), label, dtype=torch.long)
    samples = run.sample(n, seed=seed, labels=labels)
    modality = get_modality(run.modality)
    out = Path(out) if out is not None else run.paths.root / f"samples-seed{seed}.png"
    if out.parent and not out.parent.exists():
        raise ConfigError(f"folder {out.parent} does not exist; create it or choose another --out")
    if out.suffix.lower() == ".png":
        return save_png(modality.picture(samples, run.info), out)
    if out.suffix.lower() == ".csv" and run.modality == "image":
        raise ConfigError("image samples cannot be written as .csv; use .png, .npy or a folder")
    return modality.save_raw(samples, out)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between rows of ``z0`` and ``z1`` (linear when they align)."""
    n0 = z0 / z0.norm(dim=1, keepdim=True).clamp_min(1e-12)
    n1 = z1 / z1.norm(dim=1, keepdim=True).clamp_min(1e-12)
    omega = torch.arccos((n0 * n1).sum(1).clamp(-1, 1)).unsqueeze(1)
    so = torch.sin(omega)
    lerp = (1 - t) * z0 + t * z1
    safe = so.abs() > 1e-6
    sl = (
        torch.sin((1 - t) * omega) / so.where(safe, 1) * z0
        + torch.sin(t * omega) / so.where(safe, 1) * z1
    )
    return torch.where(safe, sl, lerp)


def interpolate(
    run_dir: str | Path,
    frames: int = 48,
    out: str | Path | None = None,
    seed: int = 0,
    n: int | None = None,
    keyframes: int = 4,
) -> Path:
    """A looping GIF walking the latent space along great circles (slerp) between keyframes."""
    if frames < 2:
        raise ConfigError(f"--frames must be at least 2; got {frames}")
    run = load_run(run_dir)
    modality = get_modality(run.modality)
    n = n or (run.config.log.toy_samples if run.modality == "points" else 16)
    gen = torch.Generator().manual_seed(seed)
    keys = [torch.randn(n, run.generator.z_dim, generator=gen) for _ in range(keyframes)]
    per_leg = max(1, math.ceil(frames / keyframes))
    pictures = []
    for k in range(keyframes):
        z0, z1 = keys[k], keys[(k + 1) % keyframes]
        for i in range(per_leg):
            z = slerp(z0, z1, i / per_leg)
            pictures.append(modality.picture(run.sample(z=z), run.info))
    pictures = pictures[:frames]
    out = Path(out) if out is not None else run.paths.root / "interpolation.gif"
    if out.parent and not out.parent.exists():
        raise ConfigError(f"folder {out.parent} does not exist; create it or choose another --out")
    return save_gif(pictures, out, ms_per_frame=80)


__all__ = [
    "DataError",
    "TrainResult",
    "interpolate",
    "load_run",
    "resolve_config",
    "sample",
    "slerp",
    "train",
]
