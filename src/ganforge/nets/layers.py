"""Layer kinds the nets package treats alike."""

from torch import nn

# Modules whose ``weight`` is a learned matrix / kernel: spectral norm and init act on these.
WEIGHTED_LAYERS = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Embedding,
)
