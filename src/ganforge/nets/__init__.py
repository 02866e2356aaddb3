"""Generator and discriminator families behind one contract (see :mod:`ganforge.nets.base`)."""

from ganforge.nets.base import Discriminator, Generator, apply_spectral_norm
from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.nets.dcgan_tf import TFTutorialDiscriminator, TFTutorialGenerator
from ganforge.nets.init import INIT_SCHEMES, init_weights
from ganforge.nets.mlp import MLPDiscriminator, MLPGenerator
from ganforge.nets.registry import DESCRIPTIONS as ARCHITECTURES
from ganforge.nets.registry import build_networks
from ganforge.nets.resnet import ResNetDiscriminator, ResNetGenerator

__all__ = [
    "ARCHITECTURES",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "Discriminator",
    "Generator",
    "INIT_SCHEMES",
    "MLPDiscriminator",
    "MLPGenerator",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "TFTutorialDiscriminator",
    "TFTutorialGenerator",
    "apply_spectral_norm",
    "build_networks",
    "init_weights",
]
