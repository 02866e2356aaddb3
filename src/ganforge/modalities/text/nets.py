"""The anchor's networks (Gulrajani et al. 2017, ``gan_language.py``), in PyTorch.

G: noise (z_dim) -> linear -> (width, L) -> 5 residual blocks of two kernel-5 1-D
convolutions (ReLU before each, the residual scaled by 0.3) -> 1x1 convolution to the
vocabulary -> softmax over characters: G writes a distribution per position, never a
sampled character, and D reads it as it reads the one-hot real text.
D: 1x1 convolution from the vocabulary -> the same 5 residual blocks -> linear -> a score.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganforge.modalities.text.recurrent import RecurrentGenerator


@torch.no_grad()
def anchor_init(module: nn.Module) -> nn.Module:
    """The anchor's initialisation (tflib): convolutions uniform with standard deviation
    sqrt(4 / (fan_in + fan_out)) counting the kernel ("he_init"), linear layers
    Glorot-uniform, every bias zero."""
    for m in module.modules():
        if isinstance(m, nn.Conv1d):
            k = m.kernel_size[0]
            std = (4.0 / (m.in_channels * k + m.out_channels * k)) ** 0.5
            nn.init.uniform_(m.weight, -std * 3**0.5, std * 3**0.5)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
        else:
            continue
        nn.init.zeros_(m.bias)
    return module


class ResBlock(nn.Module):
    """x + 0.3 * conv(relu(conv(relu(x)))) with kernel-5 'same' convolutions."""

    def __init__(self, width: int, kernel: int = 5, scale: float = 0.3) -> None:
        super().__init__()
        self.scale = scale
        self.conv1 = nn.Conv1d(width, width, kernel, padding=kernel // 2)
        self.conv2 = nn.Conv1d(width, width, kernel, padding=kernel // 2)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(torch.relu(self.conv1(torch.relu(x))))
        return x + self.scale * h


class LanguageGenerator(nn.Module):
    """The anchor's G: samples are (B, vocabulary, length) softmax outputs."""

    def __init__(
        self, vocab: int, length: int, z_dim: int = 128, width: int = 512, blocks: int = 5
    ) -> None:
        super().__init__()
        self.z_dim, self.width, self.length = int(z_dim), int(width), int(length)
        self.input = nn.Linear(self.z_dim, self.width * self.length)
        self.blocks = nn.Sequential(*[ResBlock(self.width) for _ in range(blocks)])
        self.output = nn.Conv1d(self.width, vocab, 1)
        anchor_init(self)

    def forward(self, z: Tensor, cond: Any = None) -> Tensor:
        h = self.input(z).view(z.shape[0], self.width, self.length)
        return self.output(self.blocks(h)).softmax(dim=1)


class LanguageCritic(nn.Module):
    """The anchor's D: a real-valued score per sample (WGAN-GP critic)."""

    def __init__(self, vocab: int, length: int, width: int = 512, blocks: int = 5) -> None:
        super().__init__()
        self.input = nn.Conv1d(vocab, width, 1)
        self.blocks = nn.Sequential(*[ResBlock(width) for _ in range(blocks)])
        self.output = nn.Linear(width * length, 1)
        anchor_init(self)

    def forward(self, x: Tensor, cond: Any = None) -> Tensor:
        h = self.blocks(self.input(x))
        return self.output(h.flatten(1)).squeeze(1)


def build(cfg: Any, sample_shape: tuple[int, ...], num_classes: int) -> tuple[nn.Module, ...]:
    """(G, D) of the anchor for samples of shape (vocabulary, length)."""
    if len(sample_shape) != 2:
        raise ValueError("the gan-language architecture trains on text (a text:/wordnet spec)")
    vocab, length = (int(s) for s in sample_shape)
    m = cfg.model
    blocks = m.depth or 5
    G = LanguageGenerator(vocab, length, m.z_dim, m.g_width or 512, blocks)
    D = LanguageCritic(vocab, length, m.d_width or 512, blocks)
    return G, D


def build_recurrent(
    cfg: Any, sample_shape: tuple[int, ...], num_classes: int
) -> tuple[nn.Module, ...]:
    """(G, D): the recurrent Gumbel-softmax G (:mod:`.recurrent`) and the anchor's critic."""
    if len(sample_shape) != 2:
        raise ValueError("the text-gru architecture trains on text (a text:/wordnet spec)")
    vocab, length = (int(s) for s in sample_shape)
    m = cfg.model
    G = RecurrentGenerator(vocab, length, m.z_dim, m.g_width or 256)
    D = LanguageCritic(vocab, length, m.d_width or 128, m.depth or 5)
    return G, D
