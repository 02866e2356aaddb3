"""The text metrics declared once: every one has its computation, ``with_floors`` gives what
the metric functions give under the labels ``eval`` prints (value, held-out floor, baseline),
training keeps JS-4, the curve draws its picture, and a plug-in's text metric is one entry."""

from __future__ import annotations

import numpy as np
import pytest

from ganforge.errors import ConfigError
from ganforge.modalities.text.bleu import bleu, distinct, self_bleu
from ganforge.modalities.text.curve import curve_picture
from ganforge.modalities.text.evaluate import _groups
from ganforge.modalities.text.metrics import (
    TextCompared,
    TextMetric,
    metric_pictures,
    text_scores,
    with_floors,
)
from ganforge.modalities.text.scoring import TextReference
from ganforge.modalities.text.vocab import Vocabulary
from ganforge.registry import find_metric, modality_metrics, registered

ALL = ["js", "bleu", "self-bleu", "distinct", "copies", "curve"]


@pytest.fixture(scope="module")
def ref() -> TextReference:
    rng = np.random.default_rng(0)
    words = "the a cat dog sat ran on in far red big mat".split()
    lines = [" ".join(rng.choice(words, rng.integers(3, 7))) for _ in range(600)]
    vocab = Vocabulary.build(lines[:400], 64)
    return TextReference.from_corpus(lines[:400], lines[400:], vocab, 20)


def _ids(ref: TextReference, seed: int, n: int = 150) -> np.ndarray:
    ids = np.random.default_rng(seed).integers(0, len(ref.vocab), (n, 20))
    ids[:7] = ref.train_ids[:7]  # a few verbatim copies
    return ids


def _direct(ref: TextReference, ids: np.ndarray) -> dict[str, float]:
    small = ref.vocab.decode(ids[: min(640, len(ids), len(ref.floor_ids))])
    out = {f"JS-{n}@{len(ids)}": v for n, v in ref.ngrams.js(ids).items()}
    out.update({f"BLEU-{n}": bleu(small, ref.references, n) for n in (4, 5)})
    out.update({f"self-BLEU-{n}": self_bleu(small, n) for n in (4, 5)})
    out.update({f"distinct-{n}": distinct(small, n) for n in (2, 4)})
    out["copies"] = float(np.mean([s in ref.train_text for s in small]))
    return out


def test_every_text_metric_declares_its_computation():
    specs = modality_metrics("text")
    assert [m.name for m in specs] == ALL
    assert all(isinstance(m, TextMetric) and m.score is not None for m in specs)
    assert [m.name for m in specs if m.picture is not None] == ["curve"]
    assert [m.name for m in specs if m.periodic] == ["js"]


def test_with_floors_are_the_metric_functions_under_their_labels(ref):
    ids, base = _ids(ref, 1), _ids(ref, 2)
    n = len(ref.floor_ids)
    assert n == 100  # the samples are cut to as many as there are floor samples
    got = with_floors(ref, ids, None, base)
    value, floor, baseline = (
        _direct(ref, ids[:n]),
        _direct(ref, ref.floor_ids),
        _direct(ref, base[:n]),
    )
    assert list(got) == list(value)  # the order eval prints them in
    assert got == {
        k: {"value": v, "floor": floor[k], "baseline": baseline[k]} for k, v in value.items()
    }
    assert got["copies"]["value"] == 0.07
    assert text_scores(ref, ids[:n]) == value
    assert list(with_floors(ref, ids, ("copies", "js"))) == [
        f"JS-{k}@{n}" for k in (1, 2, 3, 4)
    ] + ["copies"]


def test_training_keeps_js4_of_all_its_samples(ref):
    ids = _ids(ref, 3, 300)
    js = find_metric("text", "js")
    assert js.score(TextCompared(ref, ids, periodic=True)) == {"js4": ref.ngrams.js(ids)[4]}


def test_the_curve_draws_each_sweep_beside_real_text(ref):
    def draw(seed):
        return lambda t: _ids(ref, seed + int(10 * t), 120)

    sweeps = {"GAN": (draw(0), (0.5, 1.0)), "Markov-2": (draw(50), (1.0,))}
    [(caption, picture)] = metric_pictures(TextCompared(ref, _ids(ref, 1), sweeps=sweeps), ALL)
    assert caption.startswith("quality vs diversity")

    def point(ids):
        s = _direct(ref, ids)
        return s["self-BLEU-4"], s["BLEU-4"]

    curves = {name: [(t, *point(d(t))) for t in ts] for name, (d, ts) in sweeps.items()}
    expected = curve_picture(curves, point(ref.floor_ids[:640]))
    assert picture.tobytes() == expected.tobytes()
    assert metric_pictures(TextCompared(ref, _ids(ref, 1), sweeps=sweeps), ("js",)) == []


def test_a_plugin_text_metric_is_one_entry(ref):
    def spaces(c: TextCompared) -> dict[str, float]:
        return {"spaces": float(np.mean([s.count(" ") for s in c.small]))}

    extra = TextMetric("spaces", "text", "spaces per sample", score=spaces)
    ids, base = _ids(ref, 1), _ids(ref, 2)
    with registered(extra):
        assert _groups(None) == (*ALL, "spaces")
        assert _groups("spaces,bleu") == ("spaces", "bleu")
        got = with_floors(ref, ids, _groups("js,spaces"), base)
        assert list(got)[-1] == "spaces" and len(got) == 5
        n = len(ref.floor_ids)
        expected = {
            key: spaces(TextCompared(ref, x))["spaces"]
            for key, x in (("value", ids[:n]), ("floor", ref.floor_ids), ("baseline", base[:n]))
        }
        assert got["spaces"] == expected
    with pytest.raises(ConfigError, match="a text run is scored by js, bleu"):
        _groups("spaces")
