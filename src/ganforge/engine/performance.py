"""Speed settings decided per device: precision, memory layout, compilation.

``auto`` picks what measured fastest without changing what is learned (see the README's
performance section, ``benchmarks/throughput.py``):

- precision: bf16 autocast (fp32 master weights and optimiser state) on CPUs with native
  bf16 instructions (AVX-512 BF16 or AMX; not plain AVX-512, where oneDNN emulates it) and
  on GPUs that support bf16, for convolutional nets; fp32 elsewhere and for MLPs (too
  small to gain, and the toy games are sensitive).
- channels_last: on for nets of 2-D convolutions on the CPU (oneDNN's convolutions run in
  NHWC without layout reorders around every layer); off for 1-D / 3-D convolutions and on
  GPUs until measured there.
- spectral_conv: on the CPU, layers that offer a frequency-domain path (a ``spectral``
  attribute, see ``ganforge.nets.spectral_conv``) take it where it needs enough fewer
  multiply-adds than the direct convolution (``spectral_pays``); off on GPUs until
  measured there.
- gemm_grad: on the CPU, layers that offer it (a ``gemm_grad`` attribute, see
  ``ganforge.nets.gemm_grad``) compute the weight gradients of their small-map
  convolutions as one matrix product over gathered patches; off on GPUs.
- fused_adam: Adam's update as one fused kernel per net instead of a handful of
  element-wise passes per parameter (DCGAN 64 px on 2 CPU cores: 21 -> 7 ms a step;
  the same update to float rounding); on for the CPU and CUDA.
- shared_backward (``train.shared_backward``, the simultaneous step only): one backward
  through D on the fakes serves both losses when D scores samples independently (exact,
  see ``ganforge.engine.step.simultaneous_step``); on for every device.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganforge.engine.step import samples_independent


def cpu_has_native_bf16() -> bool:
    """True when this CPU has bf16 instructions (AVX-512 BF16 or AMX) and oneDNN may use them.

    oneDNN also reports bf16 on plain AVX-512, where it converts to fp32 around every
    product: there bf16 trains slower than fp32 (an Intel Xeon without AVX512_BF16: the
    ``seed`` preset 1.0 against 1.7 steps/s, ``demo`` 15.6 against 19.6-25.3)."""
    if not _isa_cap_allows_bf16(
        os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA"))
    ):
        return False
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        onednn = bool(check()) if check is not None else False
    except RuntimeError:
        return False
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return onednn and any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _isa_cap_allows_bf16(cap: str | None) -> bool:
    """Whether oneDNN's ISA cap (``ONEDNN_MAX_CPU_ISA``) leaves it bf16 instructions: PyTorch's
    probes read the CPU, not the cap, so a CPU held to AVX2 would still report them."""
    if not cap or cap.strip().upper() in ("ALL", "DEFAULT"):
        return True
    cap = cap.strip().upper()
    return any(part in cap for part in ("BF16", "FP16", "AMX", "AVX10"))


def is_convolutional(net: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in net.modules())


_CONV_2D = (nn.Conv2d, nn.ConvTranspose2d)


def is_image_convolutional(net: nn.Module) -> bool:
    """Whether ``net`` convolves 2-D maps (where the NHWC layout applies), and nothing else:
    1-D (text, music) and 3-D (video) convolutions have no channels_last of their own."""
    convs = [m for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    return bool(convs) and all(isinstance(m, _CONV_2D) for m in convs)


def module_to_layout(net: nn.Module, channels_last: bool) -> nn.Module:
    """``net`` with its 4-D weights in NHWC order when asked (other tensors as they are:
    ``Module.to(memory_format=channels_last)`` fails on the 5-D weights of a Conv3d)."""
    if channels_last:
        for t in [*net.parameters(), *net.buffers()]:
            if t.dim() == 4:
                # .to() restrides size-1 channel dims too (contiguous() keeps NCHW strides
                # there, which oneDNN reads as NCHW: a mixed-layout net runs ~15% slower)
                t.data = t.data.to(memory_format=torch.channels_last)
    return net


def device_supports_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


@dataclass(frozen=True)
class SpeedPlan:
    """What ``auto`` resolved to, recorded in run.json so a run says how it was trained."""

    precision: str  # fp32 | bf16
    channels_last: bool
    compile: bool
    spectral_conv: bool = False
    shared_backward: bool = False
    gemm_grad: bool = False
    fused_adam: bool = False

    def autocast(self, device: torch.device) -> AbstractContextManager | None:
        if self.precision != "bf16":
            return None
        return torch.autocast(device.type, dtype=torch.bfloat16)

    def as_dict(self) -> dict[str, object]:
        return {
            "precision": self.precision,
            "channels_last": self.channels_last,
            "compile": self.compile,
            "spectral_conv": self.spectral_conv,
            "shared_backward": self.shared_backward,
            "gemm_grad": self.gemm_grad,
            "fused_adam": self.fused_adam,
        }

    def adam(self, params: Any, **kw: Any) -> torch.optim.Adam:
        """An Adam optimiser over ``params``, fused when the plan says so."""
        return torch.optim.Adam(params, fused=True if self.fused_adam else None, **kw)


def offers(net: nn.Module, path: str) -> bool:
    """True when some layer of ``net`` offers the faster ``path`` (an attribute of that
    name: ``spectral``, ``gemm_grad``) it can switch on."""
    return any(hasattr(m, path) for m in net.modules())


def use_path(net: nn.Module, path: str, on: bool) -> None:
    """Let the layers that offer ``path`` take it (each decides per input)."""
    for m in net.modules():
        if hasattr(m, path):
            setattr(m, path, on)


def _switch(setting: str, offered: bool, device: torch.device) -> bool:
    """An auto | on | off CPU path: auto takes it on the CPU where a layer offers it."""
    if setting == "auto":
        return offered and device.type == "cpu"
    return setting == "on" and offered


def plan_speed(
    precision: str,
    channels_last: str,
    compile: bool,
    device: torch.device,
    G: nn.Module,
    D: nn.Module,
    spectral_conv: str = "auto",
    shared_backward: bool = False,
    gemm_grad: str = "auto",
    fused_adam: str = "auto",
) -> SpeedPlan:
    """Resolve the ``train.precision`` / ``channels_last`` / ``spectral_conv`` / ``compile``
    keys; ``shared_backward`` (asked for: the key on and the simultaneous step) holds where
    D scores samples independently."""
    conv = is_convolutional(G) or is_convolutional(D)
    # NHWC only where every conv of both nets is 2-D: a net mixing 2-D with 3-D convs (an
    # image D beside a video D) would hand oneDNN mixed layouts
    conv2d = (is_image_convolutional(G) or not is_convolutional(G)) and (
        is_image_convolutional(D) or not is_convolutional(D)
    )
    conv2d = conv and conv2d
    if precision == "auto":
        precision = "bf16" if conv and device_supports_bf16(device) else "fp32"
    if channels_last == "auto":
        layout = conv2d and device.type == "cpu"
    else:
        layout = channels_last == "on" and conv2d
    spectral = _switch(spectral_conv, offers(G, "spectral") or offers(D, "spectral"), device)
    gemm = _switch(gemm_grad, offers(G, "gemm_grad") or offers(D, "gemm_grad"), device)
    return SpeedPlan(
        precision=precision,
        channels_last=layout,
        compile=bool(compile),
        spectral_conv=spectral,
        shared_backward=shared_backward and samples_independent(D),
        gemm_grad=gemm,
        fused_adam=fused_adam == "on" or (fused_adam == "auto" and device.type in ("cpu", "cuda")),
    )


def to_layout(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` in NHWC memory order when asked and 4-D (a no-op otherwise)."""
    if channels_last and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def flushing_subnormals() -> bool:
    """Whether the CPU flushes subnormal floats to zero now (PyTorch has no getter: a
    subnormal float32 reads back as 0 when it does)."""
    return torch.tensor([1e-39], dtype=torch.float32).item() == 0.0


def set_subnormal_flush(on: bool) -> bool:
    """Turn the CPU's flushing of subnormal floats on or off (process-wide); returns the
    setting it replaced, to restore it afterwards."""
    before = flushing_subnormals()
    torch.set_flush_denormal(on)
    return before
