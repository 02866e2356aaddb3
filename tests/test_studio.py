"""The studio: its safety over HTTP (files only from inside the runs folder, bounded
sampling, the token off localhost), and its pages in a real browser (Debian's Chromium
driven by Playwright): the runs, the live chart while a run trains, a slider that draws a
new sample, a WAV decoded in the page, a CSV download, and no request off 127.0.0.1."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import torch

from ganforge.cli import main
from helpers.studio_runs import FAST, Studio, build_runs
from helpers.studio_runs import sets as _sets


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A folder with a toy run, a tiny music run (from a generated MIDI folder), a table
    and video clips, trained once per session (the other studio test modules share it)."""
    return build_runs(tmp_path_factory.getbasetemp() / "studio-runs")


@pytest.fixture(scope="module")
def studio(runs):
    s = Studio(runs)
    yield s
    s.close()


# ---------------------------------------------------------------- HTTP: what it serves
def test_lists_runs_and_serves_their_records_and_samples(studio):
    status, body = studio.get("/api/runs")
    listed = {r["name"]: r for r in json.loads(body)["runs"]}
    assert status == 200
    assert listed["ring"]["modality"] == "points" and listed["ring"]["status"] == "finished"
    assert set(listed) == {"ring", "music/bach", "table", "clips"}
    assert listed["ring"]["step"] == 30
    status, body = studio.get("/api/runs/ring/records?since=2")
    records = json.loads(body)["records"]
    assert records[0]["_line"] == 2 and any(r["kind"] == "train" for r in records)
    status, body = studio.get("/api/runs/music/bach/info")
    info = json.loads(body)
    assert info["audio"] == [".wav"] and ".mid" in info["formats"]
    status, png = studio.get("/api/runs/ring/sample.png?n=64&seed=1")
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    status, csv = studio.get("/api/runs/ring/sample.csv?n=5&seed=1")
    assert status == 200 and len(csv.decode().strip().splitlines()) == 6  # header + 5 rows
    # the same seed draws the same samples
    assert studio.get("/api/runs/ring/sample.csv?n=5&seed=1")[1] == csv


def test_a_table_samples_rows_that_hold_an_asked_condition(studio):
    info = json.loads(studio.get("/api/runs/table/info")[1])
    assert info["conditions"] and ".csv" in info["formats"] and info["max_samples"] >= 500
    status, body = studio.get("/api/runs/table/sample.csv?n=300&condition=size%3Dlarge")
    rows = body.decode().strip().splitlines()
    assert status == 200 and len(rows) == 301
    assert all(r.startswith("large,") for r in rows[1:])
    extras = json.loads(studio.get("/api/runs/table/extras.json?n=500")[1])["pictures"]
    assert [p["caption"] for p in extras] == [
        "|correlation(real) - correlation(synthetic)| per column pair"
    ]
    assert base64.b64decode(extras[0]["png"])[:4] == b"\x89PNG"
    assert json.loads(studio.get("/api/runs/ring/extras.json")[1])["pictures"] == []
    status, body = studio.get("/api/runs/table/sample.csv?n=10&condition=size%3Dhuge")
    assert status == 400 and b"huge" in body
    # several conditions, separated by ";" as in the page's field: every row holds both
    both = "condition=" + urllib.parse.quote("size=large; colour=red")
    status, body = studio.get(f"/api/runs/table/sample.csv?n=40&{both}")
    rows = body.decode().strip().splitlines()
    assert status == 200 and len(rows) == 41
    assert all(r.startswith("large,") and r.endswith(",red") for r in rows[1:])
    status, body = studio.get(f"/api/runs/table/sample.csv?n=4&truncation=1&{both}")
    assert status == 400 and b"one condition" in body


def test_refuses_paths_outside_the_runs_folder_and_unbounded_requests(studio, runs):
    (runs.parent / "secret.txt").write_text("not yours")
    for path in (
        "/api/runs/ring/file/../../secret.txt",
        "/api/runs/ring/file/%2e%2e/%2e%2e/secret.txt",
        "/api/runs/..%2Fsecret.txt/info",
        "/api/runs/ring/file//etc/passwd",
    ):
        status, body = studio.get(path)
        assert status in (403, 404) and b"not yours" not in body and b"root:" not in body, path
    assert studio.get("/api/runs/ring/file/config.yaml")[0] == 200
    # a run's page is shown, never run: served sandboxed (no script, an opaque origin)
    planted = runs / "ring" / "planted.html"
    planted.write_text("<script>fetch('/api/runs')</script>")
    try:
        with urllib.request.urlopen(studio.url + "/api/runs/ring/file/planted.html") as r:
            assert r.headers["Content-Security-Policy"] == "sandbox"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        planted.unlink()
    assert studio.get("/api/runs/nope/info")[0] == 404
    status, body = studio.get("/api/runs/ring/sample.png?n=100000")
    assert status == 400 and b"n must be 1.." in body
    assert studio.get("/api/runs/ring/sample.png?seed=x")[0] == 400
    assert studio.get("/api/runs/ring/sample.mid")[0] == 400  # points have no MIDI
    own = {"Origin": studio.url}
    assert studio.get("/api/runs/ring/eval?n=5", own, method="POST")[0] == 400


def test_a_token_guards_every_request_when_one_is_set(runs):
    s = Studio(runs, token="s3cret")
    try:
        assert s.get("/api/runs")[0] == 403
        assert s.get("/")[0] == 403
        assert s.get("/api/runs?token=wrong")[0] == 403
        assert s.get("/api/runs?token=%C3%A9t%C3%A9")[0] == 403  # not ASCII: refused, no error
        assert s.get("/api/runs?token=s3cret")[0] == 200
        assert s.get("/api/runs", {"Cookie": f"ganforge_studio_{s.port}=s3cret"})[0] == 200
    finally:
        s.close()


def test_serve_binds_localhost_by_default_and_refuses_a_missing_folder(tmp_path, capsys):
    from ganforge.cli import build_parser

    assert build_parser().parse_args(["studio"]).host == "127.0.0.1"
    assert main(["studio", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["studio", str(tmp_path), "--port", "0"]) == 2


# ---------------------------------------------------------------- in a real browser


@pytest.fixture
def page(browser, studio):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(studio.url + "/")
    yield pg
    ours = (studio.url + "/", "blob:" + studio.url + "/")  # blob: the page's own bytes
    off = [u for u in pg.requests if not u.startswith(ours)]
    context.close()
    assert not off, f"requests left 127.0.0.1: {off[:5]}"
    assert not pg.errors, f"the page's scripts failed: {pg.errors[:3]}"


def _slide(page, selector: str, value: str) -> None:
    """Move a range input as a user's drag does: set it and fire ``input``."""
    page.eval_on_selector(
        selector, "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }", value
    )


def _shown(page, element: str, asked: str = "") -> None:
    """Wait until ``element`` shows what was asked for (``asked`` in the address it drew),
    loaded and not waiting (the page fetches each drawing, then shows its bytes)."""
    page.wait_for_function(
        """([id, asked]) => {
          const e = document.getElementById(id);
          if (!e || !(e.dataset.src || "").includes(asked)) return false;
          if (e.closest(".view").getAttribute("aria-busy") === "true") return false;
          return e.tagName === "IMG" ? e.complete && e.naturalWidth > 0 : e.src.startsWith("blob:");
        }""",
        arg=[element, asked],
    )


def _points(page, chart: str) -> int:
    d = page.locator(f"#{chart} path.series").first.get_attribute("d") or ""
    return d.count("L") + 1 if d else 0


def test_the_live_chart_grows_while_a_run_trains(page, runs):
    out = runs / "live"
    cmd = [sys.executable, "-m", "ganforge", "train", "toy-ring8", "--steps", "4000"]
    proc = subprocess.Popen(cmd + ["--out", str(out)] + _sets(FAST))
    try:
        deadline = time.time() + 60
        while not (out / "metrics.jsonl").is_file() and time.time() < deadline:
            time.sleep(0.2)
        page.wait_for_selector("#run-table tr[data-run='live']", timeout=30000)
        page.click("#run-table tr[data-run='live']")
        page.click("#tabs button[data-tab='game']")
        page.wait_for_function("document.querySelector('#chart-d path.series') !== null")
        first = _points(page, "chart-d")
        page.wait_for_function(
            f"(document.querySelector('#chart-d path.series').getAttribute('d').match(/L/g) "
            f"|| []).length + 1 > {first}",
            timeout=30000,
        )
        assert _points(page, "chart-d") > first
        assert page.locator("#run-table tr[data-run='live'] .status-training").count() == 1
        assert page.locator("#chart-d svg > line[stroke-dasharray]").count() == 1  # the 1/2 line
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_slider_draws_a_new_sample_and_a_wav_plays(page):
    page.click("#run-table tr[data-run='music/bach']")
    page.click("#tabs button[data-tab='explore']")
    _shown(page, "walk-image")
    _slide(page, "#walk-t", "0.5")
    _shown(page, "walk-image", "t=0.5")
    page.eval_on_selector("#d0", "(e) => { e.value = '2'; e.dispatchEvent(new Event('change')); }")
    _shown(page, "slide-image", "d0=2")
    page.eval_on_selector(
        "#truncation", "(e) => { e.value = '1.5'; e.dispatchEvent(new Event('change')); }"
    )
    _shown(page, "explore-image", "truncation=1.5")
    _shown(page, "explore-audio", "truncation=1.5")
    rms = page.evaluate(
        """async () => {
          const src = document.getElementById('explore-audio').src;
          const bytes = await (await fetch(src)).arrayBuffer();
          const ctx = new OfflineAudioContext(1, 22050, 22050);
          const audio = await ctx.decodeAudioData(bytes);
          const x = audio.getChannelData(0);
          let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * x[i];
          return {rms: Math.sqrt(s / x.length), seconds: audio.duration};
        }"""
    )
    assert rms["rms"] > 0.005 and rms["seconds"] > 2, rms


def test_a_csv_downloads_and_the_samples_scrub_through_time(page, tmp_path):
    page.click("#run-table tr[data-run='ring']")
    page.click("#tabs button[data-tab='explore']")
    page.wait_for_selector("#downloads a")
    with page.expect_download() as dl:
        page.click("#downloads a:has-text('.csv')")
    path = tmp_path / "x.csv"
    dl.value.save_as(path)
    assert len(path.read_text().strip().splitlines()) == 17  # header + 16 samples
    page.click("#tabs button[data-tab='time']")
    page.wait_for_function("document.getElementById('time-slider').max > 0")
    _slide(page, "#time-slider", "0")
    assert "step 10" in page.inner_text("#time-step")
    _shown(page, "time-image", "samples/step-00000010.png")
    page.wait_for_function(
        "document.getElementById('time-gif').complete "
        "&& document.getElementById('time-gif').naturalWidth > 0"
    )  # the progress GIF plays in the page
    # the 2-D game: D's surface and the points drawn on the canvas
    page.click("#tabs button[data-tab='toy']")
    page.wait_for_function("document.getElementById('toy-step').textContent.includes('step 30')")
    colours = page.evaluate(
        """() => {
          const c = document.getElementById('toy-canvas');
          const x = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const seen = new Set();
          for (let i = 0; i < x.length; i += 4 * 97) {
            seen.add(x[i] + ',' + x[i + 1] + ',' + x[i + 2]);
          }
          return seen.size;
        }"""
    )
    assert colours > 20  # a surface of many shades, not a blank canvas
    # the evaluation button runs eval and shows the report
    page.click("#tabs button[data-tab='evaluation']")
    page.fill("#eval-n", "200")
    page.evaluate(
        """() => {
          window.evalSeen = [];
          new MutationObserver(() => window.evalSeen.push(
            [document.getElementById('eval-status').textContent,
             document.getElementById('eval-progress').value])
          ).observe(document.getElementById('eval-status'), {childList: true, subtree: true});
        }"""
    )
    page.click("#eval-run")
    page.wait_for_function(
        "document.getElementById('eval-status').textContent.startsWith('done')", timeout=120000
    )
    seen = page.evaluate("window.evalSeen")
    running = [(text, value) for text, value in seen if text.startswith("evaluating")]
    # while it runs the page names the stage and shows the share done; then a full bar
    assert running and all(re.search(r": [a-z].*, \d+% after", t) for t, _ in running), seen
    assert [v for _, v in seen] == sorted(v for _, v in seen), seen
    assert page.eval_on_selector("#eval-progress", "e => [e.hidden, e.value]") == [False, 100]
    page.wait_for_function("!document.getElementById('report').hidden")
    frame = page.frame_locator("#report")
    assert "real-data floor" in frame.locator("body").inner_text(timeout=30000)


def test_truncation_redraws_only_the_latent_entries_beyond_it(studio, runs):
    from ganforge.studio import explore

    run = explore.load(runs / "ring")
    plain, cut = run.latent(256, 3), explore.latents(run, 256, 3, 0.5)
    assert torch.equal(explore.latents(run, 256, 3), plain)
    inside = plain.abs() <= 0.5
    assert cut.abs().max() <= 0.5 and torch.equal(cut[inside], plain[inside])
    assert not torch.equal(cut, plain)
    status, png = studio.get("/api/runs/ring/sample.png?n=64&seed=3&truncation=0.5")
    assert status == 200 and png != studio.get("/api/runs/ring/sample.png?n=64&seed=3")[1]
    for bad in ("0", "-1", "11", "x"):
        assert studio.get(f"/api/runs/ring/sample.png?truncation={bad}")[0] == 400, bad


def test_nearest_training_samples_find_a_training_sample_itself(studio, runs):
    from ganforge.studio import explore

    run = explore.load(runs / "music" / "bach")
    real = explore.training_samples(run)
    match, dist = explore.nearest(run, real[:3])
    assert torch.equal(match, real[:3]) and float(dist.max()) == 0.0
    fake, _ = explore.draw(run, 4, seed=0)
    assert float(explore.nearest(run, fake)[1].min()) > 0  # 10 steps: no copies
    status, png = studio.get("/api/runs/music/bach/nearest.png?n=4")
    assert status == 200 and png[:4] == b"\x89PNG"


def test_the_2d_view_gives_d_surface_points_and_g_gradients_per_checkpoint(studio):
    status, body = studio.get("/api/runs/ring/toy.json?checkpoint=0")
    first = json.loads(body)
    assert status == 200 and first["index"] == 0 and first["count"] >= 3
    last = json.loads(studio.get("/api/runs/ring/toy.json")[1])
    assert last["step"] == 30 and last["index"] == first["count"] - 1
    surface = torch.tensor(last["surface"])
    assert surface.shape == (48, 48) and 0 <= float(surface.min()) <= float(surface.max()) <= 1
    assert len(last["fake"]) == len(last["gradient"]) == 512 and len(last["real"]) == 512
    assert first["fake"] != last["fake"]  # G moved between checkpoints
    status, body = studio.get("/api/runs/music/bach/toy.json")
    assert status == 400 and b"2-D points" in body


def test_principal_directions_move_the_output_along_its_main_component(studio, runs):
    from ganforge.engine.latent import sample_latent
    from ganforge.studio import explore
    from ganforge.studio.directions import COUNT, directions, moved

    run = explore.load(runs / "ring")
    key = str(runs / "ring")
    dirs = directions(run, key)
    assert dirs.shape == (2, 16) and torch.allclose(dirs.norm(dim=1), torch.ones(2))
    z = sample_latent(run.generator, COUNT, generator=torch.Generator().manual_seed(12345))
    x = run.sample(z=z).float()
    axis = torch.linalg.svd(x - x.mean(0), full_matrices=False)[2][0]
    along = [float((run.sample(z=moved(run, key, 3, 64, [a])) @ axis).mean()) for a in (-1, 0, 1)]
    assert along[0] < along[1] < along[2], along
    assert torch.equal(run.sample(z=moved(run, key, 3, 4, [0.0])), run.sample(4, seed=3))
    status, png = studio.get("/api/runs/music/bach/slide.png?seed=1&d0=1.5&d2=-1")
    assert status == 200 and png[:4] == b"\x89PNG"
    assert studio.get("/api/runs/ring/slide.png?d0=9")[0] == 400


def test_a_video_run_plays_its_clips_in_the_explore_view(page, studio):
    import io

    from PIL import Image

    page.click("#run-table tr[data-run='clips']")
    page.click("#tabs button[data-tab='explore']")
    # the explore view may draw twice (run chosen, tab opened): wait for a drawn animation
    page.wait_for_function(
        "document.getElementById('explore-animation') !== null "
        "&& document.getElementById('explore-animation').dataset.src "
        "&& document.getElementById('explore-animation').complete "
        "&& document.getElementById('explore-animation').naturalWidth > 0"
    )
    src = page.get_attribute("#explore-animation", "data-src")
    status, body = studio.get(src)
    assert status == 200 and Image.open(io.BytesIO(body)).n_frames == 6  # one per clip frame
    assert page.locator("#downloads a", has_text=".mp4").count() == 1
    # the slider stops the clips on any frame (decoded in the page); play sets them moving
    page.wait_for_selector("#scrub-row:not([hidden])")
    assert page.get_attribute("#scrub", "max") == "5"
    frames = []
    for k in (0, 3):
        page.eval_on_selector(
            "#scrub", f"(e) => {{ e.value = '{k}'; e.dispatchEvent(new Event('input')); }}"
        )
        page.wait_for_function(
            f"document.getElementById('scrub-label').textContent === 'frame {k + 1} of 6'"
        )
        frames.append(
            page.evaluate(
                """() => {
                  const c = document.getElementById('explore-frame');
                  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
                }"""
            )
        )
    assert page.is_visible("#explore-frame") and not page.is_visible("#explore-animation")
    gif = Image.open(io.BytesIO(body))
    for k, shown in zip((0, 3), frames, strict=True):
        gif.seek(k)
        want = list(gif.convert("RGBA").tobytes())
        assert shown == want  # exactly the GIF's frame k
    assert frames[0] != frames[1]  # the digits moved
    page.click("#scrub-play")
    assert page.is_visible("#explore-animation") and not page.is_visible("#explore-frame")
    # walk the content with the motion held
    page.select_option("#walk-keep", label="only content (the rest held)")
    _shown(page, "walk-image", "keep=motion")


def test_a_walk_holds_the_latent_parts_it_is_asked_to_keep(studio, runs):
    from ganforge.engine.latent import sample_latent
    from ganforge.studio import explore

    run = explore.load(runs / "clips")
    assert explore.latent_parts(run) == ["content", "motion"]
    za, zb = (
        sample_latent(run.generator, 2, generator=torch.Generator().manual_seed(s)) for s in (4, 5)
    )
    walked, _ = explore.walk(run, 4, 5, 1.0, 2, ("motion",))
    assert torch.equal(walked, run.sample(z={"content": zb["content"], "motion": za["motion"]}))
    assert not torch.equal(walked, run.sample(z=zb))
    status, png = studio.get("/api/runs/clips/walk.png?a=4&b=5&t=0.5&keep=motion")
    assert status == 200 and png[:4] == b"\x89PNG"
    status, body = studio.get("/api/runs/clips/walk.png?keep=colour")
    assert status == 400 and b"no part colour" in body
    assert studio.get("/api/runs/ring/walk.png?keep=motion")[0] == 400  # a plain latent


def test_the_runs_table_reads_only_what_a_log_gained(tmp_path):
    from ganforge.studio.runs import tally

    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1, "kind": "train"}\n{"step": 2, "kind": "train"}\n')
    t = tally(tmp_path)
    assert (t.train, t.step, t.offset) == (2, 2, log.stat().st_size)
    with log.open("a") as fh:  # a finished line and one still being written
        fh.write('{"step": 2, "kind": "eval", "fid": 9.5}\n{"step": 3, "ki')
    t = tally(tmp_path)
    assert (t.train, t.step, t.last_eval.get("fid")) == (2, 2, 9.5)
    with log.open("a") as fh:
        fh.write('nd": "train"}\n')
    assert (tally(tmp_path).train, tally(tmp_path).step) == (3, 3)
    trimmed = tmp_path / "new.jsonl"  # a resume rewrites the log shorter
    trimmed.write_text('{"step": 1, "kind": "train"}\n')
    trimmed.replace(log)
    assert (tally(tmp_path).train, tally(tmp_path).step) == (1, 1)


def test_the_runs_table_shows_presets_and_scores_as_text_never_as_html(browser, runs, tmp_path):
    import shutil

    import yaml

    root = tmp_path / "runs"
    shutil.copytree(runs / "ring", root / "ring")
    cfg = yaml.safe_load((root / "ring" / "config.yaml").read_text())
    cfg["preset"] = "<img src=x onerror='window.pwned=1'>"
    cfg["train"]["steps"] = "<b>30</b>"
    (root / "ring" / "config.yaml").write_text(yaml.safe_dump(cfg))
    scores = {"FID[x]": {"value": 12.345, "floor": 1.5}, "<i>SWD</i>": {"value": 0.25}}
    (root / "ring" / "eval.json").write_text(json.dumps({"step": 20, "scores": scores}))
    s = Studio(root)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(s.url + "/")
        row = page.locator("#run-table tr[data-run='ring']")
        row.wait_for()
        cells = row.locator("td").all_inner_texts()
        assert cells[2] == cfg["preset"] and cells[5] == "30 / <b>30</b>"
        assert cells[8] == "FID[x] 12.3 (1.5), <i>SWD</i> 0.25 at step 20"
        assert page.evaluate("window.pwned") is None and page.locator("#run-table img").count() == 0
    finally:
        context.close()
        s.close()
