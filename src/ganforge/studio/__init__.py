"""``ganforge studio``: a local web app over a folder of runs: the runs and their curves,
the game as it is played (updating while a run trains), the samples through time, and the
generator to explore (seeds, classes, temperature, walks between seeds, sound and files in
the modality's own formats). Everything it needs is served by the package; nothing is
fetched from the internet. Needs the ``studio`` extra (Starlette and uvicorn)."""

from __future__ import annotations

import secrets
from pathlib import Path

from ganforge.errors import ConfigError, needs_extra
from ganforge.studio.guard import WILDCARDS, host_names
from ganforge.studio.work import pool_size

LOCALHOST = "127.0.0.1"


def serve(
    runs_dir: str | Path = "runs",
    host: str = LOCALHOST,
    port: int = 8765,
    open_browser: bool = False,
) -> None:
    """Serve the studio over ``runs_dir`` until interrupted, bound to localhost unless
    ``host`` says otherwise. Every start makes a secret token: the printed address carries
    it, and the page, once opened there, keeps it as a cookie."""
    root = Path(runs_dir).expanduser()
    if not root.is_dir():
        raise ConfigError(
            f"no such folder: {root}; give the folder your runs are in (--out's parent)"
        )
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1..65535; got {port}")
    try:
        import uvicorn

        from ganforge.studio.app import create_app
    except ImportError as e:
        raise ConfigError(needs_extra("the studio needs starlette and uvicorn", "studio")) from e
    import torch

    workers, threads = pool_size()
    torch.set_num_threads(threads)  # the workers together use each core once
    token = secrets.token_urlsafe(16)
    shown = LOCALHOST if host in WILDCARDS else host
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{port}/?token={token}"
    print(f"ganforge studio: {root.resolve()} at {url}")
    if host not in (LOCALHOST, "localhost", "::1"):
        print("ganforge studio: reachable from other machines; only with the token above")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    app = create_app(root, token, host_names(host), host in WILDCARDS, workers)
    uvicorn.run(app, host=host, port=port, log_level="warning")
