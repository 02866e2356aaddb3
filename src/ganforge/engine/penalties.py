"""Gradient penalties on the discriminator: WGAN-GP (Gulrajani et al. 2017) and R1 (Mescheder
et al. 2018). Both return a scalar to be added, times a weight, to D's loss."""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def _input_gradients(outputs: Tensor, inputs: Tensor) -> Tensor:
    (grad,) = torch.autograd.grad(outputs.sum(), inputs, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(D, real: Tensor, fake: Tensor, labels: Tensor | None = None) -> Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] at random points x_hat between real and fake samples."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    grad = _input_gradients(D(x_hat, labels), x_hat)
    return (grad.norm(2, dim=1) - 1.0).square().mean()


def r1_penalty(real_logits: Tensor, real: Tensor) -> Tensor:
    """E[||grad_x D(x)||^2] on real data; ``real`` must have required grad when D ran on it.

    The caller scales it by gamma / 2 (and by k for lazy regularisation every k steps).
    """
    grad = _input_gradients(real_logits, real)
    return grad.square().sum(dim=1).mean()
