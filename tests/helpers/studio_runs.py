"""What the studio tests serve: a folder of tiny runs (2-D points, music from a generated
MIDI folder, a table, video clips), trained once per test run whichever studio test
module asks first, and the studio itself served by uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

FAST = ["log.every=5", "log.sample_every=10", "log.checkpoint_every=10", "log.progress=false"]
_BUILT: dict[Path, Path] = {}


def sets(items: list[str]) -> list[str]:
    return [x for kv in items for x in ("--set", kv)]


def build_runs(base: Path) -> Path:
    """The runs under ``base / "runs"``, trained on the first call for ``base`` only."""
    if base in _BUILT:
        return _BUILT[base]
    import numpy as np

    from ganforge.cli import main
    from helpers.music_files import TINY_MUSIC, chorale_like, write_midi

    base.mkdir(parents=True, exist_ok=True)
    root = base / "runs"
    args = ["train", "toy-ring8", "--steps", "30", "--out", str(root / "ring")]
    assert main(args + sets(FAST)) == 0
    midi = base / "midi"
    midi.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        write_midi(midi / f"p{i}.mid", chorale_like(rng))
    args = ["train", "chorales", "--data", f"midi:{midi}", "--steps", "10"]
    assert main(args + ["--out", str(root / "music" / "bach")] + sets(TINY_MUSIC)) == 0
    table = base / "t.csv"
    rng = np.random.default_rng(0)
    size = rng.choice(["small", "large"], 600, p=[0.8, 0.2])
    weight = np.where(size == "large", 10.0, 2.0) + rng.normal(0, 0.5, 600)
    colour = rng.choice(["red", "blue"], 600)
    table.write_text(
        "size,weight,colour\n"
        + "".join(f"{s},{w:.3f},{c}\n" for s, w, c in zip(size, weight, colour, strict=True))
    )
    args = ["train", "tabular", "--data", f"csv:{table}", "--steps", "20"]
    small = ["model.g_width=32", "model.d_width=32", "train.batch=100"]
    assert main(args + ["--out", str(root / "table")] + sets(FAST + small)) == 0
    clips = ["video.size=16", "video.frames=6", "video.clips=200", "model.z_dim=8"]
    clips += ["model.g_width=8", "model.d_width=8", "train.batch=8", "log.samples=3"]
    args = ["train", "moving-mnist", "--steps", "4", "--out", str(root / "clips")]
    assert main(args + sets(FAST + clips)) == 0
    _BUILT[base] = root
    return root


class Studio:
    """The studio served by uvicorn in a thread on a free localhost port."""

    def __init__(self, root: Path, token: str | None = None, **options) -> None:
        import uvicorn

        from ganforge.studio.app import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            create_app(root, token, **options),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict | None = None, method: str = "GET") -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
