"""The studio's web app (Starlette): the page and its scripts from the package, a JSON API
over the runs folder, run files, and samples drawn on request.

Starlette rather than FastAPI: the API is a dozen small GET routes with query numbers, so
request models and OpenAPI would be weight without use; Starlette is the ASGI toolkit
FastAPI is built on, and uvicorn serves it.

Safety: files are served only from inside the runs folder (resolved paths, no traversal,
no symlinks out), nothing in a run is executed (runs load as safetensors / JSON / YAML),
samples are bounded per request, run files are served sandboxed (a ``report.html`` runs no
script), and :mod:`ganforge.studio.guard` refuses other hosts' names, requests without the
start's token and changes asked from other origins.

Draws (torch, PIL, WAV, GIF) run in a bounded pool of worker threads
(:mod:`ganforge.studio.work`), file reading in threads of its own: the event loop only
routes, so the live-game poll answers while pictures are drawn.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ganforge.errors import ConfigError, GanforgeError
from ganforge.modality import Modality
from ganforge.plugins import load_plugins
from ganforge.studio import explore, jobs
from ganforge.studio.directions import DIRECTIONS, moved
from ganforge.studio.guard import LOCAL_NAMES, Guard
from ganforge.studio.runs import find_runs, read_records, sample_steps, summary
from ganforge.studio.toy import snapshot
from ganforge.studio.work import Pool, light, pool_size

STATIC = Path(__file__).parent / "static"
AUDIO = {".wav": "audio/wav"}
ANIMATED = {".gif"}  # sample formats shown moving in the explore view (video clips)
TYPES = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".wav": "audio/wav",
    ".mid": "audio/midi",
    ".csv": "text/csv",
    ".txt": "text/plain; charset=utf-8",
    ".npy": "application/octet-stream",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "application/json",
    ".yaml": "text/plain; charset=utf-8",
}


RUN_FILE_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


def inside(root: Path, rel: str) -> Path:
    """``root / rel`` resolved, refused unless it stays inside ``root``."""
    root = root.resolve()
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise PermissionError(rel)
    return target


def create_app(
    root: Path,
    token: str | None = None,
    hosts: frozenset[str] = LOCAL_NAMES,
    any_address: bool = False,
    workers: int | None = None,
) -> Starlette:
    """The studio over the runs under ``root``: answering to ``hosts`` (and any IP address
    with ``any_address``), asking for ``token`` when one is given, drawing in ``workers``
    threads (default :func:`work.pool_size`)."""
    root = Path(root).resolve()
    pool = Pool(workers or pool_size()[0])
    load_plugins()  # here, once: two draws loading a run at once would each find it half done

    def run_dir(request: Request) -> Path:
        path = inside(root, request.path_params["run"])
        if not (path / "run.json").is_file():
            raise FileNotFoundError(request.path_params["run"])
        return path

    def number(request: Request, key: str, default: Any, kind: type = int) -> Any:
        text = request.query_params.get(key)
        if text in (None, ""):
            return default
        try:
            return kind(text)
        except ValueError:
            raise ConfigError(f"{key} must be a number; got {text!r}") from None

    def slow(handler: Callable[[Request], Response]) -> Callable[[Request], Any]:
        """``handler`` run in the worker pool (a draw, a run's loading)."""

        async def endpoint(request: Request) -> Response:
            return await pool.run(request, lambda: handler(request))

        return endpoint

    def quick(handler: Callable[[Request], Response]) -> Callable[[Request], Any]:
        """``handler`` on the event loop: a read of a few lines, answered at once (a hop to
        a thread and back costs more than the read while draws hold the GIL)."""

        async def endpoint(request: Request) -> Response:
            return handler(request)

        return endpoint

    def reading(handler: Callable[[Request], Response]) -> Callable[[Request], Any]:
        """``handler`` (reading every run's files) in a thread outside the draws' pool."""

        async def endpoint(request: Request) -> Response:
            return await light(lambda: handler(request))

        return endpoint

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    def runs(request: Request) -> Response:
        return JSONResponse(
            {"root": str(root), "runs": [summary(root, r) for r in find_runs(root)]}
        )

    def records(request: Request) -> Response:
        since = number(request, "since", 0)
        return JSONResponse({"records": read_records(run_dir(request), since)})

    def steps(request: Request) -> Response:
        return JSONResponse({"steps": sample_steps(run_dir(request))})

    def info(request: Request) -> Response:
        path = run_dir(request)
        run = explore.load(path)
        modality = run.modality_obj
        formats = [f for f in modality.raw_formats if f.startswith(".") and f != ".npy"]
        return JSONResponse(
            {
                **summary(root, path),
                "formats": formats,
                "audio": [f for f in formats if f in AUDIO],
                "animated": [f for f in formats if f in ANIMATED],
                "class_names": run.meta.get("class_names") or [],
                "temperature": modality.takes_temperature or hasattr(run.generator, "temperature"),
                "report": (path / "report.html").is_file(),
                "max_samples": explore.bound(run),
                "conditions": type(modality).asked_conditions is not Modality.asked_conditions,
                "latent_parts": explore.latent_parts(run),
            }
        )

    async def file(request: Request) -> Response:
        path = inside(run_dir(request), request.path_params["path"])
        if not path.is_file():
            raise FileNotFoundError(request.path_params["path"])
        kind = TYPES.get(path.suffix.lower(), "application/octet-stream")
        # a run's files are data: a report.html (or anything) runs no script, in no origin
        return FileResponse(path, media_type=kind, headers=RUN_FILE_HEADERS)

    def _draw(request: Request) -> tuple[Any, Any, dict]:
        run = explore.load(run_dir(request))
        n = number(request, "n", 16)
        seed = number(request, "seed", 0)
        temperature = number(request, "temperature", None, float)
        truncation = number(request, "truncation", None, float)
        q = request.query_params
        samples, info = explore.draw(
            run, n, seed, q.get("label"), temperature, q.get("condition"), truncation
        )
        return run, samples, info

    def sample(request: Request) -> Response:
        suffix = "." + request.path_params["ext"].lower()
        run, samples, info = _draw(request)
        if suffix == ".png":
            title = f"seed {number(request, 'seed', 0)}"
            return Response(explore.png(samples, run, info, title), media_type="image/png")
        if suffix not in run.modality_obj.raw_formats:
            raise ConfigError(
                f"this run's samples come as {', '.join(run.modality_obj.raw_formats)}"
            )
        body = explore.as_file(samples, run, info, suffix)
        return Response(
            body,
            media_type=TYPES.get(suffix, "application/octet-stream"),
            headers={"Content-Disposition": f'inline; filename="samples{suffix}"'},
        )

    def slide(request: Request) -> Response:
        path = run_dir(request)
        run = explore.load(path)
        amounts = [number(request, f"d{k}", 0.0, float) for k in range(DIRECTIONS)]
        if any(not -3.0 <= a <= 3.0 for a in amounts):
            raise ConfigError("each direction moves -3..3")
        n = number(request, "n", 8)
        explore.bound_check(run, n)
        with explore.using(run):
            samples = run.sample(z=moved(run, str(path), number(request, "seed", 0), n, amounts))
        title = "principal directions " + ", ".join(f"{a:+.1f}" for a in amounts)
        return Response(explore.png(samples, run, dict(run.info), title), media_type="image/png")

    def toy_view(request: Request) -> Response:
        run = explore.load(run_dir(request))
        return JSONResponse(snapshot(run, number(request, "checkpoint", -1)))

    def evaluation(request: Request) -> Response:
        path = run_dir(request)
        if request.method == "POST":
            return JSONResponse(jobs.start_eval(path, number(request, "n", 2000)))
        return JSONResponse(jobs.status(path))

    def nearest(request: Request) -> Response:
        run, samples, info = _draw(request)
        return Response(explore.pair_picture(run, samples, info), media_type="image/png")

    def extras(request: Request) -> Response:
        import base64

        run, samples, info = _draw(request)
        pictures = []
        for caption, img in run.modality_obj.studio_pictures(run, samples, info):
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            pictures.append({"caption": caption, "png": base64.b64encode(buf.getvalue()).decode()})
        return JSONResponse({"pictures": pictures})

    def walk(request: Request) -> Response:
        run = explore.load(run_dir(request))
        a, b = number(request, "a", 0), number(request, "b", 1)
        t, n = number(request, "t", 0.0, float), number(request, "n", 8)
        keep = tuple(k for k in (request.query_params.get("keep") or "").split(",") if k)
        samples, info = explore.walk(run, a, b, t, n, keep)
        held = f" ({', '.join(keep)} held at seed {a})" if keep else ""
        return Response(
            explore.png(samples, run, info, f"{t:.2f} of the way from seed {a} to {b}{held}"),
            media_type="image/png",
        )

    async def refused(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("outside the runs folder", 403)

    async def missing(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"not found: {exc}", 404)

    async def bad(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(str(exc), 400)

    routes = [
        Route("/", index),
        Route("/api/runs", reading(runs)),
        Route("/api/runs/{run:path}/records", quick(records)),
        Route("/api/runs/{run:path}/steps", quick(steps)),
        Route("/api/runs/{run:path}/info", slow(info)),
        Route("/api/runs/{run:path}/sample.{ext}", slow(sample)),
        Route("/api/runs/{run:path}/walk.png", slow(walk)),
        Route("/api/runs/{run:path}/nearest.png", slow(nearest)),
        Route("/api/runs/{run:path}/toy.json", slow(toy_view)),
        Route("/api/runs/{run:path}/slide.png", slow(slide)),
        Route("/api/runs/{run:path}/extras.json", slow(extras)),
        Route("/api/runs/{run:path}/eval", quick(evaluation), methods=["GET", "POST"]),
        Route("/api/runs/{run:path}/file/{path:path}", file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    guard = Middleware(Guard, token=token, hosts=hosts, any_address=any_address)
    return Starlette(
        routes=routes,
        middleware=[guard],
        exception_handlers={
            PermissionError: refused,
            FileNotFoundError: missing,
            GanforgeError: bad,
        },
    )
