"""Nothing lost: SIGKILL at random moments (also mid-checkpoint), one writer per run, clear
errors when the disk is full."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

import ganforge
from ganforge.engine import checkpoint as ckpt
from ganforge.engine.lock import RunLock
from ganforge.errors import RunError

KILL_TRIALS = 12  # quoted in the README


def _start(out, resume):
    cmd = [
        sys.executable,
        "-m",
        "ganforge",
        "train",
        "toy-ring8",
        "--out",
        str(out),
        "--steps",
        "1000000",
        "--no-progress",
        "--set",
        "log.checkpoint_every=3",
        "--set",
        "log.every=5",
        "--set",
        "log.sample_every=1000000",
        "--set",
        "log.keep_checkpoints=2",
        "--set",
        "train.batch=64",
    ]
    if resume:
        cmd = [
            sys.executable,
            "-m",
            "ganforge",
            "train",
            "--resume",
            "--out",
            str(out),
            "--steps",
            "1000000",
            "--no-progress",
        ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(predicate, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.001)
    return False


def _newest_step(root):
    """Step of the newest checkpoint, read while the writer may be pruning old ones."""
    for path in reversed(ckpt.list_checkpoints(root)):
        try:
            return ckpt.load_checkpoint(path)[2]["step"]
        except RunError:
            continue
    return -1


def test_sigkill_never_leaves_a_corrupt_checkpoint(tmp_path):
    out = tmp_path / "run"
    root = out / "checkpoints"
    rng = random.Random(1234)
    mid_write = 0
    last_step = -1
    for trial in range(KILL_TRIALS):
        proc = _start(out, resume=trial > 0)
        # Wait until this process has written a checkpoint of its own, then kill it either
        # at a random moment or the instant a checkpoint directory is being written.
        assert _wait_for(lambda last=last_step: _newest_step(root) > last), (
            proc.stderr.read().decode()
        )
        if trial % 2 == 0:
            if _wait_for(lambda: any(root.glob(".tmp-step-*")), timeout=10):
                mid_write += 1
        else:
            time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # Every complete-looking checkpoint loads; temporary ones are never listed.
        complete = ckpt.list_checkpoints(root)
        assert complete, "no checkpoint survived"
        for path in complete:
            weights, extra, state = ckpt.load_checkpoint(path)
            assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())
            assert path.name == f"step-{state['step']:08d}"
        newest = ckpt.latest_checkpoint(root)
        step = ckpt.load_checkpoint(newest)[2]["step"]
        assert step >= last_step  # never goes backwards
        last_step = step
    assert mid_write >= 3, "kills never landed during a checkpoint write"
    # The stale lock of the killed process does not block, and --resume continues exactly.
    res = ganforge.train(None, out=out, resume=True, steps=last_step + 4, progress=False)
    assert res.step == last_step + 4
    assert not any(root.glob(".tmp-step-*"))
    steps = [
        json.loads(x)["step"]
        for x in (out / "metrics.jsonl").read_text().splitlines()
        if x.strip().endswith("}") and '"train"' in x
    ]
    assert steps == sorted(set(steps))


def test_second_writer_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with RunLock(out):
        with pytest.raises(RunError, match="in use by process"):
            ganforge.train("toy-ring8", out=out, steps=2, progress=False)
        with pytest.raises(RunError, match="in use by process"):
            RunLock(out).acquire()
    assert not (out / ".lock").exists()
    # a lock left by a dead process is taken over
    (out / ".lock").write_text(json.dumps({"pid": 2**22 + 12345, "host": os.uname().nodename}))
    res = ganforge.train(
        "toy-ring8",
        out=out,
        steps=2,
        progress=False,
        overrides=["model.g_width=8", "model.d_width=8"],
    )
    assert res.step == 2


def test_full_disk_is_a_clear_error_and_keeps_the_last_checkpoint(tmp_path, fast, monkeypatch):
    out = tmp_path / "run"
    small = fast + ["model.g_width=8", "model.d_width=8"]
    ganforge.train("toy-ring8", out=out, steps=10, overrides=small)
    real_save = ckpt.save_file
    calls = {"n": 0}

    def full(tensors, path, *a, **k):
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(28, "No space left on device")
        return real_save(tensors, path, *a, **k)

    monkeypatch.setattr(ckpt, "save_file", full)
    with pytest.raises(RunError, match="No space left on device.*--resume"):
        ganforge.train(None, out=out, resume=True, steps=20, overrides=small)
    names = [p.name for p in ckpt.list_checkpoints(out / "checkpoints")]
    assert names[-1] == "step-00000010"
    assert not any((out / "checkpoints").glob(".tmp-*"))
    assert ckpt.load_checkpoint(out / "checkpoints" / "step-00000010")
