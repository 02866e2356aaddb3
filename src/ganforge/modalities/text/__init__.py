"""The text modality: character-level GANs (``text:PATH``, ``wordnet``, ``python-docs``),
scored by the anchor's n-gram JS divergence, BLEU, self-BLEU, distinct-n and verbatim
copies, each beside held-out real text and a Markov-chain baseline. Registered by
:func:`register` (entry point ``text``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ganforge.engine.checkpoint import atomic_write_bytes
from ganforge.errors import ConfigError
from ganforge.generating import draw
from ganforge.modalities.text.evaluate import comparison, evaluate_run, reference_for
from ganforge.modalities.text.likelihood import LikelihoodLoss
from ganforge.modalities.text.recurrent import pretrain
from ganforge.modalities.text.render import text_panel
from ganforge.modalities.text.scoring import decode_ids
from ganforge.modalities.text.specs import register_specs
from ganforge.modalities.text.vocab import Vocabulary
from ganforge.modality import Modality

PICTURE_LINES = 64  # lines a picture shows (the training picture scores 640 samples)


@dataclass
class TextOptions:
    """The ``text`` config section."""

    length: int = field(default=32, metadata={"range": (4, 1024, True)})  # characters
    split: str = field(default="lines", metadata={"choices": ("lines", "chunks")})
    max_samples: int = field(default=0, metadata={"range": (0, None, True)})  # 0: all
    max_vocab: int = field(default=256, metadata={"range": (8, 65536, True)})
    # 0: the most likely character at each position (the anchor); > 0: sampled, p^(1/T)
    temperature: float = field(default=0.0, metadata={"range": (0.0, 10.0, True)})
    # text-gru: seconds of maximum-likelihood training of G before the adversarial game
    pretrain_seconds: float = field(default=0.0, metadata={"range": (0.0, None, True)})
    pretrain_lr: float = field(default=3e-3, metadata={"range": (0.0, 1.0, False)})
    # text-gru: weight of G's likelihood of real text added to its loss during the game
    mle_weight: float = field(default=0.0, metadata={"range": (0.0, None, True)})


def _ids(samples: torch.Tensor, info: dict[str, Any]) -> Any:
    return decode_ids(samples, float(info.get("temperature", 0.0)), int(info.get("seed", 0)))


class TextModality(Modality):
    """Fixed-length character sequences, one-hot (V, L): text panels, ``.txt`` files."""

    name = "text"
    description = "character sequences (one-hot V x L): text panels, .txt, JS-n/BLEU/self-BLEU"
    options = TextOptions
    raw_formats = (".txt", ".npy")
    picture_samples = 640
    holdout_share = 0.1
    takes_temperature = True

    def load_options(self, cfg: Any) -> dict[str, Any]:
        o = cfg.section("text")
        return {
            "length": o.length,
            "split": o.split,
            "holdout": self.holdout(cfg),
            "max_samples": o.max_samples,
            "max_vocab": o.max_vocab,
        }

    def warm_start_plan(self, cfg: Any, G: Any) -> str | None:
        seconds = cfg.section("text").pretrain_seconds
        if not seconds or not hasattr(G, "mle_loss"):
            return None
        return (
            f"warming G up by maximum likelihood for {seconds:g} s before the game "
            "(text.pretrain_seconds; --set text.pretrain_seconds=0 skips it)"
        )

    def warm_start(self, G: Any, D: Any, dataset: Any, cfg: Any, progress: bool) -> list[str]:
        """``text.pretrain_seconds`` of maximum likelihood for a generator that has one."""
        o = cfg.section("text")
        if not o.pretrain_seconds or not hasattr(G, "mle_loss"):
            return []

        torch.manual_seed(cfg.train.seed)
        r = pretrain(
            G,
            dataset.data,
            o.pretrain_seconds,
            cfg.train.batch,
            o.pretrain_lr,
            cfg.train.seed,
            progress,
        )
        return [
            f"pretrained G by maximum likelihood: {r['steps']} steps in {r['seconds']:.0f} s, "
            f"loss {r['loss']:.3f} nats per character"
        ]

    def aux_losses(self, cfg: Any, dataset: Any = None) -> list[Any]:
        """The base terms, and G's likelihood term when ``text.mle_weight`` > 0."""
        terms = super().aux_losses(cfg)
        weight = cfg.section("text").mle_weight
        if weight > 0 and dataset is not None:
            terms.append(LikelihoodLoss(dataset.data, weight))
        return terms

    # ------------------------------------------------------------------ output
    def interpolation_count(self, cfg: Any) -> int:
        return 16

    def lines(self, samples: torch.Tensor, info: dict[str, Any]) -> list[str]:
        """Generated samples as strings (padding dropped)."""
        return Vocabulary.from_state(info["text"]["vocab"]).decode(_ids(samples, info))

    generate_knobs = ("temperature", "truncation")

    def generate(
        self, run: Any, n: int, seed: int, temperature: float | None = None, **knobs: Any
    ) -> list[str]:
        """``temperature``: 0 the most likely character at each position, above 0 drawn from
        p^(1/T) (default: the run's ``text.temperature``); a generator that draws its own
        characters (``text-gru``) takes it, as ``eval`` does."""
        if temperature is None:
            temperature = run.config.section("text").temperature
        if not isinstance(temperature, int | float) or not 0 <= temperature <= 10:
            raise ConfigError(f"generate: temperature must be in 0..10; got {temperature!r}")
        own = hasattr(run.generator, "temperature")
        settings = {"temperature": float(temperature)} if own else None
        samples, info = draw(run, n, seed, settings=settings, **knobs)
        info["temperature"] = 0.0 if own else float(temperature)  # G has drawn them
        return self.decode(samples, info)

    def decode(self, samples: torch.Tensor, info: dict[str, Any]) -> list[str]:
        """One string per sample (:meth:`lines`), decoded at ``info['temperature']``."""
        return self.lines(samples, info)

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        lines = self.lines(samples[:PICTURE_LINES], info)
        seen = reference_for(info).train_text
        copies = {i for i, s in enumerate(lines) if s in seen}
        return text_panel(lines, info.get("title", ""), int(info["text"]["length"]), None, copies)

    def caption(self, step: int, metrics: dict[str, Any]) -> str:
        js = metrics.get("js4")
        return f"step {step}" + (f": JS-4 {js:.3f}" if js is not None else "")

    def metrics(self, samples: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        """The anchor's training log: JS-1..4 of these samples against the training text."""
        js = reference_for(info).ngrams.js(_ids(samples, info))
        return {f"js{n}": round(v, 4) for n, v in js.items()}

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        path = Path(path)
        if path.suffix.lower() == ".npy":
            return super().save(samples, path, info)
        if path.suffix.lower() != ".txt":
            raise ConfigError(
                f"text samples are written as .txt, .npy or .png; got '{path.suffix or path.name}'"
            )
        text = "".join(line + "\n" for line in self.lines(samples, info))
        atomic_write_bytes(path, text.encode("utf-8"))
        return path

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, run: Any, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Any:
        return evaluate_run(run, metrics, n, seed)

    def periodic_comparison(
        self, cfg: Any, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Any:
        return comparison(self, cfg, info)


def register() -> None:
    """Register the text modality, its datasets, metrics and the ``gan-language`` nets."""
    register_specs(TextModality())
