"""A new run started from another run's weights (``--init-from``): the weights copied at step
0, training going on from them, and a model of another shape refused in one line."""

import json

import pytest
import torch
from safetensors.torch import load_file

import ganforge
from ganforge.cli import main
from ganforge.errors import ConfigError, RunError

SMALL = ["model.g_width=16", "model.d_width=16", "train.batch=32", "train.ema=0.9"]


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("init") / "ring"
    over = [*SMALL, "log.every=5", "log.sample_every=10", "log.checkpoint_every=10"]
    ganforge.train("toy-ring8", out=out, steps=10, overrides=over, progress=False)
    return out


def _tensors(run, step, name="weights.safetensors"):
    return load_file(str(run / "checkpoints" / f"step-{step:08d}" / name))


def test_weights_copied_at_step_zero_and_training_goes_on(source_run, tmp_path, capsys):
    out = tmp_path / "grid"
    res = ganforge.train(
        "toy-grid25",  # new data of the same shape: 2-D points
        out=out,
        steps=4,
        overrides=[*SMALL, "log.checkpoint_every=100"],
        progress=False,
        init_from=source_run,
    )
    printed = capsys.readouterr().out
    assert f"init from {source_run} step 10: G, D, EMA copied; optimiser fresh" in printed
    assert res.step == 4
    there, start, end = _tensors(source_run, 10), _tensors(out, 0), _tensors(out, 4)
    assert set(there) == set(start) and any(k.startswith("G_ema.") for k in there)
    for key, value in there.items():
        assert torch.equal(start[key], value), key
    moved = [k for k in there if k.startswith(("G.", "D.")) and not torch.equal(end[k], there[k])]
    assert moved, "training did not go on from the copied weights"
    # a fresh optimiser: the step-0 checkpoint holds no Adam moments yet
    assert not any(".exp_avg" in k for k in _tensors(out, 0, "optim.safetensors"))
    meta = json.loads((out / "run.json").read_text())
    assert meta["init_from"]["step"] == 10 and meta["init_from"]["optimizer"] is False


def test_init_optimizer_copies_adam_state_keeping_this_runs_rates(source_run, tmp_path, capsys):
    out = tmp_path / "opt"
    ganforge.train(
        "toy-ring8",
        out=out,
        steps=1,
        overrides=[*SMALL, "optim.g_lr=1e-5"],
        progress=False,
        init_from=source_run,
        init_optimizer=True,
    )
    assert "optimiser copied" in capsys.readouterr().out
    there = _tensors(source_run, 10, "optim.safetensors")
    start = _tensors(out, 0, "optim.safetensors")
    moments = [k for k in there if ".exp_avg" in k]
    assert moments
    for key in moments:
        assert torch.equal(start[key], there[key]), key
    state = json.loads((out / "checkpoints" / "step-00000000" / "state.json").read_text())
    assert state["g_opt"]["param_groups"][0]["lr"] == pytest.approx(1e-5)


def test_another_shape_is_one_line_and_exit_2(source_run, tmp_path, capsys):
    out = tmp_path / "wide"
    argv = ["train", "toy-ring8", "--out", str(out), "--steps", "2", "--no-progress"]
    argv += ["--init-from", str(source_run)]
    for o in ["model.g_width=24", "model.d_width=16", "train.batch=32"]:
        argv += ["--set", o]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"--init-from {source_run}: G." in err[0]
    assert "[16, " in err[0] and "[24, " in err[0]  # the tensor's shape there and here
    assert not (out / "config.yaml").exists()  # refused before anything was written


def test_refusals(source_run, tmp_path):
    with pytest.raises(RunError, match="no such run directory"):
        ganforge.train("toy-ring8", out=tmp_path / "a", init_from=tmp_path / "nothing")
    with pytest.raises(ConfigError, match="--init-optimizer goes with --init-from"):
        ganforge.train("toy-ring8", out=tmp_path / "b", init_optimizer=True)
    with pytest.raises(ConfigError, match="--resume continues one"):
        ganforge.train("toy-ring8", out=source_run, resume=True, init_from=source_run)
