"""The photo presets' training in plain PyTorch: the same nets, an eager loop a user would write.

``dcgan64`` is ``folder-rgb`` (DCGAN, 64 px RGB, spectral-norm D); ``resnet32`` the same with
``model.arch=resnet`` at 32 px. G and D are ganforge's own modules (plain ``nn.Module``s with
``torch.nn.utils.parametrizations.spectral_norm``), so the nets are identical; what is plain
is the loop: hinge loss, Adam (0, 0.9), a D step on ``fake.detach()`` then a G step on the
same fakes, an EMA of G (decay 0.999) by ``lerp_``, ``torch.autocast`` for ``--precision
bf16``, contiguous (NCHW) tensors, uint8 batches scaled to [-1, 1] each step. Timing and the
JSON line as every worker (``common.py``).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from common import N_IMAGES, report, time_windows, worker_args

from ganforge.config import resolve
from ganforge.run import build_from_config

PRESETS = {
    "dcgan64": ("folder-rgb", [], (3, 64, 64)),
    "resnet32": ("folder-rgb", ["model.arch=resnet", "data.image_size=32"], (3, 32, 32)),
}


def main() -> None:
    args = worker_args(__doc__.splitlines()[0])
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    preset, overrides, shape = PRESETS[args.preset]
    cfg = resolve(preset, overrides)
    G, D = build_from_config(cfg, shape, 0)
    ema = copy.deepcopy(G).eval().requires_grad_(False)
    g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.0, 0.9))
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.0, 0.9))
    images = torch.randint(0, 256, (N_IMAGES // 4, *shape), dtype=torch.uint8)
    use_bf16 = args.precision == "bf16"
    z_dim = cfg.model.z_dim

    def train_step() -> None:
        idx = torch.randint(0, len(images), (args.batch,))
        real = images[idx].float() / 127.5 - 1.0
        z = torch.randn(args.batch, z_dim)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
            fake = G(z)
            d_loss = (
                F.relu(1 - D(real).float()).mean() + F.relu(1 + D(fake.detach()).float()).mean()
            )
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
            g_loss = -D(fake).float().mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        with torch.no_grad():
            for e, p in zip(ema.parameters(), G.parameters(), strict=True):
                e.lerp_(p, 1 - 0.999)
            for e, b in zip(ema.buffers(), G.buffers(), strict=True):
                e.copy_(b)

    report(
        "torch-plain",
        args,
        time_windows(train_step, lambda: None, args),
        variant=args.variant,
        version=torch.__version__,
    )


if __name__ == "__main__":
    main()
