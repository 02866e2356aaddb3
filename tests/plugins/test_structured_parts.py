"""Every open contract in one run: a structured latent (a dict of two codes), a data-side
condition sampler with its own state, a D with two weighted heads and a class output, an
auxiliary loss and an adaptive D-input transform; trained through ganforge.train, resumed
bit for bit."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
import torch

import ganforge
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.latent import interpolate_latent
from ganforge.engine.step import StepOptions, d_step, g_step, simultaneous_step
from ganforge.registry import registered

sys.path.insert(0, str(Path(__file__).resolve().parent))
from structured_parts import (  # noqa: E402
    PARTS,
    AdaptiveJitter,
    ClassLoss,
    TwoCodeGenerator,
    TwoHeadDiscriminator,
)

OVER = [
    "data.spec=clusters",
    "data.conditional=true",
    "model.arch=two-code",
    "train.batch=32",
    "train.n_critic=2",
    "loss.penalty=r1",
    "loss.penalty_weight=0.1",
    "loss.head_weights.marginal=0.25",
    "train.ema=0.9",
    "log.every=5",
    "log.sample_every=10",
    "log.checkpoint_every=10",
    "log.progress=false",
]


@pytest.fixture(autouse=True)
def structured():
    with registered(*PARTS):
        yield


def _state(run):
    return ckpt.load_checkpoint(ckpt.latest_checkpoint(run / "checkpoints"))


def test_every_part_trains_and_resumes_bit_for_bit(tmp_path):
    ganforge.train(None, out=tmp_path / "straight", steps=20, overrides=OVER)
    ganforge.train(None, out=tmp_path / "split", steps=10, overrides=OVER)
    ganforge.train(None, out=tmp_path / "split", steps=20, overrides=OVER, resume=True)
    (wa, ea, sa), (wb, eb, sb) = _state(tmp_path / "straight"), _state(tmp_path / "split")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    for k in ea:
        assert torch.equal(ea[k], eb[k]), k
    assert sa["sampler"] == sb["sampler"] == {"draws": 40}  # the data's own state, 2 per step
    assert sa["transform"] == sb["transform"] and sa["transform"]["p"] != 0.2  # p moved


def test_heads_aux_and_transform_are_logged(tmp_path):
    ganforge.train(None, out=tmp_path / "r", steps=10, overrides=OVER)
    rec = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in rec if r["kind"] == "train"][-1]
    for key in ("d_real.joint", "d_fake.marginal", "value.joint", "g_aux.cls", "d_aux.cls", "p"):
        assert key in last, key
    # d_real is the head-weighted mean (joint 1, marginal 0.25 from the config)
    want = (last["d_real.joint"] + 0.25 * last["d_real.marginal"]) / 1.25
    assert last["d_real"] == pytest.approx(want, rel=1e-5)


def test_head_weights_change_d_loss(tmp_path):
    torch.manual_seed(0)
    G, D, real = TwoCodeGenerator(), TwoHeadDiscriminator(), torch.randn(8, 2)
    cond = torch.eye(3)[torch.arange(8) % 3]
    losses = []
    for weights in ({}, {"marginal": 0.0}):
        torch.manual_seed(1)
        d_opt = torch.optim.SGD(copy.deepcopy(D).parameters(), lr=0.0)
        stats, _ = d_step(G, D, d_opt, real, cond, opts=StepOptions(head_weights=weights))
        losses.append(float(stats["d_loss"]))
        assert ("d_real.marginal" in stats) == (weights == {})
    assert losses[0] != losses[1]
    with pytest.raises(ValueError, match="names no head"):
        d_step(G, D, d_opt, real, cond, opts=StepOptions(head_weights={"clip": 1.0}))


def test_transform_sees_real_and_fake_in_every_step():
    torch.manual_seed(0)
    G, D, real = TwoCodeGenerator(), TwoHeadDiscriminator(), torch.randn(8, 2)
    cond = torch.eye(3)[torch.arange(8) % 3]
    g_opt = torch.optim.Adam(G.parameters())
    d_opt = torch.optim.Adam(D.parameters())
    jitter = AdaptiveJitter()
    opts = StepOptions(transform=jitter, aux=[ClassLoss()], penalty="wgan-gp")
    _, fake = d_step(G, D, d_opt, real, cond, opts=opts, keep_fake=True)
    assert jitter.calls == [8, 8]  # real and fake
    g_step(G, D, g_opt, 8, cond, opts=opts, fake=fake)
    assert jitter.calls == [8, 8, 8]
    simultaneous_step(G, D, g_opt, d_opt, real, cond, opts=StepOptions(transform=jitter))
    assert jitter.calls == [8, 8, 8, 8, 8]


def test_simultaneous_step_falls_back_from_the_shared_backward_with_heads():
    """Several heads: the shared backward cannot divide out one logit per sample, so both
    settings take the tutorial's two passes and agree exactly."""
    torch.manual_seed(0)
    G0, D0, real = TwoCodeGenerator(), TwoHeadDiscriminator(), torch.randn(8, 2)
    cond = torch.eye(3)[torch.arange(8) % 3]
    grads = []
    for shared in (True, False):
        G, D = copy.deepcopy(G0), copy.deepcopy(D0)
        g_opt = torch.optim.SGD(G.parameters(), lr=0.0)
        d_opt = torch.optim.SGD(D.parameters(), lr=0.0)
        torch.manual_seed(3)
        opts = StepOptions(shared_backward=shared, aux=[ClassLoss()])
        simultaneous_step(G, D, g_opt, d_opt, real, cond, opts=opts)
        grads.append([p.grad.clone() for p in (*G.parameters(), *D.parameters())])
    for a, b in zip(*grads, strict=True):
        assert torch.equal(a, b)


def test_interpolation_walks_one_code_and_keeps_the_other(tmp_path):
    G = TwoCodeGenerator()
    z0, z1 = G.sample_latent(4), G.sample_latent(4)
    mid = interpolate_latent(G, z0, z1, 0.5, keep=("private",))
    assert torch.equal(mid["private"], z0["private"])
    assert not torch.equal(mid["shared"], z0["shared"])
    res = ganforge.train(None, out=tmp_path / "r", steps=4, overrides=OVER)
    gif = ganforge.interpolate(res.run_dir, frames=3, keep=("private",), out=tmp_path / "w.gif")
    assert gif.is_file()
    with pytest.raises(ganforge.ConfigError, match="has no part motion"):
        ganforge.interpolate(res.run_dir, frames=3, keep=("motion",))
