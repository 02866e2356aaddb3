import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganforge import config
from ganforge.nets import (
    ARCHITECTURES,
    DCGANDiscriminator,
    DCGANGenerator,
    Discriminator,
    Generator,
    MLPDiscriminator,
    MLPGenerator,
    ResNetDiscriminator,
    ResNetGenerator,
    TFTutorialDiscriminator,
    TFTutorialGenerator,
    apply_spectral_norm,
    build_networks,
    init_weights,
)
from ganforge.nets.dcgan_tf import TFSameConv2d, TFSameConvTranspose2d

Z = 8
B = 3
SMALL = {"g_width": 8, "d_width": 8}

# (arch, sample shape, small-width options)
CASES = [
    ("mlp", (2,), {"g_width": 16, "d_width": 16, "depth": 2}),
    ("mlp", (1, 28, 28), {"g_width": 16, "d_width": 16, "depth": 2}),
    ("dcgan-tf", (1, 28, 28), SMALL),
    ("dcgan", (1, 28, 28), SMALL),
    ("dcgan", (3, 32, 32), SMALL),
    ("dcgan", (3, 64, 64), {"g_width": 4, "d_width": 4}),
    ("dcgan", (1, 16, 16), SMALL),
    ("resnet", (1, 28, 28), SMALL),
    ("resnet", (3, 32, 32), SMALL),
    ("resnet", (3, 64, 64), {"g_width": 4, "d_width": 4}),
]
IDS = [f"{a}-{'x'.join(map(str, s))}" for a, s, _ in CASES]


def _pair(arch, shape, opts, num_classes=0, seed=0):
    torch.manual_seed(seed)
    return build_networks(arch, shape, Z, num_classes, **opts)


@pytest.mark.parametrize("arch,shape,opts", CASES, ids=IDS)
@pytest.mark.parametrize("num_classes", [0, 5])
def test_shapes_and_range(arch, shape, opts, num_classes):
    G, D = _pair(arch, shape, opts, num_classes)
    assert isinstance(G, Generator) and isinstance(D, Discriminator)
    assert (G.z_dim, G.num_classes, G.out_shape) == (Z, num_classes, shape)
    assert (D.num_classes, D.in_shape) == (num_classes, shape)
    y = torch.tensor([0, 4, 2]) if num_classes else None
    x = G(torch.randn(B, Z), y)
    assert x.shape == (B, *shape)
    logits = D(x, y)
    assert logits.shape == (B,)
    assert torch.isfinite(logits).all()
    if len(shape) == 3:
        assert x.abs().max() <= 1.0
    logits.sum().backward()  # gradients flow through G and D


def test_flat_generator_output_is_linear():
    G = MLPGenerator(Z, (2,), hidden=16, depth=2)
    assert isinstance(G.net[-1], nn.Linear)
    with torch.no_grad():
        G.net[-1].bias.fill_(5.0)
    assert G(torch.randn(B, Z)).min() > 1.0
    assert isinstance(MLPGenerator(Z, (1, 4, 4), hidden=16).net[-1], nn.Tanh)


@pytest.mark.parametrize("arch,shape,opts", CASES, ids=IDS)
def test_conditional_output_depends_on_label(arch, shape, opts):
    G, D = _pair(arch, shape, opts, num_classes=5)
    G.eval()
    D.eval()
    z = torch.randn(B, Z)
    y1, y2 = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 0])
    with torch.no_grad():
        x1, x2 = G(z, y1), G(z, y2)
        assert (x1 - x2).abs().amax(dim=tuple(range(1, x1.dim()))).min() > 0
        assert (D(x1, y1) - D(x1, y2)).abs().min() > 0


@pytest.mark.parametrize("arch,shape,opts", CASES, ids=IDS)
def test_projection_logit_difference_is_exact(arch, shape, opts):
    _, D = _pair(arch, shape, opts, num_classes=5)
    D.eval()
    x = torch.randn(B, *shape)
    y1, y2 = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 1])
    with torch.no_grad():
        h = D.features(x)
        expected = ((D.embed.weight[y1] - D.embed.weight[y2]) * h).sum(dim=1)
        assert h.shape == (B, D.feature_dim)
        torch.testing.assert_close(D(x, y1) - D(x, y2), expected, rtol=1e-4, atol=1e-4)
        # and the unconditional part is the plain linear head
        torch.testing.assert_close(D(x, y1), D.head(h).squeeze(1) + (D.embed.weight[y1] * h).sum(1))


def test_conditional_nets_need_labels_and_unconditional_ignore_them():
    G, D = _pair("dcgan", (1, 28, 28), SMALL, num_classes=3)
    with pytest.raises(ValueError, match="conditional.*labels"):
        G(torch.randn(B, Z))
    with pytest.raises(ValueError, match="conditional.*labels"):
        D(torch.randn(B, 1, 28, 28))
    with pytest.raises(ValueError, match="shape"):
        G(torch.randn(B, Z + 1), torch.zeros(B, dtype=torch.long))
    G0, D0 = _pair("mlp", (2,), {"g_width": 8, "d_width": 8})
    assert G0.embed is None and D0.embed is None
    assert D0(G0(torch.randn(B, Z), torch.zeros(B, dtype=torch.long))).shape == (B,)


def test_label_embedding_widens_generator_input():
    G = MLPGenerator(Z, (2,), hidden=8, num_classes=4)
    assert G.embed.num_embeddings == 4 and G.in_dim == Z + G.embed_dim
    assert G.net[0].in_features == G.in_dim
    Gt = TFTutorialGenerator(z_dim=100, num_classes=10, embed_dim=50)
    assert Gt.dense[0].in_features == 150


# --- The TensorFlow tutorial port -------------------------------------------------------


def _count(module, trainable=True):
    return sum(p.numel() for p in module.parameters() if p.requires_grad == trainable)


def test_tf_tutorial_parameter_counts():
    G, D = TFTutorialGenerator(), TFTutorialDiscriminator()
    assert _count(G) == 2_305_472
    assert _count(D) == 212_865
    bn_stats = sum(b.numel() for n, b in G.named_buffers() if "running" in n)
    assert bn_stats == 2 * (7 * 7 * 256 + 128 + 64)  # Keras' non-trainable params
    assert D.feature_dim == 6272


def test_tf_tutorial_keras_defaults():
    G, D = TFTutorialGenerator(), TFTutorialDiscriminator()
    slopes = {
        m.negative_slope for net in (G, D) for m in net.modules() if isinstance(m, nn.LeakyReLU)
    }
    assert slopes == {0.3}
    bns = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert len(bns) == 3
    assert all(m.eps == 1e-3 and m.momentum == 0.01 for m in bns)
    assert [m.p for m in D.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3]
    g_convs = [m for m in G.modules() if isinstance(m, (nn.Linear, nn.ConvTranspose2d))]
    assert all(m.bias is None for m in g_convs)
    for m in list(D.modules()) + g_convs:
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight)
            assert m.weight.abs().max() <= math.sqrt(6 / (fan_in + fan_out))  # glorot_uniform
            if m.bias is not None:
                assert not m.bias.any()


def _tf_same_conv_reference(x, w, b, stride):
    """Conv2d by its TF definition: pad_total = max((out-1)*s + k - n, 0), the odd pixel after."""
    n, k = x.shape[-1], w.shape[-1]
    out = -(-n // stride)
    before = max((out - 1) * stride + k - n, 0) // 2
    y = torch.zeros(x.shape[0], w.shape[0], out, out, dtype=x.dtype)
    for i in range(out):
        for j in range(out):
            for a in range(k):
                for c in range(k):
                    r, s = i * stride + a - before, j * stride + c - before
                    if 0 <= r < n and 0 <= s < n:
                        y[:, :, i, j] += torch.einsum("bc,oc->bo", x[:, :, r, s], w[:, :, a, c])
    return y + b[None, :, None, None]


@pytest.mark.parametrize("n,stride", [(6, 2), (7, 2), (5, 1)])
def test_tf_same_conv_matches_definition(n, stride):
    torch.manual_seed(0)
    conv = TFSameConv2d(2, 3, 5, stride).double()
    x = torch.randn(2, 2, n, n, dtype=torch.double)
    with torch.no_grad():
        got = conv(x)
        ref = _tf_same_conv_reference(x, conv.weight, conv.bias, stride)
        torch.testing.assert_close(got, ref)
        if n % 2 == 0 and stride == 2:  # PyTorch's symmetric padding would be off by a pixel
            sym = nn.functional.conv2d(x, conv.weight, conv.bias, stride, padding=2)
            assert not torch.allclose(sym[..., : got.shape[-1], : got.shape[-1]], got)


@pytest.mark.parametrize("n,stride", [(3, 2), (7, 2), (4, 1)])
def test_tf_same_conv_transpose_is_adjoint_of_same_conv(n, stride):
    # tf.nn.conv2d_transpose is the gradient of the 'same' conv: <T x, u> = <x, C u>.
    torch.manual_seed(0)
    convt = TFSameConvTranspose2d(3, 2, 5, stride).double()
    conv = TFSameConv2d(2, 3, 5, stride, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(convt.weight)
        x = torch.randn(2, 3, n, n, dtype=torch.double)
        u = torch.randn(2, 2, n * stride, n * stride, dtype=torch.double)
        tx = convt(x)
        assert tx.shape[-2:] == (n * stride, n * stride)
        torch.testing.assert_close((tx * u).sum(), (x * conv(u)).sum())
        if stride == 2:  # = PyTorch padding=1, cropped to the first 2n
            full = nn.functional.conv_transpose2d(x, convt.weight, stride=2, padding=1)
            torch.testing.assert_close(tx, full[..., : 2 * n, : 2 * n])


def test_tf_tutorial_feature_map_sizes():
    G, D = TFTutorialGenerator(base_channels=4), TFTutorialDiscriminator(base_channels=4)
    G.eval()
    sizes = []
    x = G.dense(torch.randn(2, 100)).view(2, 7, 7, 16).permute(0, 3, 1, 2)
    for m in G.convs:
        x = m(x)
        if isinstance(m, nn.ConvTranspose2d):
            sizes.append(tuple(x.shape[1:]))
    assert sizes == [(8, 7, 7), (4, 14, 14), (1, 28, 28)]
    assert D.convs(torch.randn(2, 1, 28, 28)).shape == (2, 8, 7, 7)


# --- Spectral norm and init -------------------------------------------------------------


def _sn_layers(module):
    return [
        m
        for m in module.modules()
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding))
    ]


def test_spectral_norm_wraps_every_weight_and_normalises():
    torch.manual_seed(0)
    D = ResNetDiscriminator((3, 32, 32), base_channels=8, num_classes=4)
    layers = _sn_layers(D)
    assert D.head in layers and D.embed in layers
    assert all(parametrize.is_parametrized(m, "weight") for m in layers)
    D.train()
    x, y = torch.randn(B, 3, 32, 32), torch.tensor([0, 1, 3])
    for _ in range(5):  # one power iteration per forward pass
        D(x, y)
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert abs(sigma.item() - 1) < 1e-2
    D2 = ResNetDiscriminator((3, 32, 32), base_channels=8, num_classes=4)
    D2.load_state_dict(D.state_dict())
    D.eval()
    D2.eval()
    torch.testing.assert_close(D(x, y), D2(x, y))


def test_spectral_norm_options():
    D = DCGANDiscriminator((1, 28, 28), base_channels=8, spectral_norm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert all(parametrize.is_parametrized(m, "weight") for m in _sn_layers(D))
    assert any(isinstance(m, nn.BatchNorm2d) for m in DCGANDiscriminator((1, 28, 28), 8).modules())
    plain = ResNetDiscriminator((3, 32, 32), base_channels=8, spectral_norm=False)
    assert not any(parametrize.is_parametrized(m) for m in plain.modules())
    apply_spectral_norm(plain)
    apply_spectral_norm(plain)  # idempotent
    assert all(len(m.parametrizations.weight) == 1 for m in _sn_layers(plain))
    _, Dm = build_networks("mlp", (2,), Z, d_width=8, spectral_norm=True)
    assert all(parametrize.is_parametrized(m, "weight") for m in _sn_layers(Dm))


def test_init_schemes():
    torch.manual_seed(0)
    G = DCGANGenerator(Z, (3, 32, 32), base_channels=16)  # dcgan init by default
    convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert all(abs(m.weight.std().item() - 0.02) < 0.004 for m in convs)
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(abs(m.weight.mean().item() - 1) < 0.02 and not m.bias.any() for m in bn)
    D = MLPDiscriminator((2,), hidden=8, num_classes=3, spectral_norm=True)
    init_weights(D, "orthogonal")  # reaches the stored weight under spectral norm
    w = D.net[3].parametrizations.weight.original  # an 8x8 hidden layer
    torch.testing.assert_close(w @ w.T, torch.eye(8), atol=1e-5, rtol=0)
    assert not D.net[3].bias.any()
    before = [p.clone() for p in D.parameters()]
    init_weights(D, "default")
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters(), strict=True))
    with pytest.raises(ValueError, match="unknown init scheme 'he'"):
        init_weights(D, "he")


# --- Registry ---------------------------------------------------------------------------


def test_registry_architectures_and_defaults():
    # the image families here, plus the modalities' own: tables, text (two), music, video (three)
    modality_archs = {"ctgan", "gan-language", "text-gru", "musegan", "mocogan", "layered", "tgan"}
    assert set(ARCHITECTURES) | modality_archs == set(config.choices("model.arch"))
    assert all(isinstance(v, str) and v for v in ARCHITECTURES.values())
    G, D = build_networks("dcgan-tf", (1, 28, 28), 100, leaky_slope=None, depth=None)
    assert isinstance(G, TFTutorialGenerator) and isinstance(D, TFTutorialDiscriminator)
    assert _count(G) == 2_305_472 and _count(D) == 212_865
    assert not D.head.bias.any()  # glorot: zero biases
    G, D = build_networks("resnet", (3, 32, 32), Z, g_width=8, d_width=8)
    assert isinstance(G, ResNetGenerator) and G.channels == 8
    assert all(parametrize.is_parametrized(m, "weight") for m in _sn_layers(D))
    _, D = build_networks("resnet", (3, 32, 32), Z, d_width=8, spectral_norm=False)
    assert not any(parametrize.is_parametrized(m) for m in D.modules())
    G, D = build_networks("mlp", (2,), Z, 2, g_width=8, d_width=8, depth=1, dropout=0.5)
    assert isinstance(G, MLPGenerator) and isinstance(D, MLPDiscriminator)
    assert [m.p for m in D.modules() if isinstance(m, nn.Dropout)] == [0.5]
    _, D = build_networks("dcgan", (1, 28, 28), Z, d_width=8, bn_eps=1e-3, bn_momentum=0.2)
    assert all(
        m.eps == 1e-3 and m.momentum == 0.2 for m in D.modules() if isinstance(m, nn.BatchNorm2d)
    )


@pytest.mark.parametrize(
    "arch,shape,opts,match",
    [
        ("vae", (2,), {}, "unknown arch 'vae'"),
        ("dcgan-tf", (3, 32, 32), {}, r"dcgan-tf .*\(1, 28, 28\)"),
        ("dcgan", (2,), {}, r"dcgan needs image samples .*\(2,\).*mlp"),
        ("resnet", (2,), {}, "resnet needs image samples"),
        ("dcgan", (1, 30, 30), {}, "image size 30 is not supported by dcgan: use .*28, 32"),
        ("resnet", (3, 48, 48), {}, "image size 48 is not supported by resnet"),
        ("dcgan", (3, 32, 16), {}, "square"),
        ("resnet", (3, 32, 32), {"leaky_slope": 0.1}, "does not use option.*leaky_slope"),
        ("dcgan", (3, 32, 32), {"depth": 2, "dropout": 0.1}, "dropout"),
        ("mlp", (2,), {"bn_eps": 1e-3}, "mlp does not use option.*bn_eps"),
        ("mlp", (2,), {"widht": 3}, "unknown network option.*widht"),
        ("mlp", (2,), {"init": "bogus"}, "unknown init scheme"),
        ("dcgan", (3, 32, 32), {"g_width": 0}, "base_channels must be a positive"),
    ],
)
def test_registry_errors(arch, shape, opts, match):
    with pytest.raises(ValueError, match=match):
        build_networks(arch, shape, Z, **opts)
