"""The video modality: the Moving MNIST generator's physics, clip files through the
modality and the folder loader, every metric on known cases, MoCoGAN's content/motion
split, exact resume with two critics, and the commands end to end on a tiny set."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.cli import main
from ganforge.modalities.video import motion as M
from ganforge.modalities.video.clipio import read_clip
from ganforge.modalities.video.motion_sets import (
    CANVAS,
    moving_digits,
    moving_shapes,
    trajectories,
)
from ganforge.modalities.video.nets import MoCoGenerator

TINY = [
    "video.size=16",
    "video.frames=6",
    "video.clips=200",
    "model.z_dim=8",
    "model.g_width=8",
    "model.d_width=8",
    "train.batch=8",
    "log.every=2",
    "log.sample_every=4",
    "log.checkpoint_every=4",
    "log.progress=false",
    "log.samples=3",
]


@pytest.fixture(scope="module", autouse=True)
def feature_cache(tmp_path_factory):
    """Feature nets (the MNIST classifier, the clip network) trained into a temporary cache."""
    import os

    before = os.environ.get("GANFORGE_CACHE")
    os.environ["GANFORGE_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop("GANFORGE_CACHE", None)
    else:
        os.environ["GANFORGE_CACHE"] = before


@pytest.fixture(scope="module")
def digits():
    from ganforge.modalities.image.datasets import load_mnist5k

    ds = load_mnist5k()
    return ds.data[:500, 0].numpy(), ds.labels[:500].numpy()


# ---------------------------------------------------------------- the data's physics
def test_trajectories_bounce_off_the_walls_and_keep_their_speed():
    pos, speeds = trajectories(300, 40, 1, 28, np.random.default_rng(0))
    lim = CANVAS - 28
    assert pos.min() >= 0 and pos.max() <= lim
    step = np.diff(pos, axis=1)[:, :, 0]  # (N, T-1, 2)
    # away from a bounce each axis keeps its velocity; at a bounce it only turns back
    far = (pos[:, 1:-1, 0] > 6) & (pos[:, 1:-1, 0] < lim - 6)
    same = np.isclose(step[:, 1:], step[:, :-1])
    assert same[far].all()
    # a step never exceeds the object's speed, and free steps are exactly it
    length = np.linalg.norm(step, axis=-1)
    assert (length <= speeds + 1e-9).all()
    free = same.all(-1) & far.all(-1)
    assert np.allclose(length[:, 1:][free], np.broadcast_to(speeds, length[:, 1:].shape)[free])
    assert (speeds >= 2.0).all() and (speeds <= 5.0).all()


def test_moving_mnist_draws_the_digit_where_its_trajectory_says(digits):
    d, y = digits
    m = moving_digits(d, y, 20, frames=5, size=64, objects=1, seed=3)
    assert m.clips.shape == (20, 1, 5, 64, 64) and m.clips.dtype == np.uint8
    for i in range(3):
        for t in range(5):
            x, yy = np.rint(m.positions[i, t, 0]).astype(int)
            box = m.clips[i, 0, t, yy : yy + 28, x : x + 28]
            assert box.sum() == m.clips[i, 0, t].sum()  # nothing outside the digit's box
    assert (m.labels == m.classes[:, 0]).all()


def test_two_digits_overlap_by_the_pixel_maximum(digits):
    d, y = digits
    both = moving_digits(d, y, 10, frames=4, size=64, objects=2, seed=5)
    # draw each digit alone at the same places: the pair is their pixel maximum
    from ganforge.modalities.video.motion_sets import paste_max

    rng = np.random.default_rng(5)
    pick = rng.integers(0, len(d), (10, 2))
    for t in range(4):
        alone = []
        for o in range(2):
            canvas = np.zeros((10, 64, 64), np.uint8)
            paste_max(canvas, d[pick[:, o]], both.positions[:, t, o])
            alone.append(canvas)
        assert (both.clips[:, 0, t] == np.maximum(*alone)).all()


def test_smaller_clips_are_the_canvas_averaged_down(digits):
    d, y = digits
    big = moving_digits(d, y, 4, frames=3, size=64, seed=1).clips.astype(float)
    small = moving_digits(d, y, 4, frames=3, size=32, seed=1).clips.astype(float)
    pooled = big.reshape(4, 1, 3, 32, 2, 32, 2).mean((4, 6))
    assert np.abs(small - pooled).max() <= 0.5 + 1e-9


# ---------------------------------------------------------------- metrics on known cases
@pytest.fixture(scope="module")
def real_clips(digits):
    d, y = digits
    return moving_digits(d, y, 300, frames=12, size=32, seed=11).clips


def test_motion_statistics_of_real_clips(real_clips):
    s = M.motion_stats(real_clips, 1, 28)
    assert s["freeze"] == 0.0
    assert s["physics"] > 0.97  # the rule is the data's own physics
    assert 2.0 < s["speed"] < 5.0


def test_identical_sets_score_zero_and_reversed_clips_move_alike(real_clips):
    a = M.motion_stats(real_clips, 1, 28)
    assert M.ks_distance(a["speeds"], a["speeds"]) == 0.0
    rev = M.motion_stats(real_clips[:, :, ::-1].copy(), 1, 28)
    assert M.ks_distance(a["speeds"], rev["speeds"]) < 1e-9  # the same steps backwards
    assert rev["physics"] == pytest.approx(a["physics"], abs=0.02)  # bouncing runs both ways


def test_frozen_and_shuffled_clips_are_caught(real_clips):
    frozen = np.repeat(real_clips[:, :, :1], real_clips.shape[2], axis=2)
    f = M.motion_stats(frozen, 1, 28)
    assert f["freeze"] == 1.0 and f["speed"] == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(0)
    shuffled = real_clips[:, :, rng.permutation(real_clips.shape[2])]
    s = M.motion_stats(shuffled, 1, 28)
    assert s["physics"] < 0.6  # jumps back and forth break the bouncing
    a = M.motion_stats(real_clips, 1, 28)
    assert M.ks_distance(a["speeds"], s["speeds"]) > 0.3


def test_ks_distance_on_a_worked_example():
    assert M.ks_distance([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)
    assert M.ks_distance([0, 0], [1, 1]) == 1.0


def test_two_objects_are_followed_separately(digits):
    d, y = digits
    m = moving_digits(d, y, 50, frames=8, size=64, objects=2, seed=2)
    c = M.centres(m.clips, 2)
    # each true digit's box centre lies near one of the found centres most of the time
    true = m.positions + 14
    err = np.minimum(
        np.linalg.norm(c[:, :, :1] - true, axis=-1), np.linalg.norm(c[:, :, 1:] - true, axis=-1)
    )
    assert np.median(err) < 6


def test_acd_is_zero_for_frozen_clips_and_grows_with_changing_content():
    from ganforge.modalities.video.reference import acd, acd_colour

    feats = torch.randn(5, 1, 1, 16).expand(5, 8, 1, 16)
    assert np.allclose(acd(feats), 0.0)
    moving = torch.randn(5, 8, 1, 16)
    assert (acd(moving) > 1.0).all()
    shapes = moving_shapes(20, frames=6, size=32, seed=0).clips
    assert acd_colour(shapes).mean() < 5.0  # one colour per shape (edge pixels vary a little)
    flicker = shapes.copy()
    flicker[:, :, ::2] = flicker[:, ::-1, ::2]  # swap the channels every other frame
    assert acd_colour(flicker).mean() > 20.0


# ---------------------------------------------------------------- MoCoGAN's latents
def test_mocogan_keeps_the_content_when_only_the_motion_changes():
    torch.manual_seed(0)
    G = MoCoGenerator(frames=6, size=16, channels=1, z_dim=8, width=8).eval()
    a = G.sample_latent(3, generator=torch.Generator().manual_seed(1))
    b = {"content": a["content"], "motion": torch.randn_like(a["motion"])}
    ca, cb = G.frame_codes(a), G.frame_codes(b)
    # the content part is the same in every frame and in both clips; the motion part is not
    assert torch.equal(ca[:, :, :8], a["content"][:, None].expand(3, 6, 8))
    assert torch.equal(ca[:, :, :8], cb[:, :, :8])
    assert not torch.allclose(ca[:, :, 8:], cb[:, :, 8:])
    with torch.no_grad():
        xa, xb = G(a), G(b)
    assert xa.shape == (3, 1, 6, 16, 16) and not torch.allclose(xa, xb)
    # the walk with the motion held changes only the content
    from ganforge.engine.latent import interpolate_latent

    c = G.sample_latent(3, generator=torch.Generator().manual_seed(2))
    mid = interpolate_latent(G, a, c, 0.5, keep=("motion",))
    assert torch.equal(mid["motion"], a["motion"]) and not torch.equal(mid["content"], a["content"])


def _integer_moves(G, start_px: float, step_px: float) -> None:
    """Point the layered G's position heads at whole-pixel offsets (no resampling blur)."""
    unit = 2.0 / 16  # grid units per pixel on a 16-pixel frame
    for head, px in ((G.start, start_px), (G.velocity, step_px), (G.step, 0.0)):
        nn.init.zeros_(head.weight)
        nn.init.constant_(head.bias, px * unit)
    G.reach.data.fill_(20.0)  # sigmoid(20) = 1: the fold reaches the frame's edges
    G.radius.data.fill_(100.0)  # no fade: the sprite's alpha as drawn


def test_layered_frames_are_the_clip_sprite_moved_over_a_still_background():
    from ganforge.modalities.video.layered import LayeredGenerator

    torch.manual_seed(0)
    G = LayeredGenerator(frames=5, size=16, channels=1, z_dim=8, width=8, layers=1).eval()
    _integer_moves(G, start_px=1.0, step_px=1.0)  # x and y: 1, 2, 3, 4, 5 px right / down
    z = G.sample_latent(2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        x = G(z)
        canvas = G.image(z["content"])
    assert x.shape == (2, 1, 5, 16, 16)
    bg, colour, alpha = canvas[:, :1], canvas[:, 1:2], (canvas[:, 2:3] + 1) / 2
    for t in range(5):
        d = 1 + t
        moved_c = torch.full_like(colour, -1.0)
        moved_a = torch.zeros_like(alpha)
        moved_c[..., d:, d:], moved_a[..., d:, d:] = colour[..., :-d, :-d], alpha[..., :-d, :-d]
        want = moved_a * moved_c + (1 - moved_a) * bg
        assert torch.allclose(x[:, :, t], want, atol=1e-5), t
    # another motion latent moves the same sprite elsewhere; the look comes from content only
    G2 = LayeredGenerator(frames=5, size=16, channels=1, z_dim=8, width=8, layers=1).eval()
    G2.load_state_dict(G.state_dict())
    _integer_moves(G2, start_px=-2.0, step_px=1.0)
    with torch.no_grad():
        y = G2(z)
    assert not torch.allclose(x, y)
    unmoved = alpha * colour + (1 - alpha) * bg  # frame 2: -2 + 2 = 0 px
    assert torch.allclose(y[:, :, 2], unmoved, atol=1e-5)


def test_layered_sprites_move_by_whole_pixels_with_a_gradient_to_their_place():
    from ganforge.modalities.video.layered import place

    src = torch.zeros(1, 1, 8, 8)
    src[0, 0, 3, 3] = 1.0
    shift = torch.tensor([0.3 * 2 / 8], requires_grad=True)  # 0.3 px: rounds to no move
    offset = torch.stack([-shift, torch.zeros(1)]).view(1, 2, 1)
    theta = torch.cat([torch.eye(2)[None], offset], 2)
    out = place(src, nn.functional.affine_grid(theta, [1, 1, 8, 8], False))
    assert torch.equal(out.detach(), src)  # not blurred over two pixels
    out[0, 0, 3, 4].backward()  # more of the dot one pixel right: move right
    assert shift.grad is not None and shift.grad > 0


def test_a_layered_sprite_fades_out_beyond_its_radius():
    from ganforge.modalities.video.layered import LayeredGenerator

    torch.manual_seed(0)
    G = LayeredGenerator(frames=3, size=16, channels=1, z_dim=8, width=8, layers=1).eval()
    _integer_moves(G, start_px=0.0, step_px=0.0)
    G.radius.data.fill_(0.25)  # a quarter of the half-side: 2 px
    z = G.sample_latent(4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        x = G(z)
        bg = G.image(z["content"])[:, :1]
    # far from the centre only the background shows; at the centre the sprite does
    assert torch.allclose(x[:, :, :, :4, :], bg[:, :, None, :4, :].expand(-1, -1, 3, -1, -1))
    assert not torch.allclose(
        x[:, :, :, 7:9, 7:9], bg[:, :, None, 7:9, 7:9].expand(-1, -1, 3, -1, -1)
    )


def test_layered_paths_fold_back_into_the_frame_as_bounces():
    from ganforge.modalities.video.layered import LayeredGenerator, fold

    x = torch.linspace(-7, 7, 281)
    assert fold(x).abs().max() <= 1 and torch.allclose(fold(x[120:161]), x[120:161], atol=1e-6)
    assert torch.allclose(fold(torch.tensor([1.5, 2.0, 3.5])), torch.tensor([0.5, 0.0, -0.5]))
    G = LayeredGenerator(frames=12, size=16, channels=1, z_dim=8, width=8, layers=2)
    _integer_moves(G, start_px=4.0, step_px=3.0)  # 3 px a frame: the edge (8 px) at frame 1
    pos = G.positions(G.sample_latent(1)["motion"])[0, :, 0, 0] * 8  # pixels, one axis
    assert pos.abs().max() <= 8 + 1e-4
    moves = pos[1:] - pos[:-1]
    turned = (moves[1:] * moves[:-1] < 0).sum()
    assert turned >= 2  # it bounced off both walls
    assert moves.abs().max() <= 3.0 + 1e-4  # never faster than its step


# ---------------------------------------------------------------- end to end
def test_mocogan_resumes_bit_for_bit_with_two_critics(tmp_path):
    from ganforge.engine.checkpoint import latest_checkpoint, load_checkpoint
    from ganforge.training import train

    over = [*TINY, "log.checkpoint_every=3"]
    train("moving-mnist", out=tmp_path / "a", steps=6, overrides=over, progress=False)
    train("moving-mnist", out=tmp_path / "b", steps=3, overrides=over, progress=False)
    train(None, out=tmp_path / "b", steps=6, resume=True, overrides=over, progress=False)
    wa = load_checkpoint(latest_checkpoint(tmp_path / "a" / "checkpoints"))[0]
    wb = load_checkpoint(latest_checkpoint(tmp_path / "b" / "checkpoints"))[0]
    assert any(".image." in k for k in wa) and any(".video." in k for k in wa)
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    log = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in log if r.get("kind") == "train"]
    assert "d_real.image" in train_rows[-1] and "d_real.video" in train_rows[-1]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("video") / "run"
    sets = [x for kv in [*TINY, "video.augment=translation,cutout"] for x in ("--set", kv)]
    assert main(["train", "moving-mnist", "--steps", "8", "--out", str(out), *sets]) == 0
    return out


def test_samples_are_written_as_gif_mp4_png_and_a_folder_that_loads_back(tiny_run, tmp_path):
    from ganforge.modalities.video.clipio import read_video_folder
    from ganforge.modalities.video.render import animated_grid
    from ganforge.sampling import load_run

    assert read_clip(tiny_run / "samples" / "final.gif").shape[0] == 6  # training's final clips
    gif, mp4 = tmp_path / "c.gif", tmp_path / "c.mp4"
    assert main(["sample", str(tiny_run), "--n", "4", "--out", str(gif), "--seed", "3"]) == 0
    assert main(["sample", str(tiny_run), "--n", "4", "--out", str(mp4), "--seed", "3"]) == 0
    assert main(["sample", str(tiny_run), "--n", "4", "--out", str(tmp_path / "c.png")]) == 0
    run = load_run(tiny_run)
    x = run.sample(4, seed=3)
    grid = animated_grid(x)
    assert np.array_equal(read_clip(gif), grid)  # a GIF holds the exact pixels
    movie = read_clip(mp4)
    assert (
        movie.shape[0] == 6
        and np.abs(movie[:, : grid.shape[1], : grid.shape[2]] - grid.astype(int)).mean() < 12
    )
    folder = tmp_path / "clips"
    assert main(["sample", str(tiny_run), "--n", "3", "--out", str(folder), "--seed", "3"]) == 0
    back, names, skipped = read_video_folder(folder, 16, 6, 1)
    want = ((run.sample(3, seed=3).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    assert back.shape == (3, 1, 6, 16, 16) and not skipped
    assert np.abs(back.astype(int) - want).max() <= 1  # RGB -> grey rounding only


def test_eval_scores_every_group_beside_its_floor(tiny_run):
    assert main(["eval", str(tiny_run), "--n", "40"]) == 0
    report = json.loads((tiny_run / "eval.json").read_text())
    scores = report["scores"]
    for name in (
        "frame FID[moving-mnist-cnn]",
        "ACD[moving-mnist-cnn]",
        "speed KS",
        "physics %",
        "freeze %",
        "FVD[moving-mnist-c3d]",
        "confidence %",
    ):
        assert name in scores and np.isfinite(scores[name]["floor"]), name
    assert scores["physics %"]["floor"] > 85  # held-out real clips obey the physics (16 px: coarse)
    assert scores["freeze %"]["floor"] == 0.0
    assert (tiny_run / "report.html").is_file()
    # a known case: clips identical to the floor's held-out clips score exactly the floor
    from ganforge.modalities.video.evaluate import score
    from ganforge.modalities.video.reference import reference_for
    from ganforge.sampling import load_run

    ref = reference_for(load_run(tiny_run).info)
    held = ref.heldout[np.random.default_rng(0).permutation(len(ref.heldout))[:40]]
    for name, v in score(held, ref, seed=0).items():
        assert v["value"] == pytest.approx(v["floor"]), name
    # frozen clips: every clip frozen, their speeds and clip features far from the real ones
    frozen = np.repeat(held[:, :, :1], held.shape[2], axis=2)
    s = score(frozen, ref, seed=0)
    assert s["freeze %"]["value"] == 100.0
    assert s["speed KS"]["value"] > 0.9 > 5 * s["speed KS"]["floor"]
    assert s["FVD[moving-mnist-c3d]"]["value"] > 3 * s["FVD[moving-mnist-c3d]"]["floor"]


def test_a_video_folder_trains_and_bad_files_are_listed(tmp_path, capsys):
    from ganforge.modalities.video.clipio import save_gif

    folder = tmp_path / "clips"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        save_gif(rng.integers(0, 255, (9, 20, 24, 3), dtype=np.uint8), folder / f"c{i}.gif")
    (folder / "broken.mp4").write_bytes(b"not a movie")
    out = tmp_path / "run"
    sets = [x for kv in TINY for x in ("--set", kv)]
    code = main(
        [
            "train",
            "moving-mnist",
            "--data",
            f"video:{folder}",
            "--set",
            "model.arch=tgan",
            "--steps",
            "2",
            "--out",
            str(out),
            *sets,
        ]
    )
    text = capsys.readouterr()
    assert code == 0
    assert "broken.mp4" in text.out + text.err
    meta = json.loads((out / "run.json").read_text())
    assert meta["info"]["video"]["channels"] == 3
    # four short files hold out too few clips for the floors: said with the count and the fix
    assert main(["eval", str(out), "--n", "20"]) == 2
    # off a terminal each stage is a line of its own ("eval: ..."); the error is one line
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("eval: ")]
    assert len(err) == 1 and "this run holds out 1:" in err[0] and "data.holdout" in err[0]


def test_bad_video_settings_are_one_line_errors(tmp_path, capsys):
    assert (
        main(["train", "moving-mnist", "--set", "video.size=48", "--out", str(tmp_path / "x")]) == 2
    )
    assert "video.size" in capsys.readouterr().err
    missing = ["train", "moving-mnist", "--data", f"video:{tmp_path / 'missing'}"]
    assert main([*missing, "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "missing" in err and "Traceback" not in err
    assert main(["train", f"video:{tmp_path}", "--out", str(tmp_path / "w")]) == 2
    assert "--data video:" in capsys.readouterr().err  # a spec where the preset goes: said so


def test_interpolate_walks_content_or_motion_with_the_other_held(tiny_run, tmp_path):
    from PIL import Image

    for part in ("motion", "content"):
        out = tmp_path / f"walk-{part}.gif"
        assert (
            main(["interpolate", str(tiny_run), "--frames", "4", "--keep", part, "--out", str(out)])
            == 0
        )
        assert Image.open(out).n_frames == 4
    assert (
        main(["interpolate", str(tiny_run), "--keep", "colour", "--out", str(tmp_path / "w.gif")])
        == 2
    )


def test_a_folder_split_holds_the_same_sources_out_when_files_are_added():
    from ganforge.modalities.video.datasets import split_by_source

    names = [f"clip{i}.gif#{k}" for i in range(40) for k in range(2)]
    held = split_by_source(names, 0, 0.2)
    assert 0 < held.sum() < len(names)
    assert all(held[2 * i] == held[2 * i + 1] for i in range(40))  # a source stays whole
    more = names + [f"new{i}.mp4#0" for i in range(10)]
    assert (split_by_source(more, 0, 0.2)[: len(names)] == held).all()
    assert split_by_source(["a.gif#0", "b.gif#0"], 0, 0.01).sum() == 1  # one each side


def test_i3d_loads_a_state_dict_of_the_pytorch_port_layout_and_refuses_others(tmp_path):
    from ganforge.errors import ConfigError
    from ganforge.modalities.video.i3d import I3D, i3d_features, load_i3d

    torch.manual_seed(0)
    net = I3D()
    state = net.state_dict()
    for key in (
        "Conv3d_1a_7x7.conv3d.weight",
        "Mixed_3b.b1b.bn.running_mean",
        "logits.conv3d.bias",
    ):
        assert key in state, key  # the names rgb_imagenet.pt uses
    torch.save(state, tmp_path / "rgb.pt")
    model = load_i3d(tmp_path / "rgb.pt")
    x = torch.rand(2, 3, 8, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(model(x), net.eval()(x), atol=1e-5)
    clip = torch.randint(0, 255, (1, 1, 4, 16, 16), dtype=torch.uint8)  # grey, tiny: resized
    assert i3d_features(model, clip).shape == (1, 400)
    state.pop("logits.conv3d.bias")
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="missing key 'logits.conv3d.bias'"):
        load_i3d(tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="not found"):
        load_i3d(tmp_path / "none.pt")


def test_the_motion_stream_shows_the_video_critic_each_frames_change():
    from ganforge.modalities.video.specs import build
    from ganforge.training import resolve_config

    cfg = resolve_config("moving-mnist", overrides=["arch.motion_stream=true", "model.d_width=8"])
    _, D = build(cfg, (1, 6, 16, 16), 0)
    assert D.video.body[0].in_channels == 2  # the frames and their differences
    seen = []
    D.video.body[0].register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    torch.manual_seed(0)
    clip = torch.rand(2, 1, 6, 16, 16)
    with torch.no_grad():
        assert D.video(clip).shape == (2,)
    x = seen[0]
    assert torch.equal(x[:, :1], clip)  # the frames themselves
    assert (x[:, 1:, 0] == 0).all()  # no change before frame 1
    assert torch.allclose(x[:, 1:, 1:], clip[:, :, 1:] - clip[:, :, :-1])  # then each change


def test_supersampled_sprites_move_by_half_pixels_of_the_clip():
    from ganforge.modalities.video.layered import LayeredGenerator

    torch.manual_seed(0)
    G = LayeredGenerator(frames=6, size=16, channels=1, z_dim=8, width=8, supersample=2).eval()
    unit = 2.0 / 32  # grid units per pixel of the 32-pixel canvas the sprites move on
    for head, px in ((G.start, 0.0), (G.velocity, 1.0), (G.step, 0.0)):
        nn.init.zeros_(head.weight)
        nn.init.constant_(head.bias, px * unit)  # one fine pixel a frame, right and down
    G.reach.data.fill_(20.0)
    G.radius.data.fill_(0.3)
    z = G.sample_latent(3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        x = G(z)
        canvas = nn.functional.interpolate(G.image(z["content"]), scale_factor=2)
    assert x.shape == (3, 1, 6, 16, 16)
    alpha = (canvas[:, 2:3] + 1) / 2 * torch.exp(-((G.r2 / 0.3**2) ** 2))
    bg, colour = canvas[:, :1], canvas[:, 1:2]
    for t in range(6):  # frame t: the sprite t fine pixels right and down, averaged 2x2
        a, c = torch.zeros_like(alpha), torch.full_like(colour, -1.0)
        if t:
            a[..., t:, t:], c[..., t:, t:] = alpha[..., :-t, :-t], colour[..., :-t, :-t]
        else:
            a, c = alpha, colour
        want = nn.functional.avg_pool2d(a * c + (1 - a) * bg, 2)
        assert torch.allclose(x[:, :, t], want, atol=1e-5), t
    # odd frames stand half a clip pixel off: not a whole-pixel shift of frame 0
    f0, f1 = x[:, 0, 0], x[:, 0, 1]
    assert not torch.allclose(f1[:, 1:, 1:], f0[:, :-1, :-1], atol=1e-3)
    assert not torch.allclose(f1, f0, atol=1e-3)


def test_supersampling_is_for_the_layered_generator():
    from ganforge.errors import ConfigError
    from ganforge.training import resolve_config

    with pytest.raises(ConfigError, match="model.arch=mocogan has no option 'arch.supersample'"):
        resolve_config("moving-mnist", overrides=["arch.supersample=2"])


def test_a_supersampled_layered_run_is_drawn_nearest_or_bilinear(tiny_run, tmp_path, capsys):
    from ganforge.training import train

    over = [*TINY, "model.arch=layered", "arch.supersample=2", "arch.minibatch_std=true"]
    run = tmp_path / "layered"
    train("moving-mnist", out=run, steps=2, overrides=over, progress=False)
    arrays = {}
    for how in ("nearest", "bilinear"):
        out = tmp_path / f"{how}.npy"
        args = ["sample", str(run), "--n", "4", "--seed", "5", "--upsample", how]
        assert main([*args, "--out", str(out)]) == 0
        arrays[how] = np.load(out)
    near, smooth = arrays["nearest"], arrays["bilinear"]
    assert near.shape == smooth.shape == (4, 1, 6, 16, 16)
    assert np.allclose(np.load(_default_draw(run, tmp_path)), near)  # nearest: as trained
    # bilinear draws the same sprites smoother: less change from pixel to pixel
    assert np.abs(np.diff(smooth, axis=-1)).mean() < np.abs(np.diff(near, axis=-1)).mean()
    capsys.readouterr()
    # a run without a finer canvas has nothing to upsample: one line, exit 2
    bad = ["sample", str(tiny_run), "--n", "2", "--upsample", "bilinear"]
    assert main([*bad, "--out", str(tmp_path / "x.npy")]) == 2
    assert "arch.supersample" in capsys.readouterr().err


def _default_draw(run, tmp_path):
    out = tmp_path / "default.npy"
    assert main(["sample", str(run), "--n", "4", "--seed", "5", "--out", str(out)]) == 0
    return out


def test_the_track_critic_reads_where_the_lit_mass_goes_and_how_spread_it_is():
    from ganforge.modalities.video.track import moments

    clip = -torch.ones(1, 1, 4, 32, 32)
    for t in range(4):  # a 4x6 block moving 2 px right a frame
        clip[0, 0, t, 10:14, 5 + 2 * t : 11 + 2 * t] = 1.0
    m = moments(clip)[0]
    assert torch.allclose(m[0], torch.full((4,), 24**0.5), atol=1e-3)  # sqrt of 24 lit px
    assert torch.allclose(m[1], torch.tensor([-8.0, -6.0, -4.0, -2.0]))  # x from the centre
    assert torch.allclose(m[2], torch.full((4,), -4.0))  # y: rows 10-13 of 0-31
    assert torch.allclose(m[3], torch.full((4,), (35 / 12) ** 0.5), atol=1e-3)  # 6 columns
    assert torch.allclose(m[4], torch.full((4,), (15 / 12) ** 0.5), atol=1e-3)  # 4 rows
    assert torch.allclose(m[5], torch.zeros(4), atol=1e-3)  # an upright block


def test_the_track_critic_is_a_third_head_that_reaches_even_a_dark_generator(tmp_path):
    from ganforge.modalities.video.specs import build
    from ganforge.training import resolve_config, train

    cfg = resolve_config("moving-mnist", overrides=["arch.track_critic=true", "model.d_width=8"])
    _, D = build(cfg, (1, 6, 16, 16), 0)
    assert D.head_weights == {"video": 1.0, "image": 1.0, "track": 1.0}
    dark = torch.full((2, 1, 6, 16, 16), -0.99, requires_grad=True)  # a G gone dark
    D(dark)["track"].sum().backward()
    assert dark.grad.abs().sum() > 0  # no brightness threshold cuts its gradient
    over = [*TINY, "arch.track_critic=true", "loss.head_weights.track=0.5"]
    train("moving-mnist", out=tmp_path / "r", steps=4, overrides=over, progress=False)
    log = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in log if r.get("kind") == "train"]
    assert {"d_real.track", "d_fake.track", "d_real.video"} <= set(rows[-1])
