"""Bare paths as data (``--data ./photos``): each kind read from its files by what the specs
declare, said in one line, its preset chosen when none is named."""

import json

import numpy as np
import pytest
from PIL import Image

from ganforge.cli import main
from ganforge.data import find_spec
from ganforge.data.bare_paths import bare_data, read_bare_path
from ganforge.errors import DataError
from ganforge.registry import DatasetSpec, registered
from helpers.music_files import chorale_like, write_midi


def _pictures(folder, n=6, size=(20, 24), suffix=".png"):
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n // 2):
            pixels = rng.integers(0, 255, (*size, 3)).astype(np.uint8)
            Image.fromarray(pixels).save(folder / cls / f"{i}{suffix}")
    return folder


def _gif(path, frames=3):
    pictures = [Image.new("RGB", (16, 16), (40 * i, 0, 0)) for i in range(frames)]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=100, loop=0)


@pytest.fixture
def kinds(tmp_path, monkeypatch):
    """One tiny instance of each kind, in the working directory."""
    monkeypatch.chdir(tmp_path)
    _pictures(tmp_path / "photos")
    (tmp_path / "table.csv").write_text("a,b\n1,x\n2,y\n")
    (tmp_path / "table.parquet").write_bytes(b"PAR1")
    (tmp_path / "songs").mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        write_midi(tmp_path / "songs" / f"p{i}.mid", chorale_like(rng, 2))
    (tmp_path / "corpus.txt").write_text("a line of text\n" * 5)
    (tmp_path / "clips").mkdir()
    for i in range(3):
        _gif(tmp_path / "clips" / f"c{i}.gif")
    (tmp_path / "clips" / "c3.mp4").write_bytes(b"")
    return tmp_path


@pytest.mark.parametrize(
    "path, spec, preset, kind",
    [
        ("./photos", "folder", "folder-rgb", "pictures"),
        ("./table.csv", "csv", "tabular", "tables"),
        ("./table.parquet", "parquet", "tabular", "tables"),
        ("./songs/", "midi", "chorales", "piano-roll phrases"),
        ("./songs/p0.mid", "midi", "chorales", "piano-roll phrases"),
        ("./corpus.txt", "text", "text", "character sequences"),
        ("./clips/", "video", "shapes-motion", "clips"),
    ],
)
def test_each_kind_is_read_from_its_files(kinds, path, spec, preset, kind):
    bare = read_bare_path(path)
    assert bare is not None and bare.spec.name == spec and bare.preset == preset
    assert bare.explicit == f"{spec}:{path}"
    assert bare.line(True) == f"{path}: {kind} ({spec}:{path}), preset {preset}"
    assert bare.line(False) == f"{path}: {kind} ({spec}:{path})"
    assert find_spec(path)[0].name == spec and find_spec(path)[1] == path
    config, data, said, _ = bare_data(None, path, resume=False)
    assert (config, data, said) == (preset, f"{spec}:{path}", [bare.line(True)])
    config, _, said, _ = bare_data("my.yaml", path, resume=False)  # a named config stays
    assert config == "my.yaml" and said == [bare.line(False)]


def test_a_folder_goes_to_the_spec_most_of_its_files_belong_to(kinds):
    for i in range(3):  # GIFs among the pictures, fewer than the pictures
        _gif(kinds / "photos" / f"g{i}.gif")
    assert read_bare_path("photos").spec.name == "folder"
    _pictures(kinds / "frames", n=2)
    for i in range(4):
        _gif(kinds / "frames" / f"g{i}.gif")
    assert read_bare_path("frames").spec.name == "video"


def test_names_and_missing_paths_are_not_bare(kinds):
    assert read_bare_path("toy:ring8") is None and read_bare_path("mnist5k") is None
    assert read_bare_path(f"folder:{kinds / 'photos'}") is None
    assert read_bare_path("./nowhere") is None
    assert bare_data(None, "toy:ring8", resume=False) == ("demo", "toy:ring8", [], [])
    with pytest.raises(DataError, match="unknown dataset './nowhere'"):
        find_spec("./nowhere")


def test_a_path_no_spec_takes_says_what_bare_paths_are_read_by(kinds):
    (kinds / "odd").mkdir()
    (kinds / "odd" / "x.xyz").write_text("?")
    assert read_bare_path("odd") is None
    with pytest.raises(DataError) as err:
        find_spec("odd")
    text = str(err.value)
    assert text.startswith("cannot tell what the folder odd holds")
    assert ".mid" in text and ".png" in text and "e.g. folder:odd, " in text and "midi:odd" in text
    assert "\n" not in text
    (kinds / "notes.xyz").write_text("?")
    with pytest.raises(DataError, match=r"the file notes.xyz holds: .*\.csv"):
        find_spec("notes.xyz")


def test_a_plugin_spec_declares_the_bare_paths_it_takes(kinds):
    (kinds / "signal.sig").write_text("1 2 3\n")
    spec = DatasetSpec(
        "sig",
        "points",
        lambda arg, seed=0, **kw: None,
        "a .sig file of numbers",
        arg="required",
        file_suffixes=(".sig",),
        preset="toy-ring8",
    )
    assert read_bare_path("signal.sig") is None
    with registered(spec):
        bare = read_bare_path("signal.sig")
        assert bare.spec is spec and bare.preset == "toy-ring8"
        assert bare.line(True) == "signal.sig: flat vectors (sig:signal.sig), preset toy-ring8"


def test_train_a_bare_folder_of_photos(kinds, capsys):
    sets = ["data.image_size=16", "model.g_width=8", "model.d_width=8", "train.batch=4"]
    sets += ["log.sample_every=10", "log.checkpoint_every=10", "log.samples=4"]
    argv = ["train", "--data", "./photos", "--out", "run", "--steps", "1", "--no-progress"]
    assert main(argv + [x for kv in sets for x in ("--set", kv)]) == 0
    printed = capsys.readouterr().out
    assert "ganforge: ./photos: pictures (folder:./photos), preset folder-rgb\n" in printed
    meta = json.loads((kinds / "run" / "run.json").read_text())
    assert meta["modality"] == "image" and meta["class_names"] == ["cats", "dogs"]
    assert "spec: folder:./photos" in (kinds / "run" / "config.yaml").read_text()
    assert "preset: folder-rgb" in (kinds / "run" / "config.yaml").read_text()
