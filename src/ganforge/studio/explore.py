"""Drawing from a run's generator for the studio: pictures, files in the modality's own
formats (a WAV to play, a CSV to download) and walks between two seeds. Requests are
bounded (``MAX_SAMPLES``); runs are loaded once per checkpoint and kept."""

from __future__ import annotations

import io
import tempfile
import threading
from pathlib import Path
from typing import Any

import torch

from ganforge.data.specs import load_dataset
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.latent import interpolate_latent, sample_latent
from ganforge.errors import ConfigError
from ganforge.run import Run
from ganforge.sampling import check_keep, class_id, parse_conditions
from ganforge.synthetic import truncated

MAX_SAMPLES = 64  # per request; a modality that pictures more (tables: rows) gets that
LIMIT = 10000
_LOCK = threading.Lock()  # the caches below
_RUNS: dict[Path, tuple[Path, Any]] = {}
_LOADING: dict[Path, threading.Lock] = {}
_USING: dict[int, threading.Lock] = {}


def load(run_dir: Path) -> Any:
    """The run at its latest checkpoint (reloaded when a newer checkpoint appears); two
    requests for one run load it once, other runs load meanwhile."""
    run_dir = Path(run_dir)
    with _LOCK:
        loading = _LOADING.setdefault(run_dir, threading.Lock())
    with loading:
        latest = ckpt.latest_checkpoint(run_dir / "checkpoints")
        cached = _RUNS.get(run_dir)
        if cached is not None and cached[0] == latest:
            return cached[1]
        run = Run(run_dir)
        with _LOCK:
            _RUNS[run_dir] = (latest, run)
        return run


def using(run: Any) -> threading.Lock:
    """The lock held while ``run``'s generator draws (a draw may set its temperature);
    draws from other runs go on meanwhile."""
    with _LOCK:
        return _USING.setdefault(id(run.generator), threading.Lock())


def bound(run: Any) -> int:
    """The most samples one request may draw from ``run``."""
    return min(LIMIT, max(MAX_SAMPLES, int(run.modality_obj.picture_count(run.config))))


def bound_check(run: Any, n: int) -> int:
    """``n`` if one request may draw that many samples of ``run``, else a ConfigError."""
    return _bounded(n, run)


def _bounded(n: int, run: Any) -> int:
    top = bound(run)
    if not 1 <= n <= top:
        raise ConfigError(f"n must be 1..{top}; got {n}")
    return n


def draw(
    run: Any,
    n: int,
    seed: int,
    label: str | None = None,
    temperature: float | None = None,
    condition: str | None = None,
    truncation: float | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """``n`` samples of ``run`` and the info its modality renders them with; ``condition``
    (``COLUMN=VALUE``, several separated by ``;``) asks a table for rows that all hold those
    values; ``truncation`` draws the latents within +-that (the truncation trick)."""
    info, labels = dict(run.info), None
    G = run.generator
    before = getattr(G, "temperature", None)
    if temperature is not None:
        info["temperature"] = float(temperature)
        if before is not None:
            G.temperature = float(temperature)
    if label not in (None, ""):
        labels = torch.full((n,), class_id(run, label), dtype=torch.long)
        info["conditions"] = labels
        info["class_names"] = run.meta.get("class_names")
    asked = parse_conditions([c for c in (condition or "").split(";") if c.strip()])
    several = len(asked) > 1  # the modality's own way (tables: the rarest value, then rejection)
    if several and truncation is not None:
        raise ConfigError("truncation applies to one condition at a time; ask for one")
    if len(asked) == 1:
        labels, value = run.modality_obj.asked_conditions(run.info, asked, _bounded(n, run))
        info["asked"] = {next(iter(asked)): value}
    z = None if several else latents(run, _bounded(n, run), seed, truncation)
    try:
        with using(run):
            if several:
                samples, drawn = run.modality_obj.sample_asked(run, _bounded(n, run), asked, seed)
                info["asked"] = drawn["asked"]
            else:
                samples = run.sample(seed=seed, labels=labels, z=z)
    finally:
        if before is not None:
            G.temperature = before
    return samples, info


def latents(run: Any, n: int, seed: int, truncation: float | None = None) -> Any:
    """The run's ``n`` latents of ``seed``; with ``truncation``, every entry beyond
    +-``truncation`` drawn again (from ``seed`` too) until none is."""
    z = run.latent(n, seed)
    if truncation is None:
        return z
    if not 0 < truncation <= 10:
        raise ConfigError(f"truncation must be in (0, 10]; got {truncation}")
    return truncated(z, truncation, torch.Generator().manual_seed(seed + 1))


def png(samples: torch.Tensor, run: Any, info: dict[str, Any], title: str = "") -> bytes:
    info = {**info, "title": title}
    img = run.modality_obj.picture(samples, info)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def as_file(samples: torch.Tensor, run: Any, info: dict[str, Any], suffix: str) -> bytes:
    """Samples written by the modality as ``suffix`` (``.wav``, ``.mid``, ``.csv``, ...)."""
    with tempfile.TemporaryDirectory(prefix="ganforge-studio-") as tmp:
        path = Path(tmp) / f"samples{suffix}"
        run.modality_obj.save(samples, path, info)
        return path.read_bytes()


def walk(
    run: Any, a: int, b: int, t: float, n: int, keep: tuple[str, ...] = ()
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Samples a fraction ``t`` of the way from seed ``a``'s latents to seed ``b``'s; the
    latent parts named in ``keep`` (a video's ``motion``, say) stay at seed ``a``'s."""
    if not 0.0 <= t <= 1.0:
        raise ConfigError(f"t must be in 0..1; got {t}")
    G = run.generator
    za = sample_latent(G, _bounded(n, run), generator=torch.Generator().manual_seed(a))
    zb = sample_latent(G, n, generator=torch.Generator().manual_seed(b))
    check_keep(za, keep)
    with using(run):
        samples = run.sample(z=interpolate_latent(G, za, zb, t, keep))
    return samples, dict(run.info)


def latent_parts(run: Any) -> list[str]:
    """The named parts of the run's latent (``content``, ``motion``), none for a plain one."""
    z = sample_latent(run.generator, 1, generator=torch.Generator().manual_seed(0))
    return list(z) if isinstance(z, dict) else []


_DATA: dict[Path, torch.Tensor] = {}
_DATA_LOCK = threading.Lock()  # one run's data loads at a time, once
MAX_REFERENCE = 20000


def training_samples(run: Any) -> torch.Tensor:
    """Up to ``MAX_REFERENCE`` of the run's training samples in model space, loaded as
    training loaded them (once per run)."""
    key = Path(run.paths.root)
    with _DATA_LOCK:
        if key not in _DATA:
            cfg = run.config
            options = run.modality_obj.load_options(cfg)
            ds = load_dataset(cfg.data.spec, seed=cfg.train.seed, **options)
            pick = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0))
            pick = pick[:MAX_REFERENCE].sort().values
            _DATA[key] = ds.to_model(ds.data[pick]).float()
        return _DATA[key]


def nearest(run: Any, samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each sample, the closest training sample (Euclidean distance in model space)
    and that distance: a memorisation check."""
    real = training_samples(run)
    fake = samples.detach().float().cpu().flatten(1)
    flat = real.flatten(1)
    best_d = torch.full((len(fake),), float("inf"))
    best_i = torch.zeros(len(fake), dtype=torch.long)
    for i in range(0, len(flat), 4096):
        d = torch.cdist(fake, flat[i : i + 4096])
        v, j = d.min(1)
        better = v < best_d
        best_d = torch.where(better, v, best_d)
        best_i = torch.where(better, j + i, best_i)
    return real[best_i], best_d


def pair_picture(run: Any, samples: torch.Tensor, info: dict[str, Any]) -> bytes:
    """The samples above their nearest training samples, as one PNG."""
    from PIL import Image

    match, dist = nearest(run, samples)
    mean = float(dist.mean())
    top = run.modality_obj.picture(samples, {**info, "title": "generated"})
    below = run.modality_obj.picture(
        match, {**info, "title": f"nearest training samples (mean distance {mean:.2f})"}
    )
    img = Image.new("RGB", (max(top.width, below.width), top.height + below.height + 12), "white")
    img.paste(top.convert("RGB"), (0, 0))
    img.paste(below.convert("RGB"), (0, top.height + 12))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
