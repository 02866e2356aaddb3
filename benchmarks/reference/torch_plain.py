"""The seed's program in plain PyTorch, as a user would port the TF tutorial.

``nn.Sequential`` nets with PyTorch's own padding (``padding=2``, ``output_padding=1``),
``BCEWithLogitsLoss``, two Adam optimisers, a ``DataLoader`` over an in-memory
``TensorDataset``, and the tutorial's step: one forward pass, one backward per network.
``--precision bf16`` wraps the forward in ``torch.autocast``; ``--variant`` takes
``channels_last`` and/or ``compile`` (comma-separated) for the rows with those settings.
"""

from __future__ import annotations

import torch
from common import N_IMAGES, report, time_windows, worker_args
from torch import nn

NOISE_DIM = 100


class Reshape(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(-1, 256, 7, 7)


def make_generator() -> nn.Module:
    return nn.Sequential(
        nn.Linear(NOISE_DIM, 7 * 7 * 256, bias=False),
        nn.BatchNorm1d(7 * 7 * 256),
        nn.LeakyReLU(0.3),
        Reshape(),
        nn.ConvTranspose2d(256, 128, 5, 1, padding=2, bias=False),
        nn.BatchNorm2d(128),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(128, 64, 5, 2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(64, 1, 5, 2, padding=2, output_padding=1, bias=False),
        nn.Tanh(),
    )


def make_discriminator() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 64, 5, 2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, 2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(7 * 7 * 128, 1),
    )


def main() -> None:
    args = worker_args(__doc__.splitlines()[0])
    variants = set(filter(None, args.variant.split(",")))
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = torch.rand(N_IMAGES, 1, 28, 28) * 2 - 1
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images), batch_size=args.batch, shuffle=True, drop_last=True
    )
    generator, discriminator = make_generator(), make_discriminator()
    fmt = torch.channels_last if "channels_last" in variants else torch.contiguous_format
    generator.to(memory_format=fmt)
    discriminator.to(memory_format=fmt)
    g_params, d_params = list(generator.parameters()), list(discriminator.parameters())
    g_opt = torch.optim.Adam(g_params, lr=1e-4)
    d_opt = torch.optim.Adam(d_params, lr=1e-4)
    bce = nn.BCEWithLogitsLoss()
    use_bf16 = args.precision == "bf16"

    def train_step(real: torch.Tensor) -> None:
        noise = torch.randn(real.shape[0], NOISE_DIM)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
            fake = generator(noise)
            real_out = discriminator(real).float()
            fake_out = discriminator(fake).float()
        g_loss = bce(fake_out, torch.ones_like(fake_out))
        d_loss = bce(real_out, torch.ones_like(real_out)) + bce(
            fake_out, torch.zeros_like(fake_out)
        )
        g_opt.zero_grad()
        d_opt.zero_grad()
        g_loss.backward(inputs=g_params, retain_graph=True)
        d_loss.backward(inputs=d_params)
        g_opt.step()
        d_opt.step()

    if "compile" in variants:
        import torch._functorch.config as functorch_config

        functorch_config.donated_buffer = False  # two backward passes over one graph
        train_step = torch.compile(train_step)

    def batches():
        while True:
            for (real,) in loader:
                yield real.contiguous(memory_format=fmt)

    it = batches()
    report(
        "torch-plain",
        args,
        time_windows(lambda: train_step(next(it)), lambda: None, args),
        variant=args.variant,
        version=torch.__version__,
    )


if __name__ == "__main__":
    main()
