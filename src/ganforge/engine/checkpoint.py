"""Checkpoints that are safe to load and never half-written.

A checkpoint is a directory ``step-00001000/`` holding

* ``weights.safetensors`` - every network's tensors (``G.*``, ``D.*``, ``G_ema.*``),
* ``optim.safetensors``   - optimiser and RNG tensors,
* ``state.json``          - step, optimiser hyper-parameters, sampler state, anything else.

Nothing is unpickled, so loading cannot execute code. The directory is written under a
temporary name, flushed to disk, then renamed: a reader sees a whole checkpoint or none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ganforge.errors import RunError

_NAME = re.compile(r"^step-(\d{8,})$")
FILES = ("weights.safetensors", "optim.safetensors", "state.json")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}


def optimizer_to_flat(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Split an optimiser's state into tensors (for safetensors) and plain data (for JSON)."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain_state: dict[str, dict[str, Any]] = {}
    for idx, entry in sd["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.state.{idx}.{key}"] = value
            else:
                plain_state.setdefault(str(idx), {})[key] = value
    groups = json.loads(json.dumps(sd["param_groups"], default=list))
    return tensors, {"param_groups": groups, "plain_state": plain_state}


def optimizer_from_flat(
    prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], plain: dict
) -> None:
    """Inverse of :func:`optimizer_to_flat`: load the state into ``opt``."""
    state: dict[int, dict[str, Any]] = {}
    head = f"{prefix}.state."
    for name, value in tensors.items():
        if name.startswith(head):
            idx, key = name[len(head) :].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    for idx, entry in plain.get("plain_state", {}).items():
        state.setdefault(int(idx), {}).update(entry)
    groups = plain["param_groups"]
    for g, current in zip(groups, opt.param_groups, strict=False):
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        # how the update runs is this process's choice (train.fused_adam), not the saver's
        for key in ("fused", "foreach"):
            if key in current:
                g[key] = current[key]
    opt.load_state_dict({"state": state, "param_groups": groups})
    _state_like_params(opt)


def _state_like_params(opt: torch.optim.Optimizer) -> None:
    """Give each per-element state tensor its parameter's memory layout. Safetensors hands
    tensors back contiguous (NCHW) while channels_last weights are NHWC; a fused Adam walks
    the parameter and its moments as flat memory, so mixed layouts would pair the wrong
    elements (measured: updates off by up to the step size on a resumed run)."""
    for group in opt.param_groups:
        for param in group["params"]:
            entry = opt.state.get(param, {})
            for key, value in entry.items():
                if torch.is_tensor(value) and value.shape == param.shape:
                    if value.stride() != param.stride():
                        entry[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def save_checkpoint(
    root: Path,
    step: int,
    weights: dict[str, torch.Tensor],
    extra_tensors: dict[str, torch.Tensor],
    state: dict[str, Any],
    keep: int | None = None,
) -> Path:
    """Write checkpoint ``root/step-XXXXXXXX`` atomically; keep only the newest ``keep``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:08d}"
    for leftover in root.glob(".tmp-step-*"):  # from a writer that was killed mid-save
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = root / f".tmp-step-{step:08d}-{os.getpid()}"
    tmp.mkdir()
    try:
        save_file(_contiguous(weights), str(tmp / "weights.safetensors"))
        save_file(_contiguous(extra_tensors), str(tmp / "optim.safetensors"))
        (tmp / "state.json").write_text(json.dumps(state, indent=1))
        for name in FILES:
            _fsync_file(tmp / name)
        _fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():  # re-saving the same step (e.g. interrupt right after a save)
        old = root / f".old-step-{step:08d}-{os.getpid()}"
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(final)
    _fsync_dir(root)
    if keep:
        for old in list_checkpoints(root)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(root: Path) -> list[Path]:
    """Complete checkpoint directories under ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _NAME.match(p.name)
        if m and p.is_dir() and all((p / f).is_file() for f in FILES):
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


def load_checkpoint(path: Path) -> tuple[dict, dict, dict]:
    """(weights, extra tensors, state) of one checkpoint directory; never executes code."""
    path = Path(path)
    try:
        weights = load_file(str(path / "weights.safetensors"))
        extra = load_file(str(path / "optim.safetensors"))
        state = json.loads((path / "state.json").read_text())
    except (OSError, ValueError, RuntimeError) as exc:
        raise RunError(f"checkpoint {path} cannot be read ({exc}); it may be damaged") from None
    except Exception as exc:  # safetensors raises its own error type for corrupt headers
        raise RunError(f"checkpoint {path} cannot be read ({exc}); it may be damaged") from None
    return weights, extra, state


def checkpoint_step(path: Path) -> int:
    """The training step a checkpoint directory (``step-NNNNNNNN``) was written at."""
    m = _NAME.match(Path(path).name)
    if m is None:
        raise ValueError(f"{path} is not a checkpoint directory (step-NNNNNNNN)")
    return int(m.group(1))


def latest_checkpoint(root: Path) -> Path | None:
    """Newest complete checkpoint that loads, or None."""
    for path in reversed(list_checkpoints(root)):
        try:
            load_checkpoint(path)
        except RunError:
            continue
        return path
    return None


def split_prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """``{'G.a': t}`` with prefix ``'G'`` -> ``{'a': t}``."""
    head = prefix + "."
    return {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}
