"""The plug-in surface and small command-line behaviours: one list of built-ins, duplicate
names refused, plug-in presets, a closed stdout, stage lines off a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganforge.cli import EXIT_BROKEN_PIPE, main
from ganforge.config import default_preset, list_presets, load_preset_data
from ganforge.data import Dataset
from ganforge.engine.run_log import train_record
from ganforge.errors import ConfigError
from ganforge.metrics.classifier import load_cached
from ganforge.modality import Modality
from ganforge.plugins import BUILTIN, load_plugins
from ganforge.progress import note, stage, stage_lines
from ganforge.registry import (
    DATASETS,
    METRICS,
    MODALITIES,
    DatasetSpec,
    MetricSpec,
    Preset,
    register_metric,
    register_preset,
    registered,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _plugins_loaded():
    load_plugins()  # what a registry lookup does first: registrations below come after


def test_the_builtins_are_one_list_declared_as_entry_points():
    text = (ROOT / "pyproject.toml").read_text()  # tomllib is Python 3.11+
    table = text.split('[project.entry-points."ganforge.modalities"]\n')[1].split("\n[")[0]
    lines = [x.split("=") for x in table.splitlines() if "=" in x and not x.startswith("#")]
    assert {k.strip(): v.strip().strip('"') for k, v in lines} == dict(BUILTIN)


def test_a_source_tree_without_entry_points_registers_every_builtin():
    code = (
        "import ganforge.plugins as p\n"
        "p.entry_points = lambda group: []\n"
        "from ganforge.registry import MODALITIES, ARCHITECTURES\n"
        "print(sorted(MODALITIES.names()), len(p.loaded()), 'mlp' in ARCHITECTURES)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = ["image", "music", "points", "tabular", "text", "video"]
    assert proc.stdout.split("] ")[1].split() == [str(len(BUILTIN)), "True"]
    assert proc.stdout.startswith(str(names))


def test_a_second_metric_of_a_name_is_refused():
    with pytest.raises(ValueError, match="metric named 'points/modes' is already registered"):
        register_metric(MetricSpec("modes", "points", "modes again"))
    with pytest.raises(ValueError, match="lower-case"):
        register_metric(MetricSpec("Modes", "points", "modes, capitalised"))
    assert METRICS.get("points/modes").description != "modes again"


def test_registered_leaves_entries_it_did_not_add():
    points = MODALITIES.get("points")
    extra = MetricSpec("spread", "points", "a test metric")
    with registered(points, extra):
        assert "points/spread" in METRICS
    assert MODALITIES.get("points") is points and "points/spread" not in METRICS


def test_plugin_presets_are_listed_loaded_and_cannot_shadow_bundled_ones():
    data = {"description": "a test preset", "data": {"spec": "toy:ring8"}}
    with registered(Preset("pl-test", data, "a test preset")):
        assert ("pl-test", "a test preset") in list_presets()
        assert load_preset_data("pl-test")["data"]["spec"] == "toy:ring8"
    assert "pl-test" not in [n for n, _ in list_presets()]
    with pytest.raises(ValueError, match="ships with ganforge"):
        register_preset("demo", data)


class _Counts(Modality):
    name = "pl-counts"
    default_arch = "mlp"


def _load_counts(arg: str, seed: int = 0, **_: object) -> Dataset:
    return Dataset("counts", torch.poisson(torch.full((64, 3), 4.0)), "pl-counts")


def test_data_alone_picks_a_preset_made_for_its_modality():
    assert default_preset("toy:ring8") == ("toy-ring8", [])  # the preset on that dataset
    assert default_preset("toy:grid25") == ("toy-grid25", [])
    assert default_preset("mnist5k") == ("demo", [])
    assert default_preset("no-such-data") == ("demo", [])  # training names the mistake
    spec = DatasetSpec("pl-counts", "pl-counts", _load_counts, "Poisson counts")
    with registered(_Counts(), spec):
        assert default_preset("pl-counts") == ("demo", ["model.arch=mlp"])
    assert "pl-counts" not in DATASETS


def test_a_closed_stdout_ends_quietly(monkeypatch):
    read, write = os.pipe()
    os.close(read)
    monkeypatch.setattr(sys, "stdout", os.fdopen(write, "w"))
    assert main(["presets"]) == EXIT_BROKEN_PIPE  # no BrokenPipeError traceback
    sys.stdout.write("x" * 100_000)  # the rest of stdout goes nowhere, silently
    sys.stdout.flush()


def test_stage_lines_say_each_stage_and_note_only_when_asked():
    out = io.StringIO()
    stage("quiet")
    note("quiet too")
    with stage_lines("eval", stream=out):
        stage("loading")
        stage("scoring", say="scoring 10 samples")
        note("training the feature network (first use)")
    with stage_lines("eval", enabled=False, stream=out):
        stage("not said")
    assert out.getvalue().splitlines() == [
        "eval: loading",
        "eval: scoring 10 samples",
        "eval: training the feature network (first use)",
    ]


def test_a_feature_network_trained_on_first_use_says_so(tmp_path):
    out = io.StringIO()
    with stage_lines("eval", stream=out):
        assert load_cached(tmp_path / "digits-cnn.safetensors", lambda meta: None) is None
    assert "eval: training the feature network digits-cnn (first use, cached after" in (
        out.getvalue()
    )


def test_the_train_record_counts_samples_of_any_modality():
    rec = train_record(3, {"d_loss": torch.tensor(0.5)}, 96, 2.0, 1.0)
    assert rec["samples_seen"] == 96 and "images_seen" not in rec


def test_unknown_plugin_names_stay_one_line(capsys):
    with pytest.raises(ConfigError, match="unknown preset 'pl-nope'"):
        load_preset_data("pl-nope")


def test_plugins_load_completely_for_every_thread(tmp_path):
    """A thread that asks for the registry while another is still loading waits for it: the
    studio's workers once saw a half-filled registry ('model.arch must be one of ; ...')."""
    import subprocess
    import sys

    code = (
        "import threading; from ganforge import plugins, registry\n"
        "seen = []\n"
        "def look(): seen.append(sorted(registry.ARCHITECTURES.names()))\n"
        "ts = [threading.Thread(target=look) for _ in range(8)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print(len({tuple(s) for s in seen}), 'mlp' in seen[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "True"]


def test_a_named_spec_trains_the_preset_made_for_it():
    """``--data wordnet`` trains the ``text`` preset (not the 200,000-step anchor that sorts
    first), ``--data folder:x`` the photo preset, a built-in data set its own preset."""
    from ganforge import plugins
    from ganforge.config import default_preset

    plugins.load_plugins()
    chosen = {s: default_preset(s)[0] for s in
              ("wordnet", "python-docs", "folder:x", "fashion-mnist", "toy:ring8", "csv:a.csv")}
    assert chosen == {"wordnet": "text", "python-docs": "text", "folder:x": "folder-rgb",
                      "fashion-mnist": "fashion-mnist", "toy:ring8": "toy-ring8",
                      "csv:a.csv": "tabular"}
