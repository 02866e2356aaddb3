"""FID, KID, precision/recall/density/coverage, Inception Score, class coverage and SWD."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage
import torch
import torch.nn.functional as F

from ganforge.metrics import (
    class_coverage,
    density_coverage,
    feature_statistics,
    fid,
    fid_bootstrap,
    frechet_distance,
    inception_score,
    kid,
    knn_radii,
    laplacian_pyramid,
    prdc,
    precision_recall,
    reconstruct_laplacian_pyramid,
    sliced_wasserstein,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These tensors are small: with a busy CPU, two threads' synchronisation costs more than
    the work (KID subsets: 0.02 s on one thread, seconds on two)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- FID


def _fid_scipy(a: np.ndarray, b: np.ndarray) -> float:
    """The pytorch-fid formula: sqrtm of the covariance product, real part of its trace."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)


def test_feature_statistics_match_numpy():
    x = _rng().normal(size=(50, 6))
    mu, sigma = feature_statistics(x)
    assert mu.dtype == torch.float64
    np.testing.assert_allclose(mu.numpy(), x.mean(0), atol=1e-12)
    np.testing.assert_allclose(sigma.numpy(), np.cov(x, rowvar=False), atol=1e-12)


def test_frechet_closed_form_diagonal():
    r = _rng(1)
    m1, m2 = r.normal(size=5), r.normal(size=5)
    c1, c2 = r.uniform(0.1, 3, size=5), r.uniform(0.1, 3, size=5)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(c1) - np.sqrt(c2)) ** 2)
    got = frechet_distance(m1, np.diag(c1), m2, np.diag(c2))
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_frechet_closed_form_commuting_full():
    # C1 = Q diag(a) Q^T and C2 = Q diag(b) Q^T commute: same closed form as the diagonal case
    r = _rng(2)
    q, _ = np.linalg.qr(r.normal(size=(8, 8)))
    a, b = r.uniform(0.1, 2, size=8), r.uniform(0.1, 2, size=8)
    m1, m2 = r.normal(size=8), r.normal(size=8)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance(m1, q @ np.diag(a) @ q.T, m2, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(expected, rel=1e-9)


def test_fid_matches_scipy_reference():
    r = _rng(3)
    a = r.normal(size=(500, 64))
    mix = np.eye(64) + 0.3 * r.normal(size=(64, 64)) / 8
    b = r.normal(size=(500, 64)) @ mix * 1.2 + 0.1
    expected = _fid_scipy(a, b)
    assert fid(a, b) == pytest.approx(expected, rel=1e-3)
    assert fid(torch.from_numpy(a).float(), b) == pytest.approx(expected, rel=1e-3)


def test_fid_self_zero_and_symmetric():
    r = _rng(4)
    a, b = r.normal(size=(300, 16)), r.normal(size=(200, 16)) + 0.5
    assert fid(a, a) == pytest.approx(0.0, abs=1e-9)
    assert fid(a, b) == pytest.approx(fid(b, a), rel=1e-9)
    # fewer samples than dims: singular covariances, still symmetric and non-negative
    c, d = r.normal(size=(20, 40)), r.normal(size=(25, 40))
    assert fid(c, d) == pytest.approx(fid(d, c), rel=1e-8)


def test_frechet_shape_mismatch():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_fid_bootstrap():
    r = _rng(5)
    a, b = r.normal(size=(400, 8)), r.normal(size=(400, 8)) + 0.3
    mean, std = fid_bootstrap(a, b, n_boot=8, seed=1)
    assert (mean, std) == fid_bootstrap(a, b, n_boot=8, seed=1)
    assert std > 0
    assert abs(mean - fid(a, b)) < 5 * std + 0.05
    # one resample by explicit indexing gives the same FID as the weighted form
    idx = torch.randint(400, (400,), generator=torch.Generator().manual_seed(2))
    assert fid_bootstrap(a, b, n_boot=1, seed=2)[0] == pytest.approx(fid(a, b[idx.numpy()]))


# ----------------------------------------------------------------------------- KID


def _mmd2_unbiased_loops(x: np.ndarray, y: np.ndarray) -> float:
    """Direct O(n^2) unbiased MMD^2 with k(u, v) = (u.v / d + 1)^3."""
    d = x.shape[1]

    def k(u, v):
        return (u @ v / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_direct_estimator():
    r = _rng(6)
    a, b = r.normal(size=(40, 5)), r.normal(size=(40, 5)) * 1.5 + 0.2
    # one subset of all 40 rows is a permutation of each set; MMD^2 ignores order
    mean, std = kid(a, b, num_subsets=1, subset_size=40)
    assert mean == pytest.approx(_mmd2_unbiased_loops(a, b), rel=1e-10)
    assert std == 0.0


def test_kid_same_vs_shifted():
    r = _rng(7)
    a, b = r.normal(size=(400, 32)), r.normal(size=(400, 32))
    same_mean, same_std = kid(a, b, num_subsets=10, subset_size=200)
    shift_mean, _ = kid(a, b + 0.5, num_subsets=10, subset_size=200)
    assert abs(same_mean) < 3 * same_std + 1e-3 and abs(same_mean) < 0.02
    assert shift_mean > 0.5 and shift_mean > 20 * abs(same_mean)


def test_kid_clips_subset_size_and_is_seeded():
    r = _rng(8)
    a, b = r.normal(size=(30, 4)), r.normal(size=(50, 4))
    v = kid(a, b, num_subsets=5)  # subset_size 1000 -> 30
    assert v == kid(a, b, num_subsets=5)
    assert v != kid(a, b, num_subsets=5, seed=1)


# ----------------------------------------------------------------------------- PRDC


def test_prdc_identical_sets():
    x = _rng(9).normal(size=(200, 8))
    m = prdc(x, x, k=5)
    assert m["precision"] == 1.0 and m["recall"] == 1.0 and m["coverage"] == 1.0
    # each fake copy lies in its own ball and in the k-1 balls it is strictly nearer than the
    # k-th neighbour of: k hits per fake, so density = 1 (no ties in continuous data)
    assert m["density"] == pytest.approx(1.0)
    assert precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}


def test_prdc_hand_case_1d():
    # real = 0, 1, 3, 4, 7; k = 1 radii (nearest other real): 1, 1, 1, 1, 3
    #   open balls: (-1, 1), (0, 2), (2, 4), (3, 5), (4, 10)
    # fake = 0.5, 0.9, 2.6, 12; radii: 0.4, 0.4, 1.7, 9.4
    #   open balls: (0.1, 0.9), (0.5, 1.3), (0.9, 4.3), (2.6, 21.4)
    # real balls holding each fake: 0.5 -> {0, 1}, 0.9 -> {0, 1}, 2.6 -> {3}, 12 -> {}
    #   precision = 3/4, density = (2 + 2 + 1 + 0) / (1 * 4) = 5/4
    # real balls holding some fake: 0 yes, 1 yes, 3 yes (2.6), 4 no, 7 no -> coverage = 3/5
    # real inside some fake ball: 0 no (0.5 is not < 0.4), 1, 3, 4 (1.4 < 1.7), 7 (5 < 9.4)
    #   recall = 4/5
    real = np.array([[0.0], [1.0], [3.0], [4.0], [7.0]])
    fake = np.array([[0.5], [0.9], [2.6], [12.0]])
    np.testing.assert_allclose(knn_radii(real, 1).numpy(), [1, 1, 1, 1, 3], atol=1e-12)
    np.testing.assert_allclose(knn_radii(fake, 1).numpy(), [0.4, 0.4, 1.7, 9.4], atol=1e-12)
    pr = precision_recall(real, fake, k=1)
    dc = density_coverage(real, fake, k=1)
    assert pr["precision"] == pytest.approx(0.75) and pr["recall"] == pytest.approx(0.8)
    assert dc["density"] == pytest.approx(1.25) and dc["coverage"] == pytest.approx(0.6)
    assert prdc(real, fake, k=1) == {**pr, **dc}


def test_prdc_ball_is_open():
    # real 0 and 2 have radius 2; fake -2 is exactly on the boundary of B(0, 2): outside
    m = prdc(np.array([[0.0], [2.0]]), np.array([[-2.0], [-2.5]]), k=1)
    assert m["precision"] == 0.0 and m["coverage"] == 0.0 and m["density"] == 0.0


def test_prdc_disjoint_sets():
    r = _rng(10)
    m = prdc(r.normal(size=(100, 4)), r.normal(size=(80, 4)) + 100.0, k=3)
    assert m == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_chunked_matches_bruteforce(monkeypatch):
    # the module, not the function that shares its name in ganforge.metrics
    mod = importlib.import_module("ganforge.metrics.prdc")
    monkeypatch.setattr(mod, "_CHUNK_ENTRIES", 3000)  # forces many row chunks
    r = _rng(11)
    real, fake, k = r.normal(size=(150, 5)), r.normal(size=(120, 5)) * 1.3, 3
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=-1)
    d_rf = np.linalg.norm(real[:, None] - fake[None], axis=-1)
    r_real, r_fake = np.sort(d_rr, 1)[:, k], np.sort(d_ff, 1)[:, k]
    inside = d_rf < r_real[:, None]
    expected = {
        "precision": inside.any(0).mean(),
        "recall": (d_rf < r_fake[None]).any(1).mean(),
        "density": inside.sum(0).mean() / k,
        "coverage": (d_rf.min(1) < r_real).mean(),
    }
    got = prdc(real, fake, k=k)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_knn_radii_rejects_large_k():
    with pytest.raises(ValueError):
        knn_radii(np.zeros((3, 2)), 3)


# ----------------------------------------------------------------------------- IS


def test_inception_score_uniform_confident():
    c, n = 5, 100  # 10 splits of 10 rows, each split holds every class twice
    probs = F.one_hot(torch.arange(n) % c, c).float()
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(c) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_one_class():
    probs = F.one_hot(torch.full((40,), 2), 4).float()
    assert inception_score(probs, splits=4) == (pytest.approx(1.0), pytest.approx(0.0))


def test_inception_score_matches_original_formula():
    p = _rng(12).dirichlet(np.full(7, 0.3), size=103)
    scores = []
    for i in range(10):  # the original code's splits and KL
        part = p[i * 103 // 10 : (i + 1) * 103 // 10]
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    mean, std = inception_score(p, splits=10)
    assert mean == pytest.approx(np.mean(scores)) and std == pytest.approx(np.std(scores))


def test_inception_score_rejects_logits():
    with pytest.raises(ValueError):
        inception_score(torch.randn(20, 3), splits=2)


# ----------------------------------------------------------------------------- classes


def test_class_coverage_hand_case():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 19 + [3] * 1)
    m = class_coverage(labels, 4)  # min share 1/40: class 3 (1/100) is not covered
    shares = np.array([0.5, 0.3, 0.19, 0.01])
    entropy = -np.sum(shares * np.log(shares))
    assert m["classes_covered"] == 3 and m["num_classes"] == 4
    assert m["histogram"] == [50, 30, 19, 1] and m["min_share"] == pytest.approx(0.025)
    assert m["entropy"] == pytest.approx(entropy)
    assert m["normalized_entropy"] == pytest.approx(entropy / math.log(4))
    assert class_coverage(labels, 4, min_share=0.01)["classes_covered"] == 4


def test_class_coverage_from_scores():
    scores = torch.randn(60, 6)
    scores[torch.arange(60), torch.arange(60) % 6] += 100  # argmax cycles through the classes
    m = class_coverage(scores, 6)
    assert m["classes_covered"] == 6 and m["histogram"] == [10] * 6
    assert m["normalized_entropy"] == pytest.approx(1.0)
    one = class_coverage(torch.full((9,), 2), 6)
    assert one["classes_covered"] == 1 and one["entropy"] == 0.0
    with pytest.raises(ValueError):
        class_coverage(torch.tensor([0, 6]), 6)


# ----------------------------------------------------------------------------- SWD


def _smooth_images(n: int, seed: int) -> torch.Tensor:
    """Random smooth 32x32 RGB images: 8x8 noise upsampled bilinearly plus faint grain."""
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(n, 3, 8, 8, generator=g)
    img = F.interpolate(low, size=(32, 32), mode="bilinear", align_corners=False)
    return img + 0.05 * torch.randn(n, 3, 32, 32, generator=g)


def test_pyramid_reconstructs():
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    pyr = laplacian_pyramid(x, 4)
    assert [tuple(p.shape[-2:]) for p in pyr] == [(32, 32), (16, 16), (8, 8), (4, 4)]
    assert (reconstruct_laplacian_pyramid(pyr) - x).abs().max() < 1e-5


def test_pyramid_matches_scipy_mirror_convolution():
    # pyrDown/pyrUp as in the reference: 5x5 binomial, scipy 'mirror' boundary
    kern = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])[None, None] / 256.0
    x = np.random.default_rng(13).normal(size=(2, 3, 16, 16))
    down = scipy.ndimage.convolve(x, kern, mode="mirror")[:, :, ::2, ::2]
    up = np.zeros_like(x)
    up[:, :, ::2, ::2] = down
    up = scipy.ndimage.convolve(up, kern * 4, mode="mirror")
    pyr = laplacian_pyramid(torch.from_numpy(x), 2)
    np.testing.assert_allclose(pyr[1].numpy(), down, atol=1e-12)
    np.testing.assert_allclose(pyr[0].numpy(), x - up, atol=1e-12)


def test_swd_identical_and_seeded():
    x = _smooth_images(16, 0)
    d = sliced_wasserstein(x, x, patches_per_image=32, num_dirs=32, repeats=2)
    assert set(d) == {32, 16, "mean"} and all(v == 0.0 for v in d.values())
    y = _smooth_images(16, 1)
    kw = {"patches_per_image": 32, "num_dirs": 32, "repeats": 2}
    assert sliced_wasserstein(x, y, seed=3, **kw) == sliced_wasserstein(x, y, seed=3, **kw)


def test_swd_same_vs_different_distribution():
    # two halves of white-noise images against smooth images. With 2048 descriptors per level
    # the finite-sample floor is large (~1/sqrt(#descriptors): about 40 here, a few units for
    # the paper's 2M), so only the ordering is tested
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(128, 3, 32, 32, generator=g)
    smooth = F.interpolate(torch.randn(64, 3, 8, 8, generator=g), size=(32, 32), mode="bilinear")
    kw = {"patches_per_image": 32, "num_dirs": 64, "repeats": 2}
    same = sliced_wasserstein(noise[:64], noise[64:], **kw)
    diff = sliced_wasserstein(noise[:64], smooth, **kw)
    assert diff["mean"] > 1.5 * same["mean"]
    for key in same:
        assert diff[key] > same[key], key


def test_swd_normalisation_modes():
    # an affine colour change 2x + 1 only rescales bands and shifts the residual: per-set
    # normalisation (reference) cannot see it, joint normalisation can
    x = _smooth_images(16, 0).double()
    kw = {"patches_per_image": 32, "num_dirs": 32, "repeats": 2}
    per_set = sliced_wasserstein(x, 2 * x + 1, **kw)
    joint = sliced_wasserstein(x, 2 * x + 1, normalize="joint", **kw)
    assert per_set["mean"] < 1e-6 and joint["mean"] > 10


def test_swd_uneven_sets_and_bad_sizes():
    d = sliced_wasserstein(
        _smooth_images(10, 0), _smooth_images(6, 1), patches_per_image=8, num_dirs=8, repeats=1
    )
    assert d["mean"] > 0
    with pytest.raises(ValueError):
        laplacian_pyramid(torch.zeros(1, 1, 12, 12), 4)


def test_classifier_datasets_are_the_ones_modalities_register():
    from ganforge.errors import DataError
    from ganforge.modalities.image.extractors import LABELLED, dataset_key, labelled_splits

    assert set(LABELLED.names()) >= {"fashion-mnist", "mnist5k", "digits"}
    assert dataset_key("Fashion-MNIST:/somewhere") == "fashion-mnist"
    assert dataset_key("toy:ring8") is None
    splits = labelled_splits("digits")
    assert len(splits.train_index) + len(splits.test_index) == len(splits.train)
    assert not set(splits.train_index.tolist()) & set(splits.test_index.tolist())
    with pytest.raises(DataError, match="they exist for fashion-mnist, mnist5k, digits"):
        labelled_splits("toy:ring8")
