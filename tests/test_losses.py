"""Each loss against its formula, on known inputs, written with plain probabilities."""

import math

import pytest
import torch

from ganforge.engine.losses import LOSSES, game_value, get_loss, js_lower_bound

REAL = torch.tensor([2.0, -0.5, 0.0, 1.5])
FAKE = torch.tensor([-1.0, 0.3, -2.5, 0.0])


def sig(t):
    return 1 / (1 + torch.exp(-t))


def test_minimax_matches_the_2014_objective():
    loss = LOSSES["minimax"]
    d_ref = -(torch.log(sig(REAL)).mean() + torch.log(1 - sig(FAKE)).mean())
    g_ref = torch.log(1 - sig(FAKE)).mean()  # G minimises E[log(1 - D(G(z)))]
    assert torch.allclose(loss.d(REAL, FAKE), d_ref, atol=1e-6)
    assert torch.allclose(loss.g(FAKE), g_ref, atol=1e-6)


def test_nonsaturating_generator_maximises_log_d_of_fakes():
    loss = LOSSES["nonsaturating"]
    assert torch.allclose(loss.d(REAL, FAKE), LOSSES["minimax"].d(REAL, FAKE))
    assert torch.allclose(loss.g(FAKE), -torch.log(sig(FAKE)).mean(), atol=1e-6)


def test_hinge():
    loss = LOSSES["hinge"]
    d_ref = torch.clamp(1 - REAL, min=0).mean() + torch.clamp(1 + FAKE, min=0).mean()
    assert torch.allclose(loss.d(REAL, FAKE), d_ref)
    assert torch.allclose(loss.g(FAKE), -FAKE.mean())


def test_wasserstein():
    loss = LOSSES["wasserstein"]
    assert torch.allclose(loss.d(REAL, FAKE), FAKE.mean() - REAL.mean())
    assert torch.allclose(loss.g(FAKE), -FAKE.mean())


def test_least_squares():
    loss = LOSSES["least-squares"]
    d_ref = 0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE**2).mean()
    assert torch.allclose(loss.d(REAL, FAKE), d_ref)
    assert torch.allclose(loss.g(FAKE), 0.5 * ((FAKE - 1) ** 2).mean())


@pytest.mark.parametrize("name", ["minimax", "nonsaturating"])
def test_bce_losses_stay_finite_for_huge_logits(name):
    loss = LOSSES[name]
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(loss.d(big, -big)) and torch.isfinite(loss.g(big))
    assert torch.isfinite(loss.d(-big, big)) and torch.isfinite(loss.g(-big))
    # A confident wrong D costs about |logit|, not inf.
    assert loss.d(torch.tensor([-1e4]), torch.tensor([0.0])).item() == pytest.approx(
        1e4 + math.log(2), rel=1e-6
    )


def test_game_value_and_js_bound_at_equilibrium():
    zeros = torch.zeros(8)  # D(x) = D(G(z)) = 1/2
    v = game_value(zeros, zeros)
    assert v.item() == pytest.approx(-math.log(4))
    assert js_lower_bound(v).item() == pytest.approx(0.0, abs=1e-7)
    # A perfect D on separated supports drives the bound towards log 2, the JSD maximum.
    v_sep = game_value(torch.full((8,), 30.0), torch.full((8,), -30.0))
    assert js_lower_bound(v_sep).item() == pytest.approx(math.log(2), abs=1e-6)


def test_value_equals_minus_bce_d_loss():
    assert torch.allclose(game_value(REAL, FAKE), -LOSSES["minimax"].d(REAL, FAKE))


def test_get_loss_unknown_name():
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("bce2")
