"""A modality built from every open contract at once (used by test_structured_parts.py):
a data-side condition sampler, a generator with a two-part latent, a D with two adversarial
heads and a class output, an auxiliary class loss and an adaptive D-input transform."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.data import Dataset
from ganforge.engine.aux import AuxLoss
from ganforge.engine.protocols import Batch
from ganforge.engine.transforms import DInputTransform
from ganforge.modalities.points import PointsModality
from ganforge.registry import Architecture, DatasetSpec

K = 3  # clusters = condition values


def make_clusters(arg: str, seed: int = 0, **_: Any) -> Dataset:
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(K, (600,), generator=gen)
    centers = torch.tensor([[-2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    x = centers[y] + 0.1 * torch.randn(600, 2, generator=gen)
    return Dataset("clusters", x, "structured", labels=y, num_classes=K)


class ConditionFirstData:
    """Training-by-sampling: draw a condition per row first, then a row that matches it."""

    def __init__(self, dataset: Dataset, batch: int) -> None:
        self.x, self.batch = dataset.data, batch
        self.rows = [torch.nonzero(dataset.labels == k).flatten() for k in range(K)]
        self.draws = 0

    def next_batch(self, n: int) -> Batch:
        k = torch.randint(K, (n,))  # the global RNG: saved in checkpoints
        pick = torch.stack([self.rows[c][torch.randint(len(self.rows[c]), ())] for c in k])
        self.draws += 1
        cond = F.one_hot(k, K).float()
        return Batch(real=self.x[pick], cond=cond)

    def fixed_conditions(self, n: int) -> torch.Tensor:
        return F.one_hot(torch.arange(n) % K, K).float()

    def state_dict(self) -> dict[str, Any]:
        return {"draws": self.draws}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.draws = int(state["draws"])


class TwoCodeGenerator(nn.Module):
    """G(z, c) with z = {"shared": (n, 3), "private": (n, 2)} and c one-hot."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3 + 2 + K, 32), nn.ReLU(), nn.Linear(32, 2))

    def sample_latent(self, n: int, generator=None, device=None) -> dict[str, torch.Tensor]:
        shared = torch.randn(n, 3, generator=generator)
        private = torch.randn(n, 2, generator=generator)
        return {"shared": shared.to(device or "cpu"), "private": private.to(device or "cpu")}

    def forward(self, z: dict[str, torch.Tensor], c: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z["shared"], z["private"], c], dim=1))


class TwoHeadDiscriminator(nn.Module):
    """A joint head on (x, c), a marginal head on x[:, :1], and a class output on x."""

    head_weights = {"joint": 1.0, "marginal": 0.5}  # noqa: RUF012 - "cls" is not adversarial
    independent_samples = True

    def __init__(self) -> None:
        super().__init__()
        self.joint = nn.Sequential(nn.Linear(2 + K, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
        self.marginal = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
        self.cls = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, K))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            "joint": self.joint(torch.cat([x, c], dim=1)).squeeze(1),
            "marginal": self.marginal(x[:, :1]).squeeze(1),
            "cls": self.cls(x),
        }


class ClassLoss(AuxLoss):
    """ACGAN's class loss on D's ``cls`` output."""

    name = "cls"
    weight = 0.5

    def d(self, real_out, fake_out, cond, fake_cond):
        return F.cross_entropy(real_out["cls"], cond.argmax(1))

    def g(self, fake, fake_out, fake_cond):
        return F.cross_entropy(fake_out["cls"], fake_cond.argmax(1))


class AdaptiveJitter(DInputTransform):
    """Noise added to a share ``p`` of D's inputs; ``p`` follows sign(D(real)) toward 0.6."""

    def __init__(self) -> None:
        self.p = 0.2
        self.calls: list[int] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.shape[0])
        mask = (torch.rand(x.shape[0], 1, device=x.device) < self.p).to(x.dtype)
        return x + mask * 0.05 * torch.randn_like(x)

    def observe(self, real_out: Any) -> None:
        r_t = float(torch.sign(real_out["joint"]).mean())
        self.p = min(1.0, max(0.0, self.p + 0.01 * (1 if r_t > 0.6 else -1)))

    def stats(self) -> dict[str, float]:
        return {"p": self.p}

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p = float(state["p"])


class StructuredModality(PointsModality):
    """Points with one-hot conditions, drawn condition-first, and all the parts above."""

    name = "structured"
    options = None
    option_aliases = {}  # noqa: RUF012

    def training_data(self, dataset, cfg, dist):
        return ConditionFirstData(dataset, cfg.train.batch)

    def conditions(self, n, meta, cfg):
        return F.one_hot(torch.arange(n) % K, K).float()

    def d_transform(self, cfg):
        return AdaptiveJitter()

    def aux_losses(self, cfg):
        return [ClassLoss()]

    def picture_count(self, cfg):
        return 300

    def interpolation_count(self, cfg):
        return 300


def _build(cfg, shape, num_classes):
    return TwoCodeGenerator(), TwoHeadDiscriminator()


PARTS = (
    StructuredModality(),
    DatasetSpec("clusters", "structured", make_clusters, "3 labelled clusters in 2-D"),
    Architecture("two-code", _build, "two-part latent G, two-head D"),
)
