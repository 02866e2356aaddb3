// How the page asks the server and says what happens: one request per slot at a time (a
// newer draw aborts the older and the server skips it), a busy note while a view waits,
// every failure in words (the server's one line), debounced sliders, the run and tab in
// the address.
"use strict";

const $ = (id) => document.getElementById(id);
const enc = (name) => name.split("/").map(encodeURIComponent).join("/");
const PAGE = Math.random().toString(36).slice(2, 10);  // names this page's slots to the server
const SUPERSEDED = 409;
const slots = new Map();  // slot -> AbortController of its newest request
let sequence = 0;

// A request that replaces the slot's previous one: that one is aborted, and the server,
// told the slot and a newer number, skips it if it has not started.
function ticket(slot) {
  const old = slots.get(slot);
  if (old) old.abort();
  const controller = new AbortController();
  controller.seq = ++sequence;
  controller.live = () => slots.get(slot) === controller;
  slots.set(slot, controller);
  return controller;
}

function withSlot(url, slot, t) {
  return `${url}${url.includes("?") ? "&" : "?"}slot=${PAGE}:${slot}&seq=${t.seq}`;
}

// The words for a failed response: the server's one line, else its status.
async function failure(r) {
  const text = (await r.text()).trim().split("\n")[0];
  return text || `the studio answered ${r.status} ${r.statusText}`;
}

function words(e) {
  if (e instanceof TypeError) return "the studio does not answer: is `ganforge studio` still running?";
  return e.message || String(e);
}

// JSON of `path`; a failure rejects with the server's words.
async function api(path, init) {
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new Error(words(e));
  }
  if (!r.ok) throw new Error(await failure(r));
  return r.json();
}

// JSON of `path` for `slot` (older requests of the slot dropped): null when replaced.
async function latestJSON(slot, path) {
  const t = ticket(slot);
  try {
    const r = await fetch(withSlot(path, slot, t), { signal: t.signal });
    if (!t.live() || r.status === SUPERSEDED) return null;
    if (!r.ok) throw new Error(await failure(r));
    const data = await r.json();
    return t.live() ? data : null;
  } catch (e) {
    if (e.name === "AbortError" || !t.live()) return null;
    throw new Error(words(e));
  }
}

// ------------------------------------------------------------------ views
// A view is an element with class "view" holding the output, a busy note and an error line.
function view(el) {
  return el.closest(".view") || el.parentElement;
}

function setBusy(el, on) {
  view(el).setAttribute("aria-busy", on ? "true" : "false");
}

function setError(el, text) {
  const box = view(el);
  let line = box.querySelector(":scope > .error");
  if (!line) {
    line = Object.assign(document.createElement("p"), { className: "error", hidden: true });
    line.setAttribute("role", "alert");
    box.appendChild(line);
  }
  line.textContent = text || "";
  line.hidden = !text;
}

// The bytes at `url` shown by `el` (an <img>, an <audio>): fetched, so a failure shows the
// server's words instead of a broken picture; `el.dataset.src` names what it shows.
async function showFile(el, url, slot) {
  el.dataset.src = url;
  const t = ticket(slot);
  setBusy(el, true);
  try {
    const r = await fetch(withSlot(url, slot, t), { signal: t.signal });
    if (!t.live() || r.status === SUPERSEDED) return null;
    if (!r.ok) throw new Error(await failure(r));
    const blob = await r.blob();
    if (!t.live()) return null;
    if (el.src.startsWith("blob:")) URL.revokeObjectURL(el.src);
    el.src = URL.createObjectURL(blob);
    el.hidden = false;
    setError(el, "");
    return blob;
  } catch (e) {
    if (e.name === "AbortError" || !t.live()) return null;
    el.hidden = true;
    setError(el, words(e));
    return null;
  } finally {
    if (t.live()) setBusy(el, false);
  }
}

// The page's own message line (what failed outside a view: the runs list, a run's info);
// `kind` names what said it, so that only a success of the same kind clears it.
function say(text, kind = "page") {
  $("message").textContent = text;
  $("message").dataset.kind = kind;
  $("message").hidden = false;
}
function unsay(kind) {
  if ($("message").dataset.kind === kind) $("message").hidden = true;
}

// `fn` once the calls have paused for `ms` (a slider dragged sends one request, not one per
// step it passes).
function debounced(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ------------------------------------------------------------------ the address
// `?run=NAME&tab=TAB`: a reload, or the address sent to someone, opens the same view; the
// start's token leaves the address once the cookie holds it.
function remember(run, tab) {
  const q = new URLSearchParams(location.search);
  q.delete("token");
  if (run) q.set("run", run);
  if (tab) q.set("tab", tab);
  const next = `${location.pathname}?${q}`;
  if (next !== location.pathname + location.search) history.replaceState(null, "", next);
}

function asked() {
  const q = new URLSearchParams(location.search);
  return { run: q.get("run"), tab: q.get("tab") };
}
