"""FID InceptionV3: architecture, key names, weight loading and its refusals (no real weights)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ganforge.errors import ConfigError
from ganforge.metrics.inception import WEIGHTS_ENV, FIDInceptionV3, load_inception

# torchvision's inception_v3 (with AuxLogits, 1000 classes) has 27,161,264 parameters (its
# published weights meta). pytorch-fid's fid_inception_v3() drops AuxLogits
# (conv0 768*128 + BN 2*128, conv1 128*768*5*5 + BN 2*768, fc 768*1000 + 1000 = 3,326,696)
# and has 8 more classes (fc +8*2048 + 8 = 16,392).
TORCHVISION_INCEPTION_PARAMS = 27_161_264
AUX_PARAMS = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
FID_INCEPTION_PARAMS = TORCHVISION_INCEPTION_PARAMS - AUX_PARAMS + 8 * 2048 + 8

# 94 Conv-BN units (stem 5, Mixed_5b-d 3*7, 6a 4, 6b-e 4*10, 7a 6, 7b-c 2*9),
# each with conv.weight and bn.{weight,bias,running_mean,running_var,num_batches_tracked}, plus fc.
NUM_CONV_BN = 5 + 3 * 7 + 4 + 4 * 10 + 6 + 2 * 9
NUM_KEYS = NUM_CONV_BN * 6 + 2


def _random_state_dict() -> dict[str, torch.Tensor]:
    """Random weights of the right keys and shapes that keep activations alive (He-scaled)."""
    gen = torch.Generator().manual_seed(0)
    out = {}
    for key, value in FIDInceptionV3().state_dict().items():
        shape = value.shape
        if key.endswith("conv.weight") or key == "fc.weight":
            fan_in = value[0].numel()
            value = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        elif key.endswith(("bn.weight", "running_var")):
            value = 1.0 + 0.1 * torch.rand(shape, generator=gen)
        elif value.is_floating_point():
            value = 0.1 * torch.randn(shape, generator=gen)
        out[key] = value.clone().contiguous()
    return out


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    """Random weights saved with torch.save, and the dict they came from."""
    state = _random_state_dict()
    path = tmp_path_factory.mktemp("inception") / "pt_inception-test.pth"
    torch.save(state, path)
    return path, state


@pytest.fixture(scope="module")
def model(weights: tuple[Path, dict[str, torch.Tensor]]) -> FIDInceptionV3:
    return load_inception(weights[0])


def test_parameter_count_matches_pytorch_fid() -> None:
    assert FID_INCEPTION_PARAMS == 23_850_960
    net = FIDInceptionV3()
    assert sum(p.numel() for p in net.parameters()) == FID_INCEPTION_PARAMS


def test_state_dict_keys_and_shapes() -> None:
    net = FIDInceptionV3()
    sd = net.state_dict()
    assert len(sd) == NUM_KEYS
    expected = {
        "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
        "Conv2d_1a_3x3.bn.running_mean": (32,),
        "Conv2d_2b_3x3.bn.running_var": (64,),
        "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
        "Mixed_5b.branch1x1.conv.weight": (64, 192, 1, 1),
        "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
        "Mixed_5d.branch5x5_2.conv.weight": (64, 48, 5, 5),
        "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
        "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
        "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
        "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
        "Mixed_7b.branch3x3_2b.conv.weight": (384, 384, 3, 1),
        "Mixed_7c.branch3x3dbl_1.conv.weight": (448, 2048, 1, 1),
        "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
        "fc.weight": (1008, 2048),
        "fc.bias": (1008,),
    }
    for key, shape in expected.items():
        assert tuple(sd[key].shape) == shape, key
    assert not any(k.startswith("AuxLogits") for k in sd)
    assert not any(k.endswith("conv.bias") for k in sd)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == NUM_CONV_BN and all(bn.eps == 0.001 for bn in bns)


def test_tf_pooling_quirks() -> None:
    net = FIDInceptionV3()
    ones = torch.ones(1, 2, 5, 5)
    # count_include_pad=False: averaging a constant stays constant at the borders too.
    for block in (net.Mixed_5b, net.Mixed_6b, net.Mixed_7b):
        assert torch.equal(block.pool(ones), ones)
    x = torch.randn(1, 2, 5, 5)
    assert torch.equal(net.Mixed_7c.pool(x), F.max_pool2d(x, 3, stride=1, padding=1))


def test_load_strict_roundtrip_and_eval(
    model: FIDInceptionV3, weights: tuple[Path, dict[str, torch.Tensor]]
) -> None:
    _, state = weights
    loaded = model.state_dict()
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())


def test_load_safetensors_and_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    weights: tuple[Path, dict[str, torch.Tensor]],
) -> None:
    _, state = weights
    path = tmp_path / "inception.safetensors"
    save_file(state, str(path))
    monkeypatch.setenv(WEIGHTS_ENV, str(path))
    net = load_inception()
    assert torch.equal(net.state_dict()["fc.weight"], state["fc.weight"])
    key = "Mixed_7c.branch1x1.bn.running_var"
    assert torch.equal(net.state_dict()[key], state[key])


def test_old_checkpoint_without_bn_counters_loads(
    tmp_path: Path, weights: tuple[Path, dict[str, torch.Tensor]]
) -> None:
    _, state = weights
    old = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "old.pth"
    torch.save(old, path)
    net = load_inception(path)
    assert torch.equal(net.state_dict()["fc.bias"], state["fc.bias"])


def test_features_grey_28(model: FIDInceptionV3) -> None:
    grey = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.inference_mode():
        feats = model(grey)
    assert feats.shape == (2, 2048) and feats.dtype == torch.float32
    assert torch.isfinite(feats).all()
    # Grey is fed as three equal channels, resized to 299x299 like pytorch-fid.
    prepared = model.prepare(grey)
    assert prepared.shape == (2, 3, 299, 299)
    assert torch.equal(prepared, model.prepare(grey.repeat(1, 3, 1, 1)))
    expected = F.interpolate(grey, size=(299, 299), mode="bilinear", align_corners=False)
    assert torch.allclose(prepared[:, 2:], expected)


def test_features_and_logits_rgb_32(model: FIDInceptionV3) -> None:
    rgb = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.inference_mode():
        feats, logits = model.features_and_logits(rgb)
        logits_only = model.logits(rgb)
    assert feats.shape == (2, 2048)
    assert logits.shape == (2, 1008) and logits_only.shape == (2, 1008)
    assert torch.allclose(logits, logits_only, atol=1e-5)
    assert not torch.allclose(feats[0], feats[1])


def test_bad_input_shape(model: FIDInceptionV3) -> None:
    with pytest.raises(ValueError, match="expected images"):
        model(torch.zeros(2, 2, 8, 8))


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda sd: sd.__setitem__("fc.weight", torch.zeros(1000, 2048)), "fc.weight"),
        (lambda sd: sd.pop("Mixed_6c.branch7x7_3.conv.weight"), "missing key"),
        (lambda sd: sd.__setitem__("AuxLogits.fc.weight", torch.zeros(1008, 768)), "AuxLogits"),
    ],
)
def test_mismatched_state_dict_refused(
    tmp_path: Path, weights: tuple[Path, dict[str, torch.Tensor]], edit, needle: str
) -> None:
    state = dict(weights[1])
    edit(state)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(ConfigError, match=needle) as info:
        load_inception(path)
    assert "\n" not in str(info.value)


def test_missing_file_says_how_to_get_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    with pytest.raises(ConfigError, match=WEIGHTS_ENV) as info:
        load_inception()
    assert "pt_inception-2015-12-05-6726825d.pth" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match=WEIGHTS_ENV):
        load_inception(tmp_path / "nope.pth")
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "also-missing.pth"))
    with pytest.raises(ConfigError, match="not found"):
        load_inception()


class _Payload:
    """Unpickling this would create a directory: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_malicious_pickle_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"fc.weight": _Payload(marker)}, path)
    with pytest.raises(ConfigError, match="plain tensors") as info:
        load_inception(path)
    assert "\n" not in str(info.value)
    assert not marker.exists()
    # The payload is real: a full unpickle does run it.
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_not_a_state_dict_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(3)], path)
    with pytest.raises(ConfigError, match="not a state_dict"):
        load_inception(path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(ConfigError, match="plain tensors"):
        load_inception(junk)
