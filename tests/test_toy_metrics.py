"""Mode coverage / high-quality fraction on the toy mixtures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.metrics import mode_metrics
from ganforge.modalities.points.datasets import grid25, grid25_centers, ring8, ring8_centers

CENTERS = ring8_centers(2.0)
STD = 0.02


def test_samples_on_every_centre():
    samples = CENTERS.repeat(100, 1)  # 800 samples, 100 exactly on each centre
    m = mode_metrics(samples, CENTERS, STD)
    assert m["modes_covered"] == 8 and m["num_modes"] == 8
    assert m["high_quality"] == 1.0
    assert m["counts"] == [100] * 8
    assert m["min_count"] == math.ceil(20 * 800 / 2500)


def test_samples_on_one_centre():
    m = mode_metrics(CENTERS[3].repeat(500, 1), CENTERS, STD)
    assert m["modes_covered"] == 1 and m["high_quality"] == 1.0
    assert m["counts"][3] == 500 and sum(m["counts"]) == 500


def test_samples_far_away():
    m = mode_metrics(CENTERS.repeat(50, 1) * 10, CENTERS, STD)
    assert m["modes_covered"] == 0 and m["high_quality"] == 0.0 and sum(m["counts"]) == 0


def test_three_std_boundary():
    c = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    samples = torch.tensor([[2.9 * STD, 0.0], [0.0, 3.1 * STD], [10.0, 2.0 * STD], [5.0, 5.0]])
    m = mode_metrics(samples, c, STD, min_count=1)
    assert m["high_quality"] == 0.5
    assert m["counts"] == [1, 1] and m["modes_covered"] == 2


def test_default_min_count_is_20_of_2500():
    far = torch.full((2461, 2), 50.0)
    samples = torch.cat([CENTERS[0].repeat(19, 1), CENTERS[1].repeat(20, 1), far])
    m = mode_metrics(samples, CENTERS, STD)
    assert m["min_count"] == 20
    assert m["modes_covered"] == 1  # 19 samples do not cover mode 0, 20 cover mode 1
    assert mode_metrics(samples, CENTERS, STD, min_count=19)["modes_covered"] == 2
    assert mode_metrics(CENTERS[:2], CENTERS, STD)["min_count"] == 1  # at least one


def test_numpy_input_and_non_finite_samples():
    samples = CENTERS.repeat(10, 1).numpy().astype(np.float64)
    samples[:8] = np.nan
    m = mode_metrics(samples, CENTERS.numpy(), STD)
    assert m["high_quality"] == pytest.approx(72 / 80)
    assert m["modes_covered"] == 8
    with pytest.raises(ValueError):
        mode_metrics(torch.zeros(4, 3), CENTERS, STD)


@pytest.mark.parametrize(
    "make, centers, std", [(ring8, CENTERS, 0.02), (grid25, grid25_centers(2.0), 0.05)]
)
def test_true_data_scores(make, centers, std):
    m = mode_metrics(make(n=5000, seed=2).data, centers, std)
    assert m["modes_covered"] == len(centers)
    assert 0.98 < m["high_quality"] < 0.996  # 1 - exp(-4.5) = 0.989 for a 2-D Gaussian
