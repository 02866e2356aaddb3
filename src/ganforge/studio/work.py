"""Slow requests (a draw: torch, PIL, a WAV, a GIF) run in worker threads, a bounded number
at a time, so the event loop stays free for the live-game poll; a draw that a newer request
of the same page slot has replaced before it started is skipped.

A page names a request's slot (``slot=``: its own id and the picture, say ``k3f9:explore``)
and numbers it (``seq=``); the newest number per slot wins. Torch's own threads are set so
that the workers together use the machine's cores once (:func:`pool_size`)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

SLOTS_KEPT = 4096  # slots remembered (oldest forgotten first)
SUPERSEDED = 409


def pool_size(cpus: int | None = None) -> tuple[int, int]:
    """(worker threads, torch threads per worker) for ``cpus`` cores: at least two workers,
    so one long draw never holds up every other, and no more torch threads than cores."""
    cpus = cpus or os.cpu_count() or 2
    workers = max(2, min(8, cpus // 2))
    return workers, max(1, cpus // workers)


class Superseded(Exception):
    """A newer request of the same slot came before this one started."""


class Pool:
    """Runs a request's slow part in one of ``workers`` threads."""

    def __init__(self, workers: int) -> None:
        self.limiter = CapacityLimiter(workers)
        self._latest: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def _claim(self, request: Request) -> tuple[str, int] | None:
        slot = (request.query_params.get("slot") or "")[:100]
        try:
            seq = int(request.query_params.get("seq") or "")
        except ValueError:
            return None
        if not slot:
            return None
        with self._lock:
            if seq > self._latest.get(slot, -1):
                self._latest[slot] = seq
            self._latest.move_to_end(slot)
            while len(self._latest) > SLOTS_KEPT:
                self._latest.popitem(last=False)
        return slot, seq

    def current(self, claim: tuple[str, int] | None) -> bool:
        """Whether no newer request of ``claim``'s slot has come."""
        if claim is None:
            return True
        with self._lock:
            return self._latest.get(claim[0], -1) <= claim[1]

    async def run(self, request: Request, work: Callable[[], Response]) -> Response:
        """``work()`` in a worker thread, unless a newer request of its slot came first
        (then 409, which the page, having moved on, never shows)."""
        claim = self._claim(request)

        def job() -> Response:
            if not self.current(claim):
                raise Superseded
            return work()

        try:
            return await anyio.to_thread.run_sync(job, limiter=self.limiter)
        except Superseded:
            return PlainTextResponse("superseded by a newer request", SUPERSEDED)


def light(work: Callable[[], Any]) -> Any:
    """``work`` (quick file reading) in a thread of anyio's default pool."""
    return anyio.to_thread.run_sync(work)
