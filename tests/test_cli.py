"""The command line end to end, and bad input: one line, exit code 2, no traceback."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganforge.cli import main


def _train(tmp_path, fast, *extra, data="toy:ring8", preset="toy-ring8", steps=20):
    out = tmp_path / "run"
    argv = ["train", preset, "--data", data, "--out", str(out), "--steps", str(steps)]
    for o in fast:
        argv += ["--set", o]
    argv += list(extra)
    assert main(argv) == 0
    return out


def test_toy_train_sample_interpolate(tmp_path, fast, capsys):
    run = _train(tmp_path, fast, "--set", "model.g_width=32", "--set", "model.d_width=32")
    printed = capsys.readouterr().out
    assert "equilibrium plot" in printed and "modes covered" in printed
    for name in (
        "config.yaml",
        "run.json",
        "metrics.jsonl",
        "progress.gif",
        "equilibrium.png",
        "samples/final.png",
        "checkpoints/step-00000020/weights.safetensors",
    ):
        assert (run / name).is_file(), name
    assert len(list((run / "samples").glob("step-*.png"))) == 2
    recs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in recs if r["kind"] == "train"]
    assert [r["step"] for r in train] == [5, 10, 15, 20]
    for key in ("d_real", "d_fake", "value", "js_lower_bound", "g_grad_norm", "d_grad_norm"):
        assert key in train[-1]
    assert any(r["kind"] == "eval" and "modes_covered" in r for r in recs)

    assert main(["sample", str(run), "--n", "300", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (300, 2)
    assert main(["sample", str(run), "--n", "7", "--out", str(tmp_path / "s.csv")]) == 0
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert rows[0] == "x0,x1" and len(rows) == 8
    # same seed, same samples
    assert main(["sample", str(run), "--n", "300", "--out", str(tmp_path / "t.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "s.npy"), np.load(tmp_path / "t.npy"))

    gif = tmp_path / "walk.gif"
    assert main(["interpolate", str(run), "--frames", "6", "--out", str(gif)]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 6


def test_image_train_sample_interpolate(tmp_path, fast):
    run = _train(
        tmp_path,
        fast,
        "--set",
        "model.g_width=8",
        "--set",
        "model.d_width=8",
        "--set",
        "train.batch=16",
        "--set",
        "log.samples=16",
        data="mnist5k",
        preset="demo",
        steps=10,
    )
    with Image.open(run / "samples" / "final.png") as im:
        # 16 samples of 28 px in a 4x4 grid with 2 px padding, scaled up by a whole factor
        side = 4 * 30 + 2
        assert im.size[0] % side == 0 and im.size[0] == im.size[1]
    out = tmp_path / "grid.png"
    assert main(["sample", str(run), "--n", "9", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.size[0] % (3 * 30 + 2) == 0
    folder = tmp_path / "pngs"
    assert main(["sample", str(run), "--n", "5", "--out", str(folder)]) == 0
    files = sorted(folder.glob("*.png"))
    assert len(files) == 5
    with Image.open(files[0]) as im:
        assert im.size == (28, 28) and im.mode == "L"
    gif = tmp_path / "walk.gif"
    assert main(["interpolate", str(run), "--frames", "4", "--out", str(gif)]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 4


def test_listing_commands(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "seed" in out and "toy-ring8" in out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "folder:PATH" in out and "toy:ring8" in out


def _error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "nosuchpreset"], "unknown preset"),
        (["train", "demo", "--set", "train.bach=2"], "did you mean 'train.batch'"),
        (["train", "demo", "--set", "train.batch=many"], "must be a whole number"),
        (["train", "demo", "--set", "optim.g_lr=fast"], "must be a number"),
        (["train", "demo", "--data", "folder:/no/such/folder"], "/no/such/folder not found"),
        (["train", "demo", "--data", "imagenet"], "unknown dataset"),
        (["sample", "/no/such/run"], "does not exist"),
        (["train", "folder-rgb"], "--data folder:PATH"),
    ],
)
def test_bad_input_is_one_clear_line(argv, fragment, capsys, tmp_path):
    argv = argv + (["--out", str(tmp_path / "r")] if argv[0] == "train" else [])
    code, err = _error(argv, capsys)
    assert code == 2
    assert fragment in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_folder_of_corrupt_images_is_a_clear_error(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"")
    (folder / "b.jpg").write_bytes(b"not a jpeg at all")
    code, err = _error(
        ["train", "folder-rgb", "--data", f"folder:{folder}", "--out", str(tmp_path / "r")], capsys
    )
    assert code == 2 and "could be read" in err and len(err.splitlines()) == 1


def test_existing_run_is_not_overwritten(tmp_path, fast, capsys):
    run = _train(tmp_path, fast, "--set", "model.g_width=16", "--set", "model.d_width=16", steps=10)
    before = (run / "metrics.jsonl").read_text()
    code, err = _error(["train", "toy-ring8", "--out", str(run)], capsys)
    assert code == 2 and "--resume" in err
    assert (run / "metrics.jsonl").read_text() == before


def test_console_entry_point_exit_code(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganforge",
            "train",
            "demo",
            "--set",
            "train.batch=0",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "ganforge: error: train.batch must be >= 1; got 0"


def test_folder_of_images_with_class_subfolders(tmp_path, fast, capsys):
    rng = np.random.default_rng(0)
    for cls, color in (("cats", (200, 40, 40)), ("dogs", (40, 40, 200))):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        for i in range(6):
            arr = (np.array(color) + rng.integers(0, 40, (40, 50, 3))).astype(np.uint8)
            Image.fromarray(arr).save(tmp_path / "pics" / cls / f"{i}.png")
    (tmp_path / "pics" / "cats" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    run = _train(
        tmp_path,
        fast,
        "--set",
        "data.image_size=32",
        "--set",
        "model.g_width=8",
        "--set",
        "model.d_width=8",
        "--set",
        "train.batch=4",
        "--set",
        "data.conditional=true",
        data=f"folder:{tmp_path / 'pics'}",
        preset="folder-rgb",
        steps=2,
    )
    assert "skipped 1 unreadable files, e.g. cats/broken.jpg" in capsys.readouterr().out
    meta = json.loads((run / "run.json").read_text())
    assert meta["sample_shape"] == [3, 32, 32] and meta["dataset_size"] == 12
    assert meta["class_names"] == ["cats", "dogs"] and meta["num_classes"] == 2
    assert len(meta["skipped_files"]) == 1 and "broken.jpg" in meta["skipped_files"][0]
    out = tmp_path / "dogs.png"
    assert main(["sample", str(run), "--n", "4", "--label", "1", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.mode == "RGB"
