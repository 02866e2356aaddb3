"""Plug-in fixtures: the waveform package made visible to a fresh Python process through its
``ganforge.modalities`` entry point, exactly as an installed package's would be."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
WAVEFORM = HERE / "waveform"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """Environment whose Python finds ``ganforge_waveform`` and its entry point."""
    site = tmp_path_factory.mktemp("site")
    dist = site / "ganforge_waveform-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ganforge-waveform\nVersion: 0.1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[ganforge.modalities]\nwaveform = ganforge_waveform:register\n"
    )
    path = os.pathsep.join([str(site), str(WAVEFORM), str(SRC)])
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture(scope="module")
def ganforge_cli(plugin_env):
    """``ganforge_cli(*args)``: the ganforge command in a new process with the plug-in."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ganforge", *map(str, args)],
            capture_output=True,
            text=True,
            env=plugin_env,
            cwd=cwd,
            timeout=600,
        )

    return run
