"""The music modality: piano-roll <-> MIDI on a real chorale, every metric on hand-made rolls
with known values (TD on a worked example), the MIDI folder loader on bad files, audio,
the MuseGAN nets' latent structure, and training end to end on a generated MIDI folder."""

from __future__ import annotations

import io
import json
import os
import wave
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch

from ganforge.cli import main
from ganforge.errors import DataError
from ganforge.modalities.music import metrics as M
from ganforge.modalities.music.audio import render_additive, soundfont_path, wav_bytes
from ganforge.modalities.music.chorales import chorale_piece, parse_chorales
from ganforge.modalities.music.datasets import load_music
from ganforge.modalities.music.keys import key_of, normalising_shift
from ganforge.modalities.music.midi import midi_bytes, midi_piece, rolls_to_midi
from ganforge.modalities.music.nets import MuseCritic, MuseGenerator
from ganforge.modalities.music.overlap import overlap_area
from ganforge.modalities.music.pianoroll import notes_to_roll, roll_to_notes
from ganforge.modalities.music.pieces import pack, unpack
from helpers.music_files import TINY_MUSIC, chorale_like, write_midi

LOW = 48  # the hand-made rolls start at C3


def roll(tracks: int = 1, bars: int = 1, pitches: int = 24) -> np.ndarray:
    return np.zeros((1, tracks, bars * 16, pitches), dtype=np.uint8)


# ---------------------------------------------------------------- piano-rolls and MIDI
@pytest.fixture(scope="module")
def chorale():
    from music21 import corpus

    piece = chorale_piece(corpus.parse("bach/bwv66.6"), "bwv66.6")
    assert piece is not None and len(piece.tracks) == 4
    return piece


def test_a_real_chorale_round_trips_through_the_roll_and_midi(chorale):
    steps = -(-chorale.steps // 16) * 16
    r = notes_to_roll(chorale.tracks, steps, 30, 60)
    back = roll_to_notes(r, 30)
    for notes, got in zip(chorale.tracks, back, strict=True):
        notes = notes[np.lexsort((notes[:, 0], notes[:, 1]))]
        # every onset survives; a note struck again at once is one 16th shorter
        assert got[:, :2].tolist() == notes[:, :2].tolist()
        ends = notes[:, 1] + notes[:, 2]
        again = [
            any((m[0] == n[0]) and (m[1] == e) for m in notes) and n[2] > 1
            for n, e in zip(notes, ends, strict=True)
        ]
        expected = notes[:, 2] - np.array(again, dtype=int)
        assert got[:, 2].tolist() == expected.tolist()
    # roll -> MIDI file -> roll: notes, onsets and durations equal
    pm = rolls_to_midi(r[None], 30, [73, 68, 71, 70], ["s", "a", "t", "b"], tempo=100)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"chorale-{os.getpid()}.mid"
    path.write_bytes(midi_bytes(pm))
    piece, names, programs = midi_piece(path, 4, "track")
    path.unlink()
    assert names == ["s", "a", "t", "b"] and programs == [73, 68, 71, 70]
    again = notes_to_roll(piece.tracks, steps, 30, 60)
    assert (again == r).all()


def test_chorales_parse_only_four_four_four_part_pieces_and_pack_losslessly(chorale):
    pieces, left = parse_chorales(names=["bach/bwv269", "bach/bwv66.6", "bach/bwv347"])
    assert left == 1 and len(pieces) == 2  # bwv269 is in 3/4
    # both open with a one-beat pickup (music21: paddingLeft 3 quarters): it is moved to
    # the last beat of bar 0, so bar lines fall on multiples of 16 steps
    assert all(min(int(t[:, 1].min()) for t in p.tracks) == 12 for p in pieces)
    back = unpack(pack(pieces))
    for a, b in zip(pieces, back, strict=True):
        assert a.name == b.name
        assert all((x == y).all() for x, y in zip(a.tracks, b.tracks, strict=True))


def test_key_finding_and_normalising():
    c_major = np.zeros(12)
    c_major[[0, 4, 7]] = 4
    c_major[[2, 5, 9, 11]] = 1
    assert key_of(c_major) == 0
    assert key_of(np.roll(c_major, 7)) == 7  # G major
    a_minor = np.zeros(12)
    a_minor[[9, 0, 4]] = 4
    a_minor[[11, 2, 5, 7]] = 1
    assert key_of(a_minor) == 12 + 9
    assert normalising_shift(7) == 5 and normalising_shift(12 + 4) == 5  # G -> C, e -> a


# ---------------------------------------------------------------- metrics on known rolls
def test_empty_bars_used_pitch_classes_and_qualified_notes():
    r = roll(tracks=2, bars=4)
    r[0, 0, :, 0] = 1  # track 0: C held through all four bars (one note, 64 steps)
    r[0, 1, 0:1, 4] = 1  # track 1, bar 1: E (1 step), G (2 steps), C5 (3 steps), B (4)
    r[0, 1, 2:4, 7] = 1
    r[0, 1, 5:8, 12] = 1
    r[0, 1, 8:12, 11] = 1
    v = M.phrase_metrics(r, LOW)
    assert v["EB"][0] == pytest.approx(100 * 3 / 8)  # track 1 is silent in 3 of 4 bars
    # pitch classes per sounding track-bar: 1,1,1,1 (track 0) and 4 (E, G, C, B)
    assert v["UPC"][0] == pytest.approx(8 / 5)
    assert v["QN"][0] == pytest.approx(100 * 3 / 5)  # C(64), C5(3), B(4) of five notes
    # C sounds at all 64 steps, track 1 at 10 of them
    assert v["PR"][0] == 12 and v["PP"][0] == pytest.approx((64 + 10) / 64)


def test_tonal_distance_worked_example():
    """Harte et al.'s centroids: C = (0, 1, 0, 1, 0, .5), F# = (0, -1, 0, -1, 0, .5): the
    distance is sqrt(8); C to G: sqrt(.25 + (1 - cos 30)^2 + 1 + 1 + (.5 sin 120)^2 + .75^2)."""
    r = roll(tracks=2)
    r[0, 0, :, 0] = 1  # C
    r[0, 1, :, 6] = 1  # F#
    assert M.tonal_distance(r > 0, LOW)[0] == pytest.approx(np.sqrt(8))
    r[0, 1] = 0
    r[0, 1, :, 7] = 1  # G
    expected = np.sqrt(
        0.25 + (1 - np.cos(np.pi / 6)) ** 2 + 2 + (0.5 * np.sin(2 * np.pi / 3)) ** 2 + 0.75**2
    )
    assert M.tonal_distance(r > 0, LOW)[0] == pytest.approx(expected)
    r[0, 1] = r[0, 0]
    assert M.tonal_distance(r > 0, LOW)[0] == pytest.approx(0.0)


def test_polyphony_entropy_scale_and_groove():
    r = roll(tracks=2, bars=2)
    r[0, 0, :, 0] = 1  # C held
    r[0, 1, :16, 4] = 1  # E in bar 1
    v = M.phrase_metrics(r, LOW)
    assert v["PP"][0] == pytest.approx(1.5)  # 2 pitches for 16 steps, 1 for 16
    assert v["PCE"][0] == pytest.approx(1.0)  # two notes, two pitch classes: 1 bit
    scale = roll()
    for i, pc in enumerate([0, 2, 4, 5, 7, 9, 11]):
        scale[0, 0, 2 * i, pc] = 1
    assert M.phrase_metrics(scale, LOW)["SC"][0] == pytest.approx(1.0)
    chromatic = roll()
    for pc in range(12):
        chromatic[0, 0, pc, pc] = 1
    v = M.phrase_metrics(chromatic, LOW)
    assert v["SC"][0] == pytest.approx(7 / 12) and v["PCE"][0] == pytest.approx(np.log2(12))
    groove = roll(bars=3)
    for b in range(3):
        groove[0, 0, b * 16 : b * 16 + 16 : 4, 0] = 1  # quarter notes in every bar
    assert M.phrase_metrics(groove, LOW)["GC"][0] == pytest.approx(1.0)
    groove[0, 0, 16:32] = 0
    groove[0, 0, 16:32:2, 0] = 1  # eighths in bar 2: 4 onsets differ from each neighbour
    assert M.phrase_metrics(groove, LOW)["GC"][0] == pytest.approx(1 - 4 / 16)
    silent = M.phrase_metrics(roll(), LOW)
    assert silent["EB"][0] == 100 and np.isnan(silent["QN"][0]) and np.isnan(silent["UPC"][0])


def test_melodic_moves_count_steps_and_leaps_between_notes():
    r = roll(tracks=2, pitches=30).repeat(2, 0)
    r[0, 0, 0:2, 10] = r[0, 0, 2, 12] = r[0, 0, 4, 24] = r[0, 0, 5, 23] = 1  # +2, +12, -1
    r[1, 0, 0, 5] = r[1, 0, 2, 5] = r[1, 0, 3, 6] = 1  # struck again (no move), then +1
    r[0, 0, 4, 3] = 1  # a lower note under the top one: the line is the top pitch
    moves = M.melodic_moves(r)
    assert moves["steps"][0] == 0.75 and moves["leaps"][0] == 0.25
    assert np.isnan(moves["steps"][1]) and np.isnan(moves["leaps"][1])  # a silent track


def test_overlap_area_is_one_for_the_same_distribution_and_small_when_apart():
    rng = np.random.default_rng(0)
    real = rng.normal(0, 1, 1000)
    assert overlap_area(real, rng.normal(0, 1, 1000)) > 0.9
    assert overlap_area(real, rng.normal(6, 1, 1000)) < 0.1
    assert np.isnan(overlap_area(real, np.array([np.nan, 1.0])))


# ---------------------------------------------------------------- MIDI folders and audio
@pytest.fixture(scope="module")
def midi_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("midi")
    rng = np.random.default_rng(0)
    for i in range(24):
        write_midi(root / f"piece{i:02d}.mid", chorale_like(rng))
    return root


def test_midi_folder_skips_corrupt_empty_and_drum_files_and_groups_tracks(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(3):
        write_midi(tmp_path / f"ok{i}.mid", chorale_like(rng, 4))
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00garbage" * 3)
    pretty_midi.PrettyMIDI().write(str(tmp_path / "empty.mid"))
    drums = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(0, is_drum=True)
    kit.notes.append(pretty_midi.Note(100, 36, 0, 1))
    drums.instruments.append(kit)
    drums.write(str(tmp_path / "drums.mid"))
    # two instruments of one program: one track by program, two by MIDI track
    write_midi(tmp_path / "two.mid", [[(60, 0, 16)], [(64, 0, 16)]], programs=[5, 5])
    ds = load_music("midi", str(tmp_path), holdout=0, bars=2, tracks=4, progress=False)
    assert sorted(s.split(":")[0] for s in ds.skipped) == ["corrupt.mid", "drums.mid", "empty.mid"]
    assert ds.data.shape[1:3] == (4, 32) and ds.data.shape[3] % 12 == 0
    assert set(np.unique(ds.data.numpy())) <= {0, 1}
    assert ds.to_model(ds.data[:2]).min() == -1
    by_program, *_ = midi_piece(tmp_path / "two.mid", 4, "program")
    by_track, *_ = midi_piece(tmp_path / "two.mid", 4, "track")
    assert [len(t) for t in by_program.tracks] == [2, 0, 0, 0]
    assert [len(t) for t in by_track.tracks] == [1, 1, 0, 0]
    # a track of chords is worth a line: the voice outputs draw one pitch a step
    chords = load_music("midi", str(tmp_path / "two.mid"), holdout=0, bars=1, progress=False)
    assert chords.info["music"]["chords"] == 1.0
    assert any("arch.binarize=threshold" in n for n in chords.info["notes"])
    assert ds.info["music"]["chords"] < 0.05
    with pytest.raises(DataError, match="no such file"):
        load_music("midi", str(tmp_path / "nope"), progress=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.mid").write_bytes(b"not midi")
    with pytest.raises(DataError, match="could be read"):
        load_music("midi", str(bad), progress=False)


def test_keys_normalised_or_augmented(midi_folder):
    aug = load_music("midi", str(midi_folder), holdout=0, transpose=2, progress=False)
    same = load_music("midi", str(midi_folder), holdout=0, keys="as-is", progress=False)
    norm = load_music("midi", str(midi_folder), holdout=0, keys="normalise", progress=False)
    assert len(aug.data) == 5 * len(same.data)
    # the pieces are in C major already: normalising moves nothing
    assert len(norm.data) == len(same.data)


def _sounding_roll() -> np.ndarray:
    r = np.zeros((1, 2, 64, 24), dtype=np.uint8)
    r[0, 0, :, 12] = 1  # 64 16ths = 8 s at 120 bpm
    r[0, 1, :32, 7] = 1
    return r


@pytest.mark.parametrize("how", ["additive", "soundfont"])
def test_wav_is_sounding_and_lasts_as_long_as_the_music(how):
    pm = rolls_to_midi(_sounding_roll(), 48, [73, 70], ["flute", "bassoon"], tempo=120)
    if how == "additive":
        audio = render_additive(pm)
    else:
        try:
            import tinysoundfont  # noqa: F401

            from ganforge.modalities.music.audio import render_soundfont
        except ImportError:
            if os.environ.get("CI"):
                raise
            pytest.skip("tinysoundfont is not installed (make venv installs it)")
        assert soundfont_path() is not None
        audio = render_soundfont(pm)
    with wave.open(io.BytesIO(wav_bytes(audio)), "rb") as w:
        seconds = w.getnframes() / w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert seconds == pytest.approx(8 + 1.0, abs=0.15)  # the music and a 1 s tail
    rate = len(pcm) / seconds
    body = pcm[int(0.5 * rate) : int(7.5 * rate)].astype(float)
    windows = body[: len(body) // 7 * 7].reshape(14, -1, 2)  # half-second windows
    assert (np.sqrt((windows**2).mean((1, 2))) > 300).all()  # sounding throughout
    assert np.abs(pcm[int(8.6 * rate) :]).max() < np.abs(body).max() / 4  # then it fades


# ---------------------------------------------------------------- networks
def test_private_latent_moves_only_its_track_and_binarised_outputs_pass_gradients():
    torch.manual_seed(0)
    G = MuseGenerator(tracks=3, bars=2, pitches=24, z_dim=8, width=16).eval()
    z = G.sample_latent(4, torch.Generator().manual_seed(0))
    z2 = {k: v.clone() for k, v in z.items()}
    z2["private"][:, 1] += 1.0
    with torch.no_grad():
        a, b = G(z), G(z2)
    assert a.shape == (4, 3, 32, 24)
    changed = (a - b).abs().amax((0, 2, 3))
    # the other tracks move by float rounding at most (batched kernels may round a row
    # differently when its neighbours change)
    assert changed[1] > 1e-2 and changed[0] < 1e-5 and changed[2] < 1e-5, changed
    for mode in ("threshold", "bernoulli", "voice"):
        G = MuseGenerator(2, 1, 12, 8, 16, binarize=mode)
        x = G(G.sample_latent(3))
        assert set(x.unique().tolist()) <= {-1.0, 1.0}
        MuseCritic(2, 1, 12, 8)(x).sum().backward()
        assert G.bar_input[0].weight.grad.abs().sum() > 0
        if mode == "voice":  # at most one pitch per track and step
            assert ((x > 0).sum(-1) <= 1).all()


def test_tracks_stay_in_their_data_ranges_in_every_output_mode():
    from ganforge.modalities.music.datasets import track_ranges

    data = roll(tracks=3, pitches=24).repeat(2, 0)
    data[0, 0, :4, 20] = data[1, 0, 4:8, 14] = 1  # track 0: 14-20
    data[0, 2, :, 3] = 1  # track 2: 3 only; track 1 silent
    ranges = track_ranges(data)
    assert ranges == [[14, 20], [0, -1], [3, 3]]
    for mode in ("none", "threshold", "bernoulli", "voice"):
        torch.manual_seed(1)
        G = MuseGenerator(3, 1, 24, 8, 16, binarize=mode, ranges=ranges).eval()
        G.to_rest.bias.data.fill_(-10.0)  # voices that sound: an untrained G mostly rests
        free = MuseGenerator(3, 1, 24, 8, 16, binarize=mode).eval()
        free.load_state_dict(G.state_dict())  # the ranges are not weights
        z = G.sample_latent(64, torch.Generator().manual_seed(0))
        with torch.no_grad():
            on, loose = G(z) > 0, free(z) > 0
        assert not on[:, 0, :, :14].any() and not on[:, 0, :, 21:].any()
        assert not on[:, 2, :, :3].any() and not on[:, 2, :, 4:].any()
        assert (on[:, 1] == loose[:, 1]).all()  # a silent track in the data is not muted
        assert loose[:, 0, :, :14].any() or loose[:, 0, :, 21:].any()  # the mask did it


def test_key_stream_reads_a_phrase_the_same_in_every_key_and_passes_gradients():
    def keys(D: MuseCritic, x: torch.Tensor) -> torch.Tensor:
        change = torch.cat([x[:, :, :1] + 1, x[:, :, 1:] - x[:, :, :-1]], 2) / 2
        return D._key_features(D._chroma(x), change)

    torch.manual_seed(0)
    D = MuseCritic(2, 2, 36, 8, key_stream=True)
    diatonic = torch.tensor([0, 2, 4, 5, 7, 9, 11])  # C major, one note a step per track
    x = -torch.ones(3, 2, 32, 36)
    for t in range(32):
        x[:, :, t, 12 + diatonic[torch.randint(7, (1,))]] = 1.0
    a = keys(D, x)
    assert a.shape == (3, 8)
    for shift in (1, 5):  # a semitone and a fourth up: no note falls off the window
        assert torch.allclose(a, keys(D, torch.roll(x, shift, 3)), atol=1e-6)
    chromatic = -torch.ones_like(x)
    chromatic[:, :, torch.arange(32), 12 + torch.arange(32) % 12] = 1.0
    assert (a - keys(D, chromatic)).abs().max() > 1e-3
    x.requires_grad_(True)
    D(x).sum().backward()
    assert D.key.weight.grad.abs().sum() > 0 and x.grad.abs().sum() > 0


def test_interval_stream_tells_a_voice_moving_by_step_from_one_leaping():
    torch.manual_seed(0)
    D = MuseCritic(1, 1, 36, 8, interval_stream=True)
    by_step, by_leap = -torch.ones(1, 1, 16, 36), -torch.ones(1, 1, 16, 36)
    for t in range(16):  # the same two pitch classes, a tone or an octave and a tone apart
        by_step[0, 0, t, 10 + 2 * (t % 2)] = 1.0
        by_leap[0, 0, t, 10 + 14 * (t % 2)] = 1.0
    assert (D._interval_features(by_step) - D._interval_features(by_leap)).abs().max() > 1e-3
    assert torch.equal(D._chroma(by_step).sum(2), D._chroma(by_leap).sum(2))  # chroma alike
    # transposed, the moves are the same
    up = torch.roll(by_step, 3, 3)
    assert torch.allclose(D._interval_features(by_step), D._interval_features(up))
    x = by_leap.clone().requires_grad_(True)
    D(x).sum().backward()
    assert D.interval.weight.grad.abs().sum() > 0 and x.grad.abs().sum() > 0


def test_hold_keeps_a_pitch_through_small_logit_changes():
    G = MuseGenerator(1, 1, 12, 8, 16, binarize="voice", hold=1.0)
    logits = torch.zeros(1, 1, 6, 13)
    logits[..., 0, 2] = 3.0  # starts on pitch 2
    logits[..., 1:, 5] = 0.5  # pitch 5 leads by 0.5 < hold: pitch 2 is kept
    logits[..., 4:, 7] = 2.0  # pitch 7 leads by 2 > hold: it takes over
    assert G._choose(logits)[0, 0].tolist() == [2, 2, 2, 2, 7, 7]
    G.hold = 0.0
    assert G._choose(logits)[0, 0].tolist() == [2, 5, 5, 5, 7, 7]


# ---------------------------------------------------------------- end to end
TINY = TINY_MUSIC


@pytest.fixture(scope="module")
def trained(tmp_path_factory, midi_folder):
    out = tmp_path_factory.mktemp("music") / "run"
    args = ["train", "chorales", "--data", f"midi:{midi_folder}", "--steps", "10"]
    args += ["--out", str(out)]
    assert main(args + [x for kv in TINY for x in ("--set", kv)]) == 0
    return out


def test_training_logs_music_metrics_and_draws_piano_rolls(trained):
    from PIL import Image

    evals = [
        e
        for e in map(json.loads, (trained / "metrics.jsonl").read_text().splitlines())
        if e.get("kind") == "eval"
    ]
    assert evals and set(M.METRICS) - {"QN", "UPC", "TD"} <= set(evals[-1])
    ranges = json.loads((trained / "run.json").read_text())["info"]["music"]["ranges"]
    assert len(ranges) == 4 and all(0 <= lo <= hi for lo, hi in ranges)
    img = Image.open(trained / "samples" / "final.png")
    assert img.width >= 2 * 32 * 4 and img.height > 150  # two columns of 32-step panels
    colours = {c for _, c in img.convert("RGB").getcolors(1 << 20)}
    assert (214, 39, 40) in colours  # the soprano's red


def test_sample_writes_midi_wav_and_folders_and_interpolates_a_midi_walk(trained, tmp_path):
    mid, wav, folder = tmp_path / "x.mid", tmp_path / "x.wav", tmp_path / "phrases"
    assert main(["sample", str(trained), "--n", "3", "--out", str(mid)]) == 0
    pm = pretty_midi.PrettyMIDI(str(mid))
    assert [i.program for i in pm.instruments] == [0, 40, 41, 42]
    assert main(["sample", str(trained), "--n", "2", "--out", str(wav)]) == 0
    with wave.open(str(wav), "rb") as w:
        # two 2-bar phrases and a bar of rest after each, 90 bpm: 3 bars x 2.67 s x 2 + tail
        assert w.getnframes() / w.getframerate() > 2 * 2 * 2.6
    assert main(["sample", str(trained), "--n", "2", "--out", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "phrase-0000.mid",
        "phrase-0000.wav",
        "phrase-0001.mid",
        "phrase-0001.wav",
    ]
    assert main(["sample", str(trained), "--out", str(tmp_path / "x.txt")]) == 2
    walk = tmp_path / "walk.mid"
    assert main(["interpolate", str(trained), "--frames", "6", "--out", str(walk)]) == 0
    pm = pretty_midi.PrettyMIDI(str(walk))
    assert pm.get_end_time() > 5 * 3 * 60 / 90 * 4 * 0.9  # six phrases of 2 bars + rests
    args = ["interpolate", str(trained), "--frames", "4", "--keep", "shared,private,shared_t"]
    assert main(args + ["--out", str(tmp_path / "w.gif")]) == 0


def test_sample_hold_sets_how_readily_a_voice_changes_pitch(trained, tmp_path):
    def onsets(hold: str) -> int:
        out = tmp_path / f"h{hold}.npy"
        assert main(["sample", str(trained), "--n", "8", "--hold", hold, "--out", str(out)]) == 0
        return int(M.onsets(np.load(out) > 0).sum())

    # hold 100: each voice keeps its first pitch (or rest) through the phrase
    free, kept = onsets("0"), onsets("100")
    assert kept <= 8 * 4 < free
    assert main(["sample", str(trained), "--hold", "-1", "--out", str(tmp_path / "x.npy")]) == 2


def test_eval_scores_every_metric_beside_real_and_floor(trained, capsys):
    assert main(["eval", str(trained), "--n", "200", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    s = result["scores"]
    assert result["baseline"] == "real (training phrases)"
    for m in M.METRICS:
        assert set(s[m]) == {"value", "floor", "baseline"}, m
    # held-out real phrases of the same generator of music sit near the training ones
    assert abs(s["QN"]["floor"] - s["QN"]["baseline"]) < 10
    assert s["OA[QN]"]["floor"] > 0.5
    assert {"copied bars %", "copied phrases %"} <= set(s)
    fd = s["FD[midi-keynet]"]
    assert fd["floor"] < fd["value"]  # 10 steps of training: far from the real phrases
    html = (trained / "report.html").read_text()
    assert "each metric: generated against held-out real phrases" in html
