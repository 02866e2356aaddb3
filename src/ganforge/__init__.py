"""ganforge: Generative Adversarial Networks on PyTorch - one engine, many modalities.

The classic loop, with ganforge's pieces::

    import torch, ganforge
    from ganforge.nets import MLPGenerator, MLPDiscriminator

    G, D = MLPGenerator(z_dim=8, out_shape=(2,)), MLPDiscriminator(in_shape=(2,))
    g_opt = torch.optim.Adam(G.parameters(), 1e-4)
    d_opt = torch.optim.Adam(D.parameters(), 1e-4)
    for real in batches:
        stats = ganforge.train_step(G, D, g_opt, d_opt, real, loss="nonsaturating")

Or the whole thing: ``ganforge.train("toy-ring8", out="runs/ring")``, and then
``ganforge.load("runs/ring").generate(2500)``: samples as the data's users hold them
(PIL images, a DataFrame, strings, PrettyMIDI, uint8 clips, a points array).
"""

from ganforge.api import TrainResult, interpolate, load_run, sample, slerp, train
from ganforge.config import Config
from ganforge.engine import Trainer, get_loss, train_step
from ganforge.errors import ConfigError, DataError, GanforgeError, RunError, TrainingError
from ganforge.run import load

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "DataError",
    "GanforgeError",
    "RunError",
    "TrainResult",
    "Trainer",
    "TrainingError",
    "__version__",
    "get_loss",
    "interpolate",
    "load",
    "load_run",
    "sample",
    "slerp",
    "train",
    "train_step",
]
