"""The Python API of every modality: ``ganforge.load(RUN).generate(n, seed=..., **knobs)``
gives what a user of the data expects (PIL images, a DataFrame, strings, PrettyMIDI, uint8
clips, a points array), the same samples for the same seed and new ones without, each
modality's own knobs, and one-line errors for knobs it does not take. One tiny run per
modality, trained once for the module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import ganforge
from ganforge.errors import ConfigError
from helpers.music_files import TINY_MUSIC, chorale_like, write_midi

# fp32: where bf16 is emulated (no AVX-512 / AMX) autocast is many times slower
QUIET = ["log.progress=false", "log.sample_every=1000", "train.precision=fp32"]
WORDS = "the a cat dog sat ran on in big red old new sun moon star tree".split()


def _train(preset: str, out, steps: int, sets: list[str], data: str | None = None):
    return ganforge.train(
        preset, data=data, out=out, steps=steps, overrides=QUIET + sets, progress=False
    ).run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run directories by modality, each trained on first use (then shared)."""
    tmp = tmp_path_factory.mktemp("api")
    made: dict[str, object] = {}

    def make(name: str):
        if name not in made:
            made[name] = {**TRAIN, **MORE}[name](tmp / name)
        return made[name]

    return make


def _points(out):
    return _train("toy-ring8", out, 1, ["train.batch=32", "log.samples=64"])


def _image(out):
    sets = ["model.arch=mlp", "model.g_width=16", "model.d_width=16", "train.batch=8"]
    return _train("demo", out, 1, sets + ["data.conditional=true"], data="digits")


def _table(out):
    from ganforge.tabular import TableSynthesizer

    rng = np.random.default_rng(0)
    size = rng.choice(["small", "large"], 300, p=[0.7, 0.3])
    frame = pd.DataFrame({"size": size, "weight": np.where(size == "large", 10.0, 2.0)})
    frame["weight"] += rng.normal(0, 0.5, 300).round(3)
    sets = ["model.g_width=32", "model.d_width=32", "train.batch=100", "eval.every=0"]
    TableSynthesizer(steps=1, overrides=QUIET + sets).fit(frame, out=out)
    return out


def _text(out, preset: str = "text-wgan-gp"):
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(WORDS, 3)) for _ in range(300)]
    corpus = out.parent / f"{out.name}.txt"
    corpus.write_text("\n".join(lines) + "\n")
    sets = ["model.g_width=16", "model.d_width=16", "model.depth=1", "train.batch=16"]
    sets += ["train.n_critic=1", "loss.penalty=none", "text.length=16", "log.samples=32"]
    sets += ["text.pretrain_seconds=0"]
    return _train(preset, out, 1, sets, data=f"text:{corpus}")


def _text_gru(out):
    return _text(out, "text")  # G draws its characters itself, at its own temperature


def _music(out):
    folder = out.parent / "midi"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        write_midi(folder / f"piece{i}.mid", chorale_like(rng, 4))
    sets = [*TINY_MUSIC, *QUIET, "train.batch=4", "train.n_critic=1", "loss.penalty=none"]
    return _train("chorales", out, 1, sets, data=f"midi:{folder}")


def _video(out):
    sets = ["video.size=16", "video.frames=6", "video.clips=100", "log.samples=2", "video.fps=12"]
    sets += ["model.z_dim=8", "model.g_width=8", "model.d_width=8", "train.batch=8"]
    return _train("shapes-motion", out, 1, sets)  # drawn shapes: no digits to load


TRAIN = {  # one run per modality; the seed test covers each
    "points": _points,
    "image": _image,
    "table": _table,
    "text": _text,
    "music": _music,
    "video": _video,
}
MORE = {"text-gru": _text_gru}


def _same(a, b) -> bool:
    """Equal generated outputs, whatever their type."""
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, list) and a and isinstance(a[0], Image.Image):
        return [np.asarray(x).tolist() for x in a] == [np.asarray(x).tolist() for x in b]
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, list) and a and hasattr(a[0], "instruments"):
        return [_notes(x) for x in a] == [_notes(x) for x in b]
    return a == b


def _notes(pm) -> list:
    return [(n.pitch, round(n.start, 6), round(n.end, 6)) for i in pm.instruments for n in i.notes]


@pytest.mark.parametrize("name", list(TRAIN))
def test_a_seed_gives_the_same_samples_and_no_seed_new_ones(runs, name):
    run = ganforge.load(runs(name))
    a, b = run.generate(6, seed=3), run.generate(6, seed=3)
    assert _same(a, b)
    assert not _same(a, run.generate(6, seed=4))
    assert not _same(run.generate(6), run.generate(6))


def test_points_are_a_float_array(runs):
    x = ganforge.load(runs("points")).generate(5, seed=0)
    assert isinstance(x, np.ndarray) and x.shape == (5, 2) and x.dtype == np.float32
    close = ganforge.load(runs("points")).generate(400, seed=0, truncation=0.5)
    wide = ganforge.load(runs("points")).generate(400, seed=0)
    assert close.std(0).sum() < wide.std(0).sum()


def test_images_are_pil_images_and_labels_pick_their_class(runs):
    run = ganforge.load(runs("image"))
    images = run.generate(3, seed=0, labels="3")
    assert len(images) == 3 and all(isinstance(im, Image.Image) for im in images)
    assert {(im.mode, im.size) for im in images} == {("L", (8, 8))}
    # a class by id, by name or one per sample: the conditioning reaches G
    assert _same(images, run.generate(3, seed=0, labels=[3, 3, 3]))
    assert not _same(images, run.generate(3, seed=0, labels=7))
    with pytest.raises(ConfigError, match=r"label 12 is not a class.*0\.\.9"):
        run.generate(2, labels=12)
    with pytest.raises(ConfigError, match="one label or 2"):
        run.generate(2, labels=[1, 2, 3])


def test_tables_are_dataframes_and_conditions_hold(runs):
    from ganforge.tabular import TableSynthesizer

    run = ganforge.load(runs("table"))
    rows = run.generate(50, seed=1)
    assert isinstance(rows, pd.DataFrame) and list(rows.columns) == ["size", "weight"]
    assert len(rows) == 50 and rows["weight"].dtype == np.float64
    assert rows.equals(TableSynthesizer.load(runs("table")).sample(50, seed=1))
    large = run.generate(20, seed=1, conditions={"size": "large"})
    assert (large["size"] == "large").all()


def test_text_is_strings_and_temperature_changes_them(runs):
    run = ganforge.load(runs("text"))
    greedy = run.generate(20, seed=0, temperature=0)
    assert len(greedy) == 20 and all(isinstance(s, str) and len(s) <= 16 for s in greedy)
    hot = run.generate(20, seed=0, temperature=2.0)
    assert hot != greedy and hot == run.generate(20, seed=0, temperature=2.0)
    assert run.generate(20, seed=0) == greedy  # the run's text.temperature: 0
    with pytest.raises(ConfigError, match="temperature must be in 0..10"):
        run.generate(2, temperature=-1)


def test_a_generator_that_draws_text_itself_takes_the_temperature(runs):
    run = ganforge.load(runs("text-gru"))
    assert run.config.section("text").temperature == 1.0  # the text preset's
    drawn = run.generate(8, seed=0)
    assert drawn == run.generate(8, seed=0, temperature=1.0) == run.generate(8, seed=0)
    assert drawn != run.generate(8, seed=0, temperature=0)  # greedy: G ignores its noise
    assert run.generator.temperature == 1.0  # restored after each draw


def test_music_is_pretty_midi_and_tempo_and_hold_apply(runs):
    import pretty_midi

    run = ganforge.load(runs("music"))
    phrases = run.generate(2, seed=0)
    assert len(phrases) == 2 and all(isinstance(p, pretty_midi.PrettyMIDI) for p in phrases)
    assert [len(p.instruments) for p in phrases] == [4, 4]
    starts = [start for _, start, _ in _notes(phrases[0])]
    slow = [start for _, start, _ in _notes(run.generate(2, seed=0, tempo=45)[0])]
    assert starts and slow == pytest.approx([2 * t for t in starts])  # half the run's 90 bpm
    assert not _same(run.generate(2, seed=0, hold=0), run.generate(2, seed=0, hold=50))
    assert run.generator.hold == run.config.arch.hold  # restored after the draw


def test_video_is_uint8_clips_with_the_runs_fps(runs):
    run = ganforge.load(runs("video"))
    clips = run.generate(3, seed=0)
    assert len(clips) == 3
    assert {(c.dtype, c.shape) for c in clips} == {(np.dtype(np.uint8), (6, 16, 16, 3))}
    assert run.fps == 12.0  # the run's video.fps
    tensor = run.sample(3, seed=0)  # the same draw, model space
    pixels = ((tensor[1] + 1) * 127.5).round().byte().permute(1, 2, 3, 0).numpy()
    assert np.array_equal(clips[1], pixels)
    with pytest.raises(AttributeError):
        _ = run.no_such_thing
    with pytest.raises(ConfigError, match="upsample is for layered video runs"):
        run.generate(1, upsample="bilinear")


def test_an_unknown_knob_is_one_line_naming_the_allowed_ones(runs):
    run = ganforge.load(runs("points"))
    with pytest.raises(ConfigError) as err:
        run.generate(2, temprature=1.0)
    msg = str(err.value)
    assert "\n" not in msg and "'temprature'" in msg and "seed, labels, truncation" in msg
    with pytest.raises(ConfigError, match="did you mean 'truncation'"):
        run.generate(2, truncaton=1.0)
    with pytest.raises(ConfigError, match="n must be"):
        run.generate(0)
    with pytest.raises(ConfigError, match="labels need a class-conditional run"):
        run.generate(2, labels=1)
    with pytest.raises(ConfigError, match="truncation must be in"):
        run.generate(2, truncation=0)


def test_the_generic_api_names_no_modality():
    """What a modality returns and takes is its own: ``generating.py`` asks the run's."""
    import ast
    from pathlib import Path

    path = Path(ganforge.__file__).with_name("generating.py")
    tree = ast.parse(path.read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(m and m.startswith("ganforge.modalities") for m in imported)
    names = ("image", "points", "tabular", "text", "music", "video", "temperature", "hold")
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert not strings & set(names)
