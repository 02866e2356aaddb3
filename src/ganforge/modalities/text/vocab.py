"""A character vocabulary: the training split's characters by frequency, a padding symbol
(id 0) that fills samples shorter than the sequence length, and an unknown symbol (id 1)
for characters the vocabulary does not hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

PAD = 0
UNK = 1
PAD_SHOWN = "`"  # how the anchor (gan_language.py) writes padding
UNK_SHOWN = "\ufffd"


class Vocabulary:
    """Characters <-> ids; ``encode`` truncates and pads to a fixed length."""

    def __init__(self, chars: list[str]) -> None:
        self.chars = list(chars)
        self.index = {c: i + 2 for i, c in enumerate(self.chars)}

    @classmethod
    def build(cls, lines: Iterable[str], max_size: int = 256) -> Vocabulary:
        """The ``max_size - 2`` most frequent characters of ``lines`` (ties by code point)."""
        counts: Counter[str] = Counter()
        for line in lines:
            counts.update(line)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls([c for c, _ in ranked[: max(0, max_size - 2)]])

    def __len__(self) -> int:
        return len(self.chars) + 2

    def encode(self, lines: list[str], length: int) -> np.ndarray:
        """``lines`` as an (N, length) id array: cut to ``length``, padded with PAD."""
        dtype = np.uint8 if len(self) <= 256 else np.int16
        out = np.zeros((len(lines), length), dtype=dtype)
        get = self.index.get
        for i, line in enumerate(lines):
            ids = [get(c, UNK) for c in line[:length]]
            out[i, : len(ids)] = ids
        return out

    def decode(self, ids: np.ndarray, strip: bool = True) -> list[str]:
        """An (N, L) id array as strings; ``strip`` drops padding (else shows it as '`')."""
        table = np.array(["" if strip else PAD_SHOWN, UNK_SHOWN, *self.chars], dtype=object)
        rows = table[np.asarray(ids, dtype=np.int64)]
        return ["".join(r) for r in rows]

    def state(self) -> dict[str, Any]:
        return {"chars": "".join(self.chars)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Vocabulary:
        return cls(list(state["chars"]))
