"""Presets do what they promise: the ring8 benchmark is covered; every arch and loss trains."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import ganforge
from ganforge.engine import checkpoint as ckpt
from helpers.cpu import needs_native_bf16


@pytest.mark.parametrize(
    "loss, penalty, extra",
    [
        ("minimax", "none", []),
        ("hinge", "r1", ["loss.r1_every=2"]),
        ("wasserstein", "wgan-gp", ["train.n_critic=3"]),
        ("least-squares", "none", ["model.spectral_norm=true"]),
    ],
)
def test_every_loss_and_penalty_trains_with_finite_weights(tmp_path, fast, loss, penalty, extra):
    res = ganforge.train(
        "toy-ring8",
        out=tmp_path / "r",
        steps=10,
        overrides=fast
        + [
            f"loss.type={loss}",
            f"loss.penalty={penalty}",
            "model.g_width=32",
            "model.d_width=32",
            "train.batch=64",
        ]
        + extra,
    )
    assert res.step == 10
    w0 = ckpt.load_checkpoint(ckpt.list_checkpoints(tmp_path / "r" / "checkpoints")[-1])[0]
    assert all(torch.isfinite(t).all() for t in w0.values() if t.is_floating_point())
    recs = ganforge.plots.read_metrics(tmp_path / "r" / "metrics.jsonl")
    assert (penalty == "none") == ("penalty" not in recs[-1])


@pytest.mark.parametrize(
    "arch, data, extra",
    [
        ("dcgan-tf", "mnist5k", ["train.step=simultaneous"]),
        (
            "dcgan",
            "digits",
            ["data.image_size=32", "data.channels=3", "model.g_width=8", "model.d_width=8"],
        ),
        (
            "resnet",
            "digits",
            [
                "data.image_size=32",
                "model.g_width=16",
                "model.d_width=16",
                "data.conditional=true",
                "loss.type=hinge",
            ],
        ),
    ],
)
def test_image_architectures_train(tmp_path, fast, arch, data, extra):
    res = ganforge.train(
        "seed" if arch == "dcgan-tf" else "demo",
        data=data,
        out=tmp_path / "r",
        steps=2,
        overrides=fast + [f"model.arch={arch}", "train.batch=8", "log.samples=4"] + extra,
    )
    assert res.step == 2 and res.samples.is_file()
    run = ganforge.load_run(res.run_dir)
    shape = tuple(run.meta["sample_shape"])
    assert run.sample(3).shape == (3, *shape)
    assert run.sample(3).abs().max() <= 1.0


@needs_native_bf16
def test_bf16_autocast_trains(tmp_path, fast):
    """bf16 autocast (fp32 master weights) learns the ring's radius as fp32 does."""
    radii = {}
    for prec in ("fp32", "bf16"):
        res = ganforge.train(
            "toy-ring8",
            out=tmp_path / prec,
            steps=400,
            overrides=fast + [f"train.precision={prec}", "log.sample_every=400"],
        )
        pts = ganforge.load_run(res.run_dir).sample(2000)
        radii[prec] = pts.norm(dim=1).mean().item()
        assert 0.0 < res.metrics["d_real"] < 1.0
    # an untrained G puts its samples near the origin; both precisions reach the ring
    assert abs(radii["fp32"] - 2.0) < 0.5 and abs(radii["bf16"] - 2.0) < 0.5, radii


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_checkpoint_and_resume_continues(tmp_path, sig):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "ganforge",
        "train",
        "toy-ring8",
        "--out",
        str(out),
        "--steps",
        "100000",
        "--no-progress",
        "--set",
        "log.checkpoint_every=100000",
        "--set",
        "model.g_width=16",
        "--set",
        "model.d_width=16",
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.time() + 60
    metrics = out / "metrics.jsonl"
    while time.time() < deadline and not (metrics.is_file() and metrics.stat().st_size > 0):
        time.sleep(0.2)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted: checkpoint saved" in stdout and "--resume" in stdout
    saved = ckpt.list_checkpoints(out / "checkpoints")
    assert [p.name for p in saved][0] == "step-00000000"  # the state before the first step
    step = ckpt.load_checkpoint(saved[-1])[2]["step"]
    assert 0 < step < 100000
    res = ganforge.train(None, out=out, resume=True, steps=step + 5, progress=False)
    assert res.step == step + 5 and not res.interrupted
    assert not (out / ".lock").exists()
