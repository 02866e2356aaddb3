// The studio page: runs, the live game, samples through time, exploring the generator.
"use strict";

const state = { runs: [], current: null, records: [], line: 0, info: null, steps: [] };
const $ = (id) => document.getElementById(id);
const enc = (name) => name.split("/").map(encodeURIComponent).join("/");
// a run's names (classes, metrics) go into the page as text, never as HTML
const options = (select, pairs) => select.replaceChildren(...pairs.map(([text, value]) => new Option(text, value)));
const api = (path) => fetch(path).then((r) => (r.ok ? r.json() : r.text().then((t) => Promise.reject(new Error(t)))));

function series(records, keys, names) {
  return keys
    .filter((k) => records.some((r) => k in r))
    .map((k, i) => ({ name: (names && names[i]) || k, points: records.filter((r) => k in r).map((r) => [r.step, r[k]]) }));
}

// ------------------------------------------------------------------ tabs
document.querySelectorAll("#tabs button").forEach((b) =>
  b.addEventListener("click", () => {
    document.querySelectorAll("#tabs button").forEach((x) => x.classList.toggle("active", x === b));
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === b.dataset.tab));
    redraw();
  })
);

// ------------------------------------------------------------------ runs
async function loadRuns() {
  const data = await api("/api/runs");
  state.runs = data.runs;
  $("root").textContent = data.root;
  const body = document.querySelector("#run-table tbody");
  const checked = new Set([...body.querySelectorAll("input:checked")].map((c) => c.value));
  body.innerHTML = "";
  for (const run of data.runs) {
    const tr = document.createElement("tr");
    tr.dataset.run = run.name;
    if (run.name === state.current) tr.classList.add("selected");
    const num = (v) => (typeof v === "number" ? +v.toPrecision(3) : v);
    const ev = Object.entries(run.last_eval).filter(([k]) => k !== "step" && k !== "kind")
      .slice(0, 4).map(([k, v]) => `${k} ${num(v)}`).join(", ");
    const scored = run.eval.map((e) => `${e.name} ${num(e.value)}${e.floor == null ? "" : ` (${num(e.floor)})`}`).join(", ");
    const at = run.eval.length && run.eval_step !== run.step ? ` at step ${run.eval_step}` : "";
    const cells = ["", run.name, run.preset, run.modality, run.dataset,
      `${run.step}${run.steps ? " / " + run.steps : ""}`, run.status, ev, scored + at];
    tr.replaceChildren(...cells.map((text) => { const td = document.createElement("td"); td.textContent = text; return td; }));
    tr.children[6].className = `status-${run.status}`;
    tr.children[0].appendChild(Object.assign(document.createElement("input"), { type: "checkbox", value: run.name }));
    const box = tr.querySelector("input");
    box.checked = checked.has(run.name);
    box.addEventListener("click", (e) => { e.stopPropagation(); drawCompare(); });
    tr.addEventListener("click", () => select(run.name));
    body.appendChild(tr);
  }
  if (!state.current && data.runs.length) select(data.runs[0].name);
}

async function drawCompare() {
  const names = [...document.querySelectorAll("#run-table tbody input:checked")].map((c) => c.value);
  const key = $("compare-key").value || "d_loss";
  const all = await Promise.all(names.map((n) => api(`/api/runs/${enc(n)}/records`)));
  const ss = all.map((d, i) => ({ name: names[i], points: d.records.filter((r) => key in r).map((r) => [r.step, r[key]]) }));
  lineChart($("compare-chart"), { title: names.length ? key : "tick runs to compare their curves", series: ss });
}
$("compare-key").addEventListener("change", drawCompare);

// ------------------------------------------------------------------ one run
async function select(name) {
  state.current = name;
  state.records = [];
  state.line = 0;
  document.querySelectorAll("#run-table tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.run === name));
  $("game-title").textContent = name;
  state.info = null;  // nothing draws with the last run's info while this one's loads
  const info = await api(`/api/runs/${enc(name)}/info`);
  if (name !== state.current) return;  // another run was chosen meanwhile
  state.info = info;
  setupExplore(info);
  await poll();
  if (name !== state.current) return;
  drawExplore();
  drawWalk();
  drawSlide();
}

async function poll() {
  if (!state.current) return;
  const name = state.current;
  const data = await api(`/api/runs/${enc(name)}/records?since=${state.line}`);
  if (name !== state.current) return;
  if (data.records.length) {
    state.records = state.records.concat(data.records);
    state.line = data.records[data.records.length - 1]._line + 1;
  }
  const steps = await api(`/api/runs/${enc(name)}/steps`);
  state.steps = steps.steps;
  fillCompareKeys();
  redraw();
}

function fillCompareKeys() {
  const keys = new Set();
  state.records.forEach((r) => Object.keys(r).forEach((k) => { if (typeof r[k] === "number" && !["step", "_line"].includes(k)) keys.add(k); }));
  const sel = $("compare-key");
  const old = sel.value;
  if (sel.options.length === keys.size) return;
  options(sel, [...keys].map((k) => [k, k]));
  sel.value = keys.has(old) ? old : keys.has("d_loss") ? "d_loss" : [...keys][0] || "";
}

function alerts(train, guards) {
  const out = [];
  const last = train.slice(-5);
  const probs = last.length === 5 && last.every((r) => r.d_real >= 0 && r.d_real <= 1 && !(r.d_real === 0 && r.d_fake === 0));
  if (probs && last.every((r) => r.d_real > 0.95 && r.d_fake < 0.05)) {
    out.push("D wins outright: D(x) > 0.95 and D(G(z)) < 0.05 for the last 5 logs; G gets no useful gradient");
  }
  guards.forEach((g) => out.push(`step ${g.bad_step}: ${g.reason}; the guard rolled back to step ${g.step} (recovery ${g.recoveries})`));
  return out;
}

function redraw() {
  const train = state.records.filter((r) => r.kind === "train");
  const evals = state.records.filter((r) => r.kind === "eval");
  const guards = state.records.filter((r) => r.kind === "guard");
  if ($("game").classList.contains("active")) {
    lineChart($("chart-d"), { title: "D(x) and D(G(z)); the equilibrium at 1/2", series: series(train, ["d_real", "d_fake"], ["D(x)", "D(G(z))"]), hline: 0.5 });
    lineChart($("chart-loss"), { title: "losses", series: series(train, ["d_loss", "g_loss", "penalty"]) });
    lineChart($("chart-value"), { title: "V(D, G) and the JS lower bound", series: series(train, ["value", "js_lower_bound", "p"], ["V(D,G)", "JS bound", "ADA p"]) });
    lineChart($("chart-grad"), { title: "gradient norms", series: series(train, ["d_grad_norm", "g_grad_norm"], ["D", "G"]) });
    const evalKeys = [...new Set(evals.flatMap((r) => Object.keys(r)))].filter((k) => !["step", "kind", "_line"].includes(k) && typeof evals[evals.length - 1][k] === "number").slice(0, 6);
    lineChart($("chart-eval"), { title: "evaluation during training", series: series(evals, evalKeys) });
    $("alerts").innerHTML = "";
    alerts(train, guards).forEach((a) => { const d = document.createElement("div"); d.textContent = a; $("alerts").appendChild(d); });
    const latest = state.steps[state.steps.length - 1];
    if (latest) {
      const src = `/api/runs/${enc(state.current)}/file/${latest.file}`;
      if ($("latest").dataset.src !== src) { $("latest").src = src; $("latest").dataset.src = src; }
      $("latest-caption").textContent = `samples at step ${latest.step}`;
    }
  }
  if ($("time").classList.contains("active")) drawTime();
  if ($("evaluation").classList.contains("active")) drawEvaluation();
  if ($("toy").classList.contains("active") && !toy.timer && (!toy.data || toy.run !== state.current)) {
    toy.run = state.current;
    drawToy(-1);
  }
}

// ------------------------------------------------------------------ through time
function drawTime() {
  const s = $("time-slider");
  const atEnd = +s.value === +s.max;
  s.max = Math.max(0, state.steps.length - 1);
  if (atEnd) s.value = s.max;
  const item = state.steps[+s.value];
  if (!item) { $("time-step").textContent = "no pictures yet"; return; }
  $("time-step").textContent = `step ${item.step} (${+s.value + 1} of ${state.steps.length})`;
  $("time-image").src = `/api/runs/${enc(state.current)}/file/${item.file}`;
  const gif = `/api/runs/${enc(state.current)}/file/progress.gif`;
  if ($("time-gif").dataset.src !== gif) { $("time-gif").src = gif; $("time-gif").dataset.src = gif; }
}
$("time-slider").addEventListener("input", drawTime);
$("time-gif").addEventListener("error", () => { $("time-gif").hidden = true; });
$("time-gif").addEventListener("load", () => { $("time-gif").hidden = false; });

// ------------------------------------------------------------------ explore
function setupExplore(info) {
  $("label-box").hidden = !info.class_names.length;
  options($("label"), [["every class", ""], ...info.class_names.map((c, i) => [c, i])]);
  $("temperature-box").hidden = !info.temperature;
  $("condition-box").hidden = !info.conditions;
  $("n").max = info.max_samples;
  // a structured latent (a video's content and motion) can be walked one part at a time
  const parts = info.latent_parts || [];
  $("walk-keep-box").hidden = !parts.length;
  options($("walk-keep"), [["every part", ""], ...parts.map((p) => [`only ${p} (the rest held)`, parts.filter((q) => q !== p).join(",")])]);
  if (info.modality === "tabular" && +$("n").value < 500) $("n").value = Math.min(2000, info.max_samples);
}

function query() {
  const q = new URLSearchParams({ seed: $("seed").value || 0, n: $("n").value || 16 });
  if ($("label").value) q.set("label", $("label").value);
  if (state.info && state.info.conditions && $("condition").value.trim()) q.set("condition", $("condition").value.trim());
  if (state.info && state.info.temperature) q.set("temperature", $("temperature").value);
  if (+$("truncation").value > 0) q.set("truncation", $("truncation").value);
  return q.toString();
}

// A run chosen twice in a row (the page's first pick, then the user's click) draws once;
// the draw button always draws again (a newer checkpoint may have arrived).
function drawExplore(force) {
  if (!state.current || !state.info) return;
  const key = `${state.current}?${query()}`;
  if (force !== true && key === state.drawn) return;
  state.drawn = key;
  const base = `/api/runs/${enc(state.current)}`;
  $("explore-image").src = `${base}/sample.png?${query()}`;
  $("extras").innerHTML = "";
  api(`${base}/extras.json?${query()}`).then((d) => {
    for (const p of d.pictures) {
      const fig = document.createElement("figure");
      fig.innerHTML = `<img alt=""><figcaption></figcaption>`;
      fig.querySelector("img").src = `data:image/png;base64,${p.png}`;
      fig.querySelector("figcaption").textContent = p.caption;
      $("extras").appendChild(fig);
    }
  }).catch(() => {});
  $("audio-box").innerHTML = "";
  for (const ext of state.info.audio) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.src = `${base}/sample${ext}?${query()}`;
    audio.id = "explore-audio";
    $("audio-box").appendChild(audio);
  }
  for (const ext of state.info.animated || []) {
    const box = document.createElement("div");
    box.innerHTML = '<img id="explore-animation" class="animation" alt="the drawn samples, moving">' +
      '<canvas id="explore-frame" class="animation" hidden></canvas>' +
      '<div class="row" id="scrub-row" hidden><button id="scrub-play">play</button>' +
      '<label>frame <input type="range" id="scrub" min="0" max="0" value="0"></label><span id="scrub-label"></span></div>';
    $("audio-box").appendChild(box);
    scrubber(`${base}/sample${ext}?${query()}`);
  }
  $("downloads").innerHTML = "";
  for (const ext of state.info.formats) {
    const a = document.createElement("a");
    a.href = `${base}/sample${ext}?${query()}`;
    a.download = `samples-seed${$("seed").value}${ext}`;
    a.textContent = `download ${ext}`;
    $("downloads").appendChild(a);
  }
}
// An animation drawn once, shown moving; where the browser decodes frames (WebCodecs'
// ImageDecoder) a slider stops it on any frame.
let scrubbing = 0, openDecoder = null;
async function scrubber(url) {
  const mine = ++scrubbing;
  if (openDecoder) { openDecoder.close(); openDecoder = null; }  // the last draw's frames
  const img = $("explore-animation");
  img.dataset.src = url;  // what this picture shows, from the start
  const r = await fetch(url);
  if (mine !== scrubbing) return;
  if (!r.ok) { $("audio-box").textContent = await r.text(); return; }
  const blob = await r.blob();
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  if (!("ImageDecoder" in window)) return;
  const decoder = new ImageDecoder({ data: await blob.arrayBuffer(), type: blob.type || "image/gif" });
  if (mine !== scrubbing) { decoder.close(); return; }
  openDecoder = decoder;
  await decoder.tracks.ready;
  await decoder.completed;  // every frame parsed: frameCount is final
  if (mine !== scrubbing) return;
  const count = decoder.tracks.selectedTrack.frameCount;
  const slider = $("scrub"), canvas = $("explore-frame");
  slider.max = count - 1;
  $("scrub-row").hidden = false;
  const moving = () => { canvas.hidden = true; img.hidden = false; $("scrub-label").textContent = `moving: ${count} frames`; };
  moving();
  slider.oninput = async () => {
    const k = +slider.value;
    const { image } = await decoder.decode({ frameIndex: k });
    canvas.width = image.displayWidth;
    canvas.height = image.displayHeight;
    canvas.getContext("2d").drawImage(image, 0, 0);
    image.close();
    canvas.hidden = false;
    img.hidden = true;
    $("scrub-label").textContent = `frame ${k + 1} of ${count}`;
  };
  $("scrub-play").onclick = moving;
}

function drawWalk() {
  if (!state.current) return;
  const t = $("walk-t").value;
  $("walk-t-value").textContent = t;
  const q = new URLSearchParams({ a: $("walk-a").value, b: $("walk-b").value, t, n: 8 });
  if ($("walk-keep").value) q.set("keep", $("walk-keep").value);
  $("walk-image").src = `/api/runs/${enc(state.current)}/walk.png?${q}`;
}
function drawSlide() {
  if (!state.current) return;
  const q = new URLSearchParams({ seed: $("seed").value || 0, n: 8, d0: $("d0").value, d1: $("d1").value, d2: $("d2").value });
  $("slide-image").src = `/api/runs/${enc(state.current)}/slide.png?${q}`;
}
document.querySelectorAll(".direction").forEach((r) => r.addEventListener("change", drawSlide));
$("draw").addEventListener("click", () => { drawExplore(true); drawSlide(); });
$("nearest").addEventListener("click", () => {
  $("nearest-image").hidden = false;
  $("nearest-image").src = `/api/runs/${enc(state.current)}/nearest.png?${query()}`;
});
$("random-seed").addEventListener("click", () => { $("seed").value = Math.floor(Math.random() * 100000); drawExplore(); });
$("temperature").addEventListener("input", () => { $("temperature-value").textContent = $("temperature").value; });
$("temperature").addEventListener("change", () => drawExplore());
$("truncation").addEventListener("input", () => { const t = +$("truncation").value; $("truncation-value").textContent = t > 0 ? `\u00b1${t}` : "off"; });
$("truncation").addEventListener("change", () => drawExplore());
["walk-a", "walk-b", "walk-t"].forEach((id) => $(id).addEventListener("input", drawWalk));
$("walk-keep").addEventListener("change", drawWalk);

// ------------------------------------------------------------------ 2-D game (GAN Lab style)
const toy = { data: null, timer: null };

async function drawToy(index) {
  if (!state.current) return;
  const canvas = $("toy-canvas"), ctx = canvas.getContext("2d");
  let d;
  try {
    d = await api(`/api/runs/${enc(state.current)}/toy.json?checkpoint=${index}`);
  } catch (e) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    $("toy-step").textContent = e.message;
    return;
  }
  toy.data = d;
  $("toy-slider").max = d.count - 1;
  $("toy-slider").value = d.index;
  $("toy-step").textContent = `step ${d.step} (checkpoint ${d.index + 1} of ${d.count})`;
  const [x0, x1, y0, y1] = d.bounds, W = canvas.width, H = canvas.height;
  const X = (x) => ((x - x0) / (x1 - x0)) * W, Y = (y) => H - ((y - y0) / (y1 - y0)) * H;
  const n = d.surface.length, cw = W / n, ch = H / n;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const p = d.surface[j][i];  // D(x): 1 real (orange) .. 0 fake (blue)
      const r = Math.round(255 * (0.55 + 0.45 * p)), g = Math.round(255 * (0.75 + 0.2 * (1 - Math.abs(2 * p - 1)))), b = Math.round(255 * (1 - 0.45 * p));
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(i * cw, H - (j + 1) * ch, cw + 1, ch + 1);
    }
  }
  const dot = (pts, color) => { ctx.fillStyle = color; pts.forEach(([x, y]) => { ctx.beginPath(); ctx.arc(X(x), Y(y), 2.2, 0, 2 * Math.PI); ctx.fill(); }); };
  dot(d.real, "#2ca02c");
  dot(d.fake, "#7b1fa2");
  const norms = d.gradient.map(([a, b]) => Math.hypot(a, b));
  const scale = 18 / (Math.max(...norms) || 1);
  ctx.strokeStyle = "rgba(60,60,60,0.7)";
  d.fake.forEach(([x, y], k) => {
    if (k % 2) return;
    const [gx, gy] = d.gradient[k];
    ctx.beginPath(); ctx.moveTo(X(x), Y(y)); ctx.lineTo(X(x) + gx * scale, Y(y) - gy * scale); ctx.stroke();
  });
}
$("toy-slider").addEventListener("input", () => drawToy(+$("toy-slider").value));
$("toy-play").addEventListener("click", () => {
  if (toy.timer) { clearInterval(toy.timer); toy.timer = null; $("toy-play").textContent = "play"; return; }
  $("toy-play").textContent = "pause";
  let i = 0;
  toy.timer = setInterval(() => { const max = +$("toy-slider").max; drawToy(i); i = i >= max ? 0 : i + 1; }, 700);
});

// ------------------------------------------------------------------ evaluation
function drawEvaluation() {
  if ($("eval-status").dataset.run !== state.current) { $("eval-status").dataset.run = state.current; evalStatus(); }
  const has = state.info && state.info.report;
  $("eval-none").hidden = !!has;
  $("report").hidden = !has;
  const src = has ? `/api/runs/${enc(state.current)}/file/report.html` : "";
  if (has && $("report").dataset.src !== src) { $("report").src = src + "?t=" + Date.now(); $("report").dataset.src = src; }
}

async function evalStatus(given) {
  if (!state.current) return;
  const name = state.current;
  const st = given || (await api(`/api/runs/${enc(name)}/eval`));
  const words = {
    idle: "",
    running: `evaluating ${st.n} samples: ${st.stage || "starting"}, ${Math.round(st.percent || 0)}% after ${st.elapsed} s`,
    done: `done in ${st.elapsed} s`,
    failed: `failed: ${st.error}`,
  };
  $("eval-status").textContent = words[st.state] || "";
  $("eval-progress").hidden = st.state === "idle" || st.state === "failed";
  $("eval-progress").value = st.percent || 0;
  $("eval-run").disabled = st.state === "running";
  if (st.state === "running") setTimeout(evalStatus, 1000);
  if (st.state === "done" && name === state.current) {
    state.info = await api(`/api/runs/${enc(name)}/info`);
    $("report").dataset.src = "";
    drawEvaluation();
  }
}
$("eval-run").addEventListener("click", async () => {
  const r = await fetch(`/api/runs/${enc(state.current)}/eval?n=${$("eval-n").value}`, { method: "POST" });
  evalStatus(r.ok ? await r.json() : { state: "failed", error: await r.text() });
});

// ------------------------------------------------------------------ start
loadRuns().then(drawCompare);
setInterval(() => { poll(); }, 2000);
setInterval(() => { loadRuns(); }, 10000);
