"""Text as datasets: samples of a fixed number of characters, one-hot for the networks.

A corpus is split once, by the run's seed, into training samples and a held-out share
(``data.holdout``) that evaluation uses as the real-data floor; the vocabulary is built on
the training split only. Stored as character ids (``uint8``); ``to_model`` one-hots a
batch to (B, vocabulary, length), the layout the anchor's 1-D convolutions read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganforge.data.dataset import Dataset
from ganforge.data.held_out import SplitSettings
from ganforge.errors import DataError
from ganforge.modalities.text.corpus import (
    python_docs_text,
    read_text_source,
    split_samples,
    wordnet_text,
)
from ganforge.modalities.text.vocab import Vocabulary


@dataclass
class TextDataset(Dataset):
    """Character ids (N, L); the networks see one-hot (B, V, L) floats."""

    vocab_size: int = 0

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (self.vocab_size, int(self.data.shape[1]))

    def to_model(self, batch: torch.Tensor) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(batch.long(), self.vocab_size)
        return onehot.transpose(1, 2).float()


@dataclass
class Corpus:
    """A corpus split into training and held-out samples (strings, before encoding)."""

    train: list[str]
    heldout: list[str]
    skipped: list[str]


def read_corpus(kind: str, arg: str, mode: str, length: int) -> tuple[list[str], list[str]]:
    """All samples of a source and the files skipped while reading it."""
    skipped: list[str] = []
    if kind == "wordnet":
        text = wordnet_text()
    elif kind == "python-docs":
        text = python_docs_text()
    else:
        if not arg:
            raise DataError("text: needs a path, like --data text:corpus.txt")
        text, skipped = read_text_source(arg)
    samples = split_samples(text, mode, length)
    if len(samples) < 2:
        raise DataError(
            f"the text gives {len(samples)} sample(s) as {mode} of {length} characters; "
            "give more text" + (" or set text.split=chunks" if mode == "lines" else "")
        )
    return samples, skipped


def split_corpus(
    kind: str,
    arg: str,
    seed: int = 0,
    mode: str = "lines",
    length: int = 32,
    holdout: float = 0.1,
    max_samples: int = 0,
) -> Corpus:
    """The source's samples shuffled by ``seed``, cut to ``max_samples`` (0: all), split
    into training and held-out shares; the same arguments always give the same split."""
    samples, skipped = read_corpus(kind, arg, mode, length)
    order = np.random.default_rng(seed).permutation(len(samples))
    if max_samples:
        order = order[:max_samples]
    k = int(round(len(order) * holdout)) if holdout > 0 else 0
    k = min(k, len(order) - 1)
    return Corpus(
        train=[samples[i] for i in order[k:]],
        heldout=[samples[i] for i in order[:k]],
        skipped=skipped,
    )


# what decides a run's samples, split and vocabulary (``info['text']`` holds it): the same
# settings always give the same corpus, split and vocabulary
split_settings = SplitSettings(
    "text",
    {"length": 32, "split": "lines", "holdout": 0.1, "max_samples": 0, "max_vocab": 256},
)


def load_text(
    kind: str,
    arg: str,
    seed: int = 0,
    length: int = 32,
    split: str = "lines",
    holdout: float = 0.1,
    max_samples: int = 0,
    max_vocab: int = 256,
    **_: Any,
) -> TextDataset:
    """The training split of a text source as a :class:`TextDataset`."""
    corpus = split_corpus(kind, arg, seed, split, length, holdout, max_samples)
    vocab = Vocabulary.build(corpus.train, max_vocab)
    ids = vocab.encode(corpus.train, length)
    name = kind if kind != "text" else f"text:{arg}"
    info = {
        "text": {
            **split_settings(
                kind,
                arg,
                seed,
                length=length,
                split=split,
                holdout=holdout,
                max_samples=max_samples,
                max_vocab=max_vocab,
            ),
            "vocab": vocab.state(),
            "train_count": len(corpus.train),
            "heldout_count": len(corpus.heldout),
        },
        "notes": [
            f"text: {len(corpus.train)} training and {len(corpus.heldout)} held-out samples "
            f"of {length} characters ({split}), vocabulary {len(vocab)} symbols"
            + (f"; {len(corpus.skipped)} file(s) skipped" if corpus.skipped else "")
        ],
    }
    return TextDataset(
        name=name,
        data=torch.from_numpy(ids),
        modality="text",
        skipped=corpus.skipped,
        info=info,
        vocab_size=len(vocab),
    )


def corpus_of(info: dict[str, Any]) -> Corpus:
    """The run's corpus split again, exactly as training split it (from ``info['text']``)."""
    t = info["text"]
    kind, arg = t["source"]
    return split_corpus(
        kind, arg, t["seed"], t["split"], t["length"], t["holdout"], t["max_samples"]
    )
