"""Starting a new run from another run's weights (``ganforge train --init-from RUN``):
fine-tuning on new data of the same shape.

G and D (and the EMA copy of G) come from the other run's newest checkpoint; the step, the
data's place, the RNG and, unless asked, the optimisers start fresh. Every tensor is checked
against the new networks before anything is written, so a mismatch is one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganforge.engine import checkpoint as ckpt
from ganforge.errors import RunError

_HYPER = ("lr", "betas", "eps", "weight_decay")  # the new run's settings, kept on loading


@dataclass
class InitSource:
    """The checkpoint a run starts from, read once: its weights and optimiser state."""

    run: str  # as the user named it
    path: Path  # the checkpoint directory
    step: int
    weights: dict[str, torch.Tensor]
    extra: dict[str, torch.Tensor]
    state: dict[str, Any]
    optimizer: bool = False  # copy the optimisers' state too

    def as_meta(self) -> dict[str, Any]:
        """What ``run.json`` records about it."""
        return {
            "run": self.run,
            "checkpoint": str(self.path),
            "step": self.step,
            "optimizer": self.optimizer,
        }


def read_source(run: str | Path, optimizer: bool = False) -> InitSource:
    """The newest complete checkpoint of ``run`` (a run directory, its ``best/`` folder or
    one checkpoint directory), or a RunError saying why there is none."""
    root = Path(run).expanduser()
    if (root / "weights.safetensors").is_file():
        path: Path | None = root
    elif (root / "checkpoints").is_dir():
        path = ckpt.latest_checkpoint(root / "checkpoints")
    elif root.is_dir():
        path = ckpt.latest_checkpoint(root)
    else:
        raise RunError(f"--init-from {run}: no such run directory")
    if path is None:
        raise RunError(f"--init-from {run}: it holds no complete checkpoint; train it first")
    weights, extra, state = ckpt.load_checkpoint(path)
    return InitSource(str(run), path, int(state.get("step", 0)), weights, extra, state, optimizer)


def _check(source: InitSource, net: nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """The saved tensors of ``prefix`` for ``net``, after checking every name and shape."""
    saved = ckpt.split_prefixed(source.weights, prefix)
    own = net.state_dict()
    where = f"--init-from {source.run}"
    for key, tensor in own.items():
        if key not in saved:
            raise RunError(
                f"{where}: its {prefix} has no tensor {key}; start from a run of the same "
                "model settings (model.arch, widths, arch.*, conditioning)"
            )
        there, here = tuple(saved[key].shape), tuple(tensor.shape)
        if there != here:
            raise RunError(
                f"{where}: {prefix}.{key} is {list(there)} there but {list(here)} here; "
                "train on data of the same shape with the same model settings"
            )
    extra = sorted(set(saved) - set(own))
    if extra:
        raise RunError(
            f"{where}: its {prefix} holds {prefix}.{extra[0]}, which this model has not; start "
            "from a run of the same model settings"
        )
    return saved


def copy_networks(source: InitSource, G: nn.Module, D: nn.Module) -> None:
    """Load G and D from ``source`` (fresh networks, before the trainer wraps them)."""
    g_saved, d_saved = _check(source, G, "G"), _check(source, D, "D")
    G.load_state_dict(g_saved)
    D.load_state_dict(d_saved)


def finish(source: InitSource, trainer: Any) -> str:
    """The EMA copy and (when asked) the optimisers' state into a trainer built on the copied
    networks; returns the line that says what was copied."""
    copied = ["G", "D"]
    if trainer.ema is not None:
        shadow = trainer.ema.shadow
        if ckpt.split_prefixed(source.weights, "G_ema"):
            shadow.load_state_dict(_check(source, shadow, "G_ema"))
            copied.append("EMA")
        else:
            copied.append("EMA (from G: that run kept none)")
    if source.optimizer:
        for name, opt in (("g_opt", trainer.g_opt), ("d_opt", trainer.d_opt)):
            if name not in source.state:
                raise RunError(f"--init-from {source.run}: its checkpoint holds no {name}")
            hyper = [{k: g[k] for k in _HYPER if k in g} for g in opt.param_groups]
            ckpt.optimizer_from_flat(name, opt, source.extra, source.state[name])
            for group, mine in zip(opt.param_groups, hyper, strict=True):
                group.update(mine)  # this run's learning rates and betas
    optimiser = "copied (this run's learning rates)" if source.optimizer else "fresh"
    what = ", ".join(copied)
    return f"init from {source.run} step {source.step}: {what} copied; optimiser {optimiser}"
