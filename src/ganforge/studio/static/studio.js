// The studio page: runs, the live game, samples through time, exploring the generator.
"use strict";

const state = { runs: [], current: null, records: [], line: 0, info: null, steps: [] };
// a run's names (classes, metrics) go into the page as text, never as HTML
const options = (select, pairs) => select.replaceChildren(...pairs.map(([text, value]) => new Option(text, value)));
// polling: the live game while its run trains, the runs table; only while the tab is seen
const POLL_MS = window.studioPollMs || 2000, RUNS_MS = window.studioRunsMs || 10000;
const visible = () => document.visibilityState === "visible";
const live = () => (state.runs.find((r) => r.name === state.current) || {}).status === "training";
const activeTab = () => document.querySelector("#tabs button.active").dataset.tab;

function series(records, keys, names) {
  return keys
    .filter((k) => records.some((r) => k in r))
    .map((k, i) => ({ name: (names && names[i]) || k, points: records.filter((r) => k in r).map((r) => [r.step, r[k]]) }));
}

// ------------------------------------------------------------------ tabs
function openTab(name) {
  const button = document.querySelector(`#tabs button[data-tab="${CSS.escape(name)}"]`);
  if (!button) return;
  document.querySelectorAll("#tabs button").forEach((x) => x.classList.toggle("active", x === button));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === name));
  remember(state.current, name);
  redraw();
}
document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => openTab(b.dataset.tab)));

// ------------------------------------------------------------------ runs
async function loadRuns() {
  let data;
  try {
    data = await api("/api/runs");
  } catch (e) {
    say(`the runs could not be listed: ${e.message}`, "runs");
    return;
  }
  unsay("runs");
  const wasLive = live();
  state.runs = data.runs;
  if (wasLive && !live()) poll();  // the run just ended: its last records
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
  if (!state.current && data.runs.length) {
    const want = asked().run;
    if (want && !data.runs.some((r) => r.name === want)) say(`no run named ${want} here; showing ${data.runs[0].name}`);
    select(data.runs.some((r) => r.name === want) ? want : data.runs[0].name);
  }
}

async function drawCompare() {
  const names = [...document.querySelectorAll("#run-table tbody input:checked")].map((c) => c.value);
  const key = $("compare-key").value || "d_loss";
  let all;
  try {
    all = await Promise.all(names.map((n) => api(`/api/runs/${enc(n)}/records`)));
  } catch (e) {
    say(`the curves could not be read: ${e.message}`, "compare");
    return;
  }
  unsay("compare");
  const ss = all.map((d, i) => ({ name: names[i], points: d.records.filter((r) => key in r).map((r) => [r.step, r[key]]) }));
  lineChart($("compare-chart"), { title: names.length ? key : "tick runs to compare their curves", series: ss });
}
$("compare-key").addEventListener("change", drawCompare);

// ------------------------------------------------------------------ one run
async function select(name) {
  state.current = name;
  state.chosen = (state.chosen || 0) + 1;
  state.records = [];
  state.line = 0;
  document.querySelectorAll("#run-table tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.run === name));
  $("game-title").textContent = name;
  remember(name, activeTab());
  state.info = null;  // nothing draws with the last run's info while this one's loads
  let info;
  try {
    info = await latestJSON("info", `/api/runs/${enc(name)}/info`);
  } catch (e) {
    if (name === state.current) say(`run ${name} could not be loaded: ${e.message}`, "run");
    return;
  }
  if (!info || name !== state.current) return;  // another run was chosen meanwhile
  unsay("run");
  state.info = info;
  setupExplore(info);
  await poll();
  if (name !== state.current) return;
  drawExplore();
  drawWalk();
  drawSlide();
}

async function poll() {
  const name = state.current, chosen = state.chosen;
  if (!name || state.polling === chosen) return;  // one poll at a time per choice of run
  state.polling = chosen;
  let data, steps;
  try {
    data = await api(`/api/runs/${enc(name)}/records?since=${state.line}`);
    steps = await api(`/api/runs/${enc(name)}/steps`);
  } catch (e) {
    if (chosen === state.chosen) say(`the records of ${name} could not be read: ${e.message}`, "records");
    return;
  } finally {
    if (state.polling === chosen) state.polling = null;
  }
  if (chosen !== state.chosen) return;
  unsay("records");
  if (data.records.length) {
    state.records = state.records.concat(data.records);
    state.line = data.records[data.records.length - 1]._line + 1;
  }
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
      if ($("latest").dataset.src !== src) showFile($("latest"), src, "latest");
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
  const src = `/api/runs/${enc(state.current)}/file/${item.file}`;
  if ($("time-image").dataset.src !== src) showFile($("time-image"), src, "time");
  const gif = `/api/runs/${enc(state.current)}/file/progress.gif`;
  if ($("time-gif").dataset.src !== gif) { $("time-gif").src = gif; $("time-gif").dataset.src = gif; }
}
$("time-slider").addEventListener("input", drawTime);
$("time-gif").addEventListener("error", () => { $("time-gif").hidden = true; });
$("time-gif").addEventListener("load", () => { $("time-gif").hidden = false; });

// ------------------------------------------------------------------ 2-D game (GAN Lab style)
const toy = { data: null, timer: null };

async function drawToy(index) {
  if (!state.current) return;
  const canvas = $("toy-canvas"), ctx = canvas.getContext("2d");
  let d;
  setBusy(canvas, true);
  try {
    d = await latestJSON("toy", `/api/runs/${enc(state.current)}/toy.json?checkpoint=${index}`);
  } catch (e) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    setError(canvas, e.message);
    setBusy(canvas, false);
    return;
  }
  if (!d) return;
  setBusy(canvas, false);
  setError(canvas, "");
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
$("toy-slider").addEventListener("input", debounced(() => drawToy(+$("toy-slider").value), 150));
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
  let st = given;
  if (!st) {
    try {
      st = await api(`/api/runs/${enc(name)}/eval`);
    } catch (e) {
      st = { state: "failed", error: e.message };
    }
  }
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
    state.info = await api(`/api/runs/${enc(name)}/info`).catch((e) => { say(e.message); return state.info; });
    $("report").dataset.src = "";
    drawEvaluation();
  }
}
$("eval-run").addEventListener("click", async () => {
  $("eval-status").textContent = "starting the evaluation...";
  try {
    evalStatus(await api(`/api/runs/${enc(state.current)}/eval?n=${$("eval-n").value}`, { method: "POST" }));
  } catch (e) {
    evalStatus({ state: "failed", error: e.message });
  }
});

// ------------------------------------------------------------------ start
if (asked().tab) openTab(asked().tab);
remember(null, null);  // the token leaves the address bar (the cookie holds it)
loadRuns().then(drawCompare);
setInterval(() => { if (visible() && live()) poll(); }, POLL_MS);
setInterval(() => { if (visible()) loadRuns(); }, RUNS_MS);
document.addEventListener("visibilitychange", () => {
  if (!visible()) return;
  loadRuns();
  if (live()) poll();
});
