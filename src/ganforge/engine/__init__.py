"""The adversarial engine: losses, penalties, the train step, the trainer, checkpoints.

It knows nothing of images, music or tables; it trains a G against a D on tensors.
"""

from ganforge.engine.ema import EMA
from ganforge.engine.losses import LOSSES, GANLoss, game_value, get_loss, js_lower_bound
from ganforge.engine.penalties import gradient_penalty, r1_penalty
from ganforge.engine.step import StepOptions, d_step, g_step, simultaneous_step, train_step
from ganforge.engine.trainer import Trainer

__all__ = [
    "EMA",
    "LOSSES",
    "GANLoss",
    "StepOptions",
    "Trainer",
    "d_step",
    "g_step",
    "game_value",
    "get_loss",
    "gradient_penalty",
    "js_lower_bound",
    "r1_penalty",
    "simultaneous_step",
    "train_step",
]
