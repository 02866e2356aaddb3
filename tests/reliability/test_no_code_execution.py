"""Checkpoints and configs never execute code.

Every payload below creates a marker file when it runs. Each test first shows the payload is
live (the unsafe loader it targets does run it), then that ganforge's loaders refuse it and
the marker never appears.
"""

from __future__ import annotations

import ast
import json
import pathlib
import pickle
import shlex
import shutil
import struct
from pathlib import Path

import pytest
import torch
import yaml

import ganforge
from ganforge import config as config_mod
from ganforge.engine import checkpoint as ckpt
from ganforge.errors import ConfigError, RunError
from ganforge.safe_load import load_torch_weights

SRC = Path(ganforge.__file__).parent
TINY = [  # the `fast` overrides of tests/conftest.py, and small networks
    "log.every=5",
    "log.sample_every=10",
    "log.checkpoint_every=10",
    "log.progress=false",
    "model.g_width=16",
    "model.d_width=16",
    "log.toy_samples=100",
]


class _Touch:
    """Unpickling this calls ``pathlib.Path(marker).touch()``: code run by the loader."""

    def __init__(self, marker: Path) -> None:
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def _evil_pt(path: Path, marker: Path, wrap: bool = False) -> Path:
    """A ``torch.save`` file whose unpickling touches ``marker`` (inside a state_dict if wrap)."""
    obj = {"weight": torch.zeros(2), "bias": _Touch(marker)} if wrap else _Touch(marker)
    torch.save(obj, path)
    return path


def _evil_pickle_bytes(marker: Path) -> bytes:
    return pickle.dumps(_Touch(marker), protocol=2)  # torch.save's protocol


def _evil_yaml(marker: Path) -> str:
    cmd = f"touch {shlex.quote(str(marker))}"
    return (
        f"train:\n  steps: !!python/object/apply:os.system [{cmd!r}]\n"
        f"description: !!python/object/apply:os.system [{cmd!r}]\n"
    )


def test_payloads_are_live(tmp_path):
    """The controls: the unsafe loaders do run the payloads the other tests feed ganforge."""
    m1, m2, m3 = (tmp_path / f"ran-{i}" for i in range(3))
    pickle.loads(_evil_pickle_bytes(m1))
    assert m1.exists()
    torch.load(_evil_pt(tmp_path / "evil.pt", m2), weights_only=False)
    assert m2.exists()
    yaml.unsafe_load(_evil_yaml(m3))
    assert m3.exists()


# ----------------------------------------------------------------------------- .pt files


@pytest.mark.parametrize("wrap", [False, True], ids=["bare", "inside-state-dict"])
def test_torch_load_weights_only_refuses_code(tmp_path, wrap):
    marker = tmp_path / "ran"
    path = _evil_pt(tmp_path / "evil.pt", marker, wrap=wrap)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    assert not marker.exists()


@pytest.mark.parametrize("wrap", [False, True], ids=["bare", "inside-state-dict"])
def test_load_torch_weights_refuses_code(tmp_path, wrap):
    marker = tmp_path / "ran"
    path = _evil_pt(tmp_path / "evil.pt", marker, wrap=wrap)
    with pytest.raises(RunError, match="refused: it contains code, not just tensors") as err:
        load_torch_weights(path)
    assert "\n" not in str(err.value)
    assert not marker.exists()
    raw = tmp_path / "raw.pt"  # a bare pickle stream, not torch.save's zip
    raw.write_bytes(_evil_pickle_bytes(marker))
    with pytest.raises(RunError, match="refused"):
        load_torch_weights(raw)
    assert not marker.exists()


def test_load_torch_weights_reads_a_plain_state_dict(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    state = load_torch_weights(tmp_path / "net.pt")
    assert set(state) == set(net.state_dict())
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    copy = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    copy.load_state_dict(state)
    torch.save({"step": 3, "names": ["a"], "w": torch.ones(2)}, tmp_path / "plain.pt")
    assert load_torch_weights(tmp_path / "plain.pt")["step"] == 3
    with pytest.raises(RunError, match="does not exist"):
        load_torch_weights(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("not a torch file")
    with pytest.raises(RunError, match="refused"):
        load_torch_weights(tmp_path / "text.pt")


# ----------------------------------------------------------------------------- run directories


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny toy-ring8 run with checkpoints at steps 0 and 10."""
    out = tmp_path_factory.mktemp("runs") / "ring"
    ganforge.train("toy-ring8", out=out, steps=10, overrides=TINY)
    return out


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A private copy of the trained run, free to damage."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def _steps(run: Path) -> list[str]:
    return [p.name for p in ckpt.list_checkpoints(run / "checkpoints")]


def test_the_run_has_two_checkpoints(run):
    assert _steps(run) == ["step-00000000", "step-00000010"]
    assert ganforge.load_run(run).step == 10


@pytest.mark.parametrize("victim", ["weights.safetensors", "optim.safetensors", "state.json"])
@pytest.mark.parametrize("payload", ["pickle", "torch-save"])
def test_pickled_code_in_newest_checkpoint_is_skipped(run, tmp_path, victim, payload):
    marker = tmp_path / "ran"
    target = run / "checkpoints" / "step-00000010" / victim
    if payload == "pickle":
        target.write_bytes(_evil_pickle_bytes(marker))
    else:
        _evil_pt(target, marker, wrap=True)
    assert ckpt.latest_checkpoint(run / "checkpoints").name == "step-00000000"
    loaded = ganforge.load_run(run)
    assert loaded.step == 0 and loaded.sample(5).shape == (5, 2)
    out = ganforge.sample(run, n=20, out=tmp_path / "points.npy")
    assert out.is_file()
    assert not marker.exists()


def test_resume_skips_a_poisoned_checkpoint(run, tmp_path):
    marker = tmp_path / "ran"
    (run / "checkpoints" / "step-00000010" / "weights.safetensors").write_bytes(
        _evil_pickle_bytes(marker)
    )
    result = ganforge.train(out=run, resume=True, steps=10)  # from step 0, back to 10
    assert result.step == 10 and not result.interrupted
    assert ganforge.load_run(run).step == 10  # the poisoned checkpoint was written over
    assert not marker.exists()


def test_every_checkpoint_poisoned_is_a_clear_error(run, tmp_path):
    marker = tmp_path / "ran"
    for step in _steps(run):
        d = run / "checkpoints" / step
        (d / "weights.safetensors").write_bytes(_evil_pickle_bytes(marker))
        _evil_pt(d / "state.json", marker)
    for call in (
        lambda: ganforge.load_run(run),
        lambda: ganforge.sample(run, n=4, out=tmp_path / "x.npy"),
        lambda: ganforge.interpolate(run, frames=2, out=tmp_path / "x.gif"),
    ):
        with pytest.raises(RunError, match="checkpoint") as err:
            call()
        assert "\n" not in str(err.value)
    assert not marker.exists()


def test_truncated_newest_checkpoint_is_skipped(run):
    weights = run / "checkpoints" / "step-00000010" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert ganforge.load_run(run).step == 0


def test_pickled_run_files_never_run(run, tmp_path):
    """run.json and config.yaml replaced by payloads: refused, with one-line errors."""
    marker = tmp_path / "ran"
    (run / "config.yaml").write_text(_evil_yaml(marker))
    with pytest.raises(ConfigError):
        ganforge.load_run(run)
    (run / "config.yaml").write_bytes(_evil_pickle_bytes(marker))
    with pytest.raises((ConfigError, RunError)):
        ganforge.load_run(run)
    assert not marker.exists()


def test_pickled_run_json_never_runs(run, tmp_path):
    marker = tmp_path / "ran"
    (run / "run.json").write_bytes(_evil_pickle_bytes(marker))
    with pytest.raises(RunError, match="run.json") as err:
        ganforge.load_run(run)
    assert "\n" not in str(err.value)
    assert not marker.exists()


# ----------------------------------------------------------------------------- YAML configs


@pytest.mark.parametrize(
    "text",
    [
        "train:\n  steps: !!python/object/apply:os.system [{cmd}]\n",
        "!!python/object/apply:os.system [{cmd}]\n",
        "data: !!python/object/new:os.system [{cmd}]\n",
        "model:\n  arch: !!python/name:os.system\n",
        "loss: !!python/object:__main__.Anything {{a: 1}}\n",
    ],
)
def test_yaml_config_with_python_tags_is_refused(tmp_path, text):
    marker = tmp_path / "ran"
    cmd = repr(f"touch {shlex.quote(str(marker))}")
    path = tmp_path / "evil.yaml"
    path.write_text(text.format(cmd=cmd))
    with pytest.raises(ConfigError, match="evil.yaml") as err:
        config_mod.resolve(str(path))
    assert "\n" not in str(err.value)
    assert not marker.exists()


def test_override_with_python_tag_is_text(tmp_path):
    """``--set`` values are YAML scalars: a python tag stays an (odd) string, never a call."""
    marker = tmp_path / "ran"
    tag = f"!!python/object/apply:os.system [{shlex.quote('touch ' + str(marker))}]"
    cfg = config_mod.resolve("toy-ring8", [f"data.spec={tag}"])
    assert cfg.data.spec == tag
    with pytest.raises(ConfigError, match="train.steps"):
        config_mod.resolve("toy-ring8", [f"train.steps={tag}"])
    assert not marker.exists()


# ----------------------------------------------------------------------------- the source


def _call_name(node: ast.Call) -> str:
    """Dotted name of what a call calls: ``torch.load``, ``eval``, ... ('' when not a name)."""
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
        return ".".join(reversed(parts))
    return ""


def _keyword_is_true(node: ast.Call, name: str) -> bool:
    return any(
        kw.arg == name and isinstance(kw.value, ast.Constant) and kw.value.value is True
        for kw in node.keywords
    )


_FORBIDDEN = {
    "eval",
    "exec",
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "cPickle.load",
    "dill.load",
    "dill.loads",
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "yaml.load",
    "yaml.load_all",
    "yaml.unsafe_load",
    "yaml.unsafe_load_all",
    "yaml.full_load",
    "yaml.full_load_all",
    "torch.jit.load",
    "jsonpickle.decode",
}


def code_running_calls(source: str) -> list[str]:
    """Calls in ``source`` that can run code hidden in data: ``'line: call'`` for each."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in _FORBIDDEN:
            found.append(f"{node.lineno}: {name}")
        elif name == "torch.load" and not _keyword_is_true(node, "weights_only"):
            found.append(f"{node.lineno}: torch.load without weights_only=True")
        elif name in ("np.load", "numpy.load") and _keyword_is_true(node, "allow_pickle"):
            found.append(f"{node.lineno}: {name}(allow_pickle=True)")
    return found


def test_the_source_check_catches_what_it_should():
    bad = (
        "import pickle, torch, yaml, numpy as np\n"
        "pickle.load(f)\nyaml.load(t)\nyaml.load(t, Loader=yaml.Loader)\n"
        "torch.load(p)\ntorch.load(p, weights_only=False)\neval('1')\nexec('x = 1')\n"
        "np.load(p, allow_pickle=True)\n"
    )
    assert len(code_running_calls(bad)) == 8  # one per call line
    good = (
        "import torch, yaml\nnet.eval()\nyaml.safe_load(t)\n"
        "torch.load(p, map_location='cpu', weights_only=True)\nmodel.exec_module(m)\n"
    )
    assert code_running_calls(good) == []


def test_no_code_running_loaders_in_the_source():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    offenders = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        if found := code_running_calls(text):
            offenders[str(path.relative_to(SRC))] = found
        # the text form as well, for what the AST would not call a call (strings handed on)
        for needle in ("pickle.load", "yaml.load(", "yaml.unsafe_load", "Loader=yaml.Loader"):
            if needle in text:
                offenders.setdefault(str(path.relative_to(SRC)), []).append(needle)
    assert offenders == {}


def test_checkpoints_are_written_without_pickle(run):
    """What ganforge writes is safetensors and JSON: no pickle (nor torch.save zip) anywhere."""
    for d in ckpt.list_checkpoints(run / "checkpoints"):
        for name in ("weights.safetensors", "optim.safetensors"):
            raw = (d / name).read_bytes()
            (n,) = struct.unpack("<Q", raw[:8])  # safetensors: u64 header size, JSON header
            header = json.loads(raw[8 : 8 + n])
            assert isinstance(header, dict) and header, f"{d.name}/{name}"
        assert isinstance(json.loads((d / "state.json").read_text()), dict)
    assert not any(p.suffix in (".pt", ".pth", ".pkl", ".pickle") for p in run.rglob("*"))
