"""Gradient penalties on analytic cases: a linear critic has gradient w everywhere."""

import pytest
import torch
from torch import nn

from ganforge.engine.penalties import gradient_penalty, r1_penalty


class Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x, y=None):
        return x.flatten(1) @ self.w


class Quadratic(nn.Module):
    """D(x) = 0.5 * c * ||x||^2, gradient c * x."""

    def __init__(self, c):
        super().__init__()
        self.c = nn.Parameter(torch.tensor(c))

    def forward(self, x, y=None):
        return 0.5 * self.c * x.flatten(1).square().sum(1)


def test_wgan_gp_linear_critic():
    D = Linear([3.0, 4.0])  # |w| = 5 -> (5 - 1)^2 = 16 at every point
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    gp = gradient_penalty(D, real, fake)
    assert gp.item() == pytest.approx(16.0, rel=1e-6)
    gp.backward()  # differentiable w.r.t. D's weights: d/dw (|w|-1)^2 = 2(|w|-1) w/|w|
    assert torch.allclose(D.w.grad, torch.tensor([2 * 4 * 3 / 5, 2 * 4 * 4 / 5]), atol=1e-5)


def test_wgan_gp_zero_for_unit_gradient():
    D = Linear([0.6, 0.8])
    assert gradient_penalty(D, torch.randn(8, 2), torch.randn(8, 2)).item() == pytest.approx(
        0.0, abs=1e-10
    )


def test_wgan_gp_samples_between_real_and_fake():
    D = Quadratic(1.0)  # grad = x_hat, so the norm tells where x_hat lies
    real = torch.zeros(256, 1)
    fake = torch.ones(256, 1)
    gp = gradient_penalty(D, real, fake)
    # x_hat = 1 - alpha with alpha ~ U(0,1): E[(x_hat - 1)^2] = E[alpha^2] = 1/3.
    assert gp.item() == pytest.approx(1 / 3, abs=0.06)


def test_r1_linear_and_quadratic():
    D = Linear([3.0, 4.0])
    real = torch.randn(10, 2).requires_grad_(True)
    assert r1_penalty(D(real), real).item() == pytest.approx(25.0, rel=1e-6)
    Dq = Quadratic(2.0)
    real = torch.tensor([[1.0, 2.0], [0.0, 3.0]]).requires_grad_(True)
    # grad = 2x: squared norms 4*5 = 20 and 4*9 = 36, mean 28.
    assert r1_penalty(Dq(real), real).item() == pytest.approx(28.0, rel=1e-6)
