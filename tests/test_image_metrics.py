"""The image metrics declared once: every one has its computation, ``feature_scores`` and
``image_scores`` give what the metric functions give under the labels ``eval`` prints, a
plug-in's image metric is one entry, and the points modality's ``modes`` is declared too."""

from __future__ import annotations

import pytest
import torch

import ganforge.modalities.image.evaluate as image_eval
from ganforge.errors import ConfigError
from ganforge.metrics import (
    class_coverage,
    density_coverage,
    fid,
    fid_bootstrap,
    inception_score,
    kid,
    mode_metrics,
    precision_recall,
    sliced_wasserstein,
)
from ganforge.metrics.evaluate import Extractor
from ganforge.modalities.image.metrics import (
    ImageMetric,
    ImagesCompared,
    feature_scores,
    image_scores,
    parse_metrics,
)
from ganforge.modalities.points import Mixture
from ganforge.registry import MODALITIES, find_metric, modality_metrics, registered
from ganforge.training import resolve_config

ALL = ["fid", "kid", "pr", "dc", "is", "classes", "swd"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _features(seed: int, n: int = 60, classes: int = 10) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, classes, generator=g) * 2
    return {"feats": torch.randn(n, 8, generator=g) + seed, "probs": logits.softmax(1)}


EXTRACTOR = Extractor("toy", lambda x: x.flatten(1)[:, :8], None, num_classes=10)


def test_every_image_metric_declares_its_computation():
    specs = modality_metrics("image")
    assert [m.name for m in specs] == ALL
    for m in specs:
        assert isinstance(m, ImageMetric) and m.score is not None and m.measure is not None
    assert [m.name for m in specs if m.probs] == ["is", "classes"]
    assert [m.name for m in specs if m.pixels] == ["swd"]
    assert [m.name for m in specs if m.periodic] == ["fid", "kid", "swd"]


def test_feature_scores_are_the_metric_functions_under_their_labels():
    real, other = _features(0), _features(1)
    got = feature_scores(real, other, ALL, EXTRACTOR, seed=3)
    a, b, p = real["feats"].double(), other["feats"].double(), other["probs"].double()
    pr, dc = precision_recall(a, b), density_coverage(a, b)
    is_mean, is_std = inception_score(p)
    cc = class_coverage(p, 10)
    kid_mean, kid_std = kid(a, b, seed=3)
    expected = {
        "FID[toy]": {"value": fid(a, b), "std": fid_bootstrap(a, b, seed=3)[1]},
        "KID[toy]": {"value": kid_mean, "std": kid_std},
        "precision[toy]": {"value": float(pr["precision"])},
        "recall[toy]": {"value": float(pr["recall"])},
        "density[toy]": {"value": float(dc["density"])},
        "coverage[toy]": {"value": float(dc["coverage"])},
        "IS[toy]": {"value": is_mean, "std": is_std},
        "classes_covered[toy]": {"value": float(cc["classes_covered"])},
        "class_entropy[toy]": {"value": float(cc["normalized_entropy"])},
    }
    assert list(got) == list(expected)  # the order eval prints them in
    assert got == expected  # the same computations on the same features, bit for bit
    assert got["FID[toy]"]["std"] > 0


def test_feature_scores_take_the_names_asked_and_what_the_features_allow():
    real, other = _features(0), _features(1)
    assert list(feature_scores(real, other, ["kid", "swd"], EXTRACTOR)) == ["KID[toy]"]
    without_probs = feature_scores(
        {"feats": real["feats"]}, {"feats": other["feats"]}, ALL, EXTRACTOR
    )
    assert "IS[toy]" not in without_probs and "classes_covered[toy]" not in without_probs
    assert "coverage[toy]" in without_probs
    assert feature_scores(real, other, ALL, None) == {}
    assert feature_scores({}, other, ALL, EXTRACTOR) == {}


def test_image_scores_are_swd_on_pixels():
    g = torch.Generator().manual_seed(0)
    real, other = torch.rand(40, 1, 16, 16, generator=g), torch.rand(40, 1, 16, 16, generator=g)
    got = image_scores(real, other, ALL, seed=5)
    assert got == {"SWD": {"value": float(sliced_wasserstein(real, other, seed=5)["mean"])}}
    assert image_scores(real, other, ["fid", "kid"]) == {}


def test_the_periodic_scores_keep_the_value_without_the_bootstrap():
    real, other = _features(0), _features(1)
    images = other["feats"].view(-1, 2, 2, 2)
    compared = ImagesCompared(images, images, EXTRACTOR, {"feats": real["feats"]}, spread=False)
    a, b = real["feats"].double(), other["feats"].double()
    assert find_metric("image", "fid").score(compared) == {"FID[toy]": fid(a, b)}
    assert find_metric("image", "fid").measure(compared) == {"FID[toy]": {"value": fid(a, b)}}
    assert find_metric("image", "kid").score(compared) == {"KID[toy]": kid(a, b, seed=0)[0]}


def test_parse_metrics_reads_the_registered_names():
    assert parse_metrics(None) == ALL
    assert parse_metrics(" FID, swd ") == ["fid", "swd"]
    with pytest.raises(ConfigError, match=r"unknown metric 'fdi'; choose from fid,kid,pr,dc,"):
        parse_metrics("fid,fdi")


def test_a_plugin_image_metric_is_one_entry():
    def spread(c: ImagesCompared) -> dict[str, dict[str, float]]:
        return {f"spread{c.tag}": {"value": float(c.feats[1].std())}}

    extra = ImageMetric("spread", "image", "feature spread", measure=spread)
    real, other = _features(0), _features(1)
    with registered(extra):
        assert parse_metrics(None) == [*ALL, "spread"]
        got = feature_scores(real, other, ["fid", "spread"], EXTRACTOR)
        assert list(got) == ["FID[toy]", "spread[toy]"]
        assert got["spread[toy]"]["value"] == pytest.approx(float(other["feats"].double().std()))
    assert "spread" not in parse_metrics(None)


def test_points_modes_is_declared_with_its_score():
    modes = find_metric("points", "modes")
    centers = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    samples = torch.cat([torch.zeros(30, 2), torch.full((10, 2), 9.0)])
    m = mode_metrics(samples, centers, 0.1)
    got = modes.score(Mixture(samples, centers, 0.1))
    assert got == {"modes_covered": m["modes_covered"], "high_quality": m["high_quality"]}
    assert got == {"modes_covered": 1, "high_quality": 0.75}


def test_periodic_fid_scores_generated_images_on_cached_real_features(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path))
    monkeypatch.delenv("GANFORGE_INCEPTION_WEIGHTS", raising=False)
    net = Extractor("toy", lambda x: x.flatten(1)[:, :8] * 2, None)
    monkeypatch.setattr(image_eval, "classifier_extractor", lambda spec: net)
    cfg = resolve_config("demo", overrides=["data.spec=digits", "eval.metric=fid", "eval.n=40"])
    modality = MODALITIES.get("image")
    modality.check_periodic(cfg)
    shape = (1, 8, 8)
    scorer = modality.periodic_scorer(cfg, shape)
    assert scorer.sample_count() == 40
    fake = torch.rand(40, *shape, generator=torch.Generator().manual_seed(1)) * 2 - 1
    label, value = scorer(fake)
    real = image_eval.comparison(cfg, shape).view(fake).real  # the same draw of real images
    assert label == "FID[toy]"
    assert value == fid(net.features(real).double(), net.features(fake).double())
