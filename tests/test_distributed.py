"""Data-parallel training: ranks stay in sync, checkpoints move between DDP and one process.

Every test starts real processes with ``torchrun`` (gloo on the CPU, rendezvous on loopback).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganforge.engine import checkpoint as ckpt
from ganforge.engine.distributed import SINGLE, DistContext, per_rank_batch
from ganforge.errors import ConfigError

HELPER = Path(__file__).parent / "helpers" / "ddp_sync_worker.py"


def _torchrun(
    *args: str, nproc: int = 2, timeout: int = 240, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        *args,
    ]
    env = {
        "OMP_NUM_THREADS": "1",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path("src").resolve()),
    }
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


@pytest.mark.parametrize(
    "step_kind,precision,extra",
    [
        ("alternating", "fp32", ["loss.penalty=r1", "train.n_critic=2", "loss.r1_every=2"]),
        ("alternating", "fp32", ["loss.type=wasserstein", "loss.penalty=wgan-gp"]),
        ("simultaneous", "bf16", []),
    ],
)
def test_ranks_hold_identical_parameters_after_training(tmp_path, step_kind, precision, extra):
    proc = _torchrun(str(HELPER), str(tmp_path), step_kind, precision, *extra)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1))
    assert r0.keys() == r1.keys() and len(r0) > 4
    for k in r0:
        assert torch.equal(r0[k], r1[k]), f"{k} differs between ranks"
    m0, m1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    # each rank trains on its own half of the global batch of 16, from a disjoint shard
    assert len(m0["first_batch"]) == len(m1["first_batch"]) == 8
    assert not set(m0["first_batch"]) & set(m1["first_batch"])
    assert m0["z"] != m1["z"]  # and draws its own latent codes
    assert m0["summary"]["step"] == m1["summary"]["step"] == 6
    d_steps = 2 if "train.n_critic=2" in extra else 1
    assert m0["summary"]["samples_seen"] == 6 * d_steps * 16  # counted over all ranks


@pytest.mark.parametrize("step_kind", ["alternating", "simultaneous"])
def test_two_processes_train_exactly_like_one_on_the_global_batch(tmp_path, step_kind):
    """Same inputs split over 2 ranks vs all in one process: the same weights after 3 steps
    (DDP averages the ranks' mean-loss gradients = the gradient of the global mean)."""
    import importlib.util

    worker = HELPER.parent / "ddp_equivalence_worker.py"
    proc = _torchrun(str(worker), str(tmp_path), step_kind)
    assert proc.returncode == 0, proc.stderr[-3000:]
    spec = importlib.util.spec_from_file_location("ddp_equivalence_worker", worker)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import ganforge.engine.step as step_mod

    saved = step_mod.sample_latent
    try:
        G, D = mod.nets()
        mod.train(G, D, 0, 1, step_kind)
    finally:
        step_mod.sample_latent = saved
    ddp = load_file(str(tmp_path / "ddp.safetensors"))
    single = {
        f"{n}.{k}": v.detach() for n, net in (("G", G), ("D", D)) for k, v in net.named_parameters()
    }
    assert ddp.keys() == single.keys()
    for k in ddp:
        assert torch.allclose(ddp[k], single[k], atol=1e-6, rtol=1e-5), k
    fresh, _ = mod.nets()
    moved = [k for k, v in fresh.named_parameters() if not torch.allclose(v, single[f"G.{k}"])]
    assert moved  # the steps did train G


def test_ranks_would_differ_without_gradient_averaging(tmp_path):
    """The check above can fail: single-process runs on the two shards end up different."""
    from ganforge.config import resolve
    from ganforge.data.dataset import Dataset
    from ganforge.engine.trainer import Trainer
    from ganforge.run import build_from_config

    cfg = resolve(
        "demo",
        [
            "model.arch=dcgan",
            "model.g_width=8",
            "model.d_width=8",
            "train.batch=8",
            "train.device=cpu",
            "log.progress=false",
        ],
    )
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, 16, 16), generator=gen, dtype=torch.uint8)
    finals = []
    for half in (x[0::2], x[1::2]):
        torch.manual_seed(cfg.train.seed)
        G, D = build_from_config(cfg, (1, 16, 16), 0)
        Trainer(G, D, Dataset("rand", half, "image"), cfg).fit(6)
        finals.append(torch.cat([p.detach().flatten() for p in G.parameters()]))
    assert not torch.equal(finals[0], finals[1])


def _train_cli(*args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path("src").resolve())}
    return subprocess.run(
        [sys.executable, "-m", "ganforge", "train", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


FAST = [
    "--set", "log.every=5", "--set", "log.sample_every=10", "--set", "log.checkpoint_every=10",
    "--set", "log.progress=false", "--set", "train.batch=64",
]  # fmt: skip


def _steps_logged(run: Path) -> list[int]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(ln)["step"] for ln in lines if json.loads(ln).get("kind") == "train"]


def test_torchrun_run_resumes_in_one_process_and_back(tmp_path):
    run = tmp_path / "run"
    proc = _torchrun(
        "-m", "ganforge", "train", "toy-ring8", "--steps", "20", "--out", str(run), *FAST
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((run / "run.json").read_text())["processes"] == 2
    assert _steps_logged(run) == [5, 10, 15, 20]  # written once, by rank 0 only
    _, _, state = ckpt.load_checkpoint(ckpt.latest_checkpoint(run / "checkpoints"))
    assert state["step"] == 20 and state["samples_seen"] == 20 * 64
    single = _train_cli("--resume", "--out", str(run), "--steps", "30", *FAST)
    assert single.returncode == 0, single.stderr[-3000:]
    again = _torchrun(
        "-m", "ganforge", "train", "--resume", "--out", str(run), "--steps", "40", *FAST
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert _steps_logged(run) == [5, 10, 15, 20, 25, 30, 35, 40]
    weights, _, state = ckpt.load_checkpoint(ckpt.latest_checkpoint(run / "checkpoints"))
    assert state["step"] == 40 and state["samples_seen"] == 40 * 64
    assert all(torch.isfinite(v).all() for v in weights.values())
    assert (run / "samples" / "final.png").is_file()


def test_torchrun_resume_is_bit_exact_with_the_same_process_count(tmp_path):
    """Every rank's RNG is saved: 2 processes x (10 + resume + 10) == 20 straight."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    args = ["-m", "ganforge", "train", "toy-ring8", *FAST]
    assert _torchrun(*args, "--steps", "20", "--out", str(straight)).returncode == 0
    assert _torchrun(*args, "--steps", "10", "--out", str(split)).returncode == 0
    again = _torchrun(
        "-m", "ganforge", "train", "--resume", "--out", str(split), "--steps", "20", *FAST
    )
    assert again.returncode == 0, again.stderr[-3000:]
    a, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(straight / "checkpoints"))
    b, extra, state = ckpt.load_checkpoint(ckpt.latest_checkpoint(split / "checkpoints"))
    assert state["step"] == 20 and state["world_size"] == 2 and "rng.cpu.rank1" in extra
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_torchrun_without_out_writes_one_run_directory(tmp_path):
    """Default run names hold the time: rank 0 picks the name and every rank uses it."""
    proc = _torchrun("-m", "ganforge", "train", "toy-ring8", "--steps", "10", *FAST, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "checkpoints").is_dir()
    assert proc.stdout.count("done at step 10") == 1  # rank 0 reports for the job


def test_two_nodes_with_the_usual_rendezvous_flags(tmp_path):
    """Multi-node launch (--nnodes=2, c10d rendezvous), both "nodes" on this machine."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "OMP_NUM_THREADS": "1",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path("src").resolve()),
    }
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=2",
        "--nproc_per_node=1",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint=127.0.0.1:{port}",
        "--rdzv_id=gf-test",
        "-m",
        "ganforge",
        "train",
        "toy-ring8",
        "--steps",
        "10",
        "--out",
        str(tmp_path / "run"),
        *FAST,
    ]
    nodes = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outs = [node.communicate(timeout=240) for node in nodes]
    assert all(node.returncode == 0 for node in nodes), [err[-2000:] for _, err in outs]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["processes"] == 2
    assert _steps_logged(tmp_path / "run") == [5, 10]


def test_global_batch_must_split_evenly():
    assert per_rank_batch(64, SINGLE) == 64
    assert per_rank_batch(64, DistContext(rank=1, world_size=4, backend="gloo")) == 16
    with pytest.raises(ConfigError, match="divisible by the number of processes"):
        per_rank_batch(30, DistContext(world_size=4, backend="gloo"))


def test_two_digits_at_64_pixels_train_under_torchrun(tmp_path):
    """The video modality's documented multi-process setting (two critics, a GRU in G, a
    dict latent) on two processes; tiny widths, a few steps."""
    run = tmp_path / "mm2"
    sets = [
        "video.objects=2", "video.size=64", "video.frames=8", "video.clips=200",
        "model.z_dim=8", "model.g_width=8", "model.d_width=8", "train.batch=8",
        "log.every=2", "log.sample_every=4", "log.checkpoint_every=4", "log.progress=false",
        "log.samples=2",
    ]  # fmt: skip
    args = ["-m", "ganforge", "train", "moving-mnist", "--steps", "4", "--out", str(run)]
    proc = _torchrun(*args, *[x for kv in sets for x in ("--set", kv)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((run / "run.json").read_text())
    assert meta["processes"] == 2 and meta["info"]["video"]["objects"] == 2
    assert _steps_logged(run) == [2, 4]
    weights, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(run / "checkpoints"))
    assert any(".image." in k for k in weights) and all(
        torch.isfinite(v).all() for v in weights.values()
    )
