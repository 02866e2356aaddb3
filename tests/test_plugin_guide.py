"""The plug-in guide's worked example is the tested plug-in: the ``file=`` code blocks of
``docs/adding-a-modality.md`` are written into a fresh package, which registers itself,
trains, samples, evaluates and ships a preset; and they are, byte for byte, the files of the
installable copy in ``tests/plugins/waveform``."""

from __future__ import annotations

import importlib
import json
import re
import sys
import wave
from pathlib import Path

import pytest

import ganforge
from ganforge.cli import main
from ganforge.evaluation import evaluate
from ganforge.registry import ARCHITECTURES, DATASETS, METRICS, MODALITIES, PRESETS

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "adding-a-modality.md"
INSTALLABLE = ROOT / "tests" / "plugins" / "waveform"
BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FAST = ["log.progress=false", "log.every=2", "log.sample_every=2", "log.checkpoint_every=2"]


def guide_files() -> dict[str, str]:
    """{path: text} of every code block the guide marks with ``file=PATH``."""
    found: dict[str, str] = {}
    for path, text in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        assert path not in found, f"the guide shows {path} twice"
        found[path] = text
    return found


def test_the_guide_shows_every_file_of_the_installable_package():
    blocks = guide_files()
    on_disk = {
        p.relative_to(INSTALLABLE).as_posix(): p.read_text(encoding="utf-8")
        for p in INSTALLABLE.rglob("*")
        if p.suffix in (".py", ".toml", ".yaml") and "egg-info" not in str(p)
    }
    assert sorted(blocks) == sorted(on_disk)
    for path, text in blocks.items():
        assert text == on_disk[path], f"{INSTALLABLE / path} differs from the guide's block"


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The guide's package, imported from a fresh folder and registered by its own
    ``register()``; what it registered is removed afterwards."""
    folder = tmp_path_factory.mktemp("from_the_guide")
    for path, text in guide_files().items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    registries = (MODALITIES, DATASETS, ARCHITECTURES, METRICS, PRESETS)
    before = [set(reg.names()) for reg in registries]
    sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module("ganforge_waveform")
        assert Path(module.__file__).is_relative_to(folder)
        module.register()
        yield module
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.split(".")[0] == "ganforge_waveform"]:
            del sys.modules[name]
        for reg, names in zip(registries, before, strict=True):
            for name in set(reg.names()) - names:
                reg.remove(name)


@pytest.fixture(scope="module")
def run_dir(plugin, tmp_path_factory):
    out = tmp_path_factory.mktemp("guide_run") / "run"
    res = ganforge.train("waveform", out=out, steps=4, overrides=[*FAST, "eval.every=2"])
    assert res.step == 4 and (out / "best").is_dir()  # its periodic metric kept a best
    return out


def test_the_plugin_ships_its_preset(plugin, capsys):
    assert main(["presets"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "demo" in rows and "1-D conv GAN on random sine waves" in rows["waveform"]


def test_data_alone_trains_the_modalitys_preset(plugin, tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["train", "--data", "sines:64", "--steps", "2", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    assert "training preset waveform on sines:64" in capsys.readouterr().out
    assert "arch: wave-conv" in (out / "config.yaml").read_text()


def test_train_logs_samples_seen_and_the_periodic_metric(run_dir):
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    assert train[-1]["samples_seen"] == 4 * 32 and "images_seen" not in train[-1]
    assert any("spectral" in r for r in records if r["kind"] == "eval")


def test_sample_writes_the_plugins_format(run_dir, tmp_path):
    path = ganforge.sample(run_dir, n=5, out=tmp_path / "w.wav")
    with wave.open(str(path)) as fh:
        assert fh.getnframes() == 5 * 64


def test_evaluate_against_real_data_says_its_stages_off_a_terminal(run_dir, capsys):
    result = evaluate(run_dir, n=50, progress=True)
    score = result["scores"]["spectral_distance"]
    assert 0 <= score["floor"] < score["value"] <= 1
    err = capsys.readouterr().err  # captured: not a terminal
    for line in ("eval: loading the run", "eval: scoring 50 samples", "eval: real waves"):
        assert line in err
    assert "eval: drawing 50 waves of step 4" in err
    evaluate(run_dir, n=50, progress=False, write=False)
    assert capsys.readouterr().err == ""


def test_eval_metric_hints_come_from_the_runs_modality(run_dir, capsys):
    assert main(["eval", str(run_dir), "--metrics", "spectrl"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'spectral'" in err and "a waveform run is scored by spectral" in err
    assert main(["eval", str(run_dir), "--metrics", "fdi"]) == 2  # close to image's fid
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("ganforge:")]
    assert len(errors) == 1 and "unknown metric 'fdi'" in errors[0] and "fid" not in errors[0]
