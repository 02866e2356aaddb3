"""DiffAugment and ADA: the transforms match their definitions, keep gradients, and ADA's
p follows D's overfitting."""

from __future__ import annotations

import json

import pytest
import torch

import ganforge
from ganforge.modalities.image.augment import (
    AdaptiveAugment,
    DiffAugment,
    color,
    cutout,
    translation,
)


def _images(b=6, c=3, s=16):
    torch.manual_seed(0)
    return torch.rand(b, c, s, s) * 2 - 1


def test_translation_is_a_whole_pixel_shift_with_zero_padding():
    x = _images()
    torch.manual_seed(1)
    y = translation(x)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(y[i], padded[i, :, 2 - dy : 18 - dy, 2 - dx : 18 - dx])
        ]
        assert matches, i  # a shift of at most 1/8 of 16 px = 2 px


def test_cutout_zeroes_one_square_of_half_the_side():
    x = _images() + 5  # no zeros in the input
    torch.manual_seed(2)
    y = cutout(x)
    for i in range(len(x)):
        zero = (y[i, 0] == 0).nonzero()
        assert torch.equal(y[i][:, y[i, 0] != 0], x[i][:, y[i, 0] != 0])
        h = zero[:, 0].max() - zero[:, 0].min() + 1
        w = zero[:, 1].max() - zero[:, 1].min() + 1
        assert len(zero) == h * w and h <= 8 and w <= 8  # a rectangle, clipped at borders


def test_color_changes_brightness_saturation_contrast_per_sample():
    x = _images(b=64)
    y = color(x)
    shift = (y - x).mean(dim=(1, 2, 3))
    assert shift.std() > 0.05  # each sample its own strength
    grey = _images(c=1)
    torch.manual_seed(3)
    g = color(grey)
    assert g.shape == grey.shape and torch.isfinite(g).all()


def test_diffaugment_keeps_gradients_and_its_policy():
    x = _images().requires_grad_(True)
    DiffAugment("color,translation,cutout")(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown augmentation 'blur'"):
        DiffAugment("color,blur")


def test_ada_p_rises_when_d_overfits_and_falls_when_it_does_not():
    ada = AdaptiveAugment(kimg=1.0)  # fast, for the test: p 0 -> 1 in 1000 images
    for _ in range(40):
        ada.observe(torch.full((64,), 3.0))  # D calls every real 'real': r_t = 1 > 0.6
    assert ada.p == 1.0 and ada.stats()["ada_rt"] == 1.0
    for _ in range(8):
        ada.observe(torch.randn(64))  # r_t near 0 < 0.6
    assert 0.0 <= ada.p < 1.0
    saved = ada.state_dict()
    other = AdaptiveAugment()
    other.load_state_dict(json.loads(json.dumps(saved)))
    assert other.state_dict() == saved


def test_ada_uses_flips_and_quarter_turns_on_colour_images_only():
    ada = AdaptiveAugment(policy="color")
    assert len(ada._ops(3)) == 3 and len(ada._ops(1)) == 1
    ada.p = 0.0
    x = _images(c=1)
    assert torch.equal(ada(x), x)  # p = 0: nothing changes


def test_training_with_ada_logs_p_and_resumes_exactly(tmp_path, fast):
    over = fast + [
        "model.arch=mlp",
        "model.g_width=16",
        "model.d_width=16",
        "train.batch=16",
        "image.augment=ada",
        "image.ada_kimg=0.5",
        "loss.penalty=r1",
        "loss.penalty_weight=0.1",
    ]
    ganforge.train("demo", data="digits", out=tmp_path / "a", steps=20, overrides=over)
    ganforge.train("demo", data="digits", out=tmp_path / "b", steps=10, overrides=over)
    ganforge.train(None, out=tmp_path / "b", steps=20, overrides=over, resume=True)
    from ganforge.engine import checkpoint as ckpt

    (wa, _, sa), (wb, _, sb) = (
        ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / r / "checkpoints")) for r in "ab"
    )
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert sa["transform"] == sb["transform"] and sa["transform"]["p"] > 0
    rec = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert "p" in [r for r in rec if r["kind"] == "train"][-1]


def test_few_shot_preset_trains_a_small_folder_with_both_augmentations(tmp_path, fast):
    from PIL import Image

    folder = tmp_path / "few"
    folder.mkdir()
    for i in range(12):
        Image.new("RGB", (40, 40), (20 * i, 90, 160)).save(folder / f"{i}.png")
    over = fast + ["image.size=16", "model.g_width=8", "model.d_width=8"]
    res = ganforge.train(
        "few-shot", data=f"folder:{folder}", out=tmp_path / "r", steps=8, overrides=over
    )
    rec = [json.loads(x) for x in (res.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert res.step == 8 and "p" in [r for r in rec if r["kind"] == "train"][-1]
    from ganforge.engine import checkpoint as ckpt

    state = ckpt.load_checkpoint(ckpt.latest_checkpoint(res.run_dir / "checkpoints"))[2]
    assert set(state["transform"]) >= {"p", "steps"}  # ADA's state, through Both
