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
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ganforge.engine.aux import AuxLoss, d_terms, g_terms
from ganforge.engine.distributed import unwrap
from ganforge.engine.heads import (
    as_float,
    combined,
    d_objective,
    g_objective,
    game_stats,
    head_weights,
)
from ganforge.engine.latent import sample_latent
from ganforge.engine.losses import GANLoss, get_loss
from ganforge.engine.penalties import gradient_penalty, r1_penalty
from ganforge.engine.transforms import apply

Tensor = torch.Tensor
_SAME: Any = object()  # fake_cond default: the real batch's condition


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
    transform: Any = None  # a D-input transform (engine.transforms), applied to real and fake
    aux: list[AuxLoss] = field(default_factory=list)  # auxiliary loss terms (engine.aux)
    head_weights: dict[str, float] = field(default_factory=dict)  # D heads' weights


def _grad_norm(params: list[nn.Parameter]) -> Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def _ctx(opts: StepOptions) -> AbstractContextManager:
    return opts.autocast if opts.autocast is not None else nullcontext()


def _penalty_net(D: nn.Module, weights: dict[str, float]):
    """D as one logit per sample, for the gradient penalty (heads summed by weight)."""
    net = unwrap(D)
    if weights == {"": 1.0}:
        return net
    return lambda x, c: combined(net(x, c), weights)


def _observe(opts: StepOptions, real_out: Any) -> None:
    observe = getattr(opts.transform, "observe", None)
    if observe is not None:
        observe(
            real_out.detach()
            if torch.is_tensor(real_out)
            else {k: v.detach() for k, v in real_out.items()}
        )


def d_step(
    G: nn.Module,
    D: nn.Module,
    d_opt: torch.optim.Optimizer,
    real: Tensor,
    cond: Any = None,
    *,
    fake_cond: Any = _SAME,
    opts: StepOptions | None = None,
    d_step_index: int = 0,
    keep_fake: bool = False,
) -> tuple[dict[str, Tensor], Tensor | None]:
    """One discriminator update on ``real`` (under ``cond``) and a fresh fake batch (drawn
    for ``fake_cond``, by default ``cond``).

    Returns (stats, fake). With ``keep_fake`` the fake batch keeps its graph to G so the
    generator step can reuse it (one G forward pass per iteration instead of two).
    """
    opts = opts or StepOptions()
    loss = get_loss(opts.loss)
    fake_cond = cond if fake_cond is _SAME else fake_cond
    z = sample_latent(G, real.shape[0], real.device)
    use_r1 = opts.penalty == "r1" and d_step_index % opts.r1_every == 0
    if use_r1:
        real = real.detach().requires_grad_(True)
    with _ctx(opts):
        with torch.set_grad_enabled(keep_fake):
            fake = G(z, fake_cond)
        real_in = apply(opts.transform, real)
        fake_in = apply(opts.transform, fake.detach())
        real_out = as_float(D(real_in, cond))
        fake_out = as_float(unwrap(D)(fake_in, fake_cond))
    weights = head_weights(D, real_out, opts.head_weights)
    d_loss = d_objective(loss, real_out, fake_out, weights)
    stats = {"d_loss": d_loss.detach()}
    total = d_loss
    aux_total, aux_stats = d_terms(opts.aux, real_out, fake_out, cond, fake_cond)
    if aux_total is not None:
        total = total + aux_total
        stats.update(aux_stats)
    if opts.penalty == "wgan-gp":
        with _ctx(opts):
            gp = gradient_penalty(_penalty_net(D, weights), real_in, fake_in, cond).float()
        total = total + opts.penalty_weight * gp
        stats["penalty"] = gp.detach()
    elif use_r1:
        r1 = r1_penalty(combined(real_out, weights), real)
        total = total + 0.5 * opts.penalty_weight * opts.r1_every * r1
        stats["penalty"] = r1.detach()
    d_opt.zero_grad(set_to_none=True)
    total.backward()
    if opts.measure_grads:
        stats["d_grad_norm"] = _grad_norm(list(D.parameters()))
    d_opt.step()
    _observe(opts, real_out)
    stats.update(game_stats(loss, real_out, fake_out, weights))
    return stats, (fake if keep_fake else None)


def g_step(
    G: nn.Module,
    D: nn.Module,
    g_opt: torch.optim.Optimizer,
    batch: int,
    cond: Any = None,
    *,
    opts: StepOptions | None = None,
    fake: Tensor | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, Tensor]:
    """One generator update: minimise the loss's G objective on D's verdict of G's samples
    (drawn for condition ``cond``).

    ``fake`` may be a batch from the preceding D step (with its graph); else one is drawn.
    Only G's gradients are computed: D's weights are inputs, not targets, of this backward.
    """
    opts = opts or StepOptions()
    loss = get_loss(opts.loss)
    g_params = [p for p in G.parameters() if p.requires_grad]
    with _ctx(opts):
        if fake is None:
            fake = G(sample_latent(G, batch, device), cond)
        fake_out = as_float(unwrap(D)(apply(opts.transform, fake), cond))
    weights = head_weights(D, fake_out, opts.head_weights)
    g_loss = g_objective(loss, fake_out, weights)
    aux_total, aux_stats = g_terms(opts.aux, fake, fake_out, cond)
    total = g_loss if aux_total is None else g_loss + aux_total
    g_opt.zero_grad(set_to_none=True)
    total.backward(inputs=g_params)
    stats = {"g_loss": g_loss.detach(), **aux_stats}
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
    cond: Any = None,
    *,
    fake_cond: Any = _SAME,
    opts: StepOptions | None = None,
) -> dict[str, Tensor]:
    """The TF DCGAN tutorial's step: one G pass and one D pass on the fakes feed both updates.

    Written as in the tutorial, the fakes' path through D is differentiated twice: once for
    G's loss (down to the images) and once for D's (for D's weights). When D scores each
    sample on its own (:func:`samples_independent`), one backward serves both: per sample,
    the two losses send the same vector back through D, scaled by different numbers (their
    derivatives at that sample's logit), so G's gradient at the fakes is D's, rescaled per
    sample by ``dG/dD`` (:func:`_shared_fake_backward`). Same gradients, one D backward less.
    It turns itself off where that does not hold: several D heads, auxiliary losses, a
    D-input transform that mixes samples, float16.
    """
    opts = opts or StepOptions()
    loss = get_loss(opts.loss)
    fake_cond = cond if fake_cond is _SAME else fake_cond
    g_params = [p for p in G.parameters() if p.requires_grad]
    d_params = [p for p in D.parameters() if p.requires_grad]
    z = sample_latent(G, real.shape[0], real.device)
    shared = (
        opts.shared_backward
        and samples_independent(D)
        and not opts.aux
        and getattr(opts.transform, "independent_samples", True)
    )
    with _ctx(opts):
        fake = G(z, fake_cond)
        shared = shared and not _float16(fake)
        # With the shared backward, D sees a leaf copy of the fakes: its gradient is D's.
        fake_in = fake.detach().requires_grad_(True) if shared else fake
        real_out = as_float(D(apply(opts.transform, real), cond))
        fake_out = as_float(unwrap(D)(apply(opts.transform, fake_in), fake_cond))
    weights = head_weights(D, real_out, opts.head_weights)
    g_loss = g_objective(loss, fake_out, weights)
    d_loss = d_objective(loss, real_out, fake_out, weights)
    stats = {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
    g_aux, g_aux_stats = g_terms(opts.aux, fake, fake_out, fake_cond)
    d_aux, d_aux_stats = d_terms(opts.aux, real_out, fake_out, cond, fake_cond)
    stats.update(g_aux_stats)
    stats.update(d_aux_stats)
    g_total = g_loss if g_aux is None else g_loss + g_aux
    d_total = d_loss if d_aux is None else d_loss + d_aux
    g_opt.zero_grad(set_to_none=True)
    d_opt.zero_grad(set_to_none=True)
    if shared:
        logit = fake_out if torch.is_tensor(fake_out) else None
        _shared_fake_backward(g_total, d_total, fake, fake_in, logit, g_params, d_params)
    else:
        g_total.backward(inputs=g_params, retain_graph=True)
        d_total.backward(inputs=d_params)
    if opts.measure_grads:
        stats["g_grad_norm"] = _grad_norm(g_params)
        stats["d_grad_norm"] = _grad_norm(d_params)
    g_opt.step()
    d_opt.step()
    _observe(opts, real_out)
    stats.update(game_stats(loss, real_out, fake_out, weights))
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
    fake_logits: Tensor | None,
    g_params: list[nn.Parameter],
    d_params: list[nn.Parameter],
) -> None:
    """D's gradients and G's from one backward through D's fakes path (see above).

    With ``l_i`` fake ``i``'s logit and ``J_i`` its gradient at the image, D's loss sends
    ``dD_i * J_i`` to the image and G's loss ``dG_i * J_i``, so G's is D's times
    ``dG_i / dD_i``. Where that cannot be divided out (a derivative of D's loss that is zero
    or tiny, as hinge's for confident fakes, or not one logit per sample, e.g. several heads:
    ``fake_logits`` None) the fakes' path is differentiated twice, as in the tutorial.
    """
    batch = fake.shape[0]
    if fake_logits is not None:
        d_g = torch.autograd.grad(g_loss, fake_logits, retain_graph=True)[0]
        d_d = torch.autograd.grad(d_loss, fake_logits, retain_graph=True)[0]
    # bool(): a host sync (free on the CPU; the divergence guard syncs every step anyway)
    if (
        fake_logits is not None
        and d_d.numel() == batch
        and bool((d_d.abs() >= _SHARED_SCALE_FLOOR).all())
    ):
        d_loss.backward(inputs=[*d_params, fake_in])
        grad = fake_in.grad
        math = torch.promote_types(grad.dtype, torch.float32)
        ratio = (d_g.double() / d_d.double()).to(math).reshape(batch, *[1] * (fake.dim() - 1))
        fake.backward((grad.to(math) * ratio).to(fake.dtype), inputs=g_params)
        return
    g_grad = torch.autograd.grad(g_loss, fake_in, retain_graph=True)[0]
    d_loss.backward(inputs=d_params)
    fake.backward(g_grad, inputs=g_params)


def train_step(
    G: nn.Module,
    D: nn.Module,
    g_opt: torch.optim.Optimizer,
    d_opt: torch.optim.Optimizer,
    real: Tensor,
    cond: Any = None,
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
        return simultaneous_step(G, D, g_opt, d_opt, real, cond, opts=opts)
    if step != "alternating":
        raise ValueError(f"step must be 'alternating' or 'simultaneous'; got {step!r}")
    stats, fake = d_step(G, D, d_opt, real, cond, opts=opts, keep_fake=True)
    stats.update(g_step(G, D, g_opt, real.shape[0], cond, opts=opts, fake=fake))
    return stats
