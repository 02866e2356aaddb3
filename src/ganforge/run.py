"""The run directory: the contract every command reads and writes.

::

    RUN/
      config.yaml        resolved config (what was actually trained)
      run.json           what sampling needs without the data: shapes, classes, modality
      metrics.jsonl      one JSON record per log step (train) and per sample step (eval)
      checkpoints/       step-XXXXXXXX/{weights.safetensors, optim.safetensors, state.json}
      samples/           step-XXXXXXXX.png pictures (the modality's), final.png
      progress.gif       the fixed latent batch across training
      equilibrium.png    D(x), D(G(z)), losses, V(D,G), JS bound, gradient norms
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganforge import config as config_mod
from ganforge.config import Config
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.latent import sample_latent
from ganforge.engine.protocols import batch_size, take, to_device
from ganforge.errors import ConfigError, RunError
from ganforge.generating import generate
from ganforge.modality import conditions_for
from ganforge.registry import ARCHITECTURES, MODALITIES


@dataclass
class RunPaths:
    """Where things live inside a run directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def meta(self) -> Path:
        return self.root / "run.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def gif(self) -> Path:
        return self.root / "progress.gif"

    @property
    def equilibrium(self) -> Path:
        return self.root / "equilibrium.png"


def build_from_config(
    cfg: Config,
    sample_shape: tuple[int, ...],
    num_classes: int,
    info: dict[str, Any] | None = None,
) -> tuple[nn.Module, nn.Module]:
    """G and D of the registered architecture ``model.arch`` for a data shape (and the
    dataset's ``info`` for families that read it), with errors phrased for config users."""
    arch = ARCHITECTURES.get(cfg.model.arch)
    extra = {"info": info or {}} if arch.takes_info else {}
    try:
        return arch.build(cfg, tuple(int(s) for s in sample_shape), num_classes, **extra)
    except ValueError as exc:
        raise ConfigError(f"model: {exc}") from None


def checkpoint_steps(root: Path | str) -> list[int]:
    """The steps of the complete checkpoints kept in run directory ``root``, oldest first."""
    return [
        ckpt.checkpoint_step(p) for p in ckpt.list_checkpoints(RunPaths(Path(root)).checkpoints)
    ]


def _checkpoint_at(folder: Path, step: int) -> Path:
    kept = {ckpt.checkpoint_step(p): p for p in ckpt.list_checkpoints(folder)}
    if step not in kept:
        listed = ", ".join(map(str, kept)) or "none"
        raise RunError(f"no checkpoint of step {step} is kept in {folder} (kept: {listed})")
    return kept[step]


class Run:
    """A trained (or training) run loaded from its directory, ready to sample: its latest
    checkpoint, with ``best`` the best one by ``eval.metric`` (``RUN/best/``), or with
    ``step`` the kept checkpoint of that step (``log.keep_checkpoints`` says how many are
    kept)."""

    def __init__(
        self, root: Path | str, device: str = "cpu", best: bool = False, step: int | None = None
    ) -> None:
        self.paths = RunPaths(Path(root))
        if not self.paths.root.is_dir():
            raise RunError(f"run directory {root} does not exist; train one with `ganforge train`")
        if not self.paths.config.is_file() or not self.paths.meta.is_file():
            raise RunError(
                f"{root} is not a ganforge run directory (no config.yaml / run.json); "
                "give the --out directory of a `ganforge train` run"
            )
        ignored: list[str] = []  # sections of plug-ins no longer installed
        self.config = config_mod.from_dict(config_mod.read_yaml(self.paths.config), ignored)
        for name in ignored:
            print(
                f"ganforge: {self.paths.config}: section '{name}' ignored: "
                "no installed plug-in reads it",
                file=sys.stderr,
            )
        try:
            self.meta: dict[str, Any] = json.loads(self.paths.meta.read_text(encoding="utf-8"))
            shape = tuple(int(s) for s in self.meta["sample_shape"])
            num_classes = int(self.meta["num_classes"])
            str(self.meta["modality"])
        except (OSError, ValueError, KeyError, TypeError) as exc:  # ValueError: bad UTF-8/JSON
            raise RunError(
                f"{self.paths.meta} is damaged ({type(exc).__name__}); restore it or train again"
            ) from None
        if best:
            self.checkpoint = ckpt.latest_checkpoint(self.paths.root / "best")
            if self.checkpoint is None:
                raise RunError(
                    f"run {root} has no best checkpoint: it is kept when training with "
                    "--set eval.every=N (an evaluation every N steps); leave out --best"
                )
        elif step is not None:
            self.checkpoint = _checkpoint_at(self.paths.checkpoints, step)
        else:
            self.checkpoint = ckpt.latest_checkpoint(self.paths.checkpoints)
        if self.checkpoint is None:
            if ckpt.list_checkpoints(self.paths.checkpoints):
                raise RunError(
                    f"run {root} has checkpoints but none can be read (damaged); "
                    "train it again or restore its checkpoints/ folder"
                )
            raise RunError(f"run {root} has no complete checkpoint yet; train it first")
        self.device = torch.device(device)
        G, _ = build_from_config(self.config, shape, num_classes, self.meta.get("info"))
        weights, _, state = ckpt.load_checkpoint(self.checkpoint)
        ema = ckpt.split_prefixed(weights, "G_ema")
        try:
            G.load_state_dict(ema or ckpt.split_prefixed(weights, "G"))
            self.step = int(state["step"])
        except (RuntimeError, KeyError, TypeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RunError(
                f"checkpoint {self.checkpoint} does not match the run's config.yaml "
                f"({first[:160]}); it may be damaged or come from another run"
            ) from None
        self.used_ema = bool(ema)
        self.generator = G.to(self.device).eval()

    @property
    def modality(self) -> str:
        """The name of the run's modality (``image``, ``points``, a plug-in's)."""
        return str(self.meta["modality"])

    @property
    def modality_obj(self) -> Any:
        """The registered modality that renders and measures this run's samples."""
        return MODALITIES.get(self.modality)

    @property
    def num_classes(self) -> int:
        return int(self.meta["num_classes"])

    @property
    def info(self) -> dict[str, Any]:
        return dict(self.meta.get("info", {}))

    def __getattr__(self, name: str) -> Any:
        # what the modality tells of its samples (video: ``fps``), once the run is loaded
        if not name.startswith("_") and "meta" in self.__dict__:
            props = getattr(self.modality_obj, "run_properties", None)
            if props is not None and name in (found := props(self.info)):
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def generate(self, n: int = 1, seed: int | None = None, **knobs: Any) -> Any:
        """``n`` samples as the modality's users hold them: PIL images, a DataFrame, ``str``,
        ``PrettyMIDI``, uint8 clips (frames, height, width, channels), a 2-D array. ``seed``:
        an ``int`` gives the same samples each call, None new ones; ``knobs``: the
        modality's ``generate_knobs`` (see :mod:`ganforge.generating`)."""
        return generate(self, n, seed, **knobs)

    def latent(self, n: int, seed: int = 0) -> Any:
        """``n`` latent codes of the run's generator, drawn from ``seed``."""
        return sample_latent(self.generator, n, generator=torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def sample(
        self,
        n: int = 64,
        seed: int = 0,
        labels: Any = None,
        z: Any = None,
    ) -> torch.Tensor:
        """``n`` samples in model space (images in [-1, 1]). ``labels`` are the conditions
        (class ids for class-conditional runs); by default the modality's, which cycle
        through every class. ``z`` may be given instead of ``n`` / ``seed``."""
        if z is None:
            z = self.latent(n, seed)
        n = batch_size(z)
        if labels is None:
            labels = conditions_for(self.modality_obj, n, self.meta, self.config, seed=seed)
        out = []
        # generators that draw noise in their forward pass (Gumbel-softmax, dropout) give
        # the same samples for the same seed; the caller's RNG state is left as it was
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(seed)
            for i in range(0, n, 512):
                zb = to_device(take(z, i, i + 512), self.device)
                yb = to_device(take(labels, i, i + 512), self.device)
                out.append(self.generator(zb, yb).float().cpu())
        return torch.cat(out)


def write_meta(paths: RunPaths, meta: dict[str, Any]) -> None:
    ckpt.atomic_write_text(paths.meta, json.dumps(meta, indent=1))


def load(
    run_dir: str | Path, device: str = "cpu", best: bool = False, step: int | None = None
) -> Run:
    """A trained run, ready to generate: ``ganforge.load("runs/bach").generate(4)``
    (``best``: its best checkpoint by ``eval.metric``; ``step``: the kept checkpoint of
    that step)."""
    return Run(run_dir, device=device, best=best, step=step)
