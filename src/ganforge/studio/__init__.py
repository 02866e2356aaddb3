"""``ganforge studio``: a local web app over a folder of runs: the runs and their curves,
the game as it is played (updating while a run trains), the samples through time, and the
generator to explore (seeds, classes, temperature, walks between seeds, sound and files in
the modality's own formats). Everything it needs is served by the package; nothing is
fetched from the internet. Needs the ``studio`` extra (Starlette and uvicorn)."""

from __future__ import annotations

import secrets
from pathlib import Path

from ganforge.errors import ConfigError

LOCALHOST = "127.0.0.1"


def serve(
    runs_dir: str | Path = "runs",
    host: str = LOCALHOST,
    port: int = 8765,
    open_browser: bool = False,
) -> None:
    """Serve the studio over ``runs_dir`` until interrupted. Bound to localhost unless
    ``host`` says otherwise; then a token printed at start is required."""
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
        raise ConfigError(
            "the studio needs its extra: pip install 'ganforge[studio]' (make venv installs it)"
        ) from e
    token = None if host in (LOCALHOST, "localhost", "::1") else secrets.token_urlsafe(16)
    url = f"http://{host if host != '0.0.0.0' else LOCALHOST}:{port}/"
    print(f"ganforge studio: {root.resolve()} at {url}" + (f"?token={token}" if token else ""))
    if token:
        print("ganforge studio: reachable from other machines; the token above is required")
    if open_browser:
        import webbrowser

        webbrowser.open(url + (f"?token={token}" if token else ""))
    uvicorn.run(create_app(root, token), host=host, port=port, log_level="warning")
