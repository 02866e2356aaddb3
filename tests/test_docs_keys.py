"""Every config key the documentation tells a user to set is a current key: the
``--set KEY=VALUE`` (``--ganforge-set``, ``--cas-set``) and ``section.key=value`` tokens of
the README's and docs' ``bash`` / ``sh`` / ``yaml`` blocks and inline code, the keys of
their YAML blocks, and the overrides in the benchmark scripts. An old spelling still loads
(with a line naming the new one), so only this test keeps the docs from going stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ganforge.config import all_keys, from_dict
from ganforge.config.renames import RENAMED
from ganforge.config.schema import key_aliases

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))

BLOCK = re.compile(r"^```(bash|sh|shell|console|yaml)\b([^\n]*)\n(.*?)^```", re.M | re.S)
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
INLINE = re.compile(r"`([^`]+)`")
SET = re.compile(r"--(?:[a-z]+-)?set[ =]+['\"]?([^\s=`'\"]+)=")
DOTTED = re.compile(r"(?<![\w.\-/$])([a-z_]+\.[a-z_][\w.]*)=")
PLACEHOLDERS = {"KEY", "key", "section.key"}
# the plug-in guide's worked example (docs/adding-a-modality.md) adds this section
PLUGIN_SECTIONS = {"waveform"}
# a paragraph naming the older spellings beside the new ones (docs/reference.md)
RENAME_LIST = "older spellings still load"


def _current() -> tuple[set[str], set[str]]:
    """(every current dotted key, the keys that hold a mapping: ``loss.head_weights``)."""
    data = from_dict({}).to_dict()
    mappings = {
        f"{s}.{k}"
        for s, sub in data.items()
        if isinstance(sub, dict)
        for k, v in sub.items()
        if isinstance(v, dict)
    }
    return set(all_keys()), mappings


KEYS, MAPPINGS = _current()
OLD = set(RENAMED) | set(key_aliases())
SECTIONS = {k.split(".")[0] for k in KEYS | OLD}


def _tokens(text: str) -> list[str]:
    return SET.findall(text) + DOTTED.findall(text)


def _yaml_keys(text: str) -> list[str]:
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        return []
    return [f"{s}.{k}" for s, sub in data.items() if isinstance(sub, dict) for k in sub]


def _doc_keys(path: Path) -> list[str]:
    """Every key ``path`` tells a user to set."""
    text = path.read_text()
    keys: list[str] = []
    for lang, _, body in BLOCK.findall(text):
        keys += _yaml_keys(body) if lang == "yaml" else _tokens(body)
    for para in FENCE.sub("", text).split("\n\n"):
        para = para.replace("\n", " ")
        if RENAME_LIST in para.lower():
            continue
        for span in INLINE.findall(para):
            keys += _tokens(span)
    return keys


def _stale(key: str) -> str | None:
    """Why ``key`` is not a current key to tell a user (None: it is)."""
    if key in PLACEHOLDERS or key.split(".")[0] in PLUGIN_SECTIONS:
        return None
    head = ".".join(key.split(".")[:2])
    if head in OLD or key in OLD:
        return f"old spelling of {RENAMED.get(head) or key_aliases().get(head)}"
    if head not in KEYS:
        return "no such key (ganforge config --keys lists them)"
    if key != head and head not in MAPPINGS:
        return f"{head} holds no mapping"
    return None


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_the_docs_set_only_current_keys(path):
    bad = {k: why for k in _doc_keys(path) if (why := _stale(k))}
    assert not bad, f"{path.name}: {bad}"


def test_the_benchmark_scripts_set_only_current_keys():
    bad = {}
    for path in SCRIPTS:
        for key in _tokens(path.read_text()):
            if key.split(".")[0] in SECTIONS and (why := _stale(key)):
                bad[f"{path.name}: {key}"] = why
    assert not bad, bad


def test_the_check_finds_old_unknown_and_placeholder_keys():
    block = "```bash\nganforge train x --set text.samples=9 --ganforge-set train.stepz=1\n```"
    yaml_block = "```yaml\nvideo:\n  motion_stream: true\nlog:\n  samples: 8\n```"
    inline = "run `--variant a:video.holdout=0.2,train.seed=1` or `--set KEY=VALUE`"
    found = {k: _stale(k) for k in _tokens(block) + _tokens(inline)}
    found |= {k: _stale(k) for k in _yaml_keys(yaml_block.split("\n", 1)[1][:-3])}
    assert found == {
        "text.samples": "old spelling of log.samples",
        "train.stepz": "no such key (ganforge config --keys lists them)",
        "video.holdout": "old spelling of data.holdout",
        "train.seed": None,
        "KEY": None,
        "video.motion_stream": "old spelling of arch.motion_stream",
        "log.samples": None,
    }
    assert _stale("loss.head_weights.video") is None
    assert _stale("train.seed.x") == "train.seed holds no mapping"
    assert _stale("data.image_size") == "old spelling of image.size"
