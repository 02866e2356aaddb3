"""TensorBoard event files: written while training (``log.tensorboard=true``), exported from
an old run, read back with TensorBoard's own reader; a clear line without the package."""

import json
import shutil
import sys

import numpy as np
import pytest

from ganforge.cli import main
from helpers.music_files import chorale_like, write_midi

pytest.importorskip("tensorboard", reason="not installed: pip install -e '.[tensorboard]'")
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)

TOY = [
    "model.g_width=16",
    "model.d_width=16",
    "train.batch=32",
    "log.every=5",
    "log.sample_every=5",
    "log.checkpoint_every=10",
]


def _events(folder):
    everything = {"images": 0, "scalars": 0, "tensors": 0, "audio": 0}
    acc = EventAccumulator(str(folder), size_guidance=everything)
    acc.Reload()
    return acc


def _records(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _argv(out, *sets):
    argv = ["train", "toy-ring8", "--out", str(out), "--steps", "10", "--no-progress"]
    for kv in [*TOY, *sets]:
        argv += ["--set", kv]
    return argv


@pytest.fixture(scope="module")
def board_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tb") / "ring"
    assert main(_argv(out, "log.tensorboard=true")) == 0
    return out


def _check_against_log(acc, run):
    tags = acc.Tags()
    train = [r for r in _records(run) if r["kind"] == "train"]
    scalars = acc.Scalars("train/d_loss")
    assert [e.step for e in scalars] == [r["step"] for r in train] == [5, 10]
    assert [e.value for e in scalars] == pytest.approx([r["d_loss"] for r in train], rel=1e-6)
    assert "train/d_real" in tags["scalars"] and "train/g_loss" in tags["scalars"]
    # the sample pictures, as saved
    pictures = sorted((run / "samples").glob("step-*.png"))
    assert [e.step for e in acc.Images("samples")] == [5, 10] and len(pictures) == 2
    from PIL import Image

    with Image.open(pictures[-1]) as im:
        assert (acc.Images("samples")[-1].width, acc.Images("samples")[-1].height) == im.size


def test_training_writes_scalars_and_pictures(board_run):
    acc = _events(board_run)
    _check_against_log(acc, board_run)
    # the modality's figures logged with each picture, the last step's too
    assert [e.step for e in acc.Scalars("eval/modes_covered")] == [5, 10]


def test_export_converts_a_run_trained_without_it(board_run, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(board_run, old, ignore=shutil.ignore_patterns("events.out.tfevents.*"))
    assert not list(old.glob("events.out.tfevents.*"))
    assert main(["export", "tensorboard", str(old)]) == 0
    assert "2 pictures" in capsys.readouterr().out
    assert len(list(old.glob("events.out.tfevents.*"))) == 1
    _check_against_log(_events(old), old)
    assert main(["export", "tensorboard", str(old)]) == 0  # again: replaced, not doubled
    assert len(list(old.glob("events.out.tfevents.*"))) == 1
    assert len(_events(old).Scalars("train/d_loss")) == 2


def test_without_tensorboard_one_line_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    out = tmp_path / "none"
    assert main(_argv(out, "log.tensorboard=true")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "ganforge: error: log.tensorboard=true needs the tensorboard package: "
        "pip install 'ganforge[tensorboard]'"
    ]
    assert not out.exists()


def _samples(preset, spec, overrides):
    """A few real samples of a modality in model space, with their run info, from its loader."""
    from ganforge.config import resolve
    from ganforge.data import load_dataset, spec_modality
    from ganforge.registry import MODALITIES
    from ganforge.training import _jsonable

    cfg = resolve(preset, overrides)
    modality = MODALITIES.get(spec_modality(spec))
    ds = load_dataset(spec, seed=0, **modality.load_options(cfg))
    info = {**_jsonable(ds.info), "class_names": ds.class_names}
    return modality, ds.to_model(ds.data[:8]), info


def test_audio_text_and_clips_as_the_modality_writes_them(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    from ganforge.tensorboard import write_media

    corpus = tmp_path / "corpus.txt"
    rng = np.random.default_rng(0)
    words = "the quick brown fox jumps over a lazy dog".split()
    corpus.write_text("".join(" ".join(rng.choice(words, 5)) + "\n" for _ in range(200)))
    songs = tmp_path / "songs"
    songs.mkdir()
    for i in range(4):
        write_midi(songs / f"p{i}.mid", chorale_like(rng, 4))
    writer = SummaryWriter(log_dir=str(tmp_path / "events"))
    for preset, spec, over in (
        ("text-wgan-gp", f"text:{corpus}", ["text.length=16"]),
        ("chorales", f"midi:{songs}", ["music.bars=2", "data.holdout=0"]),
        ("shapes-motion", "shapes-motion", ["video.size=16", "video.frames=4", "video.clips=100"]),
    ):
        modality, samples, info = _samples(preset, spec, over)
        write_media(writer, modality, samples, info, step=7)
    writer.close()
    acc = _events(tmp_path / "events")
    text = acc.Tensors("samples/text_summary")[0]
    lines = text.tensor_proto.string_val[0].decode().splitlines()
    flat = " ".join(corpus.read_text().split())
    assert text.step == 7 and len(lines) == 8
    assert all(line.startswith("    ") and line.strip() in flat for line in lines)  # verbatim
    audio = acc.Audio("audio")[0]
    assert audio.step == 7 and audio.sample_rate > 8000 and audio.length_frames > audio.sample_rate
    assert audio.encoded_audio_string[:4] == b"RIFF"
    clip = acc.Images("clips")[0]
    assert clip.step == 7 and clip.encoded_image_string[:6] == b"GIF89a"
