"""The music metrics declared once: every one has its computation, ``score`` gives what the
metric functions give under the labels ``eval`` prints (value, held-out floor, the training
phrases' figure), training keeps the mean relative gap, and a plug-in's music metric is one
entry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.metrics.fid import fid
from ganforge.modalities.music.evaluate import _groups
from ganforge.modalities.music.features import KeyNet, keynet_features
from ganforge.modalities.music.metrics import METRICS as PHRASE_METRICS
from ganforge.modalities.music.metrics import means, phrase_metrics
from ganforge.modalities.music.overlap import overlap_area
from ganforge.modalities.music.reference import MusicReference
from ganforge.modalities.music.scores import (
    MusicCompared,
    MusicMetric,
    held_out,
    relative_gap,
    score,
)
from ganforge.registry import find_metric, modality_metrics, registered

ALL = ["metrics", "overlap", "copies", "fd"]
LOW = 48


def _rolls(rng: np.random.Generator, n: int) -> np.ndarray:
    rolls = (rng.random((n, 4, 32, 24)) < 0.08).astype(np.uint8)
    rolls[:, :, :, 5] |= (rng.random((n, 4, 32)) < 0.5).astype(np.uint8)
    return rolls


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    real = _rolls(rng, 110)
    ref = MusicReference.build(real[:80], real[80:], LOW, "toy")
    torch.manual_seed(0)
    net = KeyNet(4, 32, 24).eval()
    ref.memo("keynet", lambda: (net, {"held_out_accuracy": 0.5}))  # no training here
    gen = (rng.random((20, 4, 32, 24)) < 0.1).astype(np.uint8)
    gen[:4] = real[:4]  # a few copies of training phrases
    return ref, gen, net


def test_every_music_metric_declares_its_computation():
    specs = modality_metrics("music")
    assert [m.name for m in specs] == ALL
    assert all(isinstance(m, MusicMetric) and m.score is not None for m in specs)
    assert [m.name for m in specs if m.baseline is not None] == ["metrics", "overlap"]
    assert [m.name for m in specs if m.periodic] == ["metrics"]


def test_score_is_the_metric_functions_under_their_labels(data):
    ref, gen, net = data
    held = ref.heldout[np.random.default_rng(3).permutation(len(ref.heldout))[: len(gen)]]
    assert np.array_equal(held_out(ref, len(gen), 3), held)
    g, h, t = phrase_metrics(gen, LOW), phrase_metrics(held, LOW), ref.train_metrics
    gm, hm, tm = means(g), means(h), means(t)
    expected = {m: {"value": gm[m], "floor": hm[m], "baseline": tm[m]} for m in PHRASE_METRICS}
    for m in PHRASE_METRICS:
        expected[f"OA[{m}]"] = {
            "value": overlap_area(t[m], g[m], 3),
            "floor": overlap_area(t[m], h[m], 3),
            "baseline": 1.0,
        }
    cg, ch = ref.copies(gen), ref.copies(held)
    expected.update({k: {"value": cg[k], "floor": ch[k]} for k in cg})
    real = keynet_features(net, ref.train)  # all 80 training phrases, in order
    expected["FD[toy-keynet]"] = {
        "value": fid(keynet_features(net, gen), real),
        "floor": fid(keynet_features(net, held), real),
    }
    got = score(gen, ref, seed=3)
    assert list(got) == list(expected)  # the order eval prints them in
    assert got == expected
    assert got["copied phrases %"]["value"] == 20.0
    assert list(score(gen, ref, ("copies", "metrics"), seed=3)) == [*PHRASE_METRICS, *cg]


def test_training_keeps_the_mean_relative_gap(data):
    ref, gen, _ = data
    metric = find_metric("music", "metrics")
    gap = relative_gap(means(phrase_metrics(gen, LOW)), means(ref.train_metrics))
    assert metric.score(MusicCompared(ref, gen, periodic=True)) == {"gap": gap}
    assert gap > 0


def test_a_plugin_music_metric_is_one_entry(data):
    ref, gen, _ = data

    def density(c: MusicCompared) -> dict[str, float]:
        return {"density %": 100 * float(c.rolls.mean())}

    extra = MusicMetric(
        "density", "music", "share of cells on", score=density, baseline=lambda c: {"x": 1}
    )
    with registered(extra):
        assert _groups(None) == (*ALL, "density")
        got = score(gen, ref, _groups("copies,density"), seed=1)
        assert list(got) == ["copied bars %", "copied phrases %", "density %"]
        held = held_out(ref, len(gen), 1)
        assert got["density %"] == {
            "value": 100 * float(gen.mean()),
            "floor": 100 * float(held.mean()),
        }
    with pytest.raises(ConfigError, match="a music run is scored by metrics, overlap"):
        _groups("density")
