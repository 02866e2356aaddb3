"""The trainer: exact resume, the two step kinds, EMA, conditional training."""

import copy

import pytest
import torch

import ganforge
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.step import StepOptions, d_step, g_step, simultaneous_step
from ganforge.nets import MLPDiscriminator, MLPGenerator


def _weights(run_dir):
    path = ckpt.latest_checkpoint(run_dir / "checkpoints")
    weights, extra, state = ckpt.load_checkpoint(path)
    return weights, extra, state


def test_resume_is_bit_exact(tmp_path, fast):
    """N steps, stop, resume, N steps == 2N steps straight: weights, optimiser, RNG."""
    over = fast + [
        "model.dropout=0.2",
        "train.ema=0.9",
        "train.n_critic=2",
        "loss.penalty=r1",
        "loss.penalty_weight=0.1",
        "loss.r1_every=3",
        "model.g_width=32",
        "model.d_width=32",
        "train.batch=32",
    ]
    straight = tmp_path / "straight"
    ganforge.train("toy-ring8", out=straight, steps=40, overrides=over)
    split = tmp_path / "split"
    first = ganforge.train("toy-ring8", out=split, steps=20, overrides=over)
    assert first.step == 20
    second = ganforge.train(None, out=split, steps=40, resume=True, overrides=over)
    assert second.step == 40
    wa, ea, sa = _weights(straight)
    wb, eb, sb = _weights(split)
    assert wa.keys() == wb.keys() and any(k.startswith("G_ema.") for k in wa)
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    for k in ea:
        assert torch.equal(ea[k], eb[k]), k
    assert sa["sampler"] == sb["sampler"] and sa["d_steps"] == sb["d_steps"] == 80
    # metrics.jsonl of the resumed run has each logged step once
    steps = [r["step"] for r in ganforge.plots.read_metrics(split / "metrics.jsonl")]
    assert steps == sorted(set(steps)) and steps[-1] == 40


def _pair(seed=0):
    torch.manual_seed(seed)
    return MLPGenerator(z_dim=4, out_shape=(2,), hidden=16), MLPDiscriminator(
        in_shape=(2,), hidden=16
    )


def test_simultaneous_step_takes_both_gradients_from_one_point():
    """D's update equals an alternating D step from the same state; G's update equals a G step
    against the *old* D on the same fakes."""
    G, D = _pair()
    real = torch.randn(8, 2)
    opts = StepOptions(loss="nonsaturating")

    G1, D1 = copy.deepcopy(G), copy.deepcopy(D)
    go1 = torch.optim.SGD(G1.parameters(), lr=0.1)
    do1 = torch.optim.SGD(D1.parameters(), lr=0.1)
    torch.manual_seed(1)
    simultaneous_step(G1, D1, go1, do1, real, opts=opts)

    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    D_old = copy.deepcopy(D)
    go2 = torch.optim.SGD(G2.parameters(), lr=0.1)
    do2 = torch.optim.SGD(D2.parameters(), lr=0.1)
    torch.manual_seed(1)
    _, fake = d_step(G2, D2, do2, real, opts=opts, keep_fake=True)
    g_step(G2, D_old, go2, 8, opts=opts, fake=fake)

    for a, b in zip(D1.parameters(), D2.parameters(), strict=False):
        assert torch.allclose(a, b, atol=1e-7)
    for a, b in zip(G1.parameters(), G2.parameters(), strict=False):
        assert torch.allclose(a, b, atol=1e-7)
    # and the alternating G step, against the updated D on the same fakes, differs
    G3 = copy.deepcopy(G)
    go3 = torch.optim.SGD(G3.parameters(), lr=0.1)
    torch.manual_seed(1)
    fake3 = G3(torch.randn(8, 4))
    g_step(G3, D2, go3, 8, opts=opts, fake=fake3)
    assert any(
        not torch.allclose(a, b) for a, b in zip(G1.parameters(), G3.parameters(), strict=False)
    )


def test_g_step_leaves_discriminator_gradients_alone():
    G, D = _pair()
    go = torch.optim.Adam(G.parameters(), 1e-3)
    g_step(G, D, go, 8)
    assert all(p.grad is None for p in D.parameters())
    assert all(p.grad is not None for p in G.parameters())


def test_train_step_in_a_users_own_loop_learns_a_gaussian():
    """The classic loop: define G, D, two optimisers, alternate. G moves to the data mean."""
    torch.manual_seed(0)
    G = MLPGenerator(z_dim=2, out_shape=(2,), hidden=32, depth=2)
    D = MLPDiscriminator(in_shape=(2,), hidden=32, depth=2)
    g_opt = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
    target = torch.tensor([3.0, -2.0])
    for _ in range(600):
        real = target + 0.3 * torch.randn(64, 2)
        stats = ganforge.train_step(G, D, g_opt, d_opt, real, loss="nonsaturating")
    with torch.no_grad():
        mean = G(torch.randn(2000, 2)).mean(0)
    assert torch.allclose(mean, target, atol=0.35), mean
    assert set(stats) >= {"d_loss", "g_loss", "d_real", "d_fake", "value"}


def test_conditional_generator_follows_labels(tmp_path, fast):
    res = ganforge.train(
        "demo",
        data="digits",
        out=tmp_path / "cond",
        steps=4,
        overrides=fast
        + [
            "data.conditional=true",
            "model.arch=mlp",
            "model.g_width=32",
            "model.d_width=32",
            "train.batch=16",
        ],
    )
    run = ganforge.load_run(res.run_dir)
    assert run.num_classes == 10
    z = torch.randn(1, run.generator.z_dim).repeat(2, 1)
    out = run.sample(z=z, labels=torch.tensor([0, 7]))
    assert out.shape == (2, 1, 8, 8)
    assert not torch.allclose(out[0], out[1])


def test_time_budget_stops_the_run_and_reports_live_counters(tmp_path):
    """train.max_seconds ends a run cleanly; the result carries the live step, time and
    image count, not those of the last logged step."""
    res = ganforge.train(
        "toy-ring8",
        out=tmp_path / "r",
        steps=10**6,
        progress=False,
        overrides=["train.max_seconds=1.0", "log.every=5", "model.g_width=8", "model.d_width=8"],
    )
    assert 0 < res.step < 10**6 and not res.interrupted
    assert res.elapsed_s >= 1.0
    assert res.samples_seen == res.step * 256
    state = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "r" / "checkpoints"))[2]
    assert state["step"] == res.step


def test_a_run_loads_at_any_kept_checkpoint(tmp_path, fast):
    from ganforge.errors import RunError
    from ganforge.run import checkpoint_steps

    out = tmp_path / "run"
    over = fast + ["log.keep_checkpoints=3", "model.g_width=16", "model.d_width=16"]
    ganforge.train("toy-ring8", out=out, steps=40, overrides=over)
    assert checkpoint_steps(out) == [20, 30, 40]
    latest, earlier = ganforge.load_run(out), ganforge.load_run(out, step=20)
    assert (latest.step, earlier.step) == (40, 20)
    weights, _, _ = ckpt.load_checkpoint(out / "checkpoints" / "step-00000020")
    ema = ckpt.split_prefixed(weights, "G_ema") or ckpt.split_prefixed(weights, "G")
    for name, value in earlier.generator.state_dict().items():
        assert torch.equal(value, ema[name]), name
    assert not torch.equal(latest.sample(8, seed=1), earlier.sample(8, seed=1))
    with pytest.raises(RunError, match=r"no checkpoint of step 5 .*kept: 20, 30, 40"):
        ganforge.load_run(out, step=5)
