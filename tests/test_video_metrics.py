"""The video metrics declared once: every one has its computation, ``score`` gives what the
metric functions give under the labels ``eval`` prints (value, held-out floor, the real
clips' figure), training keeps FVD, and a plug-in's video metric is one entry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.metrics.fid import fid
from ganforge.metrics.kid import kid
from ganforge.modalities.video.evaluate import _groups
from ganforge.modalities.video.features import ClipNet, clip_features
from ganforge.modalities.video.metrics import VideoCompared, VideoMetric, score
from ganforge.modalities.video.motion import ks_distance
from ganforge.modalities.video.reference import VideoReference, clip_stats
from ganforge.registry import find_metric, modality_metrics, registered

ALL = ["frames", "acd", "motion", "fvd"]


class FrameNet(nn.Module):
    """A stand-in for the classifier of object crops: 16 features, 3 classes."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 16), nn.ReLU())
        self.out = nn.Linear(16, 3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _clips(rng: np.random.Generator, n: int) -> np.ndarray:
    """Coloured 4-px squares moving across 16-px frames, 6 frames a clip."""
    clips = np.zeros((n, 3, 6, 16, 16), dtype=np.uint8)
    for i in range(n):
        y, x = rng.integers(0, 12, 2)
        dy, dx = rng.integers(-1, 2, 2)
        colour = rng.integers(120, 256, 3)
        for t in range(6):
            yy, xx = int(np.clip(y + dy * t, 0, 12)), int(np.clip(x + dx * t, 0, 12))
            clips[i, :, t, yy : yy + 4, xx : xx + 4] = colour[:, None, None]
    return clips


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    real = _clips(rng, 45)
    settings = {"objects": 1, "source": ["shapes-motion"], "channels": 3, "size": 16}
    ref = VideoReference(settings, real[:30], real[30:], None, 4, "toy")
    torch.manual_seed(0)
    frame_net, clip_net = FrameNet().requires_grad_(False), ClipNet(3).eval()
    ref.memo("frame_net", lambda: (frame_net, {"test_accuracy": 1.0}))  # no training here
    ref.memo("clipnet", lambda: (clip_net, {"order_accuracy": 1.0}))
    gen = _clips(rng, 12)
    gen[:3, :, 1:] = gen[:3, :, :1]  # a few frozen clips
    return ref, gen


def test_every_video_metric_declares_its_computation():
    specs = modality_metrics("video")
    assert [m.name for m in specs] == ALL
    assert all(isinstance(m, VideoMetric) and m.score is not None for m in specs)
    assert [m.name for m in specs if m.baseline is not None] == ["frames", "acd", "motion"]
    assert [m.name for m in specs if m.periodic] == ["fvd"]


def test_score_is_the_metric_functions_under_their_labels(data):
    ref, gen = data
    held = ref.heldout[np.random.default_rng(2).permutation(len(ref.heldout))[: len(gen)]]
    r, g, h = ref.real_stats(), clip_stats(ref, gen), clip_stats(ref, held)

    def mean(x):
        return float(np.nanmean(np.asarray(x, dtype=float)))

    def three(key, f, real=True):
        out = {"value": f(g[key]), "floor": f(h[key])}
        return {**out, "baseline": f(r[key])} if real else out

    ff = "frame_features"
    expected = {
        "frame FID[toy-cnn]": {"value": fid(g[ff], r[ff]), "floor": fid(h[ff], r[ff])},
        "frame KID[toy-cnn]": {
            "value": kid(g[ff], r[ff], seed=2)[0],
            "floor": kid(h[ff], r[ff], seed=2)[0],
        },
        "confidence %": three("confidence", lambda x: 100 * float(x.mean())),
        "ACD[toy-cnn]": three("acd", mean),
        "ACD[colour]": three("acd_colour", mean),
        "speed KS": {
            "value": ks_distance(g["speeds"], r["speeds"]),
            "floor": ks_distance(h["speeds"], r["speeds"]),
        },
        "speed px/frame": three("speed", float),
        "physics %": three("physics", lambda x: 100 * x),
        "freeze %": three("freeze", lambda x: 100 * x),
        "FVD[toy-c3d]": {
            "value": fid(g["clip_features"], r["clip_features"]),
            "floor": fid(h["clip_features"], r["clip_features"]),
        },
    }
    got = score(gen, ref, seed=2)
    assert list(got) == list(expected)  # the order eval prints them in
    assert got == expected
    assert got["freeze %"]["value"] >= 25.0 and got["physics %"]["floor"] > 0
    motion = ["speed KS", "speed px/frame", "physics %", "freeze %"]
    assert list(score(gen, ref, ("fvd", "motion"), seed=2)) == [*motion, "FVD[toy-c3d]"]


def test_training_keeps_fvd_against_the_real_clips(data):
    ref, gen = data
    fake = torch.from_numpy(gen).float() / 127.5 - 1
    net = ref.clipnet()[0]
    got = find_metric("video", "fvd").score(VideoCompared(ref, fake, periodic=True))
    assert got == {"fvd": fid(clip_features(net, fake), clip_features(net, ref.real()))}


def test_a_plugin_video_metric_is_one_entry(data):
    ref, gen = data

    def lit(c: VideoCompared) -> dict[str, float]:
        return {"lit %": 100 * float((c.clips > 0).mean())}

    def real(c: VideoCompared) -> dict[str, float]:
        return lit(VideoCompared(c.reference, c.reference.real()))

    extra = VideoMetric("lit", "video", "share of lit pixels", score=lit, baseline=real)
    with registered(extra):
        assert _groups(None) == (*ALL, "lit")
        got = score(gen, ref, _groups("lit"), seed=1)
        held = ref.heldout[np.random.default_rng(1).permutation(len(ref.heldout))[: len(gen)]]
        assert got == {
            "lit %": {
                "value": 100 * float((gen > 0).mean()),
                "floor": 100 * float((held > 0).mean()),
                "baseline": 100 * float((ref.real() > 0).mean()),
            }
        }
    with pytest.raises(ConfigError, match="a video run is scored by frames, acd"):
        _groups("lit")
