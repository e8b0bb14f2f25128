// The radio image tools, shared by the classify page and a cutout's page: 16-bit pixels drawn on
// a canvas with a stretch, brightness, contrast and invert; contours with a legend of levels; zoom
// about the pointer, pan, pinch and double tap; reset to the opening view (framed on the source);
// a scale bar in arcseconds and the sky position under the pointer (static/js/classify_sky.js).
// The page calls window.rgzImage.show(subject) with a cutout as the API gives it.
window.rgzImage = (function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const canvas = $("sky");
  if (!canvas) return null;
  const ctx = canvas.getContext("2d");
  const STRETCHES = ["linear", "sqrt", "log", "asinh"];
  const LEVEL_COLOURS = ["#00e5ff", "#40ff80", "#ffe000", "#ff9000", "#ff3060", "#ff60ff"];

  const state = {
    subject: null, view: { scale: 1, ox: 0, oy: 0 }, pixels: null, width: 0, height: 0,
    contours: [], zoom: 1, panX: 0, panY: 0, raster: null,
    opening: { zoom: 1, panX: 0, panY: 0 },
  };
  const sky = window.rgzSky;

  // ---- rendering -----------------------------------------------------------------
  function stretchFn(name) {
    switch (name) {
      case "sqrt": return Math.sqrt;
      case "log": return (x) => Math.log(1000 * x + 1) / Math.log(1001);
      case "asinh": return (x) => Math.asinh(x / 0.1) / Math.asinh(1 / 0.1);
      default: return (x) => x;
    }
  }

  function lookupTable() {
    // 65,536 data levels -> grey, applying stretch, contrast, brightness and invert once.
    const fn = stretchFn($("stretch").value);
    const contrast = parseFloat($("contrast").value);
    const brightness = parseFloat($("brightness").value);
    const invert = $("invert").checked;
    const lut = new Uint8ClampedArray(65536);
    for (let v = 0; v < 65536; v++) {
      let y = (fn(v / 65535) - 0.5) * contrast + 0.5 + brightness;
      if (invert) y = 1 - y;
      lut[v] = Math.round(y * 255);
    }
    return lut;
  }

  function buildRaster() {
    if (!state.pixels) return;
    const lut = lookupTable();
    const image = new ImageData(state.width, state.height);
    const out = image.data;
    const px = state.pixels;
    for (let i = 0; i < px.length; i++) {
      const g = lut[px[i]];
      const j = i * 4;
      out[j] = g; out[j + 1] = g; out[j + 2] = g; out[j + 3] = 255;
    }
    const off = document.createElement("canvas");
    off.width = state.width; off.height = state.height;
    off.getContext("2d").putImageData(image, 0, 0);
    state.raster = off;
    if (window.rgzLayers) window.rgzLayers.build(lut);
    draw();
  }

  function draw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!state.raster) { $("scale-bar").hidden = true; return; }
    const { scale, ox, oy } = transform();
    state.view = { scale, ox, oy };
    ctx.setTransform(scale, 0, 0, scale, ox, oy);
    ctx.imageSmoothingEnabled = state.zoom < 2;
    if (window.rgzLayers) window.rgzLayers.paint(ctx, state.raster);
    else ctx.drawImage(state.raster, 0, 0);
    if ($("contours").checked) drawContours(scale);
    if (window.rgzDrawing) window.rgzDrawing.paint(ctx, scale);
    updateScaleBar(scale);
  }

  // Screen (CSS) pixels per raster pixel at the present zoom.
  function screenPixelsPerRasterPixel(scale) {
    return (scale * canvas.getBoundingClientRect().width) / canvas.width;
  }

  function updateScaleBar(scale) {
    const bar = $("scale-bar");
    const info = state.subject && state.subject.sky;
    if (!info || !info.pixel_scale_arcsec || !state.raster) { bar.hidden = true; return; }
    const perScreenPixel = info.pixel_scale_arcsec / screenPixelsPerRasterPixel(scale);
    const choice = sky.scaleBar(perScreenPixel);
    $("scale-line").style.width = `${Math.round(choice.pixels)}px`;
    $("scale-label").textContent = choice.label + (info.approximate ? " (approx.)" : "");
    bar.dataset.arcsec = String(choice.arcsec);
    bar.hidden = false;
  }

  // The canvas's backing store follows its size on screen, so a large screen gets a sharp image.
  function fitCanvasToScreen() {
    const rect = canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const size = Math.max(64, Math.round(Math.min(rect.width, rect.height || rect.width) * ratio));
    if (rect.width && size !== canvas.width) {
      canvas.width = size;
      canvas.height = size;
      draw();
    }
  }

  // Where the image lies on the canvas, for the drawing tools (static/js/drawing.js): image
  // pixels count from the top-left corner of the radio frame, client pixels are the page's.
  window.rgzViewer = {
    toImage(clientX, clientY) {
      const rect = canvas.getBoundingClientRect();
      const { scale, ox, oy } = state.view;
      const cx = ((clientX - rect.left) * canvas.width) / rect.width;
      const cy = ((clientY - rect.top) * canvas.height) / rect.height;
      return [(cx - ox) / scale, (cy - oy) / scale];
    },
    toClient(x, y) {
      const rect = canvas.getBoundingClientRect();
      const { scale, ox, oy } = state.view;
      return [rect.left + ((x * scale + ox) * rect.width) / canvas.width, rect.top + ((y * scale + oy) * rect.height) / canvas.height];
    },
    contours: () => state.contours,
    size: () => [state.width, state.height],
    redraw: () => draw(),
  };

  function drawContours(scale) {
    ctx.lineWidth = 1.2 / scale;
    state.contours.forEach((level, index) => {
      ctx.strokeStyle = LEVEL_COLOURS[index % LEVEL_COLOURS.length];
      ctx.beginPath();
      for (const path of level.paths) {
        ctx.moveTo(path[0][0] + 0.5, path[0][1] + 0.5);
        for (let k = 1; k < path.length; k++) ctx.lineTo(path[k][0] + 0.5, path[k][1] + 0.5);
      }
      ctx.stroke();
    });
  }

  function transform() {
    const fit = Math.min(canvas.width / state.width, canvas.height / state.height);
    const scale = fit * state.zoom;
    return {
      scale,
      ox: canvas.width / 2 - (state.width / 2 + state.panX) * scale,
      oy: canvas.height / 2 - (state.height / 2 + state.panY) * scale,
    };
  }

  // Client (CSS) coordinates -> canvas backing-store pixels.
  function canvasPoint(clientX, clientY) {
    const rect = canvas.getBoundingClientRect();
    return [((clientX - rect.left) * canvas.width) / rect.width, ((clientY - rect.top) * canvas.height) / rect.height];
  }

  function rasterPoint(clientX, clientY) {
    const [cx, cy] = canvasPoint(clientX, clientY);
    const t = transform();
    return [(cx - t.ox) / t.scale, (cy - t.oy) / t.scale];
  }

  // Zoom keeping the raster point under (cx, cy) in place; the canvas centre when none is given.
  function zoomBy(factor, cx = canvas.width / 2, cy = canvas.height / 2) {
    const before = transform();
    const ix = (cx - before.ox) / before.scale;
    const iy = (cy - before.oy) / before.scale;
    state.zoom = Math.min(16, Math.max(1, state.zoom * factor));
    const scale = transform().scale;
    state.panX = (canvas.width / 2 - cx) / scale + ix - state.width / 2;
    state.panY = (canvas.height / 2 - cy) / scale + iy - state.height / 2;
    clampPan();
    draw();
  }

  function panBy(dx, dy) {
    state.panX += dx / state.zoom;
    state.panY += dy / state.zoom;
    clampPan();
    draw();
  }

  function clampPan() {
    const limitX = (state.width / 2) * (1 - 1 / state.zoom);
    const limitY = (state.height / 2) * (1 - 1 / state.zoom);
    state.panX = Math.max(-limitX, Math.min(limitX, state.panX));
    state.panY = Math.max(-limitY, Math.min(limitY, state.panY));
  }

  function frameSource() {
    // Start zoomed on the catalogued source: cutouts are centred on it, so frame the
    // lowest-level contours that reach the central third. Reset (0) comes back to this view.
    const [w, h] = [state.width, state.height];
    const central = (p) => p[0] > w / 3 && p[0] < (2 * w) / 3 && p[1] > h / 3 && p[1] < (2 * h) / 3;
    const paths = (state.contours[0] || { paths: [] }).paths.filter((path) => path.some(central));
    const points = paths.flat();
    state.opening = { zoom: 1, panX: 0, panY: 0 };
    if (!points.length) return;
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const span = Math.max(x1 - x0, y1 - y0, Math.min(w, h) / 16) * 2.5;
    state.zoom = Math.min(4, Math.max(1, Math.min(w, h) / span));
    state.panX = (x0 + x1) / 2 - w / 2;
    state.panY = (y0 + y1) / 2 - h / 2;
    clampPan();
    state.opening = { zoom: state.zoom, panX: state.panX, panY: state.panY };
  }

  function resetView() {
    $("stretch").value = "asinh";
    $("brightness").value = "0";
    $("contrast").value = "1";
    $("invert").checked = false;
    $("contours").checked = true;
    // Back to the view the subject opened with (framed on the source), not the whole cutout.
    Object.assign(state, state.opening);
    buildRaster();
  }

  // A cutout's pixels and contours ({pixels: null} when they cannot be had): the classify page
  // fetches the next subjects' ahead with this and hands them to show().
  async function fetchImage(subject) {
    try {
      const [pixels, contours] = await Promise.all([
        fetch(subject.pixels_url).then((r) => { if (!r.ok) throw new Error(r.status); return r.arrayBuffer(); }),
        window.rgz.request(subject.contours_url),
      ]);
      return { pixels: new Uint16Array(pixels), contours: contours.levels || [] };
    } catch (error) {
      return { pixels: null, contours: [] };
    }
  }

  async function loadImage(subject, data) {
    state.zoom = 1; state.panX = 0; state.panY = 0;
    state.contours = data.contours;
    if (data.pixels) {
      state.pixels = data.pixels;
      state.width = subject.width;
      state.height = subject.height;
      if (window.rgzLayers) await window.rgzLayers.load(subject, draw);
      canvas.hidden = false;
      $("fallback").hidden = true;
      frameSource();
      buildRaster();
      return;
    }
    // Without the raw pixels the rendered PNG still lets the volunteer classify.
    state.raster = null;
    const img = $("fallback");
    img.src = subject.image_url;
    img.alt = `Radio cutout of ${subject.name}`;
    img.hidden = false;
    canvas.hidden = true;
  }

  function showLegend() {
    const list = $("contour-levels");
    list.replaceChildren();
    state.contours.forEach((level, index) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch level-${index % LEVEL_COLOURS.length}`;
      item.append(swatch, document.createTextNode(Number(level.level).toPrecision(2)));
      list.appendChild(item);
    });
    $("contour-legend").hidden = state.contours.length === 0;
  }

  // The sky position under the pointer; the cutout's centre when the pointer is elsewhere.
  function showSkyAt(event) {
    const readout = $("sky-readout");
    const info = state.subject && state.subject.sky;
    if (!info || !info.crval) {
      readout.textContent = state.subject && state.subject.position_withheld
        ? "The sky position is shown after you answer."
        : "No sky position is known for this image.";
      return;
    }
    let [x, y] = [state.width / 2, state.height / 2];
    let where = "Centre";
    if (event) {
      [x, y] = rasterPoint(event.clientX, event.clientY);
      where = "Pointer";
      if (x < 0 || y < 0 || x > state.width || y > state.height) return;
    }
    const [ra, dec] = sky.pixelToSky(info, x - 0.5, y - 0.5);
    readout.textContent = `${where}: RA ${sky.formatRA(ra)} Dec ${sky.formatDec(dec)} (${ra.toFixed(4)}°, ${dec.toFixed(4)}°)`;
    readout.dataset.ra = ra.toFixed(6);
    readout.dataset.dec = dec.toFixed(6);
  }

  // Show a cutout (null: nothing); resolves once its pixels and contours are drawn. ``data``:
  // what fetchImage gave for it ahead of time (fetched now when absent).
  async function show(subject, data) {
    state.subject = subject;
    if (!subject) {
      state.raster = null;
      draw();
      return;
    }
    await loadImage(subject, await (data || fetchImage(subject)));
    showLegend();
    showSkyAt(null);
  }

  // ---- controls, pointer, touch and keyboard -------------------------------------------------
  ["stretch", "brightness", "contrast", "invert"].forEach((id) => $(id).addEventListener("input", buildRaster));
  $("contours").addEventListener("change", draw);
  $("zoom-in").addEventListener("click", () => zoomBy(1.5));
  $("zoom-out").addEventListener("click", () => zoomBy(1 / 1.5));
  $("reset").addEventListener("click", resetView);

  // Pointer events for mouse, pen and touch alike: one pointer pans, two pinch-zoom about their
  // midpoint, a double tap zooms in about the tap (or back to the opening view when zoomed in).
  const pointers = new Map();
  let pinch = null;
  let lastTap = { time: 0, x: 0, y: 0 };

  function pinchState() {
    const [a, b] = [...pointers.values()];
    return { distance: Math.hypot(a.x - b.x, a.y - b.y), x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (window.rgzDrawing && window.rgzDrawing.capturing()) return; // a drawing tool takes the pointer
    canvas.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    pinch = pointers.size === 2 ? pinchState() : null;
  });
  function pointerEnd(e) {
    if (!pointers.has(e.pointerId)) return;
    pointers.delete(e.pointerId);
    pinch = pointers.size === 2 ? pinchState() : null;
  }
  canvas.addEventListener("pointerup", (e) => {
    const wasSingle = pointers.size === 1;
    pointerEnd(e);
    if (!wasSingle || e.pointerType === "mouse" || !state.raster) return;
    const now = performance.now();
    const near = Math.hypot(e.clientX - lastTap.x, e.clientY - lastTap.y) < 30;
    if (now - lastTap.time < 350 && near) {
      if (state.zoom >= 8) resetView();
      else zoomBy(2, ...canvasPoint(e.clientX, e.clientY));
      lastTap = { time: 0, x: 0, y: 0 };
    } else {
      lastTap = { time: now, x: e.clientX, y: e.clientY };
    }
  });
  canvas.addEventListener("pointercancel", pointerEnd);
  canvas.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") showSkyAt(null); });
  canvas.addEventListener("dblclick", (e) => { if (state.raster) zoomBy(2, ...canvasPoint(e.clientX, e.clientY)); });
  canvas.addEventListener("pointermove", (e) => {
    if (state.raster && state.subject) showSkyAt(e);
    const previous = pointers.get(e.pointerId);
    if (!previous || !state.raster) return;
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pointers.size === 2 && pinch) {
      const now = pinchState();
      if (pinch.distance > 0) zoomBy(now.distance / pinch.distance, ...canvasPoint(now.x, now.y));
      const perPixel = state.width / canvas.getBoundingClientRect().width;
      panBy(-(now.x - pinch.x) * perPixel, -(now.y - pinch.y) * perPixel);
      pinch = now;
    } else if (pointers.size === 1) {
      const perPixel = state.width / canvas.getBoundingClientRect().width;
      panBy(-(e.clientX - previous.x) * perPixel, -(e.clientY - previous.y) * perPixel);
    }
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    zoomBy(e.deltaY < 0 ? 1.2 : 1 / 1.2, ...canvasPoint(e.clientX, e.clientY));
  }, { passive: false });
  canvas.addEventListener("keydown", (e) => {
    const step = state.width / 20;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) { e.preventDefault(); panBy(...moves[e.key]); }
  });

  // Tool shortcuts (the page's own keys, answers and submit, are the page's).
  document.addEventListener("keydown", (e) => {
    const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement.tagName) &&
      !["radio", "checkbox", "range"].includes(document.activeElement.type);
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "s" || e.key === "S") {
      const select = $("stretch");
      select.value = STRETCHES[(STRETCHES.indexOf(select.value) + 1) % STRETCHES.length];
      buildRaster();
    } else if (e.key === "i" || e.key === "I") { $("invert").checked = !$("invert").checked; buildRaster(); }
    else if (e.key === "c" || e.key === "C") { $("contours").checked = !$("contours").checked; draw(); }
    else if (e.key === "+" || e.key === "=") zoomBy(1.5);
    else if (e.key === "-") zoomBy(1 / 1.5);
    else if (e.key === "0") resetView();
  });

  if (window.ResizeObserver) new ResizeObserver(fitCanvasToScreen).observe(canvas);
  fitCanvasToScreen();
  return { show, fetchImage, zoom: () => state.zoom, stretch: () => $("stretch").value };
})();
