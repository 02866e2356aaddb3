"""Data and settings that do not fit: the sensible thing, said in one line (not exit 2)."""

from __future__ import annotations

import json

from PIL import Image

from ganforge.cli import main


def test_forty_photos_train_with_the_demo_batch(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(40):
        Image.new("RGB", (20, 24), (i * 6, 100, 200 - i * 4)).save(folder / f"p{i:02d}.png")
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "demo",
            "--data",
            f"folder:{folder}",
            "--out",
            str(out),
            "--steps",
            "2",
            "--set",
            "image.size=32",
        ]
    )
    said = capsys.readouterr().out
    assert code == 0
    assert "train.batch=64 is larger than the dataset (40 samples)" in said
    assert "training with train.batch=40" in said
    assert "batch: 40" in (out / "config.yaml").read_text()


def test_a_listed_dataset_of_an_unsupported_size_is_resized(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "demo", "--data", "digits", "--out", str(out), "--steps", "2"])
    said = capsys.readouterr().out
    assert code == 0, said
    assert "dcgan does not take samples of 1x8x8: resized them to 1x16x16" in said
    assert json.loads((out / "run.json").read_text())["sample_shape"] == [1, 16, 16]
    assert "size: 16" in (out / "config.yaml").read_text()
    assert main(["sample", str(out), "--out", str(tmp_path / "s.png")]) == 0
