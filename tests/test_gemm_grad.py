"""The GEMM weight-gradient convolutions equal oneDNN's, values and gradients."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from ganforge.nets.gemm_grad import GemmGradConv2d, GemmGradConvTranspose2d, patches


def _pair(cls, native_cls, *args, dtype=torch.float64, **kw):
    torch.manual_seed(0)
    fast = cls(*args, **kw).to(dtype)
    fast.gemm_grad = True
    native = native_cls(*args, **kw).to(dtype)
    native.load_state_dict(fast.state_dict())
    return fast, native


def _grads(m: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    x = x.detach().clone().requires_grad_(True)
    y = m(x)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=y.dtype)
    (y * g).sum().backward()
    out = (y.detach(), x.grad, m.weight.grad)
    return out + ((m.bias.grad,) if m.bias is not None else ())


def test_patches_are_the_windows_of_unfold() -> None:
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    cols = patches(x, 4, 2, 1, (4, 4))  # rows (n, ho, wo), columns (kh, kw, c)
    ref = torch.nn.functional.unfold(x, 4, padding=1, stride=2)  # (n, c kh kw, L)
    ref = ref.reshape(2, 3, 4, 4, 16).permute(0, 4, 2, 3, 1).reshape(32, 48)
    assert torch.equal(cols, ref)


@pytest.mark.parametrize(
    ("cin", "cout", "k", "s", "p", "hw", "bias"),
    [(6, 5, 4, 2, 1, 8, True), (4, 3, 3, 1, 1, 4, False), (3, 2, 4, 2, 0, 6, True)],
)
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_conv_matches_native_values_and_gradients(cin, cout, k, s, p, hw, bias, layout) -> None:
    fast, native = _pair(GemmGradConv2d, nn.Conv2d, cin, cout, k, s, p, bias=bias)
    x = torch.randn(3, cin, hw, hw, dtype=torch.float64).to(memory_format=layout)
    for a, b in zip(_grads(fast, x), _grads(native, x), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    ("cin", "cout", "k", "s", "p", "hw", "bias"),
    [(6, 5, 4, 2, 1, 4, False), (4, 3, 3, 1, 1, 4, True), (5, 2, 4, 1, 0, 1, False)],
)
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_transposed_matches_native_values_and_gradients(
    cin, cout, k, s, p, hw, bias, layout
) -> None:
    fast, native = _pair(GemmGradConvTranspose2d, nn.ConvTranspose2d, cin, cout, k, s, p, bias=bias)
    x = torch.randn(3, cin, hw, hw, dtype=torch.float64).to(memory_format=layout)
    for a, b in zip(_grads(fast, x), _grads(native, x), strict=True):
        torch.testing.assert_close(a, b)


def test_large_maps_and_the_switch_off_take_the_native_path() -> None:
    fast, _ = _pair(GemmGradConv2d, nn.Conv2d, 2, 2, 4, 2, 1)
    big = torch.randn(1, 2, 16, 16, dtype=torch.float64, requires_grad=True)
    assert "ConvolutionBackward" in type(fast(big).grad_fn).__name__  # 8x8 output: native
    small = torch.randn(1, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    assert "_GemmConvBackward" in type(fast(small).grad_fn).__name__  # 4x4: GEMM
    fast.gemm_grad = False
    assert "ConvolutionBackward" in type(fast(small).grad_fn).__name__


def test_gradient_penalties_differentiate_through_it() -> None:
    fast, native = _pair(GemmGradConv2d, nn.Conv2d, 3, 2, 4, 2, 1)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    assert torch.autograd.gradgradcheck(lambda t: fast(t), (x.requires_grad_(True),))

    def r1(m: nn.Module) -> torch.Tensor:
        xi = x.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(m(xi).square().sum(), xi, create_graph=True)
        g.square().sum().backward()
        return m.weight.grad

    torch.testing.assert_close(r1(fast), r1(native))


def test_bf16_autocast_is_as_close_as_onednn_and_weights_stay_fp32() -> None:
    fast, native = _pair(GemmGradConv2d, nn.Conv2d, 64, 32, 4, 2, 1, dtype=torch.float32)
    x = torch.randn(8, 64, 8, 8).to(memory_format=torch.channels_last)
    exact = _grads(copy.deepcopy(native).double(), x.double())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, ref = _grads(fast, x), _grads(native, x)
    assert got[0].dtype == torch.bfloat16 and fast.weight.grad.dtype == torch.float32
    for a, b, e in zip(got, ref, exact, strict=True):
        err_fast = (a.double() - e).abs().max() / e.abs().max()
        err_ref = (b.double() - e).abs().max() / e.abs().max()
        assert err_fast <= 2 * err_ref + 1e-3


def test_speed_plan_offers_it_on_the_cpu_for_dcgan_only() -> None:
    from ganforge.engine.performance import plan_speed
    from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
    from ganforge.nets.mlp import MLPDiscriminator, MLPGenerator

    cpu = torch.device("cpu")
    dcgan = (DCGANGenerator(16, (3, 32, 32), 8), DCGANDiscriminator((3, 32, 32), 8))
    mlp = (MLPGenerator(2, (2,)), MLPDiscriminator((2,)))
    assert plan_speed("auto", "auto", False, cpu, *dcgan).gemm_grad is True
    assert plan_speed("auto", "auto", False, cpu, *dcgan, gemm_grad="off").gemm_grad is False
    assert plan_speed("auto", "auto", False, torch.device("meta"), *dcgan).gemm_grad is False
    assert plan_speed("auto", "auto", False, cpu, *mlp, gemm_grad="on").gemm_grad is False


def test_training_with_gemm_grads_matches_training_without(fast, same_training_with_each):
    """fp32, same seed: a short DCGAN run (its 4x4 layers switch) ends with the same losses,
    with the spectral-norm D and hinge loss of the photo preset."""
    over = fast + [
        "data.spec=digits",
        "data.image_size=16",
        "train.batch=16",
        "train.precision=fp32",
        "model.spectral_norm=true",
        "loss.type=hinge",
    ]
    same_training_with_each("demo", "train.gemm_grad", over, steps=6)
