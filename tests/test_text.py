"""The text modality: corpora and vocabulary, the anchor's networks, the metrics on cases
whose answer is known (against NLTK for BLEU), the baselines, and training end to end."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from ganforge.cli import main
from ganforge.errors import ConfigError, DataError
from ganforge.modalities.text.baselines import MarkovChain
from ganforge.modalities.text.bleu import bleu, distinct, self_bleu
from ganforge.modalities.text.corpus import WORDNET_DIR, split_samples
from ganforge.modalities.text.datasets import load_text, split_corpus
from ganforge.modalities.text.likelihood import LikelihoodLoss, decayed_lr, fit_likelihood
from ganforge.modalities.text.ngrams import NgramCounts, NgramReference, js_divergence
from ganforge.modalities.text.recurrent import RecurrentGenerator, pretrain
from ganforge.modalities.text.scoring import decode_ids
from ganforge.modalities.text.vocab import PAD, UNK, Vocabulary

TINY = [
    "model.g_width=64",
    "model.d_width=64",
    "model.depth=2",
    "train.batch=32",
    "train.n_critic=5",
    "optim.g_lr=1e-3",
    "optim.d_lr=1e-3",
    "log.progress=false",
    "log.sample_every=100",
    "log.checkpoint_every=100",
    "log.samples=128",
]

# the recurrent `text` preset, tiny
GRU_TINY = [
    "model.g_width=48",
    "model.d_width=32",
    "model.depth=1",
    "train.batch=32",
    "train.n_critic=1",
    "text.length=20",
    "log.samples=64",
    "log.progress=false",
]


def words_file(tmp_path: Path, lines: int = 400) -> Path:
    rng = np.random.default_rng(0)
    vocab = "the a cat dog sat ran on in far red big mat".split()
    text = "\n".join(" ".join(rng.choice(vocab, rng.integers(3, 8))) for _ in range(lines))
    path = tmp_path / "corpus.txt"
    path.write_text(text + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- corpus and vocabulary
def test_vocabulary_orders_by_frequency_and_round_trips():
    v = Vocabulary.build(["aab", "ab"], max_size=4)
    assert v.chars == ["a", "b"] and len(v) == 4
    ids = v.encode(["ba", "abcz", ""], 3)
    assert ids.tolist() == [[3, 2, PAD], [2, 3, UNK], [PAD, PAD, PAD]]
    assert v.decode(ids) == ["ba", "ab\ufffd", ""]
    assert v.decode(ids, strip=False)[0] == "ba`"
    assert Vocabulary.from_state(v.state()).chars == v.chars


def test_split_is_fixed_by_seed_and_vocabulary_comes_from_training_text(tmp_path):
    path = words_file(tmp_path)
    a = split_corpus("text", str(path), seed=3)
    b = split_corpus("text", str(path), seed=3)
    c = split_corpus("text", str(path), seed=4)
    assert a.train == b.train and a.heldout == b.heldout and a.train != c.train
    assert len(a.heldout) == 40 and len(a.train) == 360
    everything = split_samples(path.read_text(encoding="utf-8"), "lines", 32)
    assert sorted(a.train + a.heldout) == sorted(everything)
    ds = load_text("text", str(path), seed=3, length=16)
    assert ds.sample_shape == (len(Vocabulary.build(a.train)), 16)
    x = ds.to_model(ds.data[:5])
    assert x.shape == (5, ds.vocab_size, 16) and torch.all(x.sum(1) == 1)


def test_chunks_cut_running_text_into_equal_pieces():
    assert split_samples("ab  cd\nef", "chunks", 3) == ["ab ", "cd "]  # no short tail
    assert split_samples("one\n\n  two  words \n", "lines", 32) == ["one", "two words"]


def test_bad_text_gives_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_text("text", str(bad))
    assert (
        main(["train", "text-wgan-gp", "--data", f"text:{bad}", "--out", str(tmp_path / "r")]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not UTF-8" in err[0] and not (tmp_path / "r").exists()
    with pytest.raises(DataError, match="does not exist"):
        load_text("text", str(tmp_path / "missing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(DataError, match="empty"):
        load_text("text", str(empty))


def test_a_folder_skips_unreadable_files_and_lists_them(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("\n".join(f"line number {i}" for i in range(50)))
    (folder / "b.txt").write_bytes(b"\xff\xfe\x00bad")
    ds = load_text("text", str(folder))
    assert len(ds) == 45 and len(ds.skipped) == 1 and "b.txt" in ds.skipped[0]


def test_wordnet_corpus_when_installed():
    if not (WORDNET_DIR / "data.noun").is_file():
        if os.environ.get("CI"):
            pytest.fail("CI installs wordnet-base (.ci/run); it is missing")
        pytest.skip("Debian wordnet-base is not installed")
    corpus = split_corpus("wordnet", "", seed=0)
    assert len(corpus.train) > 150_000 and len(corpus.heldout) > 15_000
    assert any("physical existence" in s for s in corpus.train + corpus.heldout)


# ---------------------------------------------------------------- metrics
def test_js_divergence_by_hand_and_zero_on_identical_sets():
    a = NgramCounts.of(np.array([[0, 1]]), 1, base=2)
    b = NgramCounts.of(np.array([[1, 1]]), 1, base=2)
    # p = (1/2, 1/2), q = (0, 1), m = (1/4, 3/4): JS = (KL(p|m) + KL(q|m)) / 2 in bits
    want = 0.5 * (0.5 * 1 + 0.5 * np.log2(0.5 / 0.75) + np.log2(1 / 0.75))
    assert js_divergence(a, b) == pytest.approx(want)
    ids = np.random.default_rng(0).integers(0, 7, (50, 12))
    ref = NgramReference(ids, base=7)
    assert all(v == pytest.approx(0.0, abs=1e-12) for v in ref.js(ids).values())
    assert js_divergence(a, NgramCounts.of(np.array([[2, 2]]), 1, base=3)) == pytest.approx(1.0)
    # bigrams stay inside each sample: [0 1] and [1 0] share no bigram
    assert NgramCounts.of(np.array([[0, 1], [1, 0]]), 2, base=2).total == 2


def test_bleu_and_self_bleu_match_nltk():
    rng = np.random.default_rng(1)
    words = "the cat sat on a mat dog ran far away big red".split()
    refs = [" ".join(rng.choice(words, rng.integers(2, 9))) for _ in range(25)]
    hyps = [" ".join(rng.choice(words, rng.integers(1, 9))) for _ in range(15)]
    sm = SmoothingFunction().method1
    for n in (4, 5):
        w = tuple([1.0 / n] * n)
        want = np.mean(
            [
                sentence_bleu([r.split() for r in refs], h.split(), w, smoothing_function=sm)
                for h in hyps
            ]
        )
        assert bleu(hyps, refs, n) == pytest.approx(want, rel=1e-9)
        toks = [h.split() for h in hyps]
        want_self = np.mean(
            [
                sentence_bleu(toks[:i] + toks[i + 1 :], toks[i], w, smoothing_function=sm)
                for i in range(len(toks))
            ]
        )
        assert self_bleu(hyps, n) == pytest.approx(want_self, rel=1e-9)
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"], 4) == pytest.approx(1.0)
    assert self_bleu(["a b c d e"] * 3, 4) == pytest.approx(1.0)
    assert distinct(["a b a b"], 2) == pytest.approx(2 / 3)


def test_markov_chain_reproduces_short_statistics():
    rng = np.random.default_rng(0)
    # a language where 'ab' is always followed by 'c'
    lines = ["".join(rng.choice(["abc", "bca", "xy"], 6)) for _ in range(300)]
    v = Vocabulary.build(lines)
    ids = v.encode(lines, 12)
    chain = MarkovChain(2).fit(ids, len(v))
    fake = chain.sample(300, seed=0)
    ref = NgramReference(ids, len(v))
    assert ref.js(fake)[2] < 0.02 < ref.js(rng.integers(0, len(v), (300, 12)))[2]
    text = v.decode(fake)
    assert not any(re.search("ab[^c]", s) for s in text)  # inside a sample 'ab' -> 'c'
    assert sum("abc" in s for s in text) > 100
    greedy = chain.sample(5, temperature=0, seed=1)
    assert (greedy == greedy[0]).all()  # no randomness left at temperature 0


def test_decode_at_temperature_zero_takes_the_most_likely_character():
    p = torch.tensor([[[0.1, 0.8], [0.9, 0.2]]])  # (1, V=2, L=2)
    assert decode_ids(p, 0).tolist() == [[1, 0]]
    draws = decode_ids(p.expand(4000, 2, 2), 1.0, seed=0)
    assert draws[:, 0].mean() == pytest.approx(0.9, abs=0.03)


# ---------------------------------------------------------------- networks
def test_anchor_networks_have_the_papers_shapes_and_parameter_counts():
    from ganforge.modalities.text.nets import LanguageCritic, LanguageGenerator

    V, L, W = 96, 32, 512
    G, D = LanguageGenerator(V, L, 128, W), LanguageCritic(V, L, W)
    block = 2 * (W * W * 5 + W)  # two kernel-5 convolutions
    assert sum(p.numel() for p in G.parameters()) == 128 * L * W + L * W + 5 * block + W * V + V
    assert sum(p.numel() for p in D.parameters()) == V * W + W + 5 * block + L * W + 1
    conv = G.blocks[0].conv1.weight  # tflib's he_init: uniform, std sqrt(4 / (fan_in + fan_out))
    assert float(conv.detach().std()) == pytest.approx((4 / (W * 5 + W * 5)) ** 0.5, rel=0.02)
    assert float(G.input.bias.detach().abs().max()) == 0.0
    x = G(torch.randn(3, 128))
    assert x.shape == (3, V, L) and torch.allclose(x.sum(1), torch.ones(3, L))
    assert D(x).shape == (3,)


def test_recurrent_generator_draws_one_hot_text_and_learns_by_maximum_likelihood(tmp_path):
    ds = load_text("text", str(words_file(tmp_path)), length=24)
    V = ds.vocab_size
    torch.manual_seed(0)
    G = RecurrentGenerator(V, 24, z_dim=16, width=64)
    x = G(G.sample_latent(8, torch.Generator().manual_seed(0)))
    assert x.shape == (8, V, 24) and torch.all(x.detach().sum(1).round() == 1)
    x.sum().backward()  # the gradient reaches G through the straight-through estimator
    assert G.out.weight.grad is not None and G.out.weight.grad.abs().sum() > 0
    ids = ds.data[:64].long()
    z = torch.zeros(64, 16)
    with torch.no_grad():
        before = float(G.mle_loss(ids, z))
    pretrain(G, ds.data, steps=60, progress=False)  # steps, not seconds: holds on a busy CPU
    with torch.no_grad():
        assert float(G.mle_loss(ids, z)) < before - 0.5
    G.temperature = 0.0
    same = G(G.sample_latent(4, torch.Generator().manual_seed(1)))
    lat = G.sample_latent(4, torch.Generator().manual_seed(2))
    lat["z"] = torch.zeros_like(lat["z"])
    greedy = G(lat).argmax(1)
    assert (greedy == greedy[0]).all() and same.shape == (4, V, 24)


def test_likelihood_fit_takes_its_steps_with_the_rate_decayed_to_zero(tmp_path):
    assert decayed_lr(3e-3, 0) == pytest.approx(3e-3)
    assert decayed_lr(3e-3, 0.5) == pytest.approx(1.5e-3)
    assert decayed_lr(3e-3, 1) == pytest.approx(0) and decayed_lr(3e-3, 2) == pytest.approx(0)
    ds = load_text("text", str(words_file(tmp_path)), length=16)
    torch.manual_seed(0)
    G = RecurrentGenerator(ds.vocab_size, 16, z_dim=8, width=32)
    calls = []

    def loss_of(x, gen):
        calls.append(x.shape)
        return G.mle_loss(x, torch.zeros(len(x), 8))

    with torch.no_grad():
        before = float(loss_of(ds.data[:64], None))
    calls.clear()
    r = fit_likelihood(loss_of, G.parameters(), ds.data, steps=40, batch=32)
    assert r["steps"] == 40 and calls == [(32, 16)] * 40
    with torch.no_grad():
        assert float(G.mle_loss(ds.data[:64].long(), torch.zeros(64, 8))) < before - 0.5
    with pytest.raises(ValueError):
        fit_likelihood(loss_of, G.parameters(), ds.data)


def test_the_likelihood_term_holds_the_generator_to_the_data_during_the_game(tmp_path, capsys):
    """``text.mle_weight``: G's loss gains its cross-entropy on real text (logged as
    g_aux.mle); against the same critic the term keeps G's likelihood of the data higher
    than the game alone does; a generator without a likelihood is refused in one line."""
    path = words_file(tmp_path, 600)
    sets = [*GRU_TINY, "optim.g_lr=3e-3", "text.pretrain_seconds=0", "eval.every=0"]
    nll = {}
    for weight in (0, 2):
        out = tmp_path / f"w{weight}"
        args = ["train", "text", "--data", f"text:{path}", "--steps", "40", "--out", str(out)]
        more = [*sets, f"text.mle_weight={weight}"]
        assert main(args + [x for kv in more for x in ("--set", kv)]) == 0
        logged = (out / "metrics.jsonl").read_text()
        assert ('"g_aux.mle"' in logged) == (weight > 0)
        from ganforge.run import Run

        run = Run(out)
        ids = load_text("text", str(path), length=20).data[:256].long()
        with torch.no_grad():
            nll[weight] = float(run.generator.mle_loss(ids, torch.zeros(256, run.generator.z_dim)))
    assert nll[2] < nll[0] - 0.3
    with pytest.raises(ConfigError, match="text.mle_weight"):
        LikelihoodLoss(np.zeros((4, 8)), 1.0).bind(torch.nn.Linear(2, 2), None)
    capsys.readouterr()
    args = ["train", "text-wgan-gp", "--data", f"text:{path}", "--steps", "2"]
    args += ["--out", str(tmp_path / "anchor"), "--set", "text.mle_weight=1"]
    assert main(args + [x for kv in TINY for x in ("--set", kv)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "text.mle_weight" in err[0]


# ---------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The anchor, tiny, trained briefly on a small word corpus (once for the module): 80
    steps take JS-4 from ~1.0 untrained to ~0.63, 200 steps to ~0.46."""
    tmp = tmp_path_factory.mktemp("text")
    path = words_file(tmp, 1000)
    out = tmp / "run"
    args = ["train", "text-wgan-gp", "--data", f"text:{path}", "--steps", "80", "--out", str(out)]
    for kv in [*TINY, "text.length=24", "eval.every=0"]:
        args += ["--set", kv]
    assert main(args) == 0
    return out


def test_a_short_run_beats_an_untrained_generator_on_js4(trained):
    import json

    from ganforge.modalities.text.evaluate import reference_for
    from ganforge.modalities.text.nets import build
    from ganforge.run import Run

    lines = (trained / "metrics.jsonl").read_text().splitlines()
    evals = [e for e in map(json.loads, lines) if e.get("kind") == "eval"]
    run = Run(trained)
    torch.manual_seed(0)
    fresh, _ = build(run.config, tuple(run.meta["sample_shape"]), 0)
    with torch.no_grad():
        untrained = fresh(torch.randn(128, run.config.model.z_dim))
    js4 = reference_for(run.info).ngrams.js(decode_ids(untrained))[4]
    assert evals[-1]["js4"] < js4 - 0.1, (evals[-1], js4)


def test_sample_writes_text_and_eval_scores_beside_floor_and_baseline(trained, tmp_path, capsys):
    import json

    out = tmp_path / "s.txt"
    assert main(["sample", str(trained), "--n", "50", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50 and all(len(s) <= 24 for s in lines)
    assert main(["sample", str(trained), "--n", "50", "--out", str(tmp_path / "x.mid")]) == 2
    assert main(["eval", str(trained), "--n", "200", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    s = result["scores"]
    assert result["baseline"] == "Markov-2"
    js4 = next(k for k in s if k.startswith("JS-4@"))
    assert js4 == "JS-4@50"  # as many samples as held-out floor samples (half of 100)
    for key in (js4, "BLEU-4", "self-BLEU-4", "distinct-2", "copies"):
        assert set(s[key]) == {"value", "floor", "baseline"}, key
    # held-out real text is closer to the training text than the Markov chain on 4-grams
    assert s[js4]["floor"] < s[js4]["baseline"] < 1.0
    html = (trained / "report.html").read_text()
    assert "baseline: Markov-2" in html and "quality vs diversity" in html


def test_text_gru_warms_up_once_and_samples_at_a_temperature(tmp_path, capsys):
    """The recurrent design: MLE warm start said in one line (not again on --resume), and
    the sampling temperature trades diversity for likelihood."""
    path = words_file(tmp_path, 600)
    out = tmp_path / "gru"
    sets = [
        *GRU_TINY,
        "text.pretrain_seconds=2",
        "log.sample_every=10",
        "log.checkpoint_every=10",
    ]
    args = ["train", "text", "--data", f"text:{path}", "--steps", "10", "--out", str(out)]
    assert main(args + [x for kv in sets for x in ("--set", kv)]) == 0
    first = capsys.readouterr().out
    assert first.count("pretrained G by maximum likelihood") == 1
    # the plan comes first, so a long warm-up is never a silent wait
    plan = "warming G up by maximum likelihood for 2 s before the game"
    assert first.index(plan) < first.index("pretrained G")
    assert main(args[:5] + ["20", "--out", str(out), "--resume"]) == 0
    again = capsys.readouterr().out
    assert "pretrained G" not in again and "warming G up" not in again
    cold, hot = tmp_path / "cold.txt", tmp_path / "hot.txt"
    assert main(["sample", str(out), "--n", "300", "--out", str(cold), "--temperature", "0.2"]) == 0
    assert main(["sample", str(out), "--n", "300", "--out", str(hot), "--temperature", "2"]) == 0
    cold_lines = cold.read_text(encoding="utf-8").splitlines()
    hot_lines = hot.read_text(encoding="utf-8").splitlines()
    # character bigrams, not whole lines: a G warmed up for a few steps (a busy CPU's 2 s)
    # already draws 300 distinct lines at either temperature
    def bigrams(lines):
        return {line[i : i + 2] for line in lines for i in range(len(line) - 1)}

    assert len(bigrams(cold_lines)) < len(bigrams(hot_lines))
    assert distinct(cold_lines, 2) < distinct(hot_lines, 2)
    assert main(["sample", str(out), "--out", str(tmp_path / "x.txt"), "--temperature", "-1"]) == 2
    from ganforge.modalities.text.evaluate import run_ids
    from ganforge.run import Run

    run = Run(out)
    ids = run_ids(run, 12, 0, 0.2)
    assert ids.shape == (12, 20) and run.generator.temperature == 1.0  # sweep leaves G as it was
