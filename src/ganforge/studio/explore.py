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

from ganforge.errors import ConfigError

MAX_SAMPLES = 64
_LOCK = threading.Lock()
_RUNS: dict[Path, tuple[Path, Any]] = {}


def load(run_dir: Path) -> Any:
    """The run at its latest checkpoint (reloaded when a newer checkpoint appears)."""
    from ganforge.engine import checkpoint as ckpt
    from ganforge.run import Run

    run_dir = Path(run_dir)
    latest = ckpt.latest_checkpoint(run_dir / "checkpoints")
    with _LOCK:
        cached = _RUNS.get(run_dir)
        if cached is not None and cached[0] == latest:
            return cached[1]
        run = Run(run_dir)
        _RUNS[run_dir] = (latest, run)
        return run


def _bounded(n: int) -> int:
    if not 1 <= n <= MAX_SAMPLES:
        raise ConfigError(f"n must be 1..{MAX_SAMPLES}; got {n}")
    return n


def draw(
    run: Any, n: int, seed: int, label: str | None = None, temperature: float | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """``n`` samples of ``run`` and the info its modality renders them with."""
    from ganforge.sampling import class_id

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
    try:
        with _LOCK:
            samples = run.sample(_bounded(n), seed=seed, labels=labels)
    finally:
        if before is not None:
            G.temperature = before
    return samples, info


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


def walk(run: Any, a: int, b: int, t: float, n: int) -> tuple[torch.Tensor, dict[str, Any]]:
    """Samples a fraction ``t`` of the way from seed ``a``'s latents to seed ``b``'s."""
    from ganforge.engine.latent import interpolate_latent, sample_latent

    if not 0.0 <= t <= 1.0:
        raise ConfigError(f"t must be in 0..1; got {t}")
    G = run.generator
    za = sample_latent(G, _bounded(n), generator=torch.Generator().manual_seed(a))
    zb = sample_latent(G, n, generator=torch.Generator().manual_seed(b))
    with _LOCK:
        samples = run.sample(z=interpolate_latent(G, za, zb, t))
    return samples, dict(run.info)
