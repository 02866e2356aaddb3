"""Several discriminators, or one D with several heads, in one game.

D may return a logit tensor (B,) or a dict of named outputs. The adversarial heads are the
entries D lists in its ``head_weights`` attribute (name -> default weight), or every entry
when it lists none; ``loss.head_weights`` overrides their weights. Other entries (an ACGAN
class head, say) are for auxiliary losses. Each head plays the loss; D's and G's objectives
are the weighted sums, and the game statistics are kept per head.
"""

from __future__ import annotations

from typing import Any

import torch

from ganforge.engine.distributed import unwrap
from ganforge.engine.losses import GANLoss, game_value

Tensor = torch.Tensor


def head_weights(
    D: Any, out: Tensor | dict[str, Tensor], given: dict[str, float]
) -> dict[str, float]:
    """Weight of each adversarial head of ``out`` (a tensor is the single head ``""``)."""
    if torch.is_tensor(out):
        return {"": 1.0}
    declared = getattr(unwrap(D), "head_weights", None)
    unknown = sorted(set(given) - set(declared if declared is not None else out))
    if unknown:
        known = ", ".join(declared if declared is not None else out)
        raise ValueError(
            f"loss.head_weights names no head of D: {', '.join(unknown)} (D has {known})"
        )
    names = list(declared) if declared is not None else list(out)
    base = dict(declared) if declared is not None else {}
    weights = {k: float(given.get(k, base.get(k, 1.0))) for k in names}
    return {k: w for k, w in weights.items() if w > 0}


def logits(out: Tensor | dict[str, Tensor], name: str) -> Tensor:
    return out if name == "" else out[name]


def as_float(out: Tensor | dict[str, Tensor]) -> Tensor | dict[str, Tensor]:
    if torch.is_tensor(out):
        return out.float()
    return {k: v.float() for k, v in out.items()}


def combined(out: Tensor | dict[str, Tensor], weights: dict[str, float]) -> Tensor:
    """Σ_h w_h logits_h: what a gradient penalty differentiates for several heads."""
    if torch.is_tensor(out):
        return out
    return sum(w * out[k] for k, w in weights.items())


def d_objective(loss: GANLoss, real: Any, fake: Any, weights: dict[str, float]) -> Tensor:
    """D's loss: Σ_h w_h loss.d(real_h, fake_h) (one head: the loss itself)."""
    if torch.is_tensor(real):
        return loss.d(real, fake)
    return sum(w * loss.d(real[k], fake[k]) for k, w in weights.items())


def g_objective(loss: GANLoss, fake: Any, weights: dict[str, float]) -> Tensor:
    """G's loss: Σ_h w_h loss.g(fake_h) (one head: the loss itself)."""
    if torch.is_tensor(fake):
        return loss.g(fake)
    return sum(w * loss.g(fake[k]) for k, w in weights.items())


def game_stats(loss: GANLoss, real: Any, fake: Any, weights: dict[str, float]) -> dict[str, Tensor]:
    """D(x), D(G(z)) (and V(D, G) for the BCE games) per head, and their weighted means.
    For a loss whose D output is no probability (a critic: hinge, Wasserstein) also the
    critic's mean raw scores ``critic_real``, ``critic_fake`` and their ``critic_gap``
    (the Wasserstein estimate for a Wasserstein critic; 0 when G matches the data).

    One head: ``d_real``, ``d_fake``, ``value``. Several: also ``d_real.NAME`` and so on.
    """
    per: dict[str, dict[str, Tensor]] = {}
    for k in weights:
        r, f = logits(real, k).detach(), logits(fake, k).detach()
        s = {"d_real": torch.sigmoid(r).mean(), "d_fake": torch.sigmoid(f).mean()}
        if loss.bce:
            s["value"] = game_value(r, f)
        else:
            s["critic_real"], s["critic_fake"] = r.float().mean(), f.float().mean()
            s["critic_gap"] = s["critic_real"] - s["critic_fake"]
        per[k] = s
    if list(per) == [""]:
        return per[""]
    total = sum(weights.values())
    stats = {
        key: sum(weights[k] * per[k][key] for k in per) / total for key in per[next(iter(per))]
    }
    for k, s in per.items():
        stats.update({f"{key}.{k}": v for key, v in s.items()})
    return stats
