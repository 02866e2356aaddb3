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
from ganforge.modalities.text.curve import curve_picture
from ganforge.modalities.text.datasets import corpus_of, split_settings
from ganforge.modalities.text.render import text_panel
from ganforge.modalities.text.scoring import LARGE, METRIC_GROUPS, TextReference, decode_ids
from ganforge.modalities.text.vocab import Vocabulary
from ganforge.modality import Evaluation, chosen_groups
from ganforge.periodic import Comparison, Generated
from ganforge.progress import plan, stage

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
    return chosen_groups(metrics, (*METRIC_GROUPS, "curve"), "text")


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
    scores = ref.with_floors(ids, groups, base)
    how = "most likely character" if temperature <= 0 else "sampled"
    notes = [
        f"{len(ids)} samples at temperature {temperature:g} ({how}); floor: "
        f"{min(len(ids), len(ref.floor_ids))} held-out real samples; baseline: an order-2 "
        f"character Markov chain fitted to the {len(ref.train_ids)} training samples",
        "JS-n: Jensen-Shannon divergence (bits) of character n-grams against the training "
        "text (lower is better); BLEU against held-out text; self-BLEU among the samples "
        "(lower: more diverse); copies: share of samples equal to a training sample",
    ]
    pictures = []
    if "curve" in groups:
        stage("curve")
        curves = {
            "GAN": _sweep(ref, lambda t: run_ids(run, 640, seed, t), GAN_TEMPERATURES),
            "Markov-2": _sweep(
                ref, lambda t: markov.sample(640, temperature=t, seed=seed), MARKOV_TEMPERATURES
            ),
        }
        real = ref.score(ref.floor_ids[:640], ("self-bleu", "bleu"))
        pictures.append(
            (
                "quality vs diversity: BLEU-4 against self-BLEU-4 over sampling temperatures",
                curve_picture(curves, (real["self-BLEU-4"], real["BLEU-4"])),
            )
        )
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


def _sweep(ref: TextReference, draw: Any, temperatures: tuple[float, ...]) -> list:
    points = []
    for t in temperatures:
        s = ref.score(draw(t), ("bleu", "self-bleu"))
        points.append((t, s["self-BLEU-4"], s["BLEU-4"]))
    return points


def comparison(modality: Any, cfg: Any, info: dict[str, Any] | None) -> Comparison:
    """``eval.every``: 640 samples, decoded at ``text.temperature``, beside the reference
    of the training data (``info``; without it, the one ``cfg`` loads)."""
    temperature = cfg.section("text").temperature

    def view(fake: Any) -> Generated:
        ref = reference_for(info) if info else REFERENCES.of_config(modality, cfg)
        return Generated(ref, decode_ids(fake, temperature))

    return Comparison(count=640, view=view)
