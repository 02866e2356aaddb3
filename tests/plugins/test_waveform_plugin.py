"""A modality from outside ``src/``: the waveform package registers through the
``ganforge.modalities`` entry point, and train / sample / interpolate / eval work on it from
the command line with nothing about waveforms in ganforge itself."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
from PIL import Image

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"


def test_ganforge_itself_knows_nothing_of_waveforms():
    hits = [p for p in SRC.rglob("*.py") if "waveform" in p.read_text().lower()]
    assert hits == []


@pytest.fixture(scope="module")
def run_dir(ganforge_cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("wave") / "run"
    proc = ganforge_cli(
        "train", "waveform", "--out", out, "--no-progress", "--set", "eval.every=20"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_plugin_is_listed(ganforge_cli):
    datasets = ganforge_cli("datasets")
    assert datasets.returncode == 0 and "sines[:N]" in datasets.stdout
    keys = ganforge_cli("config", "--keys").stdout.split()
    assert "waveform.length" in keys and "waveform.max_cycles" in keys
    plugins = ganforge_cli("plugins")
    assert plugins.returncode == 0
    assert "waveform" in plugins.stdout and "wave-conv" in plugins.stdout


def test_train_writes_a_waveform_run(run_dir):
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["modality"] == "waveform" and meta["sample_shape"] == [1, 64]
    with Image.open(run_dir / "samples" / "final.png") as im:
        lo, hi = im.convert("L").getextrema()
        assert im.size[0] > 100 and lo < 100 < hi  # dark waves on white
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["kind"] == "eval"]
    assert evals and all(0 < r["peak_amplitude"] <= 1 for r in evals)  # the plug-in's metric
    assert "spectral" in evals[-1] and "best_spectral" in evals[-1]  # its periodic metric
    assert (run_dir / "best").is_dir()
    assert [r["step"] for r in records if r["kind"] == "train"][-1] == 40


def test_sample_writes_wav_png_and_refuses_other_formats(run_dir, ganforge_cli, tmp_path):
    wav = tmp_path / "waves.wav"
    proc = ganforge_cli("sample", run_dir, "--n", "5", "--out", wav)
    assert proc.returncode == 0, proc.stderr
    with wave.open(str(wav)) as fh:
        assert fh.getnframes() == 5 * 64 and fh.getsampwidth() == 2
    png = tmp_path / "waves.png"
    assert ganforge_cli("sample", run_dir, "--out", png).returncode == 0
    assert Image.open(png).size[0] > 100
    bad = ganforge_cli("sample", run_dir, "--out", tmp_path / "waves.csv")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and ".wav" in bad.stderr and "Traceback" not in bad.stderr


def test_interpolate_writes_a_gif(run_dir, ganforge_cli, tmp_path):
    out = tmp_path / "walk.gif"
    proc = ganforge_cli("interpolate", run_dir, "--frames", "4", "--out", out)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as im:
        assert im.n_frames == 4


def test_eval_scores_beside_the_real_floor(run_dir, ganforge_cli):
    proc = ganforge_cli("eval", run_dir, "--n", "200", "--json")
    assert proc.returncode == 0, proc.stderr
    score = json.loads(proc.stdout)["scores"]["spectral_distance"]
    assert 0 <= score["floor"] < score["value"] <= 1  # 40 steps do not reach the data
    assert (run_dir / "report.html").is_file()


def test_plugin_options_are_validated(ganforge_cli, tmp_path):
    proc = ganforge_cli("train", "waveform", "--out", tmp_path / "r", "--set", "waveform.length=3")
    assert proc.returncode == 2
    assert "waveform.length must be >= 8" in proc.stderr and "Traceback" not in proc.stderr
    proc = ganforge_cli("train", "waveform", "--out", tmp_path / "r", "--set", "model.arch=wave")
    assert proc.returncode == 2 and "wave-conv" in proc.stderr  # choices from the registry
