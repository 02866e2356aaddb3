"""PacGAN packing in the MLP discriminator (model.pack)."""

from __future__ import annotations

import pytest
import torch

import ganforge
from ganforge.nets import MLPDiscriminator


def test_a_packed_d_judges_packs():
    torch.manual_seed(0)
    D = MLPDiscriminator(in_shape=(2,), hidden=16, depth=2, pack=4)
    x = torch.randn(8, 2)
    out = D(x)
    assert out.shape == (2,) and not D.independent_samples
    # one logit per pack: it depends on every sample of its pack and on no other
    x2 = x.clone()
    x2[5] += 1.0
    changed = D(x2) != out
    assert changed.tolist() == [False, True]
    with pytest.raises(ValueError, match="does not divide into packs"):
        D(torch.randn(6, 2))
    with pytest.raises(ValueError, match="unconditional"):
        MLPDiscriminator(in_shape=(2,), num_classes=3, pack=2)


def test_packed_training_runs_the_usual_losses(tmp_path, fast):
    res = ganforge.train(
        "toy-ring8",
        out=tmp_path / "r",
        steps=10,
        overrides=fast + ["model.pack=4", "model.g_width=16", "model.d_width=16"],
    )
    assert res.step == 10 and 0 < res.metrics["d_real"] < 1
    with pytest.raises(ganforge.ConfigError, match="does not read model.pack"):
        ganforge.train("demo", out=tmp_path / "d", steps=1, overrides=["model.pack=2"])
