"""The studio answers only its own page: a request naming another host (DNS rebinding) is
refused, a request that changes something needs the studio's own Origin, and with the
start's token every request needs it (the printed address once, then its cookie)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from helpers.studio_runs import Studio, build_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return build_runs(tmp_path_factory.getbasetemp() / "studio-runs")


@pytest.fixture(scope="module")
def guarded(runs):
    s = Studio(runs, token="t0ken-of-this-start")
    yield s
    s.close()


def test_a_foreign_host_gets_no_run_list(runs):
    s = Studio(runs)
    try:
        for host in ("attacker.example", f"attacker.example:{s.port}", "127.0.0.1.evil.test"):
            status, body = s.get("/api/runs", {"Host": host})
            assert status == 403 and b"does not answer to host" in body, host
            assert b'"runs"' not in body and b"ring" not in body
        assert s.get("/", {"Host": "attacker.example"})[0] == 403
        for host in (f"127.0.0.1:{s.port}", f"localhost:{s.port}", f"[::1]:{s.port}"):
            status, body = s.get("/api/runs", {"Host": host})
            assert status == 200 and "ring" in {r["name"] for r in json.loads(body)["runs"]}
    finally:
        s.close()


def test_a_studio_bound_to_every_address_answers_addresses_and_its_names_only(runs):
    import socket

    from ganforge.studio.guard import host_names

    s = Studio(runs, hosts=host_names("0.0.0.0"), any_address=True)
    try:
        for host in ("192.168.1.20:8765", "[fe80::1]:8765", socket.gethostname()):
            assert s.get("/api/runs", {"Host": host})[0] == 200, host
        assert s.get("/api/runs", {"Host": "attacker.example:8765"})[0] == 403
    finally:
        s.close()


def test_a_cross_site_post_is_refused(runs):
    s = Studio(runs)
    try:
        own = s.url  # the page's own origin: the guard lets it through to the handler
        for origin in ("http://attacker.example", "null", f"http://localhost:{s.port + 1}"):
            status, body = s.get("/api/runs/ring/eval?n=5", {"Origin": origin}, "POST")
            assert status == 403 and b"studio's page" in body, origin
        assert s.get("/api/runs/ring/eval?n=5", method="POST")[0] == 403  # no Origin at all
        status, body = s.get("/api/runs/ring/eval?n=5", {"Origin": own}, "POST")
        assert status == 400 and b"n must be 10..10000" in body
        assert s.get("/api/runs/ring/eval")[0] == 200  # reading needs no Origin
    finally:
        s.close()


def test_without_the_token_nothing_is_served_or_started(guarded):
    own = {"Origin": guarded.url}
    assert guarded.get("/")[0] == 403
    assert guarded.get("/api/runs/ring/sample.png?n=4")[0] == 403
    status, body = guarded.get("/api/runs/ring/eval?n=200", own, "POST")
    assert status == 403 and b"token" in body
    cookie = {"Cookie": f"ganforge_studio_{guarded.port}=wrong"}
    assert guarded.get("/api/runs/ring/eval?n=200", {**own, **cookie}, "POST")[0] == 403
    # with it: the cookie a first visit set, and still the Origin for a change
    good = {"Cookie": f"ganforge_studio_{guarded.port}=t0ken-of-this-start"}
    assert guarded.get("/api/runs/ring/eval?n=5", {**own, **good}, "POST")[0] == 400  # handler
    assert guarded.get("/api/runs/ring/eval?n=5", good, "POST")[0] == 403  # no Origin


def test_the_printed_address_sets_the_token_cookie(guarded):
    req = urllib.request.Request(guarded.url + "/?token=t0ken-of-this-start")
    with urllib.request.urlopen(req, timeout=30) as r:
        cookie = r.headers["Set-Cookie"]
        assert r.status == 200 and b"ganforge studio" in r.read()
    name = f"ganforge_studio_{guarded.port}=t0ken-of-this-start"
    assert cookie.startswith(name) and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, body = guarded.get("/api/runs", {"Cookie": name})
    assert status == 200 and json.loads(body)["runs"]
    # another studio's cookie (another port) is not this one's
    other = {"Cookie": f"ganforge_studio_{guarded.port + 1}=t0ken-of-this-start"}
    assert guarded.get("/api/runs", other)[0] == 403
