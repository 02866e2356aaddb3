"""The plug-in platform: registries, config sections from modalities, the engine kept free
of modalities, and the four bugs found on the way (each test fails without its fix)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import torch
from torch import nn

import ganforge
from ganforge import config as config_mod
from ganforge.config import resolve
from ganforge.engine.guard import DivergenceGuard
from ganforge.engine.performance import plan_speed
from ganforge.engine.trainer import Trainer
from ganforge.errors import ConfigError
from ganforge.nets.base import Discriminator, Generator
from ganforge.registry import DATASETS, DatasetSpec, register_dataset, registered

SRC = Path(ganforge.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_engine_and_api_know_no_modality():
    generic = [*(SRC / "engine").glob("*.py"), *(SRC / "metrics").glob("*.py")] + [
        SRC / n
        for n in (
            "api.py",
            "training.py",
            "sampling.py",
            "evaluation.py",
            "run.py",
            "periodic.py",
            "data/held_out.py",
        )
    ]
    for path in generic:
        text = path.read_text()
        assert not any(m.startswith("ganforge.modalities.") for m in _imports(path)), path
        for name in ('"image"', '"points"', "'image'", "'points'"):
            assert name not in text, (path, name)
    for path in (SRC / "engine").glob("*.py"):
        assert "ganforge.modalities" not in _imports(path), path


def test_evaluation_does_not_import_the_api():
    """api.py and evaluation.py imported each other; now evaluation stands below the API."""
    for name in ("ganforge.api", "ganforge.training", "ganforge.sampling"):
        assert name not in _imports(SRC / "evaluation.py")
    assert not any(m.startswith("ganforge.evaluation") for m in _imports(SRC / "run.py"))


def test_no_source_file_far_over_400_lines():
    long = {p.name: n for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > 420}
    assert long == {}


def test_config_sections_come_from_the_modalities():
    keys = config_mod.all_keys()
    assert {"image.size", "image.channels", "log.samples"} <= set(keys)
    assert "data.image_size" not in keys and "log.toy_samples" not in keys
    # the old keys still work, in presets, run configs and --set
    cfg = resolve("demo", ["data.image_size=16", "data.channels=3", "log.toy_samples=100"])
    assert (cfg.image.size, cfg.image.channels, cfg.log.samples) == (16, 3, 100)
    with pytest.raises(ConfigError, match="image.size must be >= 4"):
        resolve("demo", ["image.size=2"])
    dumped = config_mod.dump(cfg)
    assert "image:" in dumped and config_mod.from_dict(cfg.to_dict()).image.size == 16


def test_choices_come_from_the_registries():
    assert set(config_mod.choices("model.arch")) >= {"mlp", "dcgan", "dcgan-tf", "resnet"}
    assert "hinge" in config_mod.choices("loss.type")
    with pytest.raises(ConfigError, match="model.arch must be one of"):
        resolve("demo", ["model.arch=dcgna"])


def test_a_dataset_spec_registers_and_names_must_be_unique():
    spec = DatasetSpec(
        "noise",
        "points",
        lambda arg, seed=0, **_: ganforge.data.Dataset("noise", torch.randn(50, 2), "points"),
        "white noise",
    )
    with registered(spec):
        assert "noise" in DATASETS and ganforge.data.load_dataset("noise").data.shape == (50, 2)
        with pytest.raises(ValueError, match="already registered"):
            register_dataset(DatasetSpec("noise", "points", spec.load, "other"))
    assert "noise" not in DATASETS


def test_a_broken_plugin_is_one_clear_line(tmp_path):
    import os
    import subprocess
    import sys

    dist = tmp_path / "broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[ganforge.modalities]\nbroken = no_such_mod:register\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC.parent)])}
    proc = subprocess.run(
        [sys.executable, "-m", "ganforge", "datasets"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "plug-in 'broken'" in proc.stderr and "no_such_mod" in proc.stderr


def test_the_cli_starts_without_the_heavy_libraries():
    """Every command loads every modality; SciPy, scikit-learn and Matplotlib (0.5-1 s each
    to import) wait for the code that uses them."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from ganforge import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()): cli.main(['datasets'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    loaded = proc.stdout.strip()
    assert proc.returncode == 0 and "ganforge" in loaded, proc.stderr[-2000:]
    for heavy in ("scipy", "sklearn", "matplotlib"):
        assert f"'{heavy}'" not in loaded, heavy


# ---------------------------------------------------------------- the four bugs


class _Conv1dD(Discriminator):
    def __init__(self) -> None:
        super().__init__((1, 16), 8 * 8)
        self.net = nn.Sequential(nn.Conv1d(1, 8, 4, 2, 1), nn.Flatten())

    def features(self, x):
        return self.net(x)


class _Conv3dD(Discriminator):
    """A video-style D: 3-D convolutions over (C, T, H, W) clips."""

    def __init__(self) -> None:
        super().__init__((1, 4, 8, 8), 4 * 2 * 4 * 4)
        self.net = nn.Sequential(nn.Conv3d(1, 4, 4, 2, 1), nn.Flatten())

    def features(self, x):
        return self.net(x)


class _ClipG(Generator):
    def __init__(self, shape) -> None:
        super().__init__(4, shape)
        self.fc = nn.Linear(4, int(torch.tensor(shape).prod()))

    def body(self, h):
        return torch.tanh(self.fc(h)).view(-1, *self.out_shape)


def test_channels_last_only_for_2d_convolutions():
    cpu = torch.device("cpu")
    plan = plan_speed("fp32", "auto", False, cpu, _ClipG((1, 16)), _Conv1dD())
    assert not plan.channels_last
    plan = plan_speed("fp32", "on", False, cpu, _ClipG((1, 4, 8, 8)), _Conv3dD())
    assert not plan.channels_last


def test_a_conv3d_discriminator_trains_on_the_cpu():
    """Module.to(memory_format=channels_last) failed on Conv3d's 5-D weights."""
    cfg = resolve("demo", ["train.device=cpu", "train.batch=4", "log.progress=false"])
    data = ganforge.data.Dataset("clips", torch.rand(16, 1, 4, 8, 8) * 2 - 1, "clips")
    trainer = Trainer(_ClipG((1, 4, 8, 8)), _Conv3dD(), data, cfg)
    summary = trainer.fit(2)
    assert summary["step"] == 2 and not trainer.speed.channels_last


def test_guard_does_not_read_a_critic_as_collapse():
    """sigmoid of a Wasserstein critic's outputs near 1 / 0 is no collapse."""
    confident = {
        "d_loss": torch.tensor(-30.0),
        "g_loss": torch.tensor(15.0),
        "d_real": torch.tensor(0.9999),
        "d_fake": torch.tensor(0.0001),
    }
    critic, bce = DivergenceGuard(3, probabilistic=False), DivergenceGuard(3, probabilistic=True)
    assert [critic.problem(confident) for _ in range(5)] == [None] * 5
    assert [bce.problem(confident) for _ in range(3)][-1].endswith("(the game collapsed)")


def test_wasserstein_run_with_confident_critic_is_not_rolled_back(tmp_path, fast, monkeypatch):
    original = Trainer._one_iteration

    def confident(self, measure):
        stats = original(self, measure)
        stats["d_real"], stats["d_fake"] = torch.tensor(0.999), torch.tensor(0.001)
        return stats

    monkeypatch.setattr(Trainer, "_one_iteration", confident)
    over = fast + ["loss.type=wasserstein", "loss.penalty=wgan-gp", "guard.collapse_steps=5"]
    over += ["model.g_width=8", "model.d_width=8"]
    res = ganforge.train("toy-ring8", out=tmp_path / "r", steps=12, overrides=over)
    records = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert res.step == 12 and not [r for r in records if r["kind"] == "guard"]


def test_periodic_eval_draws_every_class(tmp_path, fast, monkeypatch):
    """With fewer picture samples than classes it used to score only the first classes."""
    seen: list[torch.Tensor] = []
    original = Trainer.generate

    def spy(self, z, cond=None):
        if cond is not None and len(cond) > 8:
            seen.append(cond.cpu())
        return original(self, z, cond)

    monkeypatch.setattr(Trainer, "generate", spy)
    over = fast + ["data.conditional=true", "model.arch=mlp", "model.g_width=16"]
    over += ["model.d_width=16", "train.batch=16", "log.samples=4", "eval.every=10"]
    over += ["eval.metric=swd", "eval.n=40"]
    ganforge.train("demo", data="digits", out=tmp_path / "r", steps=10, overrides=over)
    assert seen and set(torch.cat(seen).tolist()) == set(range(10))


def test_channels_last_weights_have_canonical_strides():
    """One-channel conv weights are 'channels_last' under either stride; oneDNN reads the
    NCHW one as NCHW, and the mixed-layout net ran ~15% slower (found in the benchmark)."""
    from ganforge.engine.performance import module_to_layout

    conv = nn.Conv2d(1, 64, 5)
    module_to_layout(conv, True)
    assert conv.weight.stride() == (25, 1, 5, 1)


def test_a_modality_without_its_own_picture_still_draws_one():
    from ganforge.modality import Modality

    im = Modality().picture(torch.linspace(-1, 1, 3 * 8).view(3, 1, 8), {})
    assert im.convert("L").getextrema() == (0, 255) and im.height > im.width / 8
