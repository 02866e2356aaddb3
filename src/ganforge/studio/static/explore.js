// The explore view: draw from the run's generator (seed, class, truncation, temperature,
// a table's conditions), hear it, download it, see its extra pictures, walk between two
// seeds and move along the principal directions; video clips stopped on any frame.
"use strict";

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
  showFile($("explore-image"), `${base}/sample.png?${query()}`, "explore");
  drawExtras(`${base}/extras.json?${query()}`);
  $("audio-box").innerHTML = "";
  setError($("audio-box"), "");
  for (const ext of state.info.audio) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.id = "explore-audio";
    $("audio-box").appendChild(audio);
    showFile(audio, `${base}/sample${ext}?${query()}`, `audio${ext}`);
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
// The modality's own pictures of the draw (a table's correlation differences), or its error.
async function drawExtras(url) {
  const box = $("extras");
  setBusy(box, true);
  let d;
  try {
    d = await latestJSON("extras", url);
  } catch (e) {
    box.replaceChildren();
    setError(box, `the extra pictures failed: ${e.message}`);
    setBusy(box, false);
    return;
  }
  if (!d) return;  // a newer draw's pictures come instead
  setBusy(box, false);
  setError(box, "");
  box.replaceChildren(...d.pictures.map((p) => {
    const fig = document.createElement("figure");
    fig.innerHTML = `<img alt=""><figcaption></figcaption>`;
    fig.querySelector("img").src = `data:image/png;base64,${p.png}`;
    fig.querySelector("figcaption").textContent = p.caption;
    return fig;
  }));
}

// An animation drawn once, shown moving; where the browser decodes frames (WebCodecs'
// ImageDecoder) a slider stops it on any frame.
let scrubbing = 0, openDecoder = null;
async function scrubber(url) {
  const mine = ++scrubbing;
  if (openDecoder) { openDecoder.close(); openDecoder = null; }  // the last draw's frames
  const img = $("explore-animation");
  const blob = await showFile(img, url, "animation");
  if (mine !== scrubbing || !blob) return;
  if (!("ImageDecoder" in window)) return;
  const decoder = new ImageDecoder({ data: await blob.arrayBuffer(), type: blob.type || "image/gif" });
  if (mine !== scrubbing) { decoder.close(); return; }
  openDecoder = decoder;
  await decoder.tracks.ready;
  await decoder.completed;  // every frame parsed: frameCount is final
  if (mine !== scrubbing) return;
  const count = decoder.tracks.selectedTrack.frameCount;
  const slider = $("scrub"), canvas = $("explore-frame");
  if (!slider || !canvas) return;  // the view was redrawn while the frames were parsed
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
  showFile($("walk-image"), `/api/runs/${enc(state.current)}/walk.png?${q}`, "walk");
}
function drawSlide() {
  if (!state.current) return;
  const q = new URLSearchParams({ seed: $("seed").value || 0, n: 8, d0: $("d0").value, d1: $("d1").value, d2: $("d2").value });
  showFile($("slide-image"), `/api/runs/${enc(state.current)}/slide.png?${q}`, "slide");
}
document.querySelectorAll(".direction").forEach((r) => r.addEventListener("change", drawSlide));
$("draw").addEventListener("click", () => { drawExplore(true); drawSlide(); });
$("nearest").addEventListener("click", () => {
  $("nearest-view").hidden = false;
  showFile($("nearest-image"), `/api/runs/${enc(state.current)}/nearest.png?${query()}`, "nearest");
});
$("random-seed").addEventListener("click", () => { $("seed").value = Math.floor(Math.random() * 100000); drawExplore(); });
$("temperature").addEventListener("input", () => { $("temperature-value").textContent = $("temperature").value; });
$("temperature").addEventListener("change", () => drawExplore());
$("truncation").addEventListener("input", () => { const t = +$("truncation").value; $("truncation-value").textContent = t > 0 ? `\u00b1${t}` : "off"; });
$("truncation").addEventListener("change", () => drawExplore());
// the number beside the walk slider follows the drag; the picture is asked for once it rests
const walkLater = debounced(drawWalk, 200);
$("walk-t").addEventListener("input", () => { $("walk-t-value").textContent = $("walk-t").value; walkLater(); });
["walk-a", "walk-b"].forEach((id) => $(id).addEventListener("input", walkLater));
$("walk-keep").addEventListener("change", drawWalk);
