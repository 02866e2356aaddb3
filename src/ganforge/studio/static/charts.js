// Line charts as SVG, written for the studio (no third-party code): series of [x, y]
// points, an optional horizontal reference line (D's 1/2), a legend and axis labels.
"use strict";

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e5 || a < 0.01) return v.toExponential(1);
  if (a >= 100) return Math.round(v).toString();
  return (+v.toPrecision(3)).toString();
}

// lineChart(container, {title, series: [{name, points, color?, dash?}], hline?, xLabel?})
function lineChart(container, spec) {
  container.innerHTML = "";
  const w = container.clientWidth || 440, h = container.clientHeight || 240;
  const m = { l: 56, r: 12, t: 26, b: 34 };
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": spec.title }, container);
  el("text", { x: m.l, y: 16, "font-size": 13, "font-weight": "bold" }, svg).textContent = spec.title;
  const pts = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  if (!pts.length) {
    el("text", { x: w / 2, y: h / 2, "text-anchor": "middle", fill: "#999" }, svg).textContent = "no data yet";
    return svg;
  }
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let ys = pts.map((p) => p[1]);
  if (spec.hline !== undefined) ys = ys.concat([spec.hline]);
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
  const X = (x) => m.l + ((x - x0) / (x1 - x0)) * (w - m.l - m.r);
  const Y = (y) => h - m.b - ((y - y0) / (y1 - y0)) * (h - m.t - m.b);
  el("line", { x1: m.l, y1: h - m.b, x2: w - m.r, y2: h - m.b, stroke: "#999" }, svg);
  el("line", { x1: m.l, y1: m.t, x2: m.l, y2: h - m.b, stroke: "#999" }, svg);
  for (const y of [y0 + pad, (y0 + y1) / 2, y1 - pad]) {
    el("text", { x: m.l - 4, y: Y(y) + 4, "text-anchor": "end", "font-size": 10, fill: "#555" }, svg).textContent = fmt(y);
    el("line", { x1: m.l, y1: Y(y), x2: w - m.r, y2: Y(y), stroke: "#eee" }, svg);
  }
  [x0, (x0 + x1) / 2, x1].forEach((x, i) => {
    const anchor = ["start", "middle", "end"][i];
    el("text", { x: X(x), y: h - m.b + 14, "text-anchor": anchor, "font-size": 10, fill: "#555" }, svg).textContent = fmt(x);
  });
  el("text", { x: w - m.r, y: h - 4, "text-anchor": "end", "font-size": 10, fill: "#555" }, svg).textContent = spec.xLabel || "step";
  if (spec.hline !== undefined) {
    el("line", { x1: m.l, y1: Y(spec.hline), x2: w - m.r, y2: Y(spec.hline), stroke: "#555", "stroke-dasharray": "5 4" }, svg);
    el("text", { x: w - m.r - 2, y: Y(spec.hline) - 3, "text-anchor": "end", "font-size": 10, fill: "#555" }, svg).textContent = fmt(spec.hline);
  }
  let lx = m.l + 4;
  spec.series.forEach((s, i) => {
    const color = s.color || PALETTE[i % PALETTE.length];
    const good = s.points.filter((p) => Number.isFinite(p[1]));
    if (good.length) {
      const d = good.map((p, j) => `${j ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
      el("path", { d, fill: "none", stroke: color, "stroke-width": 1.6, "stroke-dasharray": s.dash || "", class: "series", "data-name": s.name }, svg);
    }
    el("rect", { x: lx, y: m.t - 2, width: 10, height: 3, fill: color }, svg);
    const label = el("text", { x: lx + 13, y: m.t + 2, "font-size": 10 }, svg);
    label.textContent = s.name;
    lx += 22 + 6 * s.name.length;
  });
  readout(container, svg, spec, { X, Y, x0, x1, m, w, h });
  return svg;
}

// The values under the pointer: a line at the nearest logged step, a dot on each series
// and a box naming the step and each series' value there.
function readout(container, svg, spec, frame) {
  const { X, Y, x0, x1, m, w, h } = frame;
  const lines = spec.series.map((s, i) => ({ s, i, good: s.points.filter((p) => Number.isFinite(p[1])) })).filter((l) => l.good.length);
  const hit = el("rect", { x: m.l, y: m.t, width: w - m.l - m.r, height: h - m.t - m.b, fill: "transparent", class: "hit" }, svg);
  const tip = el("g", { class: "tooltip", visibility: "hidden", "pointer-events": "none" }, svg);
  const rule = el("line", { y1: m.t, y2: h - m.b, stroke: "#888", "stroke-dasharray": "2 2" }, tip);
  const dots = lines.map((l) => el("circle", { r: 3, fill: l.s.color || PALETTE[l.i % PALETTE.length] }, tip));
  const box = el("rect", { fill: "rgba(255,255,255,0.95)", stroke: "#bbb", rx: 3 }, tip);
  const text = el("text", {}, tip);
  const nearest = (pts, x) => pts.reduce((a, b) => (Math.abs(b[0] - x) < Math.abs(a[0] - x) ? b : a));
  const show = (x) => {
    const step = nearest(lines.flatMap((l) => l.good), x)[0];
    const rows = [`${spec.xLabel || "step"} ${fmt(step)}`];
    lines.forEach((l, k) => {
      const p = nearest(l.good, step);
      dots[k].setAttribute("cx", X(p[0]));
      dots[k].setAttribute("cy", Y(p[1]));
      rows.push(`${l.s.name}: ${fmt(p[1])}`);
    });
    rule.setAttribute("x1", X(step));
    rule.setAttribute("x2", X(step));
    text.replaceChildren(...rows.map((r, k) => {
      const t = el("tspan", { x: 0, dy: k ? 14 : 0 });
      t.textContent = r;
      return t;
    }));
    const bw = 12 + 6.4 * Math.max(...rows.map((r) => r.length)), bh = 8 + 14 * rows.length;
    const bx = X(step) + 10 + bw > w - m.r ? X(step) - 10 - bw : X(step) + 10;
    box.setAttribute("x", bx); box.setAttribute("y", m.t + 4);
    box.setAttribute("width", bw); box.setAttribute("height", bh);
    text.setAttribute("transform", `translate(${bx + 6}, ${m.t + 18})`);
    tip.setAttribute("visibility", "visible");
    container.dataset.hoverX = x;
  };
  const dataX = (ev) => {
    const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(svg.getScreenCTM().inverse());
    return x0 + ((p.x - m.l) / (w - m.l - m.r)) * (x1 - x0);
  };
  hit.addEventListener("mousemove", (ev) => show(dataX(ev)));
  hit.addEventListener("mouseleave", () => { tip.setAttribute("visibility", "hidden"); delete container.dataset.hoverX; });
  // a chart redrawn under a resting pointer (the live game) keeps its readout
  if (container.dataset.hoverX !== undefined && lines.length) show(+container.dataset.hoverX);
}
