"""What a checkpoint holds and how a trainer goes back to it: weights, optimisers, every
rank's RNG, the data's and the D-input transform's state, counters, the guard's cuts.

A mixin of :class:`ganforge.engine.trainer.Trainer`; it reads and sets the trainer's fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.engine import checkpoint as ckpt
from ganforge.engine.distributed import any_rank, from_main, gather_to_all
from ganforge.errors import RunError, TrainingError

RANK_SEED_STRIDE = 1_000_003  # rank r draws from seed + r * stride (rank 0: the seed itself)


class TrainState:
    """Checkpoint capture, save, load and resume for the trainer."""

    def state_tensors(
        self: Any, rank_rng: dict[str, torch.Tensor] | None = None
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
        """(weights, optimiser + RNG tensors, plain state) of this moment; ``rank_rng``
        adds the other ranks' RNG states (see :meth:`_rank_rng_states`)."""
        weights = ckpt.prefixed(self.G.state_dict(), "G")
        weights.update(ckpt.prefixed(self.D.state_dict(), "D"))
        if self.ema is not None:
            weights.update(ckpt.prefixed(self.ema.shadow.state_dict(), "G_ema"))
        extra, g_plain = ckpt.optimizer_to_flat("g_opt", self.g_opt)
        d_extra, d_plain = ckpt.optimizer_to_flat("d_opt", self.d_opt)
        extra.update(d_extra)
        extra["rng.cpu"] = torch.get_rng_state()
        if self.device.type == "cuda":
            extra["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        extra.update(rank_rng or {})
        state = {
            "step": self.step,
            "d_steps": self.d_steps,
            "samples_seen": self.samples_seen,
            "elapsed": self.elapsed,
            "sampler": self.data.state_dict(),  # the training data's place, over all ranks
            "g_opt": g_plain,
            "d_opt": d_plain,
            "last_stats": self.last_stats,
            "recoveries": self.guard.recoveries,
            "lr_scale": self.guard.lr_scale,
            "world_size": self.dist.world_size,
            "format": 1,
        }
        transform_state = getattr(self.transform, "state_dict", None)
        if transform_state is not None:
            state["transform"] = transform_state()
        return weights, extra, state

    def _rank_rng_states(self: Any) -> dict[str, torch.Tensor]:
        """Ranks 1.. RNG states, gathered (every rank takes part) so that rank 0 saves them
        and a job resumed with as many processes continues exactly."""
        if not self.dist.enabled:
            return {}
        out = {}
        for r, state in enumerate(gather_to_all(torch.get_rng_state(), self.dist)):
            if r:
                out[f"rng.cpu.rank{r}"] = state
        if self.device.type == "cuda":
            cuda = gather_to_all(torch.cuda.get_rng_state(self.device), self.dist)
            out.update({f"rng.cuda.rank{r}": st for r, st in enumerate(cuda) if r})
        return out

    def save(self: Any) -> Path | None:
        """Checkpoint now (refuses to save non-finite weights). Distributed: rank 0 writes,
        every rank waits until it has."""
        if self.run_dir is None:
            return None
        for name, net in (("G", self.G), ("D", self.D)):
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                raise TrainingError(
                    f"{name}'s weights are not finite at step {self.step}; not saving them. "
                    "Lower optim.g_lr / optim.d_lr or add loss.penalty and --resume"
                )
        root = self.run_dir / "checkpoints"
        path, failure = None, None
        rank_rng = self._rank_rng_states()
        if self.dist.is_main:
            weights, extra, state = self.state_tensors(rank_rng)
            try:
                path = ckpt.save_checkpoint(
                    root, self.step, weights, extra, state, keep=self.cfg.log.keep_checkpoints
                )
            except OSError as exc:
                failure = (
                    f"cannot write a checkpoint in {root}: {exc.strerror or exc}; free disk "
                    "space or fix permissions, then --resume (the last complete checkpoint is "
                    "intact)"
                )
        if any_rank(failure is not None, self.dist):
            raise RunError(failure or "rank 0 could not write a checkpoint; see its message")
        return path

    def load(self: Any, path: Path) -> None:
        """Restore everything a checkpoint holds: weights, optimisers, RNG, data, step."""
        weights, extra, state = ckpt.load_checkpoint(path)
        self.G.load_state_dict(ckpt.split_prefixed(weights, "G"))
        self.D.load_state_dict(ckpt.split_prefixed(weights, "D"))
        if self.ema is not None:
            ema_w = ckpt.split_prefixed(weights, "G_ema") or ckpt.split_prefixed(weights, "G")
            self.ema.shadow.load_state_dict(ema_w)
        ckpt.optimizer_from_flat("g_opt", self.g_opt, extra, state["g_opt"])
        ckpt.optimizer_from_flat("d_opt", self.d_opt, extra, state["d_opt"])
        torch.set_rng_state(extra["rng.cpu"])
        if self.device.type == "cuda" and "rng.cuda" in extra:
            torch.cuda.set_rng_state(extra["rng.cuda"], self.device)
        self.data.load_state_dict(dict(state["sampler"]))
        if self.transform is not None and "transform" in state:
            self.transform.load_state_dict(state["transform"])
        self.step = int(state["step"])
        self.d_steps = int(state.get("d_steps", 0))
        # checkpoints written before the rename call it images_seen
        self.samples_seen = int(state.get("samples_seen", state.get("images_seen", 0)))
        self.elapsed = float(state.get("elapsed", 0.0))
        self.last_stats = dict(state.get("last_stats", {}))
        self.guard.recoveries = int(state.get("recoveries", 0))
        self.guard.lr_scale = float(state.get("lr_scale", 1.0))
        r = self.dist.rank
        if r and state.get("world_size") == self.dist.world_size and f"rng.cpu.rank{r}" in extra:
            torch.set_rng_state(extra[f"rng.cpu.rank{r}"])  # same job shape: continue exactly
            if self.device.type == "cuda" and f"rng.cuda.rank{r}" in extra:
                torch.cuda.set_rng_state(extra[f"rng.cuda.rank{r}"], self.device)
        elif r:  # saved by a job of another size: derive this rank's stream
            torch.manual_seed(self.cfg.train.seed + RANK_SEED_STRIDE * r + self.step)

    def resume(self: Any) -> Path | None:
        """Load the newest complete checkpoint of the run, if any; trims later log lines."""
        if self.run_dir is None:
            return None
        path = self._agreed_latest_checkpoint()
        if path is None:
            return None
        self.load(path)
        self.metrics_log.trim(self.step)
        return path

    def _agreed_latest_checkpoint(self: Any) -> Path | None:
        """The newest complete checkpoint as rank 0 sees it; every rank must be able to read
        it (a run directory on storage all nodes share)."""
        root = self.run_dir / "checkpoints"
        found = ckpt.latest_checkpoint(root) if self.dist.is_main else None
        name = from_main(found.name if found is not None else "", self.dist)
        if not name:
            return None
        path = root / name
        if any_rank(not path.is_dir(), self.dist):
            raise RunError(
                f"checkpoint {path} is not visible to every process of the job; put the run "
                "directory on storage all nodes share (or resume in one process)"
            )
        return path
