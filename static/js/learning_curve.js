// The classifier page's learning curves: test accuracy of each version against the labels it was
// trained on (GET /api/classifiers/tasks/NAME/learning-curve/), drawn as a small SVG chart, and the
// survey's active-learning round with its phase and progress. While a round runs the chart is
// asked again every few seconds and redrawn when a new version arrives.
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const PAD = { left: 52, right: 18, top: 20, bottom: 42 };
  const LIVE = ["queued", "running"];

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function ticks(lo, hi, n, integer) {
    const out = [];
    for (let i = 0; i <= n; i += 1) {
      const v = lo + ((hi - lo) * i) / n;
      const shown = integer ? Math.round(v) : Number(v.toFixed(2));
      if (!out.includes(shown)) out.push(shown);
    }
    return out;
  }

  function draw(svg, points) {
    // drawn at the element's own size, so that text stays readable on a phone
    const W = Math.max(280, Math.round(svg.clientWidth || 560));
    const H = W < 480 ? 200 : 230;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    if (!points.length) {
      svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "curve-empty" }, "No evaluated version yet"));
      return;
    }
    const xs = points.map((p) => p.labels), ys = points.map((p) => p.accuracy);
    let x0 = Math.min(...xs), x1 = Math.max(...xs);
    if (x1 === x0) { x0 = Math.max(0, x0 - 1); x1 += 1; }
    let y0 = Math.max(0, Math.min(...ys) - 0.05), y1 = Math.min(1, Math.max(...ys) + 0.05);
    if (y1 - y0 < 0.1) { y0 = Math.max(0, y1 - 0.1); }
    const sx = (v) => PAD.left + ((v - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
    const sy = (v) => H - PAD.bottom - ((v - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
    // axes with a few ticks
    svg.append(el("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "curve-axis" }));
    svg.append(el("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "curve-axis" }));
    ticks(y0, y1, 4, false).forEach((yv) => {
      svg.append(el("line", { x1: PAD.left, y1: sy(yv), x2: W - PAD.right, y2: sy(yv), class: "curve-grid" }));
      svg.append(el("text", { x: PAD.left - 6, y: sy(yv) + 4, "text-anchor": "end", class: "curve-tick" }, yv.toFixed(2)));
    });
    ticks(x0, x1, W < 480 ? 3 : 5, true).forEach((xv) => {
      svg.append(el("text", { x: sx(xv), y: H - PAD.bottom + 16, "text-anchor": "middle", class: "curve-tick" }, xv));
    });
    svg.append(el("text", { x: (W + PAD.left) / 2, y: H - 6, "text-anchor": "middle", class: "curve-label" }, "labels trained on"));
    svg.append(el("text", { x: 12, y: PAD.top + (H - PAD.top - PAD.bottom) / 2, "text-anchor": "middle", class: "curve-label",
      transform: `rotate(-90 12 ${PAD.top + (H - PAD.top - PAD.bottom) / 2})` }, "test accuracy"));
    const ordered = [...points].sort((a, b) => a.number - b.number);
    svg.append(el("polyline", { points: ordered.map((p) => `${sx(p.labels)},${sy(p.accuracy)}`).join(" "), class: "curve-line" }));
    const names = {};  // versions at the same place share one label ("v1, v2")
    ordered.forEach((p) => {
      const at = `${sx(p.labels).toFixed(0)},${sy(p.accuracy).toFixed(0)}`;
      names[at] = (names[at] || []).concat(`v${p.number}`);
    });
    ordered.forEach((p) => {
      const dot = el("circle", { cx: sx(p.labels), cy: sy(p.accuracy), r: p.status === "active" ? 6 : 4,
        class: `curve-point${p.status === "active" ? " active" : ""}`, "data-number": p.number });
      dot.append(el("title", {}, `v${p.number}: accuracy ${p.accuracy.toFixed(3)} (${p.split}) on ${p.labels} labels` +
        (p.warm_start_from ? `, warm-started from v${p.warm_start_from}` : "") + (p.status === "active" ? " (active)" : "")));
      svg.append(dot);
    });
    Object.entries(names).forEach(([at, list]) => {
      const [x, y] = at.split(",").map(Number);
      svg.append(el("text", { x, y: y - 10, "text-anchor": "middle", class: "curve-name" }, list.join(", ")));
    });
  }

  function roundLine(box, curve) {
    const line = box.querySelector(".round-status");
    const bar = box.querySelector(".round-progress");
    const round = curve.round;
    const loop = curve.threshold > 0 ? `The loop runs a round every ${curve.threshold} new consensus labels.` : "The loop is off for this survey.";
    if (!round) {
      line.textContent = `${loop} No round yet.`;
      bar.hidden = true;
      return false;
    }
    const live = LIVE.includes(round.status);
    bar.hidden = !live;
    if (live) { bar.max = round.total || 1; bar.value = round.done; }
    const when = round.finished_at ? ` (${new Date(round.finished_at).toLocaleString()})` : "";
    const said = (round.phases || []).filter((phase) => ["retrain", "push"].includes(phase.name)).map((phase) => phase.detail);
    line.textContent = live
      ? `Round ${round.status}: ${round.message || "waiting for a training worker"}`
      : `${loop} Last round ${round.status}${when}: ${said.length ? said.join("; ") : round.message}`;
    line.classList.toggle("error", round.status === "failed");
    return live;
  }

  function follow(box) {
    const svg = box.querySelector("svg");
    let shown = "";
    async function tick() {
      let live = false;
      try {
        const curve = await rgz.request(box.dataset.url);
        const key = JSON.stringify(curve.points);
        if (key !== shown) { draw(svg, curve.points); shown = key; box.curvePoints = curve.points; }
        box.dataset.points = String(curve.points.length);
        live = roundLine(box, curve);
        box.dataset.round = curve.round ? curve.round.status : "";
      } catch (error) {
        box.querySelector(".round-status").textContent = error.message;
      }
      setTimeout(tick, live ? 2000 : 5000);
    }
    tick();
  }

  document.querySelectorAll(".learning-curve[data-url]").forEach(follow);
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => {
      document.querySelectorAll(".learning-curve[data-url]").forEach((box) => {
        if (box.curvePoints) draw(box.querySelector("svg"), box.curvePoints);
      });
    }, 200);
  });
})();
