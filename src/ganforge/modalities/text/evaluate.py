"""``ganforge eval`` on a text run: the corpus split again as in training, the run's samples
scored (:mod:`.scoring`) beside held-out real text (the floor) and an order-2 character
Markov chain fitted to the training split (the baseline), and the quality-diversity curve
over sampling temperatures."""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.data.held_out import References
from ganforge.errors import ConfigError
from ganforge.modalities.text.baselines import MarkovChain
from ganforge.modalities.text.datasets import corpus_of, split_settings
from ganforge.modalities.text.metrics import (
    CURVE_SAMPLES,
    TextCompared,
    metric_pictures,
    with_floors,
)
from ganforge.modalities.text.render import text_panel
from ganforge.modalities.text.scoring import LARGE, TextReference, decode_ids
from ganforge.modalities.text.vocab import Vocabulary
from ganforge.modality import Evaluation, chosen_groups
from ganforge.periodic import Comparison
from ganforge.progress import plan, stage
from ganforge.registry import metric_names

GAN_TEMPERATURES = (0.0, 0.5, 0.75, 1.0, 1.5)
MARKOV_TEMPERATURES = (0.5, 0.75, 1.0, 1.5)


def _build(text: dict[str, Any]) -> TextReference:
    corpus = corpus_of({"text": text})
    vocab = Vocabulary.build(corpus.train, text["max_vocab"])  # as training built it
    return TextReference.from_corpus(corpus.train, corpus.heldout, vocab, text["length"])


REFERENCES = References(split_settings, _build)


def reference_for(info: dict[str, Any]) -> TextReference:
    """The run's :class:`TextReference` (built once per process and corpus)."""
    return REFERENCES.of_info(info)


def _markov(text: dict[str, Any], order: int = 2) -> MarkovChain:
    ref = REFERENCES.of_settings(text)
    return MarkovChain(order).fit(ref.train_ids, len(ref.vocab))


MARKOV = References(split_settings, _markov)


def markov_for(info: dict[str, Any]) -> MarkovChain:
    """The order-2 character Markov chain of the run's training split."""
    return MARKOV.of_info(info)


def run_ids(run: Any, n: int, seed: int, temperature: float) -> np.ndarray:
    """``n`` samples of the run as (n, L) character ids at ``temperature``: a generator
    that draws its characters (``text-gru``) takes it; the anchor's distributions are
    decoded at it."""
    G, out = run.generator, []
    own = hasattr(G, "temperature")
    before = getattr(G, "temperature", None)
    if own:
        G.temperature = temperature
    try:
        for i in range(0, n, 1000):
            probs = run.sample(min(1000, n - i), seed=seed + i)
            out.append(decode_ids(probs, 0.0 if own else temperature, seed=seed + i))
    finally:
        if own:
            G.temperature = before  # the report's picture is drawn after the sweep
    return np.concatenate(out)


def _groups(metrics: str | None) -> tuple[str, ...]:
    return chosen_groups(metrics, metric_names("text"), "text")


def evaluate_run(run: Any, metrics: str | None, n: int, seed: int) -> Evaluation:
    groups = _groups(metrics)
    plan("real text", "generated text", "Markov baseline", "scores", "curve", "pictures")
    stage("real text")
    ref = reference_for(run.info)
    if len(ref.floor_ids) < 10:
        raise ConfigError(
            "evaluation needs held-out text: train with data.holdout > 0 (text: 0.1 by "
            "default) on "
            "a corpus of at least 200 samples"
        )
    temperature = run.config.section("text").temperature
    count = min(max(n, 10), LARGE)
    stage("generated text")
    ids = run_ids(run, count, seed, temperature)
    stage("Markov baseline")
    markov = markov_for(run.info)
    base = markov.sample(count, temperature=1.0, seed=seed)
    stage("scores")
    scores = with_floors(ref, ids, groups, base)
    how = "most likely character" if temperature <= 0 else "sampled"
    notes = [
        f"{len(ids)} samples at temperature {temperature:g} ({how}); floor: "
        f"{min(len(ids), len(ref.floor_ids))} held-out real samples; baseline: an order-2 "
        f"character Markov chain fitted to the {len(ref.train_ids)} training samples",
        "JS-n: Jensen-Shannon divergence (bits) of character n-grams against the training "
        "text (lower is better); BLEU against held-out text; self-BLEU among the samples "
        "(lower: more diverse); copies: share of samples equal to a training sample",
    ]
    sweeps = {
        "GAN": (lambda t: run_ids(run, CURVE_SAMPLES, seed, t), GAN_TEMPERATURES),
        "Markov-2": (
            lambda t: markov.sample(CURVE_SAMPLES, temperature=t, seed=seed),
            MARKOV_TEMPERATURES,
        ),
    }
    pictures = metric_pictures(TextCompared(ref, ids, sweeps=sweeps), groups)
    stage("pictures")
    length = int(run.info["text"]["length"])
    real_picture = text_panel(
        ref.vocab.decode(ref.floor_ids[:32]), "held-out real text", length, columns=2
    )
    return Evaluation(
        scores=scores,
        notes=notes,
        real_picture=real_picture,
        captions=("generated (red: a verbatim copy of a training sample)", "real, held out"),
        baseline="Markov-2",
        pictures=pictures,
    )


def comparison(modality: Any, cfg: Any, info: dict[str, Any] | None) -> Comparison:
    """``eval.every``: 640 samples, decoded at ``text.temperature``, beside the reference
    of the training data (``info``; without it, the one ``cfg`` loads)."""
    temperature = cfg.section("text").temperature

    def view(fake: Any) -> TextCompared:
        ref = reference_for(info) if info else REFERENCES.of_config(modality, cfg)
        return TextCompared(ref, decode_ids(fake, temperature), periodic=True)

    return Comparison(count=640, view=view)
