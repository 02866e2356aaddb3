"""Clip I/O of the video modality: grids, GIF/MP4/PNG round trips, folder reading."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganforge.errors import DataError
from ganforge.modalities.video.clipio import (
    filmstrip,
    grid_frames,
    read_clip,
    read_video_folder,
    save_frames,
    save_gif,
    save_mp4,
    to_clip,
)

RNG = np.random.default_rng(0)


def smooth_frames(t: int = 8, h: int = 16, w: int = 16) -> np.ndarray:
    """(T, H, W, 3) uint8 with slowly varying colours (video codecs keep these well)."""
    tt, y, x = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
    rgb = [
        120 + 50 * np.sin(x / 9 + tt / 4),
        110 + 40 * np.cos(y / 10),
        90 + 30 * np.sin((x + y) / 12 + tt / 5),
    ]
    return np.stack(rgb, -1).round().astype(np.uint8)


def solid_frames(values: list[int], h: int = 16, w: int = 16) -> np.ndarray:
    """One flat colour (v, 255 - v, v // 2) per frame."""
    return np.stack([np.full((h, w, 3), (v, 255 - v, v // 2), np.uint8) for v in values])


def noise(t: int, h: int, w: int, c: int = 3) -> np.ndarray:
    return RNG.integers(0, 256, (t, h, w, c), dtype=np.uint8)


# --------------------------------------------------------------------------- pictures


def test_grid_frames_places_each_clip_with_grey_padding():
    n, t, h, w, pad, scale = 5, 2, 3, 4, 2, 2
    clips = RNG.integers(0, 256, (n, 3, t, h, w), dtype=np.uint8)
    out = grid_frames(clips, pad=pad, scale=scale)  # default cols: ceil(sqrt(5)) = 3
    ch, cw = h * scale, w * scale
    assert out.shape == (t, 2 * (ch + pad) + pad, 3 * (cw + pad) + pad, 3)
    assert out.dtype == np.uint8
    covered = np.zeros(out.shape[1:3], bool)
    for i in range(n):
        top, left = pad + (i // 3) * (ch + pad), pad + (i % 3) * (cw + pad)
        want = clips[i].transpose(1, 2, 3, 0).repeat(scale, 1).repeat(scale, 2)
        np.testing.assert_array_equal(out[:, top : top + ch, left : left + cw], want)
        assert out[:, top, left].tolist() == clips[i, :, :, 0, 0].T.tolist()  # nearest upscale
        covered[top : top + ch, left : left + cw] = True
    assert (out[:, ~covered] == 128).all()  # padding and the empty sixth cell are mid-grey


def test_grid_frames_cols_and_grey_to_rgb():
    clips = RNG.integers(0, 256, (3, 1, 4, 5, 6), dtype=np.uint8)
    out = grid_frames(clips, cols=1, pad=1)
    assert out.shape == (4, 3 * 6 + 1, 6 + 2, 3)
    for i in range(3):
        cell = out[:, 1 + i * 6 : 1 + i * 6 + 5, 1:7]
        for c in range(3):
            np.testing.assert_array_equal(cell[..., c], clips[i, 0])
    assert (out[:, 0] == 128).all() and (out[:, :, 0] == 128).all()


def test_filmstrip_rows_are_clips_columns_are_frames():
    clips = RNG.integers(0, 256, (2, 3, 5, 4, 4), dtype=np.uint8)
    still = filmstrip(clips, max_frames=3, pad=2)
    assert still.shape == (2 * 6 + 2, 3 * 6 + 2, 3)
    for i in range(2):
        for j in range(3):
            top, left = 2 + i * 6, 2 + j * 6
            want = clips[i, :, j].transpose(1, 2, 0)
            np.testing.assert_array_equal(still[top : top + 4, left : left + 4], want)
    assert filmstrip(clips, scale=3).shape == (2 * 14 + 2, 5 * 14 + 2, 3)


# --------------------------------------------------------------------------- round trips


def test_gif_round_trip_is_exact_with_repeated_frames(tmp_path):
    frames = noise(6, 9, 11)  # 99 pixels: <= 256 colours per frame, so exact
    frames[1] = frames[0]  # Pillow's own writer would merge these two
    frames[4] = frames[3]
    path = save_gif(frames, tmp_path / "clip.gif", fps=10)
    assert path == tmp_path / "clip.gif"
    with Image.open(path) as im:
        assert im.n_frames == 6
        assert im.info["loop"] == 0 and im.info["duration"] == 100
    back = read_clip(path)
    assert back.shape == frames.shape and back.dtype == np.uint8
    np.testing.assert_array_equal(back, frames)
    np.testing.assert_array_equal(read_clip(path, max_frames=2), frames[:2])
    assert [p.name for p in tmp_path.iterdir()] == ["clip.gif"]  # no temp file left


def test_gif_of_grey_frames_comes_back_as_rgb(tmp_path):
    grey = noise(3, 8, 8, c=1)
    back = read_clip(save_gif(grey, tmp_path / "g.gif"))
    np.testing.assert_array_equal(back, np.repeat(grey, 3, axis=-1))


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_video_round_trip_is_close(tmp_path, suffix):
    frames = smooth_frames(8, 16, 16)
    back = read_clip(save_mp4(frames, tmp_path / f"clip{suffix}", fps=8))
    assert back.shape == frames.shape
    assert np.abs(back.astype(int) - frames).mean() < 3
    assert [p.name for p in tmp_path.iterdir()] == [f"clip{suffix}"]


def test_mp4_pads_odd_sizes_to_even(tmp_path):
    frames = smooth_frames(5, 13, 15)
    back = read_clip(save_mp4(frames, tmp_path / "odd.mp4"))
    assert back.shape == (5, 14, 16, 3)
    assert np.abs(back[:, :13, :15].astype(int) - frames).mean() < 3


def test_frame_folder_round_trip_and_natural_order(tmp_path):
    frames = solid_frames([0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220], 6, 7)
    folder = save_frames(frames, tmp_path / "frames")
    assert sorted(p.name for p in folder.iterdir())[:2] == ["frame-0000.png", "frame-0001.png"]
    np.testing.assert_array_equal(read_clip(folder), frames)
    save_frames(frames[:3], folder)  # a shorter clip replaces the longer one
    np.testing.assert_array_equal(read_clip(folder), frames[:3])

    loose = tmp_path / "loose"
    loose.mkdir()
    for k in (10, 2, 1):  # f1, f2, f10: natural order, not f1, f10, f2
        Image.fromarray(np.full((4, 4, 3), k * 10, np.uint8)).save(loose / f"f{k}.png")
    assert read_clip(loose)[:, 0, 0, 0].tolist() == [10, 20, 100]


def test_read_clip_errors_name_the_file_and_the_problem(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(RNG.integers(0, 256, 2000, dtype=np.uint8).tobytes())
    with pytest.raises(DataError, match=r"bad\.mp4: corrupt"):
        read_clip(bad)
    with pytest.raises(DataError, match="not found"):
        read_clip(tmp_path / "missing.gif")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(mixed / "a1.png")
    Image.fromarray(np.zeros((5, 4, 3), np.uint8)).save(mixed / "a2.png")
    with pytest.raises(DataError, match="mixed: .*different sizes"):
        read_clip(mixed)


def test_to_clip_crops_resizes_and_converts():
    frames = np.zeros((3, 20, 30, 3), np.uint8)
    frames[:, :, :5] = (255, 0, 0)  # left and right bands fall outside the centre square
    frames[:, :, 25:] = (255, 0, 0)
    frames[:, :, 5:25] = (0, 255, 0)
    small = to_clip(frames, 8, 3)
    assert small.shape == (3, 3, 8, 8) and small.dtype == np.uint8
    assert (small[1] == 255).all() and (small[0] == 0).all() and (small[2] == 0).all()
    big = to_clip(frames, 40, 3)
    assert big.shape == (3, 3, 40, 40)
    grey = to_clip(frames, 8, 1)
    assert grey.shape == (1, 3, 8, 8)
    assert (grey == 150).all()  # ITU-R 601 luma of pure green: 0.587 * 255
    red = to_clip(np.full((2, 5, 5, 3), (255, 0, 0), np.uint8), 5, 1)
    assert (red == 76).all()  # 0.299 * 255


# --------------------------------------------------------------------------- folders


def make_video_folder(root):
    save_gif(solid_frames([10, 30, 50, 70, 90, 110]), root / "good.gif")  # 6 frames
    save_mp4(smooth_frames(8), root / "good.mp4")  # 8 frames
    save_frames(solid_frames([5, 15, 25, 35]), root / "shots" / "frames")  # 4 frames
    save_gif(solid_frames([1, 2]), root / "short.gif")  # 2 frames
    (root / "bad.mp4").write_bytes(RNG.integers(0, 256, 3000, dtype=np.uint8).tobytes())
    (root / "bad.gif").write_bytes(b"GIF89a" + RNG.integers(0, 256, 500, dtype=np.uint8).tobytes())
    (root / "notes.txt").write_text("not a clip")


def test_read_video_folder_cuts_clips_and_lists_bad_sources(tmp_path):
    make_video_folder(tmp_path)
    clips, names, skipped = read_video_folder(tmp_path, size=8, frames=4, channels=3)
    assert clips.shape == (4, 3, 4, 8, 8) and clips.dtype == np.uint8
    assert names == ["good.gif#0", "good.mp4#0", "good.mp4#1", "shots/frames#0"]
    assert len(skipped) == 3
    assert skipped[0].startswith("bad.gif: ")
    assert skipped[1].startswith("bad.mp4: corrupt")
    assert skipped[2] == "short.gif: has 2 frames, fewer than 4"
    want = to_clip(solid_frames([10, 30, 50, 70]), 8, 3)
    np.testing.assert_array_equal(clips[0], want)
    np.testing.assert_array_equal(clips[3], to_clip(solid_frames([5, 15, 25, 35]), 8, 3))


def test_read_video_folder_stride_max_clips_and_grey(tmp_path):
    make_video_folder(tmp_path)
    clips, names, _ = read_video_folder(tmp_path, size=6, frames=4, channels=1, stride=2)
    assert clips.shape == (6, 1, 4, 6, 6)
    assert names == [
        "good.gif#0",
        "good.gif#1",
        "good.mp4#0",
        "good.mp4#1",
        "good.mp4#2",
        "shots/frames#0",
    ]
    np.testing.assert_array_equal(clips[1], to_clip(solid_frames([50, 70, 90, 110]), 6, 1))
    clips, names, _ = read_video_folder(tmp_path, size=6, frames=4, channels=3, max_clips=2)
    assert clips.shape == (2, 3, 4, 6, 6) and names == ["good.gif#0", "good.mp4#0"]


def test_root_folder_of_frames_is_one_source(tmp_path):
    root = save_frames(solid_frames([1, 2, 3, 4, 5, 6, 7, 8], 10, 12), tmp_path / "walk")
    clips, names, skipped = read_video_folder(root, size=4, frames=4, channels=3)
    assert clips.shape == (2, 3, 4, 4, 4)
    assert names == ["walk#0", "walk#1"] and skipped == []


def test_read_video_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"no clips in .*empty: no video files .* at least 4"):
        read_video_folder(empty, size=8, frames=4, channels=3)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.gif").write_bytes(b"GIF89a garbage")
    save_gif(solid_frames([1, 2]), bad / "y.gif")
    with pytest.raises(DataError) as info:
        read_video_folder(bad, size=8, frames=4, channels=3)
    msg = str(info.value)
    assert "2 sources, all skipped (first: x.gif: " in msg
    assert "at least 4 frames long" in msg and "\n" not in msg

    with pytest.raises(DataError, match="not found"):
        read_video_folder(tmp_path / "nowhere", size=8, frames=4, channels=3)
