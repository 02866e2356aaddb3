"""The built-in network families and ``build_networks``; ``register`` puts them in
:data:`ganforge.registry.ARCHITECTURES` (as a plug-in registers its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganforge.nets.base import Discriminator, Generator
from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.nets.dcgan_tf import TFTutorialDiscriminator, TFTutorialGenerator
from ganforge.nets.layout import SQUARE_SIZES
from ganforge.nets.mlp import MLPDiscriminator, MLPGenerator
from ganforge.nets.resnet import ResNetDiscriminator, ResNetGenerator
from ganforge.registry import Architecture, register_architecture

DESCRIPTIONS: dict[str, str] = {
    "mlp": "fully connected G and D (Goodfellow et al. 2014); points or flattened images",
    "dcgan-tf": "the TensorFlow DCGAN tutorial's pair with Keras defaults; 28x28 grey only",
    "dcgan": "DCGAN (Radford et al. 2016) for square images of 16, 28, 32, 64 or 128 px",
    "resnet": "SNGAN ResNets (Miyato et al. 2018), spectrally normalised D; 16 to 128 px",
}

OPTIONS = (
    "g_width",
    "d_width",
    "depth",
    "leaky_slope",
    "bn_eps",
    "bn_momentum",
    "dropout",
    "spectral_norm",
    "init",
    "pack",
)


@dataclass(frozen=True)
class _Family:
    generator: type[Generator]
    discriminator: type[Discriminator]
    width: str  # the constructors' name for g_width / d_width
    init: str  # default scheme
    g_options: tuple[str, ...]  # options passed to G under their own name
    d_options: tuple[str, ...]


_FAMILIES: dict[str, _Family] = {
    "mlp": _Family(
        MLPGenerator,
        MLPDiscriminator,
        "hidden",
        "default",
        ("depth",),
        ("depth", "leaky_slope", "dropout", "spectral_norm", "pack"),
    ),
    "dcgan-tf": _Family(
        TFTutorialGenerator,
        TFTutorialDiscriminator,
        "base_channels",
        "glorot",
        ("leaky_slope", "bn_eps", "bn_momentum"),
        ("leaky_slope", "dropout", "spectral_norm"),
    ),
    "dcgan": _Family(
        DCGANGenerator,
        DCGANDiscriminator,
        "base_channels",
        "dcgan",
        ("bn_eps", "bn_momentum"),
        ("leaky_slope", "bn_eps", "bn_momentum", "spectral_norm"),
    ),
    "resnet": _Family(
        ResNetGenerator,
        ResNetDiscriminator,
        "base_channels",
        "xavier",
        ("bn_eps", "bn_momentum"),
        ("spectral_norm",),
    ),
}


def build_networks(
    arch: str,
    sample_shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    **options: Any,
) -> tuple[Generator, Discriminator]:
    """A fresh (G, D) pair of family ``arch`` for samples of ``sample_shape``.

    Options (``None`` = the family's default): ``g_width``/``d_width`` (base channels or
    hidden units), ``depth``, ``leaky_slope``, ``bn_eps``, ``bn_momentum`` (PyTorch
    convention), ``dropout``, ``spectral_norm`` (of D), ``init`` (a scheme of
    :func:`ganforge.nets.init.init_weights`). A value the family has no use for is a
    ValueError, as is a shape it cannot handle.
    """
    if arch not in _FAMILIES:
        raise ValueError(f"unknown arch {arch!r}; use one of {', '.join(_FAMILIES)}")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown network option(s) {', '.join(unknown)}; known: {OPTIONS}")
    family = _FAMILIES[arch]
    given = {k: v for k, v in options.items() if v is not None}
    used = {"g_width", "d_width", "init", *family.g_options, *family.d_options}
    unused = sorted(set(given) - used)
    if unused:
        raise ValueError(
            f"arch {arch} does not use option(s) {', '.join(unused)}; leave them unset"
        )
    init = given.get("init", family.init)
    g_kwargs = {k: given[k] for k in family.g_options if k in given}
    d_kwargs = {k: given[k] for k in family.d_options if k in given}
    if "g_width" in given:
        g_kwargs[family.width] = given["g_width"]
    if "d_width" in given:
        d_kwargs[family.width] = given["d_width"]
    shape = tuple(int(s) for s in sample_shape)
    G = family.generator(
        z_dim=z_dim, out_shape=shape, num_classes=num_classes, init=init, **g_kwargs
    )
    D = family.discriminator(in_shape=shape, num_classes=num_classes, init=init, **d_kwargs)
    return G, D


def network_options(cfg: Any) -> dict[str, Any]:
    """The config's model section as keyword options for :func:`build_networks`."""
    m = cfg.model
    opts = {k: getattr(m, k) for k in OPTIONS if k != "init"}
    opts["init"] = None if m.init == "auto" else m.init
    return opts


def _nearest_square(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(C, S, S) with S the supported size nearest the image's side (the larger on a tie)."""
    if len(shape) != 3:
        return shape
    side = max(shape[1], shape[2])
    size = min(SQUARE_SIZES, key=lambda s: (abs(s - side), -s))
    return (shape[0], size, size)


_FIT_SHAPE = {
    "dcgan": _nearest_square,
    "resnet": _nearest_square,
    "dcgan-tf": lambda shape: (1, 28, 28) if len(shape) == 3 else shape,
}


def _builder(arch: str) -> Any:
    def build(cfg: Any, sample_shape: tuple[int, ...], num_classes: int) -> tuple[Any, Any]:
        G, D = build_networks(
            arch, sample_shape, cfg.model.z_dim, num_classes, **network_options(cfg)
        )
        if getattr(cfg.experimental, "acgan", False) and num_classes:
            D.use_classifier()
        if cfg.model.g_conditioning == "cbn" and num_classes:
            G.use_conditional_norm()
        return G, D

    return build


def register() -> None:
    """Register the built-in families (entry point ``nets`` of ``ganforge.modalities``)."""
    for name, description in DESCRIPTIONS.items():
        family = _FAMILIES[name]
        keys = ("g_width", "d_width", "init", *family.g_options, *family.d_options)
        register_architecture(
            Architecture(
                name, _builder(name), description, tuple(dict.fromkeys(keys)), _FIT_SHAPE.get(name)
            )
        )
