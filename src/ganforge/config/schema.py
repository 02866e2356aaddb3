"""The config's sections: the engine's own (data, model, loss, optim, train, log, guard, eval)
and one per registered modality (its ``options`` dataclass, e.g. ``image.size``).

Numeric ranges and fixed choices of the engine's keys live in :mod:`ganforge.config.values`;
a modality's keys carry theirs as field metadata: ``field(default=..., metadata={"range":
(lo, hi, lo_inclusive)})`` or ``metadata={"choices": (...)}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ganforge.config.parts import EngineExperimental
from ganforge.registry import MODALITIES


@dataclass
class DataConfig:
    spec: str = "mnist5k"  # dataset spec, see `ganforge datasets`
    conditional: bool = False  # use the data's conditions (class labels): G(z, y) and D(x, y)
    # share kept out of training for evaluation's real-data floor (None: the modality's
    # own: text, music, video 0.1, tables 0.2; images and points keep none)
    holdout: float | None = None


@dataclass
class ModelConfig:
    arch: str = "dcgan"
    z_dim: int = 100
    g_width: int | None = None  # base channels / hidden units of G (None: family default)
    d_width: int | None = None
    depth: int | None = None  # hidden layers (mlp only)
    spectral_norm: bool | None = None  # spectral normalisation of D (None: family default)
    leaky_slope: float | None = None
    bn_eps: float | None = None
    bn_momentum: float | None = None  # PyTorch convention: 1 - Keras momentum
    dropout: float | None = None
    pack: int | None = None  # PacGAN: samples D judges together (mlp; None: 1)
    g_conditioning: str = "embedding"  # how G uses labels: embedding | cbn (conditional BN)
    init: str = "auto"


@dataclass
class LossConfig:
    type: str = "nonsaturating"
    penalty: str = "none"  # none | wgan-gp | r1
    penalty_weight: float = 10.0  # lambda for WGAN-GP, gamma for R1
    r1_every: int = 1  # lazy R1: apply every k D steps, scaled by k
    head_weights: dict[str, float] = field(default_factory=dict)  # D heads' weights (default 1)
    class_weight: float = 1.0  # ACGAN's class loss weight (experimental.acgan)


@dataclass
class OptimConfig:
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    eps: float = 1e-8


@dataclass
class TrainConfig:
    steps: int = 2000  # generator steps
    batch: int = 64
    n_critic: int = 1  # D steps per G step
    step: str = "alternating"  # alternating | simultaneous (the TF tutorial's shared pass)
    ema: float = 0.0  # decay of the generator's EMA (0: off); sampling uses the EMA when on
    ema_start: int = 0  # step from which the EMA tracks G (before: copies G)
    ema_rampup: float = 0.05  # EMA half-life at most this share of the steps so far (0: off)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 (autocast, fp32 master weights)
    channels_last: str = "auto"  # auto | on | off: NHWC memory layout for 2-D conv nets
    spectral_conv: str = "auto"  # auto | on | off: small-map convs as frequency-domain GEMMs
    gemm_grad: str = "auto"  # auto | on | off: small-map conv weight gradients as one GEMM
    fused_adam: str = "auto"  # auto | on | off: Adam's update as one fused kernel per net
    shared_backward: bool = True  # simultaneous step: one D backward on the fakes for both losses
    threads: int | None = None  # torch intra-op threads (None: PyTorch's default)
    # CPU: subnormal floats flushed to zero while fit runs (late in a table run they made
    # steps 1.3x slower); the process's own setting is restored afterwards
    flush_denormals: bool = True
    max_seconds: float = 0.0  # stop after this much training time (0: no limit)


@dataclass
class LogConfig:
    every: int = 50  # equilibrium metrics to metrics.jsonl
    sample_every: int = 500  # sample picture PNG (and a GIF frame)
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    # samples in each training picture (None: the modality's own: 64 images, 2500 points,
    # 640 texts, 256 phrases, 8 clips, 2000 rows)
    samples: int | None = None
    progress: bool = True
    tensorboard: bool = False  # TensorBoard event files in the run directory (needs tensorboard)
    # false: no sample pictures, GIF or equilibrium plot (a run nobody looks at, such as
    # the table synthesizer's temporary one)
    pictures: bool = True


@dataclass
class EvalConfig:
    """Evaluation during training: a metric every N steps, the best checkpoint kept."""

    every: int = 0  # steps between evaluations (0: off)
    metric: str = "fid"  # one of the modality's periodic metrics (images: fid | kid | swd)
    n: int = 2000  # generated samples per evaluation
    patience: int = 0  # stop after this many evaluations without a new best (0: never)


@dataclass
class GuardConfig:
    """Divergence guard: roll back to the last good checkpoint and lower the learning rates."""

    enabled: bool = True
    lr_factor: float = 0.5  # learning rates are multiplied by this at each recovery
    max_recoveries: int = 3  # then stop, with the last good checkpoint intact
    collapse_steps: int = 2000  # D(x) > 0.99 and D(G(z)) < 0.01 this many steps running (0: off)


ENGINE_SECTIONS = ("data", "model", "loss", "optim", "train", "log", "guard", "eval")


@dataclass
class Config:
    """A whole run's settings. Modality sections (``cfg.image``, ``cfg.points``, a plug-in's)
    are attributes too, held in ``sections``."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    arch: Any = None  # model.arch's own options (its Architecture.options), or None
    experimental: Any = field(default_factory=EngineExperimental)
    preset: str = ""  # name of the preset it came from (informational)
    description: str = ""
    sections: dict[str, Any] = field(default_factory=dict, repr=False)

    def __getattr__(self, name: str) -> Any:
        sections = self.__dict__.get("sections")
        if sections is not None and name in sections:
            return sections[name]
        raise AttributeError(f"config has no section '{name}'")

    def section(self, name: str) -> Any:
        """A modality's section (its options dataclass), or None when it has none."""
        return self.sections.get(name)

    def to_dict(self, modality: str | None = None) -> dict[str, Any]:
        """Plain data of every section; with ``modality``, of the engine's and that
        modality's own only (what a run records: it loads without other plug-ins)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d = {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for k, v in d.items()}
        d["optim"]["betas"] = list(self.optim.betas)
        d.pop("sections")
        for name, sub in self.sections.items():
            if modality is None or name == modality:
                d[name] = dataclasses.asdict(sub)
        return d


def modality_sections() -> dict[str, type]:
    """Registered modalities' option dataclasses by section name."""
    return {name: m.options for name, m in MODALITIES.items() if m.options is not None}


def key_aliases() -> dict[str, str]:
    """Older or familiar dotted keys that modalities map to their own (``data.image_size`` ->
    ``image.size``); configs and ``--set`` may use either."""
    out: dict[str, str] = {}
    for name, m in MODALITIES.items():
        for old, new in (m.option_aliases or {}).items():
            out[old] = f"{name}.{new}"
    return out
