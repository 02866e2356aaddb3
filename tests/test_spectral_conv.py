"""Small-map convolutions in the frequency domain: same results as PyTorch's, chosen by cost."""

import pytest
import torch
import torch.nn.functional as F

from ganforge.engine.performance import plan_speed, use_path
from ganforge.nets import MLPDiscriminator, MLPGenerator
from ganforge.nets.dcgan_tf import (
    TFSameConvTranspose2d,
    TFTutorialDiscriminator,
    TFTutorialGenerator,
)
from ganforge.nets.spectral_conv import (
    spectral_conv2d,
    spectral_conv_transpose2d,
    spectral_macs,
    spectral_pays,
)

# (height, width, kernel, stride): odd and even maps, non-square, strides 1-3, kernels 1-5
SHAPES = [
    (7, 7, 5, 1),
    (14, 14, 5, 2),
    (7, 7, 5, 2),
    (8, 6, 3, 1),
    (9, 11, 4, 2),
    (5, 5, 3, 3),
    (6, 7, 5, 2),
    (4, 4, 1, 1),
    (10, 10, 2, 2),
]
PADS = [(0, 0, 0, 0), (2, 2, 2, 2), (1, 2, 1, 2), (2, 1, 0, 3), (3, 0, 1, 1)]


@pytest.mark.parametrize("h,w,k,s", SHAPES)
def test_spectral_conv2d_equals_conv2d_in_float64(h, w, k, s):
    g = torch.Generator().manual_seed(h * 100 + w * 10 + k + s)
    for pads in PADS:
        left, right, top, bottom = pads
        if h + top + bottom < k or w + left + right < k:
            continue
        x = torch.randn(3, 4, h, w, dtype=torch.float64, generator=g)
        weight = torch.randn(5, 4, k, k, dtype=torch.float64, generator=g)
        bias = torch.randn(5, dtype=torch.float64, generator=g)
        want = F.conv2d(F.pad(x, pads), weight, bias, s)
        got = spectral_conv2d(x, weight, bias, s, pads)
        assert got.shape == want.shape
        assert torch.allclose(got, want, atol=1e-10, rtol=0), pads


@pytest.mark.parametrize("h,w,k,s", SHAPES)
def test_spectral_conv_transpose2d_equals_the_cropped_transposed_conv(h, w, k, s):
    g = torch.Generator().manual_seed(h * 100 + w * 10 + k + s)
    x = torch.randn(3, 4, h, w, dtype=torch.float64, generator=g)
    weight = torch.randn(4, 2, k, k, dtype=torch.float64, generator=g)
    full = F.conv_transpose2d(x, weight, None, s)
    for left, right, top, bottom in PADS:
        out = (full.shape[-2] - top - bottom, full.shape[-1] - left - right)
        if min(out) < 1:
            continue
        want = full[..., top : top + out[0], left : left + out[1]]
        got = spectral_conv_transpose2d(x, weight, None, s, (top, left), out)
        assert got.shape == want.shape
        assert torch.allclose(got, want, atol=1e-10, rtol=0)


def test_gradients_match_autograd_of_the_direct_conv():
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, w: spectral_conv2d(x, w, None, 2, (1, 2, 1, 2)), (x, w)
    )
    wt = torch.randn(3, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, w: spectral_conv_transpose2d(x, w, None, 2, (1, 1), (14, 14)), (x, wt)
    )
    # second order too (R1 penalties differentiate through D twice)
    assert torch.autograd.gradgradcheck(
        lambda x, w: spectral_conv2d(x, w, None, 1, (2, 2, 2, 2)), (x[:1, :, :5, :5], w[:2])
    )


def test_bf16_error_is_of_the_order_of_onednn_bf16_convolution():
    torch.manual_seed(0)
    x = torch.randn(16, 128, 7, 7).contiguous(memory_format=torch.channels_last)
    w = torch.randn(128, 64, 5, 5) * 0.02
    exact = F.conv_transpose2d(x.double(), w.double(), None, 2, 1)[..., :14, :14]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        native = F.conv_transpose2d(x, w, None, 2, 1)[..., :14, :14].double()
        spectral = spectral_conv_transpose2d(x, w, None, 2, (1, 1), (14, 14)).double()

    def rel(a):
        return ((a - exact).norm() / exact.norm()).item()

    assert spectral.dtype == native.dtype
    assert rel(spectral) < 2.5 * rel(native) and rel(spectral) < 0.01


def test_pay_off_rule_picks_the_seeds_large_layers_only():
    # (transposed, in, out, channels, stride, before) for the seed's five layers
    layers = {
        "G 256->128": (True, (7, 7), (7, 7), (256, 128), 1, (2, 2)),
        "G 128->64": (True, (7, 7), (14, 14), (128, 64), 2, (1, 1)),
        "G 64->1": (True, (14, 14), (28, 28), (64, 1), 2, (1, 1)),
        "D 1->64": (False, (28, 28), (14, 14), (1, 64), 2, (1, 1)),
        "D 64->128": (False, (14, 14), (7, 7), (64, 128), 2, (1, 1)),
    }
    chosen = {}
    for low in (False, True):
        for name, (t, i, o, ch, s, b) in layers.items():
            direct, spectral = spectral_macs(t, i, o, ch, 5, s, b)
            assert direct == (i[0] * i[1] if t else o[0] * o[1]) * 25 * ch[0] * ch[1]
            chosen[name, low] = spectral_pays(direct, spectral, low)
    assert [n for n in layers if chosen[n, False]] == ["G 256->128"]
    assert [n for n in layers if chosen[n, True]] == ["G 256->128", "G 128->64", "D 64->128"]


def test_switched_layers_compute_what_the_direct_ones_do():
    torch.manual_seed(0)
    G, D = TFTutorialGenerator(), TFTutorialDiscriminator()
    G.eval(), D.eval()  # no dropout draws: both passes see the same net
    z, x = torch.randn(4, 100), torch.rand(4, 1, 28, 28) * 2 - 1
    direct = (G(z), D(x))
    use_path(G, "spectral", True), use_path(D, "spectral", True)
    assert all(m.spectral for m in G.modules() if isinstance(m, TFSameConvTranspose2d))
    spectral = (G(z), D(x))
    for a, b in zip(direct, spectral, strict=True):
        assert torch.allclose(a, b, atol=1e-5)
    # the gradients too, in bf16 autocast where all three large layers switch
    grads = {}
    for on in (False, True):
        use_path(G, "spectral", on)
        G.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            G(z).float().square().mean().backward()
        grads[on] = torch.cat([G.convs[i].weight.grad.flatten() for i in (0, 3)])
    err = (grads[True] - grads[False]).norm() / grads[False].norm()
    assert err < 0.03


def test_speed_plan_switches_spectral_convs_per_device_and_key():
    cpu = torch.device("cpu")
    conv = (TFTutorialGenerator(), TFTutorialDiscriminator())
    mlp = (MLPGenerator(2, (2,)), MLPDiscriminator((2,)))
    assert plan_speed("auto", "auto", False, cpu, *conv).spectral_conv is True
    assert plan_speed("auto", "auto", False, cpu, *conv, spectral_conv="off").spectral_conv is False
    assert plan_speed("auto", "auto", False, torch.device("meta"), *conv).spectral_conv is False
    assert plan_speed("auto", "auto", False, cpu, *mlp, spectral_conv="on").spectral_conv is False


def test_training_with_spectral_convs_matches_training_without(fast, same_training_with_each):
    """fp32, same seed: a short seed-net run ends with the same losses with or without."""
    over = fast + [
        "data.spec=digits",
        "data.image_size=28",
        "train.batch=16",
        "train.precision=fp32",
    ]
    same_training_with_each("seed", "train.spectral_conv", over, steps=6)


def test_resume_is_bit_exact_with_spectral_convs(tmp_path, fast):
    """The frequency-domain path is deterministic: 5 + resume + 5 steps == 10 straight."""
    import ganforge
    from ganforge.engine import checkpoint as ckpt

    over = fast + ["data.spec=digits", "data.image_size=28", "train.batch=16"]
    over += ["train.spectral_conv=on", "log.checkpoint_every=5"]
    ganforge.train("seed", out=tmp_path / "straight", steps=10, overrides=over)
    ganforge.train("seed", out=tmp_path / "split", steps=5, overrides=over)
    res = ganforge.train(None, out=tmp_path / "split", steps=10, resume=True, overrides=over)
    assert res.step == 10
    assert '"spectral_conv": true' in (tmp_path / "split" / "run.json").read_text()
    a, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "straight" / "checkpoints"))
    b, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "split" / "checkpoints"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
