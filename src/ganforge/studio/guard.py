"""The studio's door: a request is served only when its ``Host`` is a name the studio was
bound to (a page on ``attacker.example`` that rebinds its name to 127.0.0.1 is refused), it
carries the start's token (``?token=`` once, as the printed address has it, then a cookie,
as Jupyter does), and, when it changes something (a POST), its ``Origin`` is the studio's
own. An ASGI middleware, so responses stream through untouched."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.trustedhost import parse_host_header
from starlette.requests import Request
from starlette.responses import PlainTextResponse

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "ganforge_studio"


def host_names(bound: str) -> frozenset[str]:
    """The ``Host`` names a studio bound to ``bound`` answers to: localhost's names, the
    bound name, and for a wildcard bind the machine's own names (IP literals always pass:
    a rebinding page's Host is a domain name, never an address)."""
    names = set(LOCAL_NAMES) | {bound.strip("[]").lower()}
    if bound in WILDCARDS:
        for name in (socket.gethostname(), socket.getfqdn()):
            names.add(name.lower())
    return frozenset(names - {""})


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def cookie_name(scope: dict[str, Any]) -> str:
    """The token's cookie, one per port: two studios on one machine keep their own."""
    server = scope.get("server") or ("", 0)
    return f"{COOKIE}_{server[1]}"


class Guard:
    """Host, token and origin checks in front of ``app`` (``token`` None: no token asked,
    for an app built in tests or embedded; the Host and Origin checks hold anyway)."""

    def __init__(
        self,
        app: Any,
        token: str | None,
        hosts: frozenset[str] = LOCAL_NAMES,
        any_address: bool = False,
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.hosts = hosts
        self.any_address = any_address

    def _host_ok(self, host: str | None) -> bool:
        parsed = parse_host_header(host)
        if parsed is None:
            return False
        name = parsed.host.strip("[]").lower().rstrip(".")
        return name in self.hosts or (self.any_address and _is_address(name))

    def _refusal(self, scope: dict[str, Any], headers: Headers) -> str | None:
        """Why the request is refused, or None."""
        host = headers.get("host")
        if not self._host_ok(host):
            shown = (host or "none")[:80]
            return f"the studio does not answer to host {shown!r}: open the address it printed"
        if self.token is not None and not self._has_token(scope):
            return "a token is needed: open the address the studio printed (ending ?token=...)"
        if scope["method"] not in SAFE_METHODS and headers.get("origin") != f"http://{host}":
            return "refused: a request that changes something must come from the studio's page"
        return None

    def _given(self, scope: dict[str, Any]) -> bool:
        """Whether the query carries the token (then it is set as the cookie)."""
        given = Request(scope).query_params.get("token") or ""
        return self.token is not None and secrets.compare_digest(given.encode(), self.token)

    def _has_token(self, scope: dict[str, Any]) -> bool:
        cookie = Request(scope).cookies.get(cookie_name(scope)) or ""
        return self._given(scope) or secrets.compare_digest(cookie.encode(), self.token or b"")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        why = self._refusal(scope, Headers(scope=scope))
        if why is not None:
            refused = PlainTextResponse(why, 403, headers={"Cache-Control": "no-store"})
            await refused(scope, receive, send)
            return
        if not self._given(scope):
            await self.app(scope, receive, send)
            return
        name, value = cookie_name(scope), (self.token or b"").decode()

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.append("set-cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Strict")
            await send(message)

        await self.app(scope, receive, send_with_cookie)
