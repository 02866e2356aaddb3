"""Conventions users bring from elsewhere: Apple's MPS device under ``auto``, and FID / KID
that agree with torchmetrics on the same features."""

import pytest
import torch
from torch import nn

from ganforge.config import resolve
from ganforge.engine.device import resolve_device
from ganforge.errors import TrainingError
from ganforge.metrics.fid import fid
from ganforge.metrics.kid import kid


def _offer(monkeypatch, cuda: bool, mps: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


def test_auto_device_picks_mps_where_pytorch_offers_it(monkeypatch):
    _offer(monkeypatch, cuda=False, mps=True)
    assert resolve_device("auto") == torch.device("mps")
    assert resolve_device("mps") == torch.device("mps")
    assert resolve_device("cpu") == torch.device("cpu")
    _offer(monkeypatch, cuda=True, mps=True)  # a CUDA GPU first
    assert resolve_device("auto") == torch.device("cuda")
    _offer(monkeypatch, cuda=False, mps=False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(TrainingError, match="train.device=mps but PyTorch offers no MPS"):
        resolve_device("mps")


def test_mps_is_a_valid_device_setting():
    assert resolve("toy-ring8", ["train.device=mps"]).train.device == "mps"


class _LinearFeatures(nn.Module):
    """A fixed random projection of the pixels, in float64: the features both sides read."""

    num_features = 12

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(3)
        self.register_buffer("weight", torch.randn(3 * 8 * 8, 12, generator=gen) / 8)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.double().flatten(1) @ self.weight.double()


def _two_sets(n: int = 150) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(n, 3, 8, 8, generator=gen)
    fake = (torch.rand(n, 3, 8, 8, generator=gen) * 0.7 + 0.2).clamp(0, 1)
    fake[:, 0] *= 0.6  # a colour cast, so the distance is well above round-off
    return real, fake


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save")
def test_fid_and_kid_agree_with_torchmetrics():
    why = "torchmetrics is not installed (pip install -e '.[dev]')"
    # the modules themselves: the package's own names need torch-fidelity (Inception weights)
    fid_mod = pytest.importorskip("torchmetrics.image.fid", reason=why)
    kid_mod = pytest.importorskip("torchmetrics.image.kid", reason=why)
    features = _LinearFeatures()
    real, fake = _two_sets()
    with torch.no_grad():
        f_real, f_fake = features(real), features(fake)

    theirs = fid_mod.FrechetInceptionDistance(feature=features)
    theirs.update(real, real=True)
    theirs.update(fake, real=False)
    ours = fid(f_real, f_fake)
    assert ours > 0.1
    assert ours == pytest.approx(float(theirs.compute()), rel=1e-4, abs=1e-4)

    # one subset holding every sample: no random subset draws on either side
    n = real.shape[0]
    theirs = kid_mod.KernelInceptionDistance(feature=features, subsets=1, subset_size=n)
    theirs.update(real, real=True)
    theirs.update(fake, real=False)
    their_mean, _ = theirs.compute()
    our_mean, _ = kid(f_real, f_fake, num_subsets=1, subset_size=n)
    assert our_mean > 1e-3
    assert our_mean == pytest.approx(float(their_mean), rel=1e-4, abs=1e-4)
