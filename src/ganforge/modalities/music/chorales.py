"""The Bach chorales shipped in the music21 wheel, as four-voice pieces on the 16th grid.

Only chorales in 4/4 with exactly four parts are kept (bars of 16 steps); a pickup bar
is padded so bar lines fall on multiples of 16 steps. Parsing all of them takes ~30-45 s,
so the encoded notes are cached (``$GANFORGE_CACHE/music/chorales-v1.npz``).
"""

from __future__ import annotations

import numpy as np

from ganforge.engine.checkpoint import atomic_write_bytes
from ganforge.errors import DataError, needs_extra
from ganforge.metrics.classifier import cache_dir
from ganforge.modalities.music.pianoroll import STEPS_PER_QUARTER
from ganforge.modalities.music.pieces import Piece, pack, unpack

VOICES = ("soprano", "alto", "tenor", "bass")
CACHE_VERSION = 1


def _music21():
    try:
        import music21
    except ImportError as e:  # pragma: no cover - the music extra installs it
        raise DataError(needs_extra("the chorales need music21", "music")) from e
    return music21


def chorale_piece(score, name: str) -> Piece | None:
    """One parsed chorale as a :class:`Piece`, or None if it is not 4/4 in four parts."""
    if len(score.parts) != 4:
        return None
    sigs = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if sigs != {"4/4"}:
        return None
    measures = list(score.parts[0].getElementsByClass("Measure"))
    if not measures:
        return None
    # a pickup: the first full bar starts at measures[1].offset; shift it onto a bar line
    shift = 0.0
    if len(measures) > 1 and measures[1].offset % 4:
        shift = 4 - measures[1].offset % 4
    tracks = []
    for part in score.parts:
        rows = []
        for n in part.stripTies().flatten().notes:
            on = round((float(n.offset) + shift) * STEPS_PER_QUARTER)
            dur = round(float(n.quarterLength) * STEPS_PER_QUARTER)
            if dur <= 0:
                continue
            for p in n.pitches:
                rows.append((int(p.midi), on, dur))
        tracks.append(np.array(rows, dtype=np.int64).reshape(-1, 3))
    if not all(len(t) for t in tracks):
        return None
    return Piece(name, tracks)


def parse_chorales(
    progress: bool = False, names: list[str] | None = None
) -> tuple[list[Piece], int]:
    """(the kept chorales, how many were left out) parsed from the music21 corpus (all of
    its chorales, or the corpus paths in ``names``)."""
    m21 = _music21()
    if names is None:
        names = list(m21.corpus.chorales.Iterator(returnType="filename"))
    pieces, left = [], 0
    it = names
    if progress:
        from tqdm import tqdm

        it = tqdm(names, desc="parsing the Bach chorales (once; then cached)", unit="chorale")
    for name in it:
        try:
            piece = chorale_piece(m21.corpus.parse(name), str(name))
        except Exception:  # noqa: BLE001 - a corpus file music21 cannot read is left out
            piece = None
        if piece is None:
            left += 1
        else:
            pieces.append(piece)
    return pieces, left


def load_chorales(progress: bool = True) -> tuple[list[Piece], int]:
    """The chorales from the cache, parsing and caching them the first time."""
    path = cache_dir() / "music" / f"chorales-v{CACHE_VERSION}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            return unpack(arrays), int(arrays["left_out"])
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is parsed again
    pieces, left = parse_chorales(progress)
    import io

    buf = io.BytesIO()
    np.savez(buf, **pack(pieces), left_out=np.array(left))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return pieces, left
