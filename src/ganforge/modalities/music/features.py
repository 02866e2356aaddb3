"""A feature network for a Frechet distance on music, independent of any GAN's critic: a
small CNN trained here, on a run's training phrases, to name each phrase's key (24 major
and minor keys, labelled by :func:`.keys.key_of` on the phrase's pitch classes). Its
penultimate layer (128 features) feeds ``FD[<data>-keynet]``: a Frechet distance, labelled
as what it is, never passed off as a published metric. Weights are cached per data set
(safetensors, no code)."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import torch
from torch import Tensor, nn

from ganforge.metrics.classifier import cache_dir, load_cached, save_weights
from ganforge.modalities.music.keys import key_of
from ganforge.modalities.music.metrics import _chroma

FEATURES = 128


class KeyNet(nn.Module):
    """Phrases (B, tracks, steps, pitches) in -1/1 -> 24 key logits; ``features`` -> 128."""

    def __init__(self, tracks: int, steps: int, pitches: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(tracks, 48, (1, pitches)),  # each step's notes, absolute pitch kept
            nn.ReLU(),
            nn.Flatten(2),  # (B, 48, steps)
            nn.Conv1d(48, 64, 4, 4),
            nn.ReLU(),
            nn.Conv1d(64, 64, 4, 4),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * (steps // 16), FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, 24)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def key_labels(rolls: np.ndarray, low: int) -> np.ndarray:
    """The key of each phrase from its duration-weighted pitch classes."""
    return key_of(_chroma((np.asarray(rolls) > 0).sum((1, 2)), low))


def _to_model(rolls: np.ndarray) -> Tensor:
    return torch.from_numpy(np.asarray(rolls)).float().mul_(2).sub_(1)


def train_keynet(
    train: np.ndarray, low: int, seed: int = 0, seconds: float = 40.0, steps: int = 3000
) -> tuple[KeyNet, float]:
    """A KeyNet fitted to 90% of ``train`` (for at most ``seconds``), and its accuracy on
    the other 10%."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    labels = torch.from_numpy(key_labels(train, low)).long()
    order = torch.randperm(len(train), generator=gen)
    k = max(1, len(train) // 10)
    test, fit = order[:k], order[k:]
    net = KeyNet(*train.shape[1:])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = fit[torch.randint(len(fit), (128,), generator=gen)]
        loss = nn.functional.cross_entropy(net(_to_model(train[idx.numpy()])), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if time.perf_counter() - t0 > seconds:
            break
    net.eval()
    with torch.no_grad():
        pred = net(_to_model(train[test.numpy()])).argmax(1)
    return net, float((pred == labels[test]).float().mean())


def keynet_for(train: np.ndarray, low: int, name: str) -> tuple[KeyNet, dict]:
    """The KeyNet of these training phrases, trained once and cached (safetensors)."""
    digest = hashlib.sha256(np.ascontiguousarray(train).tobytes()).hexdigest()[:16]
    path = cache_dir() / "music" / f"keynet-{digest}.safetensors"
    cached = load_cached(path, lambda meta: KeyNet(*train.shape[1:]), ("held_out_accuracy",))
    if cached is not None:
        return cached
    net, acc = train_keynet(train, low)
    meta = {"data": name, "held_out_accuracy": acc, "phrases": int(len(train))}
    save_weights(net, path, meta)
    return net, meta


@torch.no_grad()
def keynet_features(net: KeyNet, rolls: np.ndarray) -> Tensor:
    out = [net.features(_to_model(rolls[i : i + 512])) for i in range(0, len(rolls), 512)]
    return torch.cat(out).double()
