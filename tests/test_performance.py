"""Speed levers: the cheap dropout mask, per-device defaults, bf16 still learning."""

import os

import pytest
import torch

import ganforge
from ganforge.config import resolve
from ganforge.engine.performance import SpeedPlan, cpu_has_native_bf16, plan_speed, to_layout
from ganforge.nets import MLPDiscriminator, MLPGenerator
from ganforge.nets.dcgan_tf import TFTutorialDiscriminator, TFTutorialGenerator
from ganforge.nets.dropout import FastDropout, keep_threshold


def test_keep_threshold_rounds_the_keep_rate_to_16_bits():
    for p in (0.0, 0.1, 0.3, 0.5, 0.99):
        threshold, keep = keep_threshold(p)
        assert abs(keep - (1 - p)) <= 0.5 / 65536
        assert -32768 <= threshold <= 32768
        assert keep == (32768 - threshold) / 65536  # share of int16 words >= threshold


def test_fast_dropout_drops_at_rate_p_and_stays_unbiased():
    torch.manual_seed(0)
    drop = FastDropout(0.3)
    x = torch.ones(64, 32, 14, 14)
    y = drop(x)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.3) < 0.005  # 400k draws: 5 sigma is ~0.0036
    assert abs(y.mean().item() - 1.0) < 0.01
    kept = y[y != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / keep_threshold(0.3)[1]))
    # neighbouring elements are independent: both-dropped rate is p^2
    both = ((y[..., :-1] == 0) & (y[..., 1:] == 0)).float().mean().item()
    assert abs(both - 0.09) < 0.005


def test_fast_dropout_is_seeded_identity_in_eval_and_keeps_the_layout():
    drop = FastDropout(0.5)
    x = torch.randn(4, 3, 8, 8)
    torch.manual_seed(1)
    a = drop(x)
    torch.manual_seed(1)
    assert torch.equal(a, drop(x))
    assert not torch.equal(a, drop(x))  # the next call draws a new mask
    drop.eval()
    assert drop(x) is x
    drop.train()
    cl = x.contiguous(memory_format=torch.channels_last)
    torch.manual_seed(2)
    y = drop(cl)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y[y != 0], (cl * 2)[y != 0])  # kept values scaled by 1/(1-p)
    # gradient flows only through kept elements, scaled like the forward
    drop.train()
    xg = torch.randn(2, 3, 4, 4, requires_grad=True)
    torch.manual_seed(3)
    out = drop(xg)
    out.sum().backward()
    assert torch.equal(xg.grad == 0, out == 0)


def test_auto_picks_fp32_when_onednn_is_held_to_avx2():
    """``ONEDNN_MAX_CPU_ISA=AVX2`` (with ``ATEN_CPU_CAPABILITY=avx2``) makes an AVX-512 or AMX
    CPU behave as an AVX2-only one, where bf16 is emulated: ``auto`` must then train in fp32."""
    import subprocess
    import sys

    code = (
        "import torch; from ganforge.engine.performance import plan_speed, cpu_has_native_bf16;"
        "from ganforge.nets.dcgan_tf import TFTutorialGenerator as G, TFTutorialDiscriminator as D;"
        "print(cpu_has_native_bf16(), torch.backends.cpu.get_cpu_capability(),"
        " plan_speed('auto', 'auto', False, torch.device('cpu'), G(), D()).precision)"
    )
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    native, aten, precision = out.stdout.split()
    assert (native, precision) == ("False", "fp32")
    assert aten in ("AVX2", "DEFAULT")  # ATen's kernels held to AVX2 too (or below, on old CPUs)


@pytest.mark.parametrize(
    ("onednn", "avx512_bf16", "amx", "native"),
    [
        (True, False, False, False),
        (True, True, False, True),
        (True, False, True, True),
        (False, True, True, False),
    ],
)
def test_bf16_is_native_only_with_bf16_instructions(monkeypatch, onednn, avx512_bf16, amx, native):
    """oneDNN reports bf16 on plain AVX-512 too, where it converts around every product and
    trains slower than fp32: only AVX-512 BF16 or AMX count (and oneDNN must allow them)."""
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: onednn)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    assert cpu_has_native_bf16() is native
    G, D = TFTutorialGenerator(), TFTutorialDiscriminator()
    plan = plan_speed("auto", "auto", False, torch.device("cpu"), G, D)
    assert plan.precision == ("bf16" if native else "fp32")


@pytest.mark.parametrize(
    ("cap", "native"),
    [
        ("AVX2", False),
        ("avx512_core", False),
        ("AVX512_CORE_BF16", True),
        ("AVX512_CORE_AMX", True),
        ("ALL", True),
        ("", True),
    ],
)
def test_onednn_isa_cap_below_bf16_means_fp32(monkeypatch, cap, native):
    """PyTorch's probes read the CPU and ignore ``ONEDNN_MAX_CPU_ISA``: a bf16 CPU held to
    AVX2 (how an AVX2-only machine is reproduced) must count as without bf16."""
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert cpu_has_native_bf16() is native


def test_auto_speed_plan_per_network_and_device():
    cpu = torch.device("cpu")
    conv = (TFTutorialGenerator(), TFTutorialDiscriminator())
    mlp = (MLPGenerator(2, (2,)), MLPDiscriminator((2,)))
    plan = plan_speed("auto", "auto", False, cpu, *conv)
    assert plan.precision == ("bf16" if cpu_has_native_bf16() else "fp32")
    assert plan.channels_last is True
    fused = {"fused_adam": True}  # on the CPU whatever the nets
    assert plan_speed("auto", "auto", False, cpu, *mlp) == SpeedPlan("fp32", False, False, **fused)
    off = plan_speed("fp32", "off", False, cpu, *conv, "off")
    assert off == SpeedPlan("fp32", False, False, **fused)
    assert plan_speed("bf16", "on", True, cpu, *mlp) == SpeedPlan("bf16", False, True, **fused)
    assert plan_speed("auto", "auto", False, cpu, *mlp, fused_adam="off").fused_adam is False
    assert plan_speed("auto", "auto", False, torch.device("meta"), *mlp).fused_adam is False
    assert plan.autocast(cpu) is not None or plan.precision == "fp32"
    assert SpeedPlan("fp32", False, False).autocast(cpu) is None
    x = torch.zeros(2, 3, 4, 5)
    assert to_layout(x, True).is_contiguous(memory_format=torch.channels_last)
    assert to_layout(x, False) is x and to_layout(torch.zeros(3, 2), True).dim() == 2


def test_speed_keys_are_validated():
    assert resolve("seed").train.precision == "auto"
    with pytest.raises(ganforge.errors.ConfigError, match="train.channels_last must be one of"):
        resolve("seed", ["train.channels_last=maybe"])
    with pytest.raises(ganforge.errors.ConfigError, match="train.precision"):
        resolve("seed", ["train.precision=fp16"])
    with pytest.raises(ganforge.errors.ConfigError, match="train.spectral_conv must be one of"):
        resolve("seed", ["train.spectral_conv=fft"])
    assert resolve("seed", ["train.spectral_conv=false"]).train.spectral_conv == "off"


def test_fused_adam_trains_like_the_plain_update(fast, same_training_with_each, tmp_path):
    """One fused kernel per net: the same update to float rounding (fp32, same seed)."""
    over = fast + ["data.spec=digits", "data.image_size=16", "train.precision=fp32"]
    same_training_with_each("demo", "train.fused_adam", over + ["train.batch=16"], steps=6)
    assert '"fused_adam": true' in (tmp_path / "on" / "run.json").read_text()
    assert '"fused_adam": false' in (tmp_path / "off" / "run.json").read_text()


def test_a_resumed_optimiser_updates_the_way_this_process_chose():
    """A checkpoint of a fused Adam over a channels_last weight loads into a plain or a fused
    one: the update runs as the loading process chose (train.fused_adam), the moments take
    the weight's layout back (safetensors returns them NCHW; a fused update over mixed
    layouts pairs the wrong elements), and the next step equals the uninterrupted one."""
    from ganforge.engine.checkpoint import optimizer_from_flat, optimizer_to_flat

    def weight() -> torch.nn.Parameter:
        torch.manual_seed(0)
        return torch.nn.Parameter(torch.randn(4, 3, 2, 2).to(memory_format=torch.channels_last))

    def grad(seed: int) -> torch.Tensor:
        g = torch.randn(4, 3, 2, 2, generator=torch.Generator().manual_seed(seed))
        return g.to(memory_format=torch.channels_last)

    w = weight()
    straight = torch.optim.Adam([w], 1e-1, fused=True)
    for seed in (1, 2):
        w.grad = grad(seed)
        straight.step()
    for fused in (None, True):
        v = weight()
        first = torch.optim.Adam([v], 1e-1, fused=True)
        v.grad = grad(1)
        first.step()
        tensors, plain = optimizer_to_flat("g", first)
        tensors = {k: t.contiguous() for k, t in tensors.items()}  # as safetensors loads them
        loaded = torch.optim.Adam([v], 1e-1, fused=fused)
        optimizer_from_flat("g", loaded, tensors, plain)
        assert loaded.param_groups[0]["fused"] is fused
        assert loaded.state[v]["exp_avg"].is_contiguous(memory_format=torch.channels_last)
        v.grad = grad(2)
        loaded.step()
        torch.testing.assert_close(v, w, rtol=0, atol=1e-6)


def test_channels_last_training_matches_the_default_layout(fast, same_training_with_each):
    """The memory layout changes speed, not what is learned (fp32: same numbers)."""
    over = fast + [
        "model.arch=dcgan",
        "model.g_width=8",
        "model.d_width=8",
        "train.batch=16",
        "train.precision=fp32",
        "data.spec=digits",
        "data.image_size=16",
    ]
    same_training_with_each("demo", "train.channels_last", over, steps=8)


def test_resume_is_bit_exact_with_the_cpu_speed_defaults(tmp_path, fast):
    """bf16 autocast (where the CPU has it) and channels_last do not cost exact resume."""
    from ganforge.engine import checkpoint as ckpt

    over = fast + ["model.g_width=8", "model.d_width=8", "train.batch=16", "model.z_dim=16"]
    ganforge.train("demo", out=tmp_path / "straight", steps=20, overrides=over)
    ganforge.train("demo", out=tmp_path / "split", steps=10, overrides=over)
    res = ganforge.train(None, out=tmp_path / "split", steps=20, resume=True, overrides=over)
    assert res.step == 20
    meta = (tmp_path / "split" / "run.json").read_text()
    assert '"channels_last": true' in meta
    a, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "straight" / "checkpoints"))
    b, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "split" / "checkpoints"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_benchmark_flop_counts():
    """benchmarks/flops.py: zero-padding share by hand, and the seed step's nominal FLOPs."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from flops import _tap_share, step_flops

    from ganforge.engine.step import StepOptions, simultaneous_step
    from ganforge.nets.dcgan_tf import TFSameConv2d

    assert _tap_share(torch.nn.Conv2d(1, 1, 5), (28, 28)) == 1.0
    # TF 'same' 5x5 stride 2 on 28 pads 1 before, 2 after: per axis 4 + 12 * 5 + 3 = 67 of 70
    assert _tap_share(TFSameConv2d(1, 1, 5, 2), (28, 28)) == pytest.approx((67 / 70) ** 2)
    G, D = TFTutorialGenerator(), TFTutorialDiscriminator()
    g_opt, d_opt = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    tutorial = StepOptions(shared_backward=False)  # as written: D's fakes path twice
    nominal, useful = step_flops(
        lambda: simultaneous_step(G, D, g_opt, d_opt, x, opts=tutorial), G, D
    )
    # one step at batch 256 is 115.6 GFLOP nominal (docs/performance.md); FLOPs scale with batch
    assert nominal * 256 / 8 == pytest.approx(115.63e9, rel=2e-3)
    assert 0.7 * nominal < useful < nominal
    # the shared backward skips the second pass back through D on the fakes: the input
    # gradients of the dense head (6272 features) and of the 64->128 conv (5x5 taps, 7x7 out)
    shared, _ = step_flops(lambda: simultaneous_step(G, D, g_opt, d_opt, x), G, D)
    assert nominal - shared == 2 * 8 * (6272 + (7 * 7) * 25 * 64 * 128)


def test_the_run_says_what_auto_chose(tmp_path, capsys):
    from ganforge.api import _speed_line
    from ganforge.data.dataset import Dataset
    from ganforge.engine.distributed import SINGLE
    from ganforge.engine.trainer import Trainer

    data = Dataset("r", torch.zeros(8, 1, 28, 28, dtype=torch.uint8), "image")
    plain = ["train.precision=fp32", "train.shared_backward=false"]
    for over, want in (
        (
            plain + ["train.channels_last=off", "train.spectral_conv=off"],
            "training on cpu: fp32",
        ),
        (
            plain + ["train.spectral_conv=off"],
            "training on cpu: fp32, channels_last (train.channels_last=auto)",
        ),
        (
            plain + ["train.channels_last=off"],
            "training on cpu: fp32, spectral convs (train.spectral_conv=auto)",
        ),
        (
            ["train.precision=fp32", "train.channels_last=off", "train.spectral_conv=off"],
            "training on cpu: fp32, shared D backward",
        ),
    ):
        cfg = resolve("seed", over + ["train.device=cpu", "train.batch=8"])
        trainer = Trainer(TFTutorialGenerator(), TFTutorialDiscriminator(), data, cfg)
        assert _speed_line(trainer, SINGLE) == want
    ganforge.train("demo", out=tmp_path / "run", steps=1, overrides=["train.batch=8"])
    assert capsys.readouterr().out.startswith("training on cpu: ")


def test_cpu_training_flushes_subnormal_numbers_and_then_restores_the_process_setting():
    """Subnormal floats (late Adam moments, tiny activations) take the CPU's slow path: a table
    run's late steps were 1.3x slower with them. ``fit`` flushes them by default and gives the
    process its own setting back (other code, e.g. hypothesis, relies on IEEE subnormals)."""
    from ganforge.data.dataset import Dataset
    from ganforge.engine.performance import flushing_subnormals, set_subnormal_flush
    from ganforge.engine.trainer import Trainer

    data = Dataset("t", torch.zeros(16, 1, 28, 28, dtype=torch.uint8), "image")
    assert not flushing_subnormals()
    for flush in (True, False):
        cfg = resolve(
            "seed", ["train.device=cpu", "train.batch=8", f"train.flush_denormals={flush}"]
        )
        seen = []
        trainer = Trainer(TFTutorialGenerator(), TFTutorialDiscriminator(), data, cfg)
        trainer.hooks.append(lambda t, step, seen=seen: seen.append(flushing_subnormals()))
        trainer.fit(2)
        assert seen and all(s is flush for s in seen)
        assert not flushing_subnormals()  # restored
    try:  # a process that flushes on its own keeps doing so
        assert set_subnormal_flush(True) is False and flushing_subnormals()
        cfg = resolve("seed", ["train.device=cpu", "train.batch=8", "train.flush_denormals=false"])
        Trainer(TFTutorialGenerator(), TFTutorialDiscriminator(), data, cfg).fit(1)
        assert flushing_subnormals()
    finally:
        set_subnormal_flush(False)


def test_throughput_benchmark_names_the_cpu_and_passes_its_caps(monkeypatch):
    """Every throughput figure says which CPU and which ISA caps it comes from, and the caps
    reach the workers (an AVX2 figure taken on a newer CPU is only AVX2 if all are held)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import throughput

    for name in throughput.CAPS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.setenv("MKL_ENABLE_INSTRUCTIONS", "AVX2")
    cpu = throughput.cpu_description()
    assert cpu["cap"] == {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    assert set(cpu["flags"]) <= {"avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}
    if Path("/proc/cpuinfo").exists():
        assert cpu["model"]  # the first processor's model name
    assert {"ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS"} <= set(
        throughput.PASSED_ENV
    )
