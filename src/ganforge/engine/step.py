"""One training step of the adversarial game, readable top to bottom.

``train_step`` is the low-level entry point for people with their own loop::

    stats = train_step(G, D, g_opt, d_opt, real_batch)

It does one discriminator update then one generator update (``step="alternating"``), or
the TensorFlow DCGAN tutorial's step (``step="simultaneous"``): one generator pass and one
discriminator pass on the fakes feed both updates, each network's gradients taken from its
own loss, so D and G both move from the same point of the game.

Statistics come back as detached tensors (no device sync), turned into floats only when
they are logged.

Under ``DistributedDataParallel`` the wrapped D runs the real batch (one synchronised forward
per backward, as DDP requires) and its inner module runs the fakes and penalties: gradients
from every path meet in the same parameters, so each is all-reduced once.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from ganforge.engine.distributed import unwrap
from ganforge.engine.losses import GANLoss, game_value, get_loss
from ganforge.engine.penalties import gradient_penalty, r1_penalty

Tensor = torch.Tensor


@dataclass
class StepOptions:
    """How a step is taken (everything that is not a network, optimiser or batch)."""

    loss: GANLoss | str = "nonsaturating"
    penalty: str = "none"  # none | wgan-gp | r1
    penalty_weight: float = 10.0
    r1_every: int = 1
    measure_grads: bool = False  # also return gradient norms (costs a little)
    autocast: AbstractContextManager | None = None  # e.g. torch.autocast("cpu", torch.bfloat16)
    shared_backward: bool = True  # simultaneous step: one backward through D on the fakes


def sample_z(batch: int, z_dim: int, device: torch.device | str) -> Tensor:
    """Standard normal latent codes, from the global torch RNG (saved in checkpoints)."""
    return torch.randn(batch, z_dim, device=device)


def _grad_norm(params: list[nn.Parameter]) -> Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def _ctx(opts: StepOptions) -> AbstractContextManager:
    return opts.autocast if opts.autocast is not None else nullcontext()


def d_step(
    G: nn.Module,
    D: nn.Module,
    d_opt: torch.optim.Optimizer,
    real: Tensor,
    labels: Tensor | None = None,
    *,
    opts: StepOptions | None = None,
    d_step_index: int = 0,
    keep_fake: bool = False,
) -> tuple[dict[str, Tensor], Tensor | None]:
    """One discriminator update on ``real`` and a fresh fake batch.

    Returns (stats, fake). With ``keep_fake`` the fake batch keeps its graph to G so the
    generator step can reuse it (one G forward pass per iteration instead of two).
    """
    opts = opts or StepOptions()
    loss = get_loss(opts.loss)
    z = sample_z(real.shape[0], unwrap(G).z_dim, real.device)
    use_r1 = opts.penalty == "r1" and d_step_index % opts.r1_every == 0
    if use_r1:
        real = real.detach().requires_grad_(True)
    with _ctx(opts):
        with torch.set_grad_enabled(keep_fake):
            fake = G(z, labels)
        real_logits = D(real, labels).float()
        fake_logits = unwrap(D)(fake.detach(), labels).float()
    d_loss = loss.d(real_logits, fake_logits)
    stats = {"d_loss": d_loss.detach()}
    total = d_loss
    if opts.penalty == "wgan-gp":
        with _ctx(opts):
            gp = gradient_penalty(unwrap(D), real, fake, labels).float()
        total = total + opts.penalty_weight * gp
        stats["penalty"] = gp.detach()
    elif use_r1:
        r1 = r1_penalty(real_logits, real)
        total = total + 0.5 * opts.penalty_weight * opts.r1_every * r1
        stats["penalty"] = r1.detach()
    d_opt.zero_grad(set_to_none=True)
    total.backward()
    if opts.measure_grads:
        stats["d_grad_norm"] = _grad_norm(list(D.parameters()))
    d_opt.step()
    stats.update(_game_stats(loss, real_logits.detach(), fake_logits.detach()))
    return stats, (fake if keep_fake else None)


def g_step(
    G: nn.Module,
    D: nn.Module,
    g_opt: torch.optim.Optimizer,
    batch: int,
    labels: Tensor | None = None,
    *,
    opts: StepOptions | None = None,
    fake: Tensor | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, Tensor]:
    """One generator update: minimise the loss's G objective on D's verdict of G's samples.

    ``fake`` may be a batch from the preceding D step (with its graph); else one is drawn.
    Only G's gradients are computed: D's weights are inputs, not targets, of this backward.
    """
    opts = opts or StepOptions()
    loss = get_loss(opts.loss)
    g_params = [p for p in G.parameters() if p.requires_grad]
    with _ctx(opts):
        if fake is None:
            fake = G(sample_z(batch, unwrap(G).z_dim, device), labels)
        fake_logits = unwrap(D)(fake, labels).float()
    g_loss = loss.g(fake_logits)
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward(inputs=g_params)
    stats = {"g_loss": g_loss.detach()}
    if opts.measure_grads:
        stats["g_grad_norm"] = _grad_norm(g_params)
    g_opt.step()
    return stats


def simultaneous_step(
    G: nn.Module,
    D: nn.Module,
    g_opt: torch.optim.Optimizer,
    d_opt: torch.optim.Optimizer,
    real: Tensor,
    labels: Tensor | None = None,
    *,
    opts: StepOptions | None = None,
) -> dict[str, Tensor]:
    """The TF DCGAN tutorial's step: one G pass and one D pass on the fakes feed both updates.

    Written as in the tutorial, the fakes' path through D is differentiated twice: once for
    G's loss (down to the images) and once for D's (for D's weights). When D scores each
    sample on its own (:func:`samples_independent`), one backward serves both: per sample,
    the two losses send the same vector back through D, scaled by different numbers (their
    derivatives at that sample's logit), so G's gradient at the fakes is D's, rescaled per
    sample by ``dG/dD`` (:func:`_shared_fake_backward`). Same gradients, one D backward less.
    """
    opts = opts or StepOptions()
    loss = get_loss(opts.loss)
    g_params = [p for p in G.parameters() if p.requires_grad]
    d_params = [p for p in D.parameters() if p.requires_grad]
    z = sample_z(real.shape[0], unwrap(G).z_dim, real.device)
    shared = opts.shared_backward and samples_independent(D)
    with _ctx(opts):
        fake = G(z, labels)
        shared = shared and not _float16(fake)
        # With the shared backward, D sees a leaf copy of the fakes: its gradient is D's.
        fake_in = fake.detach().requires_grad_(True) if shared else fake
        real_logits = D(real, labels).float()
        fake_logits = unwrap(D)(fake_in, labels).float()
    g_loss = loss.g(fake_logits)
    d_loss = loss.d(real_logits, fake_logits)
    g_opt.zero_grad(set_to_none=True)
    d_opt.zero_grad(set_to_none=True)
    if shared:
        _shared_fake_backward(g_loss, d_loss, fake, fake_in, fake_logits, g_params, d_params)
    else:
        g_loss.backward(inputs=g_params, retain_graph=True)
        d_loss.backward(inputs=d_params)
    stats = {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
    if opts.measure_grads:
        stats["g_grad_norm"] = _grad_norm(g_params)
        stats["d_grad_norm"] = _grad_norm(d_params)
    g_opt.step()
    d_opt.step()
    stats.update(_game_stats(loss, real_logits.detach(), fake_logits.detach()))
    return stats


def samples_independent(D: nn.Module) -> bool:
    """Whether D's logit for a sample depends on that sample alone (no batch statistics).

    Nets say so through an ``independent_samples`` attribute (``ganforge.nets``'
    discriminators: True unless they hold batch norm); a net without one is assumed to mix
    samples, which only costs the shared backward.
    """
    return bool(getattr(unwrap(D), "independent_samples", False))


def _float16(x: Tensor) -> bool:
    """Whether D runs in float16 here: its 5-bit exponent underflows ``dD_i * J_i`` long
    before ``dD_i`` is small enough to be caught below, so the shared backward is off."""
    dev = x.device.type
    autocast16 = torch.is_autocast_enabled(dev) and torch.get_autocast_dtype(dev) == torch.float16
    return x.dtype == torch.float16 or autocast16


# Below this, a fake's D-loss derivative is too small to carry G's gradient through D
# (bf16/fp32 gradients of ~1e-20 x D's Jacobian stay far above the smallest normal float).
_SHARED_SCALE_FLOOR = 1e-20


def _shared_fake_backward(
    g_loss: Tensor,
    d_loss: Tensor,
    fake: Tensor,
    fake_in: Tensor,
    fake_logits: Tensor,
    g_params: list[nn.Parameter],
    d_params: list[nn.Parameter],
) -> None:
    """D's gradients and G's from one backward through D's fakes path (see above).

    With ``l_i`` fake ``i``'s logit and ``J_i`` its gradient at the image, D's loss sends
    ``dD_i * J_i`` to the image and G's loss ``dG_i * J_i``, so G's is D's times
    ``dG_i / dD_i``. Where that cannot be divided out (a derivative of D's loss that is zero
    or tiny, as hinge's for confident fakes, or not one logit per sample) the fakes' path is
    differentiated twice, as written in the tutorial.
    """
    d_g = torch.autograd.grad(g_loss, fake_logits, retain_graph=True)[0]
    d_d = torch.autograd.grad(d_loss, fake_logits, retain_graph=True)[0]
    batch = fake.shape[0]
    # bool(): a host sync (free on the CPU; the divergence guard syncs every step anyway)
    if d_d.numel() == batch and bool((d_d.abs() >= _SHARED_SCALE_FLOOR).all()):
        d_loss.backward(inputs=[*d_params, fake_in])
        grad = fake_in.grad
        math = torch.promote_types(grad.dtype, torch.float32)
        ratio = (d_g.double() / d_d.double()).to(math).reshape(batch, *[1] * (fake.dim() - 1))
        fake.backward((grad.to(math) * ratio).to(fake.dtype), inputs=g_params)
        return
    g_grad = torch.autograd.grad(g_loss, fake_in, retain_graph=True)[0]
    d_loss.backward(inputs=d_params)
    fake.backward(g_grad, inputs=g_params)


def _game_stats(loss: GANLoss, real_logits: Tensor, fake_logits: Tensor) -> dict[str, Tensor]:
    stats = {
        "d_real": torch.sigmoid(real_logits).mean(),
        "d_fake": torch.sigmoid(fake_logits).mean(),
    }
    if loss.bce:
        stats["value"] = game_value(real_logits, fake_logits)
    return stats


def train_step(
    G: nn.Module,
    D: nn.Module,
    g_opt: torch.optim.Optimizer,
    d_opt: torch.optim.Optimizer,
    real: Tensor,
    labels: Tensor | None = None,
    *,
    loss: GANLoss | str = "nonsaturating",
    step: str = "alternating",
    opts: StepOptions | None = None,
) -> dict[str, Tensor]:
    """One iteration of the game on one real batch: a D update then a G update.

    ``step="alternating"``: D learns from real and fresh fakes; then G learns from D's
    updated verdict on those same fakes. ``step="simultaneous"``: both learn from one pass.
    For several D steps per G step, call :func:`d_step` yourself, then :func:`g_step`.
    """
    opts = opts or StepOptions(loss=loss)
    if step == "simultaneous":
        return simultaneous_step(G, D, g_opt, d_opt, real, labels, opts=opts)
    if step != "alternating":
        raise ValueError(f"step must be 'alternating' or 'simultaneous'; got {step!r}")
    stats, fake = d_step(G, D, d_opt, real, labels, opts=opts, keep_fake=True)
    stats.update(g_step(G, D, g_opt, real.shape[0], labels, opts=opts, fake=fake))
    return stats
