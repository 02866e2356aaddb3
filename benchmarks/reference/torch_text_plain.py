"""The text anchor (Gulrajani et al. 2017, ``gan_language.py``) in plain PyTorch, as a user
would port it: the same residual 1-D conv G and critic, WGAN-GP with lambda 10, 10 critic
steps per generator step, Adam 1e-4 (0.5, 0.9), one-hot real text from an in-memory id
tensor. One "step" is one generator step with its 10 critic steps. ``--precision bf16``
wraps the forward passes in ``torch.autocast``.
"""

from __future__ import annotations

import torch
from common import report, time_windows, worker_args
from torch import nn

VOCAB, LENGTH, NOISE = 93, 32, 128  # WordNet's vocabulary at 32 characters
WIDTH = {"text128": 128, "text512": 512}


class Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.a = nn.Conv1d(dim, dim, 5, padding=2)
        self.b = nn.Conv1d(dim, dim, 5, padding=2)

    def forward(self, x):
        return x + 0.3 * self.b(torch.relu(self.a(torch.relu(x))))


class Generator(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.fc = nn.Linear(NOISE, dim * LENGTH)
        self.blocks = nn.Sequential(*[Block(dim) for _ in range(5)])
        self.out = nn.Conv1d(dim, VOCAB, 1)

    def forward(self, z):
        h = self.fc(z).view(-1, self.dim, LENGTH)
        return torch.softmax(self.out(self.blocks(h)), dim=1)


class Critic(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.inp = nn.Conv1d(VOCAB, dim, 1)
        self.blocks = nn.Sequential(*[Block(dim) for _ in range(5)])
        self.fc = nn.Linear(dim * LENGTH, 1)

    def forward(self, x):
        return self.fc(self.blocks(self.inp(x)).flatten(1)).squeeze(1)


def main() -> None:
    args = worker_args(__doc__.splitlines()[0])
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dim = WIDTH[args.preset]
    ids = torch.randint(0, VOCAB, (100_000, LENGTH), dtype=torch.uint8)
    G, D = Generator(dim), Critic(dim)
    g_opt = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
    d_opt = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    bf16 = args.precision == "bf16"
    B = args.batch

    def real_batch():
        idx = torch.randint(0, len(ids), (B,))
        return nn.functional.one_hot(ids[idx].long(), VOCAB).transpose(1, 2).float()

    def step():
        for _ in range(10):
            real = real_batch()
            with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
                fake = G(torch.randn(B, NOISE)).detach().float()
                alpha = torch.rand(B, 1, 1)
                mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
                d_mix = D(mix)
                grad = torch.autograd.grad(d_mix.float().sum(), mix, create_graph=True)[0]
                gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
                loss = D(fake).float().mean() - D(real).float().mean() + 10 * gp
            d_opt.zero_grad()
            loss.backward()
            d_opt.step()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            g_loss = -D(G(torch.randn(B, NOISE))).float().mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()

    rates = time_windows(step, lambda: None, args)
    report("torch-plain", args, rates, version=torch.__version__)


if __name__ == "__main__":
    main()
