"""The studio page tells its user what is going on, in a real browser (Debian's Chromium
driven by Playwright): a busy note on every draw, every failure in words (never a broken
picture), a walk slider that asks once it rests, the run and tab kept in the address,
polling only while a run trains and the tab is seen, values under the pointer on the
charts, and the start's token taken from the printed address into a cookie.

With ``GANFORGE_STUDIO_SHOTS=DIR`` the tests also save their screenshots there
(``docs/pictures`` holds the ones the docs show)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from helpers.studio_runs import Studio, build_runs

SHOTS = os.environ.get("GANFORGE_STUDIO_SHOTS")
FAST_POLL = "window.studioPollMs = 250; window.studioRunsMs = 500;"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return build_runs(tmp_path_factory.getbasetemp() / "studio-runs")


@pytest.fixture(scope="module")
def studio(runs):
    s = Studio(runs)
    yield s
    s.close()




def open_page(browser, url: str, init: str = ""):
    """A fresh page at ``url`` that records its requests and script errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    if init:
        context.add_init_script(init)
    pg = context.new_page()
    pg.requests, pg.errors = [], []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(url)
    return context, pg


@pytest.fixture
def page(browser, studio):
    context, pg = open_page(browser, studio.url + "/")
    yield pg
    context.close()
    assert not pg.errors, f"the page's scripts failed: {pg.errors[:3]}"


def shot(page, name: str, selector: str | None = None, height: int = 0) -> None:
    """A screenshot of ``selector`` (or the page's top ``height`` pixels) into SHOTS."""
    if SHOTS:
        path = str(Path(SHOTS) / f"studio_{name}.png")
        if selector:
            page.locator(selector).screenshot(path=path)
        else:
            page.screenshot(path=path, clip={"x": 0, "y": 0, "width": 1280, "height": height})


def _open(page, run: str, tab: str) -> None:
    page.click(f"#run-table tr[data-run='{run}']")
    page.click(f"#tabs button[data-tab='{tab}']")


def _drawn(page, element: str, asked: str = "") -> None:
    page.wait_for_function(
        """([id, asked]) => {
          const e = document.getElementById(id);
          return e && (e.dataset.src || "").includes(asked) && e.complete && e.naturalWidth > 0
            && e.closest(".view").getAttribute("aria-busy") === "false";
        }""",
        arg=[element, asked],
    )


def test_a_draw_shows_it_is_busy_until_its_picture_comes(page):
    _open(page, "ring", "explore")
    _drawn(page, "explore-image", "/ring/")
    held = []
    page.route("**/sample.png?*", lambda route: held.append(route))  # held by the test
    page.fill("#seed", "7")
    page.click("#draw")
    page.wait_for_function(
        "document.getElementById('explore-view').getAttribute('aria-busy') === 'true'"
    )
    assert page.eval_on_selector(
        "#explore-view", "e => getComputedStyle(e, '::before').content"
    ).startswith('"drawing')
    shot(page, "busy", height=560)
    assert len(held) == 1 and "seed=7" in held[0].request.url
    held[0].continue_()
    page.unroute("**/sample.png?*")
    _drawn(page, "explore-image", "seed=7")
    assert page.is_hidden("#explore-view .error")


def test_a_failed_draw_says_why_in_words(page, studio):
    top = json.loads(studio.get("/api/runs/ring/info")[1])["max_samples"]
    _open(page, "ring", "explore")
    _drawn(page, "explore-image", "/ring/")
    page.fill("#n", "100000")
    page.click("#draw")
    error = page.locator("#explore-view .error")
    error.wait_for()
    assert error.inner_text() == f"n must be 1..{top}; got 100000"  # the server's words
    assert page.is_hidden("#explore-image")  # no broken picture
    extras = page.locator("#extras-view .error")
    extras.wait_for()
    assert extras.inner_text() == f"the extra pictures failed: n must be 1..{top}; got 100000"
    page.wait_for_function(
        "document.getElementById('explore-view').getAttribute('aria-busy') === 'false'"
    )
    shot(page, "error", height=330)
    page.fill("#n", "16")
    page.click("#draw")
    _drawn(page, "explore-image", "n=16")
    assert page.is_hidden("#explore-view .error") and page.is_visible("#explore-image")


def test_a_missing_run_in_the_address_is_said(browser, studio):
    context, pg = open_page(browser, studio.url + "/?run=gone&tab=game")
    try:
        pg.wait_for_selector("#message:not([hidden])")
        assert pg.inner_text("#message") == "no run named gone here; showing clips"
        assert "run=clips" in pg.url
    finally:
        context.close()


def test_the_walk_slider_asks_once_it_rests(page):
    _open(page, "ring", "explore")
    _drawn(page, "walk-image", "/ring/")
    before = len(page.requests)
    page.eval_on_selector(
        "#walk-t",
        """(e) => { for (let k = 1; k <= 20; k++) {
                      e.value = String(k / 20); e.dispatchEvent(new Event('input')); } }""",
    )
    assert page.inner_text("#walk-t-value") == "1"  # the number follows at once
    _drawn(page, "walk-image", "t=1")
    time.sleep(0.4)  # longer than the pause the slider waits for
    walks = [u for u in page.requests[before:] if "/walk.png" in u]
    assert len(walks) == 1 and "t=1&" in walks[0], walks


def test_the_run_and_tab_survive_a_reload(page):
    _open(page, "music/bach", "time")
    page.wait_for_function("location.search.includes('tab=time')")
    assert "run=music%2Fbach" in page.url and "token" not in page.url
    page.reload()
    page.wait_for_selector("#run-table tr.selected[data-run='music/bach']", state="attached")
    assert page.get_attribute("#tabs button.active", "data-tab") == "time"
    assert page.inner_text("#game-title") == "music/bach"
    page.wait_for_function("document.getElementById('time-step').textContent.includes('step')")


def test_polling_runs_only_while_the_run_trains_and_the_tab_is_seen(browser, runs, tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(runs / "ring", root / "ring", ignore=shutil.ignore_patterns(".lock"))
    shutil.copytree(runs / "ring", root / "live", ignore=shutil.ignore_patterns(".lock"))
    (root / "live" / ".lock").write_text(json.dumps({"pid": os.getpid(), "host": "here"}))
    s = Studio(root)
    context, pg = open_page(browser, s.url + "/?run=live&tab=game", FAST_POLL)

    def polls(seconds: float) -> int:
        before = len(pg.requests)
        pg.wait_for_timeout(seconds * 1000)
        return sum("/records" in u for u in pg.requests[before:])

    try:
        pg.wait_for_selector("#run-table tr[data-run='live'] .status-training", state="attached")
        assert polls(1.5) >= 3  # a training run: polled every 250 ms here
        pg.evaluate(
            """() => { Object.defineProperty(document, 'visibilityState',
                         {value: 'hidden', configurable: true});
                       document.dispatchEvent(new Event('visibilitychange')); }"""
        )
        assert polls(1.5) == 0  # the tab is not seen: nothing asked
        pg.evaluate(
            """() => { Object.defineProperty(document, 'visibilityState',
                         {value: 'visible', configurable: true});
                       document.dispatchEvent(new Event('visibilitychange')); }"""
        )
        assert polls(1.0) >= 2
        pg.click("#tabs button[data-tab='runs']")
        pg.click("#run-table tr[data-run='ring']")  # finished: read once, then left alone
        pg.wait_for_function(  # its one reading done
            "state.current === 'ring' && state.records.length > 0 && state.polling === null"
        )
        assert polls(1.5) == 0
        assert not pg.errors, pg.errors[:3]
    finally:
        context.close()
        s.close()


def test_a_chart_reads_out_the_values_under_the_pointer(page, studio):
    _open(page, "ring", "game")
    page.wait_for_selector("#chart-d path.series")
    box = page.locator("#chart-d svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    tip = page.locator("#chart-d .tooltip")
    page.wait_for_function(
        "document.querySelector('#chart-d .tooltip').getAttribute('visibility') === 'visible'"
    )
    rows = tip.locator("tspan").all_text_contents()
    step = int(rows[0].split()[1])
    records = json.loads(studio.get("/api/runs/ring/records")[1])["records"]
    at = next(r for r in records if r.get("kind") == "train" and r["step"] == step)
    shown = dict(row.split(": ") for row in rows[1:])
    assert set(shown) == {"D(x)", "D(G(z))"}
    assert float(shown["D(x)"]) == pytest.approx(at["d_real"], rel=5e-3, abs=1e-3)
    assert float(shown["D(G(z))"]) == pytest.approx(at["d_fake"], rel=5e-3, abs=1e-3)
    shot(page, "tooltip", "#chart-d")
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5)
    page.wait_for_function(
        f"!document.querySelector('#chart-d .tooltip tspan').textContent.endsWith(' {step}')"
    )
    page.mouse.move(0, 0)
    page.wait_for_function(
        "document.querySelector('#chart-d .tooltip').getAttribute('visibility') === 'hidden'"
    )


def test_the_printed_address_opens_the_page_and_its_cookie_keeps_it_open(browser, runs):
    s = Studio(runs, token="t0ken-of-this-start")
    context, pg = open_page(browser, s.url + "/?token=t0ken-of-this-start&run=ring&tab=explore")
    try:
        _drawn(pg, "explore-image", "/ring/")
        assert pg.url.endswith("/?run=ring&tab=explore")  # the token left the address bar
        pg.reload()
        _drawn(pg, "explore-image", "/ring/")
        assert not pg.errors, pg.errors[:3]
        other = browser.new_context().new_page()  # no cookie, no token: refused in words
        other.goto(s.url + "/")
        assert "a token is needed" in other.inner_text("body")
        other.context.close()
    finally:
        context.close()
        s.close()
