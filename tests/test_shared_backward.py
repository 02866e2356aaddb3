"""The simultaneous step's shared backward: one pass through D on the fakes, same gradients."""

import copy

import pytest
import torch
from torch import nn

from ganforge.config import resolve
from ganforge.engine.performance import plan_speed
from ganforge.engine.step import StepOptions, samples_independent, simultaneous_step
from ganforge.nets import MLPDiscriminator
from ganforge.nets.dcgan import DCGANDiscriminator
from ganforge.nets.dcgan_tf import TFTutorialDiscriminator, TFTutorialGenerator

LOSSES = ("nonsaturating", "minimax", "wasserstein", "hinge", "least-squares")


@pytest.fixture
def float64():
    """Latents (``sample_latent``) and nets in float64, so both ways agree to 1e-12."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def _grads_of_one_step(G, D, real, shared, loss="nonsaturating", seed=1, labels=None, dtype=None):
    """G's and D's gradients after one simultaneous step (under autocast to ``dtype``)."""
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    g_opt = torch.optim.SGD(G.parameters(), lr=0.0)
    d_opt = torch.optim.SGD(D.parameters(), lr=0.0)
    torch.manual_seed(seed)  # same latents and dropout masks for both ways
    autocast = torch.autocast("cpu", dtype=dtype) if dtype else None
    opts = StepOptions(loss=loss, shared_backward=shared, autocast=autocast)
    simultaneous_step(G, D, g_opt, d_opt, real, labels, opts=opts)
    return [p.grad.clone() for p in (*G.parameters(), *D.parameters())]


def _seed_pair(dtype=torch.float64):
    torch.manual_seed(0)
    G = TFTutorialGenerator(base_channels=4).to(dtype)
    D = TFTutorialDiscriminator(base_channels=4).to(dtype)
    return G, D


@pytest.mark.parametrize("loss", LOSSES)
def test_shared_backward_gives_the_tutorials_gradients(loss, float64):
    """float64, the seed's nets (dropout on): every gradient of G and D equals the two-pass
    step's to rounding, for every loss."""
    G, D = _seed_pair()
    real = torch.rand(12, 1, 28, 28, dtype=torch.float64) * 2 - 1
    two_pass = _grads_of_one_step(G, D, real, shared=False, loss=loss)
    one_pass = _grads_of_one_step(G, D, real, shared=True, loss=loss)
    for a, b in zip(one_pass, two_pass, strict=True):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-15)
    assert any(b.abs().max() > 1e-3 for b in two_pass[:3])  # G really learns something here


def test_shared_backward_falls_back_where_ds_derivative_vanishes(float64):
    """Hinge on fakes D is sure of (logit < -1): D's loss has zero slope there, so G's
    gradient cannot be recovered from D's; the step differentiates twice and stays exact."""
    G, D = _seed_pair()
    with torch.no_grad():
        D.head.bias.fill_(-30.0)  # every fake logit far below -1
    real = torch.rand(8, 1, 28, 28, dtype=torch.float64)
    two_pass = _grads_of_one_step(G, D, real, shared=False, loss="hinge")
    one_pass = _grads_of_one_step(G, D, real, shared=True, loss="hinge")
    for a, b in zip(one_pass, two_pass, strict=True):
        assert torch.isfinite(a).all()
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-15)
    assert two_pass[0].abs().max() > 0  # G still gets hinge's constant push


def test_shared_backward_with_conditional_nets(float64):
    """G(z, y) and D(x, y) with a label projection: still one logit per sample."""
    from ganforge.nets import MLPGenerator

    torch.manual_seed(0)
    G = MLPGenerator(z_dim=4, out_shape=(3,), hidden=16, num_classes=5)
    D = MLPDiscriminator(in_shape=(3,), hidden=16, num_classes=5)
    real, labels = torch.randn(10, 3), torch.randint(0, 5, (10,))
    two_pass = _grads_of_one_step(G, D, real, False, "nonsaturating", labels=labels)
    one_pass = _grads_of_one_step(G, D, real, True, "nonsaturating", labels=labels)
    for a, b in zip(one_pass, two_pass, strict=True):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-15)


def test_shared_backward_in_bf16_stays_within_bf16_rounding():
    G, D = _seed_pair(torch.float32)
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    one_pass = _grads_of_one_step(G, D, real, True, seed=3, dtype=torch.bfloat16)
    two_pass = _grads_of_one_step(G, D, real, False, seed=3, dtype=torch.bfloat16)
    for a, b in zip(one_pass, two_pass, strict=True):
        rel = ((a - b).norm() / b.norm().clamp_min(1e-12)).item()
        assert rel < 0.02  # bf16 keeps 8 bits: ~0.4% per rounding


def test_float16_takes_the_two_pass_step():
    """fp16's exponent underflows D's per-sample gradient of a fake D is sure of, so the
    rescaled one would be lost: under float16 autocast the step differentiates twice."""
    from ganforge.nets import MLPGenerator

    torch.manual_seed(0)
    G = MLPGenerator(z_dim=4, out_shape=(3,), hidden=16)
    D = MLPDiscriminator(in_shape=(3,), hidden=16)
    with torch.no_grad():
        D.head.bias.fill_(-12.0)  # sigmoid(-12)/B: below fp16's smallest normal
    real = torch.randn(64, 3)
    two_pass = _grads_of_one_step(G, D, real, False, seed=3, dtype=torch.float16)
    one_pass = _grads_of_one_step(G, D, real, True, seed=3, dtype=torch.float16)
    for a, b in zip(one_pass, two_pass, strict=True):
        assert torch.equal(a, b)
    assert two_pass[0].abs().max() > 0


def test_which_discriminators_score_samples_independently():
    assert TFTutorialDiscriminator().independent_samples
    assert MLPDiscriminator(in_shape=(2,)).independent_samples
    bn = DCGANDiscriminator(in_shape=(3, 32, 32), base_channels=8)
    assert not bn.independent_samples  # batch norm mixes the batch
    assert not samples_independent(nn.Sequential(nn.Linear(2, 1)))  # undeclared: assume mixing


class _MinibatchMeanD(MLPDiscriminator):
    """Adds the batch's mean feature to every sample's: samples are not independent."""

    @property
    def independent_samples(self) -> bool:
        return False

    def features(self, x):
        h = super().features(x)
        return h + h.mean(0, keepdim=True)


def test_a_discriminator_that_mixes_samples_gets_the_two_pass_step(float64):
    torch.manual_seed(0)
    from ganforge.nets import MLPGenerator

    G = MLPGenerator(z_dim=4, out_shape=(2,), hidden=16).double()
    D = _MinibatchMeanD(in_shape=(2,), hidden=16).double()
    real = torch.randn(8, 2, dtype=torch.float64)
    two_pass = _grads_of_one_step(G, D, real, shared=False, loss="nonsaturating")
    one_pass = _grads_of_one_step(G, D, real, shared=True, loss="nonsaturating")
    for a, b in zip(one_pass, two_pass, strict=True):
        assert torch.equal(a, b)


def test_plan_says_when_the_backward_is_shared():
    G, D = TFTutorialGenerator(), TFTutorialDiscriminator()
    cpu = torch.device("cpu")
    assert plan_speed("fp32", "off", False, cpu, G, D, shared_backward=True).shared_backward
    assert not plan_speed("fp32", "off", False, cpu, G, D, shared_backward=False).shared_backward
    bn = DCGANDiscriminator(in_shape=(1, 28, 28), base_channels=8)
    assert not plan_speed("fp32", "off", False, cpu, G, bn, shared_backward=True).shared_backward
    assert resolve("seed").train.shared_backward is True


def test_training_with_the_shared_backward_matches_training_without(fast, same_training_with_each):
    over = fast + ["data.spec=digits", "data.image_size=28", "train.batch=16"]
    over += ["train.precision=fp32"]
    same_training_with_each("seed", "train.shared_backward", over, steps=6)
